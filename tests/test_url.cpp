#include <gtest/gtest.h>

#include "parse/url.h"

using namespace baotin;

TEST(Url, Parse) {
  auto u = parse_url("HTTPS://VnExpress.net:8443/a/b.html?x=1#frag");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "vnexpress.net");
  EXPECT_EQ(u->port, "8443");
  EXPECT_EQ(u->path, "/a/b.html");
  EXPECT_EQ(u->query, "x=1");
  EXPECT_EQ(u->fragment, "frag");
  EXPECT_FALSE(parse_url("/relative/path"));
  EXPECT_FALSE(parse_url("mailto:someone@example.com"));
  EXPECT_FALSE(parse_url("http://host:port/"));
}

TEST(Url, ResolveRfc3986Examples) {
  const std::string base = "http://a/b/c/d;p?q";
  EXPECT_EQ(resolve_url(base, "g"), "http://a/b/c/g");
  EXPECT_EQ(resolve_url(base, "./g"), "http://a/b/c/g");
  EXPECT_EQ(resolve_url(base, "g/"), "http://a/b/c/g/");
  EXPECT_EQ(resolve_url(base, "/g"), "http://a/g");
  EXPECT_EQ(resolve_url(base, "//g"), "http://g/");
  EXPECT_EQ(resolve_url(base, "?y"), "http://a/b/c/d;p?y");
  EXPECT_EQ(resolve_url(base, "g?y"), "http://a/b/c/g?y");
  EXPECT_EQ(resolve_url(base, "#s"), "http://a/b/c/d;p?q#s");
  EXPECT_EQ(resolve_url(base, ".."), "http://a/b/");
  EXPECT_EQ(resolve_url(base, "../g"), "http://a/b/g");
  EXPECT_EQ(resolve_url(base, "../../g"), "http://a/g");
  EXPECT_EQ(resolve_url(base, "../../../g"), "http://a/g");
  EXPECT_EQ(resolve_url(base, "https://other.vn/x"), "https://other.vn/x");
}

TEST(Url, HostMatches) {
  EXPECT_TRUE(host_matches("vnexpress.net", "vnexpress.net"));
  EXPECT_TRUE(host_matches("e.vnexpress.net", "vnexpress.net"));
  EXPECT_TRUE(host_matches("e.vnexpress.net", "*.vnexpress.net"));
  EXPECT_FALSE(host_matches("notvnexpress.net", "vnexpress.net"));
  EXPECT_EQ(url_host("https://TuoiTre.vn/abc"), "tuoitre.vn");
}
