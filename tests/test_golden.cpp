// Golden real pages (issue 13): tests/fixtures/sites/<template>/<YYYY>_<n>.html.gz are real saved article pages
// found in public repositories (provenance in the JSON next to each), with an expected record written by reading
// the page. Every page goes through the production path (all templates of sites/, chosen by the URL's host,
// generic fallback on) and must give: the title, lead, published and updated times and source exactly (every
// truth states updated and source, null when the page has none); `category` and `language` exactly where the
// truth names them; body F1 >= 0.99 (the AEB shingle metric) and
// none of the page's boilerplate strings; authors right on >= 95 % of the pages.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/aeb_metric.h"
#include "bench/gzip.h"
#include "core/article.h"
#include "core/text.h"
#include "extract/extract.h"
#include "extract/template.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace baotin;

namespace {

fs::path sites_dir() { return fs::path(BAOTIN_SOURCE_DIR) / "sites"; }
fs::path golden_dir() { return fs::path(BAOTIN_FIXTURES) / "sites"; }

bool is_golden_name(const std::string& stem) {  // "2019_1"
  static const std::regex re("^(19|20)\\d\\d_\\d+$");  // test code: file names only
  return std::regex_match(stem, re);
}

std::vector<fs::path> golden_specs() {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& d : fs::directory_iterator(golden_dir(), ec)) {
    if (!d.is_directory()) continue;
    for (const auto& e : fs::directory_iterator(d.path(), ec))
      if (e.path().extension() == ".json" && is_golden_name(e.path().stem().string())) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string str_or_empty(const nlohmann::json& j, const char* k) {
  return j.contains(k) && j[k].is_string() ? nfc(j[k].get<std::string>()) : std::string();
}

std::vector<std::string> strings(const nlohmann::json& j) {
  std::vector<std::string> v;
  if (j.is_array())
    for (const auto& e : j) v.push_back(nfc(e.get<std::string>()));
  return v;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& p : v) s += (s.empty() ? "" : "\n") + p;
  return s;
}

const TemplateRegistry& registry() {
  static const TemplateRegistry reg = [] {
    TemplateRegistry r;
    std::vector<TemplateError> errs;
    r.load_dir(sites_dir().string(), errs);
    return r;
  }();
  return reg;
}

class GoldenPage : public ::testing::TestWithParam<fs::path> {};

}  // namespace

TEST_P(GoldenPage, ExtractsAsTheTruthSays) {
  const fs::path spec_path = GetParam();
  const nlohmann::json spec = nlohmann::json::parse(baotin::testing::read_file(spec_path));
  for (const char* k : {"url", "template", "html", "provenance", "checked_by", "expected"})
    ASSERT_TRUE(spec.contains(k)) << spec_path << " lacks " << k;
  for (const char* k : {"repo", "path", "commit"}) ASSERT_TRUE(spec["provenance"].contains(k)) << k;
  EXPECT_EQ(spec["provenance"]["commit"].get<std::string>().size(), 40u);
  std::string html;
  ASSERT_TRUE(gunzip(baotin::testing::read_file(spec_path.parent_path() / spec["html"].get<std::string>()), html));
  const std::string url = spec["url"];
  const auto& ex = spec["expected"];

  ExtractOptions o;
  o.templates = &registry();
  Article a = extract_article(html, url, "", o);
  SCOPED_TRACE(spec_path.filename().string() + " warnings: " + nlohmann::json(a.warnings).dump());

  EXPECT_EQ(a.site, spec["template"].get<std::string>());
  EXPECT_EQ(a.title, str_or_empty(ex, "title"));
  EXPECT_EQ(a.lead, str_or_empty(ex, "lead"));
  EXPECT_EQ(a.published, str_or_empty(ex, "published"));
  // every truth file states updated and source (null when the page has none), so neither goes unchecked
  ASSERT_TRUE(ex.contains("updated") && ex.contains("source")) << "truth without updated/source: " << spec_path;
  EXPECT_EQ(a.updated, str_or_empty(ex, "updated"));
  EXPECT_EQ(a.source, str_or_empty(ex, "source"));
  if (ex.contains("category") && !ex["category"].is_null()) EXPECT_EQ(a.category, str_or_empty(ex, "category"));
  if (ex.contains("language")) EXPECT_EQ(a.language, str_or_empty(ex, "language"));

  const std::string want = join(strings(ex["body"])), got = join(a.body);
  const ShingleScore sc = aeb_shingle_match(want, got);
  const double p = sc.precision(), r = sc.recall(), f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
  EXPECT_GE(f1, 0.99) << "body P=" << p << " R=" << r << "\n--- got:\n" << got.substr(0, 3000);
  if (spec.contains("absent"))
    for (const auto& s : spec["absent"]) {
      const std::string bad = nfc(s.get<std::string>());
      EXPECT_EQ((a.title + "\n" + a.lead + "\n" + got).find(bad), std::string::npos) << "boilerplate: " << bad;
    }
}

