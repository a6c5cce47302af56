#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/service.h"

using namespace baotin;

namespace {
std::string write_tmp(const std::string& name, const std::string& text) {
  auto p = std::filesystem::temp_directory_path() / name;
  std::ofstream(p) << text;
  return p.string();
}
}  // namespace

TEST(Config, ShippedExampleIsValid) {
  Config cfg;
  std::vector<TemplateError> errs;
  ASSERT_TRUE(load_config(std::string(BAOTIN_SOURCE_DIR) + "/systemd/baotin.toml", cfg, errs))
      << (errs.empty() ? "" : errs[0].str());
  EXPECT_TRUE(std::filesystem::exists(cfg.templates_dir)) << cfg.templates_dir;
  TemplateRegistry reg;
  reg.load_dir(cfg.templates_dir, errs);
  EXPECT_TRUE(errs.empty());
  EXPECT_FALSE(effective_feeds(cfg, reg).empty());
  EXPECT_EQ(cfg.block_cache_mb, 64u);
}

TEST(Config, BlockCache) {
  Config cfg;
  std::vector<TemplateError> errs;
  ASSERT_TRUE(load_config(write_tmp("baotin_cfg_cache.toml", "[daemon]\nblock_cache_mb = 512\n"), cfg, errs));
  EXPECT_EQ(cfg.block_cache_mb, 512u);
  Config bad;
  EXPECT_FALSE(load_config(write_tmp("baotin_cfg_cache_bad.toml", "[daemon]\nblock_cache_mb = -5\n"), bad, errs));
  ASSERT_FALSE(errs.empty());
  EXPECT_NE(errs.back().message.find("block_cache_mb"), std::string::npos) << errs.back().message;
}

TEST(Config, ErrorsWithLines) {
  Config cfg;
  std::vector<TemplateError> errs;
  auto p = write_tmp("baotin-cfg-bad.toml",
                     "[daemon]\nworkers = \"two\"\nlog_level = \"loud\"\n[fetch]\nbogus = 1\n[[feeds]]\nurl = \"ftp://x\"\n");
  EXPECT_FALSE(load_config(p, cfg, errs));
  auto has = [&](int line, const std::string& part) {
    return std::any_of(errs.begin(), errs.end(), [&](const TemplateError& e) {
      return e.line == line && e.message.find(part) != std::string::npos;
    });
  };
  EXPECT_TRUE(has(2, "expected an integer"));
  EXPECT_TRUE(has(5, "unknown key 'fetch.bogus'"));
  EXPECT_TRUE(has(6, "must be an http(s) URL"));
  EXPECT_TRUE(std::any_of(errs.begin(), errs.end(), [](auto& e) { return e.message.find("log_level") != std::string::npos; }));
}

TEST(Config, EffectiveFeedsMergeAndDeduplicate) {
  Config cfg;
  std::vector<TemplateError> errs;
  auto p = write_tmp("baotin-cfg-feeds.toml",
                     "[sites]\nenabled = [\"a\"]\n[[feeds]]\nurl = \"https://a.vn/rss\"\n[[feeds]]\nurl = \"https://z.vn/rss\"\n");
  ASSERT_TRUE(load_config(p, cfg, errs));
  TemplateRegistry reg;
  reg.add(parse_template("name=\"a\"\nrevision=1\nhosts=[\"a.vn\"]\nfeeds=[\"https://a.vn/rss\",\"https://a.vn/rss2\"]\n[fields]\ntitle=\"//h1\"\nbody=\"//p\"\n", "a.toml", errs));
  reg.add(parse_template("name=\"b\"\nrevision=1\nhosts=[\"b.vn\"]\nfeeds=[\"https://b.vn/rss\"]\n[fields]\ntitle=\"//h1\"\nbody=\"//p\"\n", "b.toml", errs));
  auto feeds = effective_feeds(cfg, reg);
  ASSERT_EQ(feeds.size(), 3u);
  EXPECT_EQ(feeds[0].url, "https://a.vn/rss");
  EXPECT_EQ(feeds[1].url, "https://z.vn/rss");
  EXPECT_EQ(feeds[2].url, "https://a.vn/rss2");
  EXPECT_EQ(feeds[2].site, "a");
}

TEST(Config, AllowPrivateFetchAndPerFeed) {
  Config cfg;
  std::vector<TemplateError> errs;
  auto p = write_tmp("baotin-cfg-allow.toml",
                     "[fetch]\nallow_private = [\"10.0.0.0/8\", \"intranet.example.vn\"]\n"
                     "[[feeds]]\nurl = \"http://127.0.0.1:8080/rss\"\nallow_private = true\n"
                     "[[feeds]]\nurl = \"https://intranet.vn/rss\"\nallow_private = true\n"
                     "[[feeds]]\nurl = \"https://b.vn/rss\"\nallow_private = [\"192.168.1.0/24\", \"[::1]:9000\"]\n"
                     "[[feeds]]\nurl = \"https://c.vn/rss\"\nallow_private = false\n"
                     "[[feeds]]\nurl = \"https://d.vn/rss\"\n");
  ASSERT_TRUE(load_config(p, cfg, errs)) << (errs.empty() ? "" : errs[0].str());
  EXPECT_EQ(cfg.allow_private, (std::vector<std::string>{"10.0.0.0/8", "intranet.example.vn"}));
  ASSERT_EQ(cfg.feeds.size(), 5u);
  EXPECT_EQ(cfg.feeds[0].allow_private, std::vector<std::string>{"127.0.0.1:8080"});  // the feed's own host:port
  EXPECT_EQ(cfg.feeds[1].allow_private, std::vector<std::string>{"intranet.vn:443"});
  EXPECT_EQ(cfg.feeds[2].allow_private, (std::vector<std::string>{"192.168.1.0/24", "[::1]:9000"}));
  EXPECT_TRUE(cfg.feeds[3].allow_private.empty());
  EXPECT_TRUE(cfg.feeds[4].allow_private.empty());
  EXPECT_EQ(fetcher_config(cfg).allow_private, cfg.allow_private);

  Config bad;
  errs.clear();
  auto q = write_tmp("baotin-cfg-allow-bad.toml",
                     "[fetch]\nallow_private = [\"10.0.0.0/40\"]\n"
                     "[[feeds]]\nurl = \"https://b.vn/rss\"\nallow_private = \"yes\"\n"
                     "[[feeds]]\nurl = \"https://c.vn/rss\"\nallow_private = [\n  \"ok.vn\",\n  \"not ok\"]\n");
  EXPECT_FALSE(load_config(q, bad, errs));
  auto has = [&](int line, const std::string& part) {
    return std::any_of(errs.begin(), errs.end(), [&](const TemplateError& e) {
      return e.line == line && e.message.find(part) != std::string::npos;
    });
  };
  EXPECT_TRUE(has(2, "fetch.allow_private: allow_private entry '10.0.0.0/40'")) << errs.size();
  EXPECT_TRUE(has(5, "feeds.allow_private: expected an array"));
  EXPECT_TRUE(has(10, "allow_private entry 'not ok'"));
}

TEST(SystemdUnit, VerifiesWithSystemdAnalyze) {
  if (!std::filesystem::exists("/usr/bin/systemd-analyze")) GTEST_SKIP() << "systemd-analyze not installed";
  std::ifstream in(std::string(BAOTIN_SOURCE_DIR) + "/systemd/baotin.service");
  std::string unit((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_NE(unit.find("Type=notify"), std::string::npos);
  ASSERT_NE(unit.find("WatchdogSec="), std::string::npos);
  ASSERT_NE(unit.find("ProtectSystem=strict"), std::string::npos);
  // Point ExecStart at the binary just built so that verify can check it exists.
  const std::string from = "/usr/local/bin/baotin";
  auto pos = unit.find(from);
  ASSERT_NE(pos, std::string::npos);
  unit.replace(pos, from.size(), BAOTIN_BINARY);
  auto dir = std::filesystem::temp_directory_path() / ("baotin-unit-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "baotin.service") << unit;
  std::string cmd = "systemd-analyze verify " + (dir / "baotin.service").string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_TRUE(p);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  int st = pclose(p);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(st, 0) << out;
  EXPECT_EQ(out.find("baotin.service:"), std::string::npos) << out;  // no warnings about our unit
}
