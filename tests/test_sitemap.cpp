// Unit tests for feed/sitemap.*
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "feed/sitemap.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace baotin;

namespace {
std::string fixture(const std::string& name) {
  const fs::path p = fs::path(BAOTIN_FIXTURES) / "feeds" / name;
  EXPECT_TRUE(std::ifstream(p, std::ios::binary).good()) << name;
  return baotin::testing::read_file(p);
}
}  // namespace

TEST(Sitemap, Index) {
  ParsedSitemap s = parse_sitemap(fixture("sitemap_index.xml"));
  EXPECT_TRUE(s.error.empty()) << s.error;
  EXPECT_TRUE(s.is_index);
  ASSERT_EQ(s.entries.size(), 2u);  // the <sitemap> without <loc> is skipped
  EXPECT_EQ(s.entries[0].loc, "https://sm.example.vn/sitemap-2025-02.xml");
  EXPECT_EQ(s.entries[0].lastmod, "2025-02-06T13:45:46Z");
  EXPECT_EQ(s.entries[1].loc, "https://sm.example.vn/sitemap-2025-01.xml");  // trimmed
  EXPECT_EQ(s.entries[1].lastmod, "2025-01-31T00:00:00Z");
}

TEST(Sitemap, GoogleNews) {
  ParsedSitemap s = parse_sitemap(fixture("sitemap_news.xml"));
  EXPECT_TRUE(s.error.empty()) << s.error;
  EXPECT_FALSE(s.is_index);
  ASSERT_EQ(s.entries.size(), 2u);
  EXPECT_EQ(s.entries[0].loc, "https://sm.example.vn/thoi-su/bai-1.html?a=1&b=2");
  EXPECT_EQ(s.entries[0].news_title, "Hà Nội & TP.HCM");
  EXPECT_EQ(s.entries[0].news_published, "2025-02-06T13:45:46Z");
  EXPECT_EQ(s.entries[0].lastmod, "");
  EXPECT_EQ(s.entries[1].loc, "https://sm.example.vn/bai-2.html");
  EXPECT_EQ(s.entries[1].lastmod, "");  // "not a date"
  EXPECT_EQ(s.entries[1].news_title, "");
}

TEST(Sitemap, PrefixedNamespaceAndBom) {
  std::string x =
      "\xEF\xBB\xBF<?xml version=\"1.0\"?><sm:urlset xmlns:sm=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
      "<sm:url><sm:loc>https://a.example.vn/1</sm:loc><sm:lastmod>2025-02-06</sm:lastmod></sm:url></sm:urlset>";
  ParsedSitemap s = parse_sitemap(x);
  EXPECT_TRUE(s.error.empty()) << s.error;
  ASSERT_EQ(s.entries.size(), 1u);
  EXPECT_EQ(s.entries[0].loc, "https://a.example.vn/1");
}

TEST(Sitemap, TruncatedKeepsCompleteEntries) {
  std::string x = fixture("sitemap_news.xml");
  x = x.substr(0, x.find("<url><loc>https://sm.example.vn/bai-2.html") + 20);
  ParsedSitemap s = parse_sitemap(x);
  EXPECT_FALSE(s.error.empty());
  ASSERT_GE(s.entries.size(), 1u);
  EXPECT_EQ(s.entries[0].loc, "https://sm.example.vn/thoi-su/bai-1.html?a=1&b=2");
}

TEST(Sitemap, TextSitemap) {
  ParsedSitemap s = parse_sitemap("https://a.example.vn/1\r\n\nhttps://a.example.vn/2\n");
  EXPECT_TRUE(s.error.empty()) << s.error;
  ASSERT_EQ(s.entries.size(), 2u);
  EXPECT_EQ(s.entries[1].loc, "https://a.example.vn/2");
}

TEST(Sitemap, Errors) {
  EXPECT_EQ(parse_sitemap("").error, "empty sitemap");
  ParsedSitemap rss = parse_sitemap("<rss version=\"2.0\"><channel/></rss>");
  EXPECT_NE(rss.error.find("not a sitemap"), std::string::npos) << rss.error;
  EXPECT_TRUE(rss.entries.empty());
  ParsedSitemap junk = parse_sitemap("<<<>>> &&& \x01\x02");
  EXPECT_FALSE(junk.error.empty());
  ParsedSitemap txt = parse_sitemap("hello world");
  EXPECT_FALSE(txt.error.empty());
  EXPECT_TRUE(txt.entries.empty());
}

// Issue 14: URLs over limits::kMaxUrlBytes are never handed on (the sitemap says so in `error`).
TEST(Sitemap, OverlongLocIsSkipped) {
  std::string big = "https://a.vn/" + std::string(9000, 'a') + ".html";
  ParsedSitemap s = parse_sitemap("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><url><loc>" + big +
                                  "</loc><lastmod>" + std::string(30000, '1') +
                                  "</lastmod></url><url><loc>https://a.vn/b.html</loc></url></urlset>");
  ASSERT_EQ(s.entries.size(), 1u);
  EXPECT_EQ(s.entries[0].loc, "https://a.vn/b.html");
  EXPECT_NE(s.error.find("longer than 8192 bytes"), std::string::npos) << s.error;
  ParsedSitemap t = parse_sitemap(big + "\nhttps://a.vn/c.html\n");
  ASSERT_EQ(t.entries.size(), 1u);
  EXPECT_EQ(t.entries[0].loc, "https://a.vn/c.html");
}
