// Site templates against hand-written article pages that mirror each outlet's real markup.
//
// Each tests/fixtures/sites/<outlet>/<name>.json describes one page:
//   {"html": "article1.html", "url": "...", "site": "<template name>",
//    "expected": {"title", "lead", "body": [...], "authors": [...], "published", "category", "tags": [...],
//                 "images": [{"url", "caption"}], "canonical_url", "language"},
//    "absent": ["boilerplate phrase", ...],           // must not appear in title/lead/body
//    "not_articles": ["https://...", ...]}            // URLs the template must not treat as articles
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/article.h"
#include "core/date.h"
#include "extract/extract.h"
#include "extract/template.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace baotin;
using baotin::testing::read_file;

namespace {

const char* const kOutlets[] = {"baoquocte", "baotintuc", "vietnamplus", "tienphong", "laodong", "vov"};

fs::path sites_dir() { return fs::path(BAOTIN_SOURCE_DIR) / "sites"; }
fs::path fixtures_dir() { return fs::path(BAOTIN_FIXTURES) / "sites"; }

std::vector<fs::path> fixture_specs(const std::string& outlet) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fixtures_dir() / outlet, ec))
    // Golden real pages (<YYYY>_<n>.json, tests/test_golden.cpp) have their own test.
    if (e.path().extension() == ".json" && e.path().stem().string().rfind("article", 0) == 0) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> strings(const nlohmann::json& j) {
  std::vector<std::string> v;
  for (const auto& e : j) v.push_back(e.get<std::string>());
  return v;
}

class OutletTemplate : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(OutletTemplate, LoadsWithoutErrors) {
  const std::string outlet = GetParam();
  std::vector<TemplateError> errors;
  auto t = load_template((sites_dir() / (outlet + ".toml")).string(), errors);
  for (const auto& e : errors) ADD_FAILURE() << e.str();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->name, outlet);
  EXPECT_GE(t->revision, 1);
  EXPECT_FALSE(t->hosts.empty());
  EXPECT_FALSE(t->feeds.empty());
  for (const char* f : {"title", "lead", "body", "authors", "published", "category", "canonical"})
    EXPECT_TRUE(t->fields.count(f) && !t->fields.at(f).empty()) << outlet << " lacks field " << f;
}

TEST_P(OutletTemplate, HasAtLeastOneFixture) { EXPECT_FALSE(fixture_specs(GetParam()).empty()); }

TEST_P(OutletTemplate, ExtractsFixturesExactly) {
  const std::string outlet = GetParam();
  TemplateRegistry reg;
  std::vector<TemplateError> errors;
  // Only this outlet's template: the test must not depend on other files in sites/.
  auto t = load_template((sites_dir() / (outlet + ".toml")).string(), errors);
  ASSERT_TRUE(t) << (errors.empty() ? "" : errors.front().str());
  reg.add(t);

  for (const auto& spec_path : fixture_specs(outlet)) {
    SCOPED_TRACE(spec_path.string());
    nlohmann::json spec = nlohmann::json::parse(read_file(spec_path));
    const std::string url = spec.at("url");
    const std::string html = read_file(spec_path.parent_path() / spec.at("html").get<std::string>());
    ASSERT_FALSE(html.empty());

    ASSERT_EQ(reg.for_url(url), t) << "template not chosen for " << url;
    EXPECT_TRUE(t->is_article_url(url)) << url;
    if (spec.contains("not_articles")) {
      for (const auto& u : strings(spec["not_articles"])) EXPECT_FALSE(t->is_article_url(u)) << u;
    }

    // Template alone first (proves the template fills every field itself), then with the generic
    // fallback enabled, as the daemon runs it: the record must be the same.
    for (bool generic : {false, true}) {
      SCOPED_TRACE(generic ? "with generic fallback" : "template only");
      ExtractOptions opts;
      opts.templates = &reg;
      opts.allow_generic = generic;
      Article a = extract_article(html, url, "text/html; charset=utf-8", opts);

      const auto& ex = spec.at("expected");
      EXPECT_EQ(a.extractor, "template");
      EXPECT_EQ(a.template_name, t->id());
      EXPECT_EQ(a.site, outlet);
      EXPECT_FALSE(a.partial) << (a.warnings.empty() ? "" : a.warnings.front());
      EXPECT_EQ(a.title, ex.at("title").get<std::string>());
      EXPECT_EQ(a.lead, ex.at("lead").get<std::string>());
      EXPECT_EQ(a.body, strings(ex.at("body")));
      EXPECT_EQ(a.authors, strings(ex.at("authors")));
      EXPECT_EQ(a.published, ex.at("published").get<std::string>());
      // The published value is already normalised: normalising it again is a no-op.
      EXPECT_EQ(normalize_date(a.published).value_or(""), a.published);
      if (ex.contains("updated")) {
        EXPECT_EQ(a.updated, ex["updated"].is_null() ? std::string() : ex["updated"].get<std::string>());
      }
      if (ex.contains("source")) {
        EXPECT_EQ(a.source, ex["source"].is_null() ? std::string() : ex["source"].get<std::string>());
      }
      if (ex.contains("category")) {
        EXPECT_EQ(a.category, ex["category"].get<std::string>());
      }
      if (ex.contains("tags")) {
        EXPECT_EQ(a.tags, strings(ex["tags"]));
      }
      if (ex.contains("canonical_url")) {
        EXPECT_EQ(a.canonical_url, ex["canonical_url"].get<std::string>());
      }
      if (ex.contains("language")) {
        EXPECT_EQ(a.language, ex["language"].get<std::string>());
      }
      if (ex.contains("images")) {
        std::vector<Image> want;
        for (const auto& im : ex["images"]) want.push_back({im.at("url").get<std::string>(), im.at("caption").get<std::string>()});
        EXPECT_EQ(a.images.size(), want.size());
        for (size_t i = 0; i < std::min(a.images.size(), want.size()); ++i) {
          EXPECT_EQ(a.images[i].url, want[i].url) << "image " << i;
          EXPECT_EQ(a.images[i].caption, want[i].caption) << "image " << i;
        }
      }
      for (const char* f : {"title", "lead", "body", "authors", "published"})
        EXPECT_NE(std::find(a.fields.begin(), a.fields.end(), f), a.fields.end()) << "field not filled: " << f;
      EXPECT_GE(body_text(a).size(), t->min_body_chars);

      const std::string text = a.title + "\n" + a.lead + "\n" + body_text(a);
      for (const auto& phrase : strings(spec.at("absent")))
        EXPECT_EQ(text.find(phrase), std::string::npos) << "boilerplate in the record: " << phrase;
      // Image captions belong to images, never to the body.
      for (const auto& im : a.images) {
        if (!im.caption.empty()) {
          EXPECT_EQ(body_text(a).find(im.caption), std::string::npos) << im.caption;
        }
      }
    }  // generic
  }
}

