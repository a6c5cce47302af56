#include <gtest/gtest.h>

#include "core/url.h"

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

TEST(Url, ReferencesWithASchemeAreNeverRelativePaths) {
  const std::string base = "https://vnexpress.net/thoi-su/";
  for (const char* ref : {"javascript:alert(1)", "JavaScript:void(0)", "data:text/html,<b>x</b>", "mailto:a@b.vn",
                          "file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO", "ftp://example.vn/x"}) {
    std::string r = resolve_url(base, ref);
    EXPECT_EQ(r.find("vnexpress.net"), std::string::npos) << ref << " -> " << r;
    EXPECT_FALSE(is_http_url(r)) << ref;
  }
  EXPECT_EQ(resolve_url(base, "javascript:alert(1)"), "javascript:alert(1)");
  EXPECT_EQ(url_scheme("javascript:alert(1)"), "javascript");
  EXPECT_EQ(url_scheme("HTTPS://x.vn/"), "https");
  EXPECT_EQ(url_scheme("/a:b"), "");
  EXPECT_EQ(url_scheme("./a:b"), "");
  EXPECT_EQ(url_scheme("1abc:x"), "");
  // Relative references still resolve.
  EXPECT_EQ(resolve_url(base, "bai-1.html"), "https://vnexpress.net/thoi-su/bai-1.html");
  EXPECT_EQ(resolve_url(base, "./a:b"), "https://vnexpress.net/thoi-su/a:b");
  EXPECT_TRUE(is_http_url("http://127.0.0.1:8080/x"));
  EXPECT_FALSE(is_http_url("http:/x"));
}

TEST(Url, RedactUrl) {
  EXPECT_EQ(redact_url("https://feeds.example.vn/rss?token=s3cr3t&cat=thoi-su"),
            "https://feeds.example.vn/rss?token=REDACTED&cat=thoi-su");
  EXPECT_EQ(redact_url("https://x.vn/f?key=1&api_key=2&API-KEY=3&access_token=4&sig=5&signature=6&password=7"
                       "&client_secret=8&X-Amz-Signature=9&X-Amz-Credential=10&page=2"),
            "https://x.vn/f?key=REDACTED&api_key=REDACTED&API-KEY=REDACTED&access_token=REDACTED&sig=REDACTED"
            "&signature=REDACTED&password=REDACTED&client_secret=REDACTED&X-Amz-Signature=REDACTED"
            "&X-Amz-Credential=REDACTED&page=2");
  // Userinfo password.
  EXPECT_EQ(redact_url("https://bot:hunter2@x.vn/rss"), "https://bot:REDACTED@x.vn/rss");
  EXPECT_EQ(redact_url("https://bot@x.vn/rss"), "https://bot@x.vn/rss");
  // Ordinary parameters, fragments, empty values and URLs without a query are left alone.
  EXPECT_EQ(redact_url("https://x.vn/a?id=1&author=nguyen&monkey=2#token=frag"),
            "https://x.vn/a?id=1&author=nguyen&monkey=2#token=frag");
  EXPECT_EQ(redact_url("https://x.vn/a?token=&x"), "https://x.vn/a?token=&x");
  EXPECT_EQ(redact_url("https://x.vn/a?token=1#f"), "https://x.vn/a?token=REDACTED#f");
  EXPECT_EQ(redact_url("https://x.vn/"), "https://x.vn/");
  EXPECT_EQ(redact_url(""), "");
  // URLs inside a text (an error message) are redacted, the rest kept.
  EXPECT_EQ(redact_url("redirect from https://a.vn/r?sig=abc to 'http://b.vn/x?token=t' refused"),
            "redirect from https://a.vn/r?sig=REDACTED to 'http://b.vn/x?token=REDACTED' refused");
  EXPECT_EQ(redact_url("no url here ?token=x"), "no url here ?token=x");
  // Idempotent.
  const std::string once = redact_url("https://u:p@x.vn/?token=1&k=2");
  EXPECT_EQ(redact_url(once), once);
}
