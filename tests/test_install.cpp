// `cmake --install` (CMakeLists.txt, cmake/install_config.cmake): a working config with the installed templates
// path where the unit looks for it, the unit pointing at the installed binary, config and documentation, and an
// operator's config never overwritten. Installs this build tree into temporary prefixes / DESTDIRs.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

using baotin::testing::read_file;
using baotin::testing::TempDir;
namespace fs = std::filesystem;

namespace {

using Cmd = baotin::testing::CmdResult;  // out: stdout and stderr

Cmd run(const std::string& cmd) {
  return baotin::testing::run_command(cmd + " 2>&1");
}

std::string q(const std::string& s) { return "'" + s + "'"; }

Cmd install(const std::string& prefix, const std::string& destdir = "") {
  std::string env = destdir.empty() ? "" : "DESTDIR=" + q(destdir) + " ";
  return run(env + q(BAOTIN_CMAKE_COMMAND) + " --install " + q(BAOTIN_BUILD_DIR) + " --prefix " + q(prefix));
}

// The value of the first "Key=" line of a unit file.
std::string unit_value(const std::string& unit, const std::string& key) {
  std::istringstream in(unit);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
  return "";
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

size_t shipped_templates() {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(std::string(BAOTIN_SOURCE_DIR) + "/sites"))
    n += e.path().extension() == ".toml";
  return n;
}

}  // namespace

TEST(Install, PrefixGetsAWorkingConfigTheUnitAndTheDocs) {
  TempDir tmp("baotin-install");
  const std::string p = (tmp.path / "pfx").string();
  Cmd r = install(p);
  ASSERT_EQ(r.status, 0) << r.out;

  const std::string bin = p + "/bin/baotin", config = p + "/etc/baotin/baotin.toml",
                    example = p + "/share/baotin/examples/baotin.toml", unit_file = p + "/lib/systemd/system/baotin.service";
  for (const auto& f : {bin, config, example, unit_file, p + "/share/baotin/sites/vnexpress.toml",
                        p + "/share/doc/baotin/README.md", p + "/share/doc/baotin/docs/store_format.md"})
    EXPECT_TRUE(fs::is_regular_file(f)) << f << "\n" << r.out;

  // The config: the installed templates, the unit's StateDirectory; the example is the same file.
  std::string cfg = read_file(config);
  EXPECT_NE(cfg.find("templates_dir = \"" + p + "/share/baotin/sites\""), std::string::npos) << cfg;
  EXPECT_NE(cfg.find("data_dir = \"/var/lib/baotin\""), std::string::npos) << cfg;
  EXPECT_EQ(read_file(example), cfg);

  // The unit points at what was installed.
  std::string unit = read_file(unit_file);
  auto exec = words(unit_value(unit, "ExecStart"));
  ASSERT_GE(exec.size(), 4u) << unit;
  EXPECT_EQ(exec[0], bin);
  EXPECT_EQ(exec[1], "serve");
  EXPECT_EQ(exec[2], "--config");
  EXPECT_EQ(exec[3], config);
  const std::string doc = unit_value(unit, "Documentation");
  ASSERT_EQ(doc.rfind("file://", 0), 0u) << doc;
  EXPECT_EQ(doc.substr(7), p + "/share/doc/baotin/README.md");
  EXPECT_EQ(read_file(doc.substr(7)), read_file(std::string(BAOTIN_SOURCE_DIR) + "/README.md"));

  // The installed binary accepts the installed config as it is, with every shipped template.
  Cmd check = run(q(exec[0]) + " check --config " + q(exec[3]));
  EXPECT_EQ(check.status, 0) << check.out;
  EXPECT_NE(check.out.find("ok; " + std::to_string(shipped_templates()) + " templates"), std::string::npos) << check.out;

  if (fs::exists("/usr/bin/systemd-analyze")) {
    Cmd v = run("systemd-analyze verify " + q(unit_file));
    EXPECT_EQ(v.status, 0) << v.out;
    EXPECT_EQ(v.out.find("baotin.service:"), std::string::npos) << v.out;
  }

  // Installing again keeps the operator's config and refreshes the example.
  std::ofstream(config, std::ios::app) << "# the operator's own edit\n";
  std::ofstream(example, std::ios::trunc) << "stale\n";
  r = install(p);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(read_file(config).find("# the operator's own edit"), std::string::npos);
  EXPECT_NE(r.out.find("Kept: " + config), std::string::npos) << r.out;
  EXPECT_EQ(read_file(example), cfg);
}

// The default prefix under a DESTDIR (as a package build does): /etc/baotin/baotin.toml, and the unit exactly as
// in the source tree (which names the default paths).
TEST(Install, DestdirWithTheDefaultPrefixAndUsr) {
  TempDir tmp("baotin-install");
  const std::string d = (tmp.path / "root").string();
  Cmd r = install("/usr/local", d);
  ASSERT_EQ(r.status, 0) << r.out;
  std::string cfg = read_file(d + "/etc/baotin/baotin.toml");
  EXPECT_NE(cfg.find("templates_dir = \"/usr/local/share/baotin/sites\""), std::string::npos) << cfg << r.out;
  EXPECT_TRUE(fs::is_regular_file(d + "/usr/local/share/baotin/sites/vnexpress.toml"));
  EXPECT_TRUE(fs::is_regular_file(d + "/usr/local/share/doc/baotin/README.md"));
  std::string unit = read_file(d + "/usr/local/lib/systemd/system/baotin.service");
  EXPECT_EQ(unit, read_file(std::string(BAOTIN_SOURCE_DIR) + "/systemd/baotin.service"));
  EXPECT_EQ(unit_value(unit, "ExecStart"),
            "/usr/local/bin/baotin serve --config /etc/baotin/baotin.toml --data-dir ${STATE_DIRECTORY}");
  EXPECT_EQ(unit_value(unit, "Documentation"), "file:///usr/local/share/doc/baotin/README.md");

  const std::string d2 = (tmp.path / "root-usr").string();
  r = install("/usr", d2);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(read_file(d2 + "/etc/baotin/baotin.toml").find("templates_dir = \"/usr/share/baotin/sites\""),
            std::string::npos);
  unit = read_file(d2 + "/usr/lib/systemd/system/baotin.service");
  EXPECT_EQ(unit_value(unit, "ExecStart"),
            "/usr/bin/baotin serve --config /etc/baotin/baotin.toml --data-dir ${STATE_DIRECTORY}");
  EXPECT_EQ(unit_value(unit, "Documentation"), "file:///usr/share/doc/baotin/README.md");
}