INSTANTIATE_TEST_SUITE_P(Sites, GoldenPage, ::testing::ValuesIn(golden_specs()),
                         [](const ::testing::TestParamInfo<fs::path>& info) {
                           std::string n = info.param.parent_path().filename().string() + "_" +
                                           info.param.stem().string();
                           for (auto& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

// Authors are right on at least 95 % of the golden pages.
TEST(GoldenSummary, AuthorsRightOnNinetyFivePercent) {
  const auto specs = golden_specs();
  ASSERT_FALSE(specs.empty());
  size_t ok = 0;
  for (const auto& sp : specs) {
    const nlohmann::json spec = nlohmann::json::parse(baotin::testing::read_file(sp));
    std::string html;
    ASSERT_TRUE(gunzip(baotin::testing::read_file(sp.parent_path() / spec["html"].get<std::string>()), html));
    ExtractOptions o;
    o.templates = &registry();
    Article a = extract_article(html, spec["url"].get<std::string>(), "", o);
    if (a.authors == strings(spec["expected"]["authors"])) ++ok;
    else std::cout << sp.filename() << ": authors " << nlohmann::json(a.authors).dump() << ", truth "
                   << spec["expected"]["authors"].dump() << "\n";
  }
  EXPECT_GE(static_cast<double>(ok), 0.95 * static_cast<double>(specs.size())) << ok << " of " << specs.size();
}

// Every template of sites/ has at least 3 golden real pages, or tests/fixtures/sites/SHORTFALL.tsv names it with
// exactly the number it has and what was searched: a new template cannot come without pages unnoticed, and a
// page added (or lost) makes the list be brought up to date.
TEST(GoldenCoverage, EveryTemplateHasThreeRealPagesOrTheShortfallIsRecorded) {
  std::map<std::string, size_t> have;
  for (const auto& t : registry().all()) have[t->name] = 0;
  ASSERT_GE(have.size(), 10u);
  for (const auto& sp : golden_specs()) {
    const std::string t = sp.parent_path().filename().string();
    ASSERT_TRUE(have.count(t)) << sp << ": no template named " << t;
    ++have[t];
  }
  std::map<std::string, size_t> listed;
  std::istringstream in(baotin::testing::read_file(golden_dir() / "SHORTFALL.tsv"));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream f(line);
    std::string name, count, why;
    ASSERT_TRUE(std::getline(f, name, '\t') && std::getline(f, count, '\t') && std::getline(f, why)) << line;
    ASSERT_FALSE(why.empty()) << name << ": say what was searched";
    ASSERT_TRUE(have.count(name)) << "SHORTFALL.tsv names " << name << ", which is no template";
    listed[name] = std::stoul(count);
  }
  for (const auto& [name, n] : have) {
    if (n >= 3) {
      EXPECT_FALSE(listed.count(name)) << name << " has " << n << " golden pages now: drop it from SHORTFALL.tsv";
    } else {
      ASSERT_TRUE(listed.count(name)) << name << " has " << n << " golden pages (3 wanted) and is not in SHORTFALL.tsv";
      EXPECT_EQ(listed[name], n) << name << ": SHORTFALL.tsv says " << listed[name] << " pages, there are " << n;
    }
  }
}

// `baotin eval DIR`: the same pages as a report, one line per template (issue 13).
TEST(GoldenEval, ReportsPerTemplateAndNamesTemplatesWithoutPages) {
  baotin::testing::TempDir dir("baotin-eval");
  fs::create_directories(dir.path / "znews");
  for (const auto& e : fs::directory_iterator(golden_dir() / "znews"))
    if (is_golden_name(e.path().stem().string()) || e.path().extension() == ".gz")
      fs::copy_file(e.path(), dir.path / "znews" / e.path().filename());
  auto run = [](const std::string& cmd, int* status) {
    auto r = baotin::testing::run_command(cmd);
    *status = r.status;
    return r.out;
  };
  const std::string bin = BAOTIN_BINARY, sites = sites_dir().string();
  int st = 0;
  std::string out = run(bin + " eval " + dir.path.string() + " --templates " + sites, &st);
  EXPECT_EQ(st, 0) << out;
  EXPECT_NE(out.find("znews"), std::string::npos) << out;
  EXPECT_NE(out.find("templates without a golden page:"), std::string::npos) << out;
  EXPECT_NE(out.find("vnexpress"), std::string::npos) << out;  // named as missing here
  out = run(bin + " eval " + dir.path.string() + " --templates " + sites + " --json", &st);
  auto j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(j.is_array()) << out;
  EXPECT_EQ(j.size(), 3u);
  for (const auto& p : j) EXPECT_TRUE(p["body_f1"].is_number() && p["title"].is_boolean()) << p.dump();
  fs::create_directories(dir.path / "empty");
  run(bin + " eval " + (dir.path / "empty").string() + " 2>/dev/null", &st);
  EXPECT_EQ(st, 1);
}