// The fixtures are not trivially passing: without the template's `remove` rules the boilerplate
// inside the article body container would leak into the record.
TEST_P(OutletTemplate, RemoveRulesAreNeeded) {
  const std::string outlet = GetParam();
  std::vector<TemplateError> errors;
  auto t = load_template((sites_dir() / (outlet + ".toml")).string(), errors);
  ASSERT_TRUE(t);
  auto stripped = std::make_shared<SiteTemplate>(*t);
  stripped->remove = FieldRule{};
  TemplateRegistry reg;
  reg.add(stripped);
  for (const auto& spec_path : fixture_specs(outlet)) {
    SCOPED_TRACE(spec_path.string());
    nlohmann::json spec = nlohmann::json::parse(read_file(spec_path));
    const std::string html = read_file(spec_path.parent_path() / spec.at("html").get<std::string>());
    ExtractOptions opts;
    opts.templates = &reg;
    Article a = extract_article(html, spec.at("url").get<std::string>(), "text/html", opts);
    EXPECT_NE(a.body, strings(spec.at("expected").at("body")))
        << "the remove rules of " << outlet << " make no difference on this fixture";
  }
}

TEST(TemplatesFixtures, RegistryPicksOutletsByHost) {
  TemplateRegistry reg;
  std::vector<TemplateError> errors;
  for (const char* o : kOutlets)
    if (auto t = load_template((sites_dir() / (std::string(o) + ".toml")).string(), errors)) reg.add(t);
  for (const auto& e : errors) ADD_FAILURE() << e.str();
  struct Case {
    const char* url;
    const char* name;
  } cases[] = {
      {"https://baoquocte.vn/abc-123456.html", "baoquocte"},
      {"https://baotintuc.vn/thoi-su/abc-20260307080612345.htm", "baotintuc"},
      {"https://www.vietnamplus.vn/abc-post1012345.vnp", "vietnamplus"},
      {"https://en.vietnamplus.vn/abc-post312345.vnp", "vietnamplus"},
      {"https://tienphong.vn/abc-post1720345.tpo", "tienphong"},
      {"https://laodong.vn/xa-hoi/abc-1478523.ldo", "laodong"},
      {"https://vov.vn/xa-hoi/abc-post1178523.vov", "vov"},
  };
  for (const auto& c : cases) {
    auto t = reg.for_url(c.url);
    ASSERT_TRUE(t) << c.url;
    EXPECT_EQ(t->name, c.name) << c.url;
    EXPECT_TRUE(t->is_article_url(c.url)) << c.url;
  }
  EXPECT_FALSE(reg.for_url("https://vnexpress.net/abc-4812345.html"));
  EXPECT_FALSE(reg.for_url("https://notvov.vn/abc.vov"));
}

INSTANTIATE_TEST_SUITE_P(Outlets, OutletTemplate, ::testing::ValuesIn(std::vector<std::string>(std::begin(kOutlets), std::end(kOutlets))),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });
