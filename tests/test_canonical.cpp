#include "core/canonical.h"

#include <gtest/gtest.h>

#include <string>

using baotin::canonicalize_url;
using baotin::choose_canonical;
using baotin::registrable_domain;

namespace {

struct Case {
  const char* in;
  const char* out;
};

void check(const Case* cases, size_t n) {
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(canonicalize_url(cases[i].in), cases[i].out) << "input: " << cases[i].in;
}

}  // namespace

TEST(Canonical, RejectsNonHttp) {
  for (const char* s : {"", "   ", "ftp://vnexpress.net/a", "mailto:a@b.vn", "javascript:alert(1)", "/relative/path",
                        "vnexpress.net/abc.html", "http://", "https:///path", "http://exa mple.com/", "file:///etc/passwd",
                        "http://host:99999/", "http://host:8a/", "data:text/html,hi"})
    EXPECT_EQ(canonicalize_url(s), "") << s;
}

TEST(Canonical, SchemeHostPortFragment) {
  const Case cases[] = {
      {"HTTPS://VnExpress.NET/Thoi-Su", "https://vnexpress.net/Thoi-Su"},  // path case is kept
      {"https://vnexpress.net:443/a.html", "https://vnexpress.net/a.html"},
      {"http://vnexpress.net:80/a.html", "http://vnexpress.net/a.html"},
      {"https://vnexpress.net:80/a.html", "https://vnexpress.net:80/a.html"},
      {"http://localhost:8080/x", "http://localhost:8080/x"},
      {"http://127.0.0.1:08080/x", "http://127.0.0.1:8080/x"},
      {"https://vnexpress.net/a.html#box_comment", "https://vnexpress.net/a.html"},
      {"https://user:pw@vnexpress.net/a.html", "https://vnexpress.net/a.html"},
      {"https://vnexpress.net./a.html", "https://vnexpress.net/a.html"},
      {"https://vnexpress.net", "https://vnexpress.net/"},
      {"https://vnexpress.net?", "https://vnexpress.net/"},
      {"  https://vnexpress.net/a.html \n", "https://vnexpress.net/a.html"},
      {"http://[::1]:8080/a", "http://[::1]:8080/a"},
      {"http://[2001:DB8::1]/a", "http://[2001:db8::1]/a"},
      {"https://www.tuoitre.vn/a.htm", "https://tuoitre.vn/a.htm"},
  };
  check(cases, std::size(cases));
}

TEST(Canonical, VietnameseOutlets) {
  const Case cases[] = {
      // VnExpress: numeric id .html, vn_* campaign parameters, mobile host, comment fragment
      {"https://vnexpress.net/cho-ben-thanh-ho-con-rua-se-duoc-chinh-trang-truoc-tet-5006543.html?vn_source=rss&vn_medium=feed",
       "https://vnexpress.net/cho-ben-thanh-ho-con-rua-se-duoc-chinh-trang-truoc-tet-5006543.html"},
      {"https://m.vnexpress.net/xe-khach-lao-xuong-cong-5006600.html", "https://vnexpress.net/xe-khach-lao-xuong-cong-5006600.html"},
      {"https://vnexpress.net/xe-khach-lao-xuong-cong-5006600.html?utm_source=facebook&utm_campaign=x#box_comment_vne",
       "https://vnexpress.net/xe-khach-lao-xuong-cong-5006600.html"},
      {"https://e.vnexpress.net/news/news/vietnam-reaches-u23-semifinal-4999999.html",
       "https://e.vnexpress.net/news/news/vietnam-reaches-u23-semifinal-4999999.html"},
      // Tuoi Tre: 17-digit timestamp ids with .htm
      {"https://tuoitre.vn/tang-thoi-gian-bay-dem-tai-6-san-bay-dip-tet-20260117101010123.htm?gidzl=abc&zarsrc=30",
       "https://tuoitre.vn/tang-thoi-gian-bay-dem-tai-6-san-bay-dip-tet-20260117101010123.htm"},
      {"https://m.tuoitre.vn/tang-thoi-gian-bay-dem-20260117101010123.htm",
       "https://tuoitre.vn/tang-thoi-gian-bay-dem-20260117101010123.htm"},
      // Znews: post ids, AMP path prefix
      {"https://znews.vn/lich-nghi-tet-am-lich-2026-post1620000.html", "https://znews.vn/lich-nghi-tet-am-lich-2026-post1620000.html"},
      {"https://znews.vn/amp/lich-nghi-tet-am-lich-2026-post1620000.html",
       "https://znews.vn/lich-nghi-tet-am-lich-2026-post1620000.html"},
      // VietnamNet, Thanh Nien, Dan Tri, CafeF (.chn), Lao Dong (.ldo), NLD: zalo/facebook parameters
      {"https://vietnamnet.vn/bo-truong-duoc-gioi-thieu-ung-cu-2481234.html?fbclid=IwAR0abc",
       "https://vietnamnet.vn/bo-truong-duoc-gioi-thieu-ung-cu-2481234.html"},
      {"https://thanhnien.vn/metro-nhon-ga-ha-noi-185260117.htm?zacc=1&_ga=GA1.2.3", "https://thanhnien.vn/metro-nhon-ga-ha-noi-185260117.htm"},
      {"https://dantri.com.vn/xa-hoi/chot-lich-nghi-tet-20260117.htm?ref=home&gclid=XYZ",
       "https://dantri.com.vn/xa-hoi/chot-lich-nghi-tet-20260117.htm"},
      {"https://cafef.vn/thi-truong-chung-khoan.chn?mc_cid=1&mc_eid=2", "https://cafef.vn/thi-truong-chung-khoan.chn"},
      {"https://nld.com.vn/thoi-su/abc-196260117.htm?cmpid=rss&itm_source=home&itm_campaign=x",
       "https://nld.com.vn/thoi-su/abc-196260117.htm"},
      // AMP variants
      {"https://amp.vnexpress.net/xe-khach-5006600.html", "https://vnexpress.net/xe-khach-5006600.html"},
      {"https://thanhnien.vn/metro-185260117.htm?amp", "https://thanhnien.vn/metro-185260117.htm"},
      {"https://thanhnien.vn/metro-185260117.htm?amp=1&page=2", "https://thanhnien.vn/metro-185260117.htm?page=2"},
      {"https://vietnamnet.vn/abc-2481234.html.amp", "https://vietnamnet.vn/abc-2481234.html"},
      {"https://soha.vn/abc-198260117.amp", "https://soha.vn/abc-198260117"},
      {"https://example.vn/news/abc.html?outputType=amp", "https://example.vn/news/abc.html"},
      {"https://example.vn/news/abc.html?outputType=json", "https://example.vn/news/abc.html?outputType=json"},
      {"https://example.vn/news/abc/amp/", "https://example.vn/news/abc"},
      {"https://mobile.example.vn/news/abc", "https://example.vn/news/abc"},
      {"https://www.m.example.vn/news/abc", "https://example.vn/news/abc"},
  };
  check(cases, std::size(cases));
}

TEST(Canonical, HostStrippingKeepsRegistrableDomain) {
  EXPECT_EQ(canonicalize_url("https://m.com.vn/a"), "https://m.com.vn/a");
  EXPECT_EQ(canonicalize_url("https://www.gov.vn/a"), "https://www.gov.vn/a");
  EXPECT_EQ(canonicalize_url("https://m.vn/a"), "https://m.vn/a");
  EXPECT_EQ(canonicalize_url("https://www.chinhphu.vn/a"), "https://chinhphu.vn/a");
  EXPECT_EQ(canonicalize_url("https://m.baochinhphu.vn/a-102260117.htm"), "https://baochinhphu.vn/a-102260117.htm");
  EXPECT_EQ(canonicalize_url("https://mail.example.vn/a"), "https://mail.example.vn/a");  // only whole labels
  EXPECT_EQ(canonicalize_url("https://ample.example.vn/a"), "https://ample.example.vn/a");
}

TEST(Canonical, TrackingParamsAndSorting) {
  const Case cases[] = {
      {"https://a.vn/p?b=2&a=1", "https://a.vn/p?a=1&b=2"},
      {"https://a.vn/p?a=2&a=1", "https://a.vn/p?a=1&a=2"},
      {"https://a.vn/p?utm_source=x&UTM_MEDIUM=y&Utm_Campaign=z", "https://a.vn/p"},
      {"https://a.vn/p?id=5&&&utm_term=k&", "https://a.vn/p?id=5"},
      {"https://a.vn/p?ref_src=twsrc%5Etfw&ref=abc&refresh=1", "https://a.vn/p?refresh=1"},
      {"https://a.vn/p?vn_source=rss&vn_campaign=x&vnx=1", "https://a.vn/p?vnx=1"},
      {"https://a.vn/p?msclkid=1&yclid=2&igshid=3&spm=4&xtor=RSS-1&at_medium=5", "https://a.vn/p"},
      {"https://a.vn/p?flag", "https://a.vn/p?flag"},
      {"https://a.vn/p?flag=", "https://a.vn/p?flag="},
      {"https://a.vn/p?=x", "https://a.vn/p"},
      {"https://a.vn/p?q=a+b", "https://a.vn/p?q=a+b"},
      {"https://a.vn/p?utm%5Fsource=x", "https://a.vn/p"},
  };
  check(cases, std::size(cases));
}

TEST(Canonical, PathAndPercentEncoding) {
  const Case cases[] = {
      {"https://a.vn/the-thao/", "https://a.vn/the-thao"},
      {"https://a.vn/", "https://a.vn/"},
      {"https://a.vn//the-thao//bong-da/", "https://a.vn/the-thao/bong-da"},
      {"https://a.vn/a/./b/../c.html", "https://a.vn/a/c.html"},
      {"https://a.vn/../../c.html", "https://a.vn/c.html"},
      {"https://a.vn/%7Euser/%41bc", "https://a.vn/~user/Abc"},
      {"https://a.vn/tag/b%c3%b3ng-%c4%91%c3%a1", "https://a.vn/tag/b%C3%B3ng-%C4%91%C3%A1"},
      {"https://a.vn/tag/bóng-đá", "https://a.vn/tag/b%C3%B3ng-%C4%91%C3%A1"},
      {"https://a.vn/a b", "https://a.vn/a%20b"},
      {"https://a.vn/a%2Fb", "https://a.vn/a%2Fb"},
      {"https://a.vn/a%2fb", "https://a.vn/a%2Fb"},
      {"https://a.vn/100%", "https://a.vn/100%25"},
      {"https://a.vn/a%zz", "https://a.vn/a%25zz"},
      {"https://a.vn/search?q=%c4%91%E1%BA%A1i+h%e1%bb%99i", "https://a.vn/search?q=%C4%91%E1%BA%A1i+h%E1%BB%99i"},
      {"https://a.vn/search?q=đại", "https://a.vn/search?q=%C4%91%E1%BA%A1i"},
      {"https://a.vn/a\"<b>", "https://a.vn/a%22%3Cb%3E"},
  };
  check(cases, std::size(cases));
}

TEST(Canonical, Idn) {
  EXPECT_EQ(canonicalize_url("https://Bücher.de/a"), "https://xn--bcher-kva.de/a");
  EXPECT_EQ(canonicalize_url("https://BÜCHER.de/a"), "https://xn--bcher-kva.de/a");
  EXPECT_EQ(canonicalize_url("https://xn--bcher-kva.de/a"), "https://xn--bcher-kva.de/a");
  EXPECT_EQ(canonicalize_url("https://XN--BCHER-KVA.de/a"), "https://xn--bcher-kva.de/a");
  // Vietnamese IDN (tiếng Việt.vn) in NFC and NFD spellings map to one ASCII host.
  std::string nfc = canonicalize_url("https://ti\xE1\xBA\xBFng-vi\xE1\xBB\x87t.vn/");
  std::string nfd = canonicalize_url("https://tie\xCC\x82\xCC\x81ng-vie\xCC\xA3\xCC\x82t.vn/");
  EXPECT_EQ(nfc.rfind("https://xn--", 0), 0u) << nfc;
  EXPECT_EQ(nfc, nfd);
  // Percent-encoded host.
  EXPECT_EQ(canonicalize_url("https://b%C3%BCcher.de/a"), "https://xn--bcher-kva.de/a");
}

TEST(Canonical, Idempotent) {
  for (const char* s : {"https://m.vnexpress.net/a-1.html?vn_source=x&b=2&a=1#c", "https://a.vn/tag/bóng-đá/",
                        "https://Bücher.de:443/%7ex/../y?amp&z=%c3%a1", "http://[::1]:80/a/amp/b.amp"}) {
    std::string once = canonicalize_url(s);
    ASSERT_FALSE(once.empty()) << s;
    EXPECT_EQ(canonicalize_url(once), once) << s;
  }
}

TEST(Canonical, RegistrableDomain) {
  EXPECT_EQ(registrable_domain("m.vnexpress.net"), "vnexpress.net");
  EXPECT_EQ(registrable_domain("e.vnexpress.net"), "vnexpress.net");
  EXPECT_EQ(registrable_domain("tuoitre.vn"), "tuoitre.vn");
  EXPECT_EQ(registrable_domain("www.dantri.com.vn"), "dantri.com.vn");
  EXPECT_EQ(registrable_domain("dantri.com.vn"), "dantri.com.vn");
  EXPECT_EQ(registrable_domain("com.vn"), "com.vn");
  EXPECT_EQ(registrable_domain("NEWS.BBC.CO.UK."), "bbc.co.uk");
  EXPECT_EQ(registrable_domain("localhost"), "localhost");
  EXPECT_EQ(registrable_domain("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(registrable_domain(""), "");
}

TEST(Canonical, ChooseCanonical) {
  const std::string fetched = "https://m.vnexpress.net/xe-khach-5006600.html?vn_source=rss";
  // link rel=canonical on the same site wins, canonicalised.
  EXPECT_EQ(choose_canonical(fetched, "https://vnexpress.net/xe-khach-lao-xuong-cong-5006600.html?utm_source=x", ""),
            "https://vnexpress.net/xe-khach-lao-xuong-cong-5006600.html");
  // Relative canonical resolved against the page URL.
  EXPECT_EQ(choose_canonical(fetched, "/xe-khach-lao-xuong-cong-5006600.html", ""),
            "https://vnexpress.net/xe-khach-lao-xuong-cong-5006600.html");
  EXPECT_EQ(choose_canonical("https://tuoitre.vn/a/b.htm", "c.htm", ""), "https://tuoitre.vn/a/c.htm");
  // og:url when there is no link canonical.
  EXPECT_EQ(choose_canonical(fetched, "", "https://vnexpress.net/og-5006600.html"), "https://vnexpress.net/og-5006600.html");
  // Other site (syndication partner, CDN, tracker): ignored, the fetched URL is used.
  EXPECT_EQ(choose_canonical(fetched, "https://baomoi.com/xe-khach/c/123.epi", ""),
            "https://vnexpress.net/xe-khach-5006600.html");
  EXPECT_EQ(choose_canonical(fetched, "https://evil.vnexpress.net.attacker.com/x", "https://baomoi.com/x"),
            "https://vnexpress.net/xe-khach-5006600.html");
  // Sub-domain of the same registrable site is accepted.
  EXPECT_EQ(choose_canonical("https://vnexpress.net/a-1.html", "https://e.vnexpress.net/a-1.html", ""),
            "https://e.vnexpress.net/a-1.html");
  // Canonical pointing at the homepage for an article page: CMS bug, ignored (falls through to og:url).
  EXPECT_EQ(choose_canonical("https://thanhnien.vn/metro-185260117.htm", "https://thanhnien.vn/",
                             "https://thanhnien.vn/metro-nhon-185260117.htm"),
            "https://thanhnien.vn/metro-nhon-185260117.htm");
  // Garbage candidates are ignored.
  EXPECT_EQ(choose_canonical("https://thanhnien.vn/a.htm", "javascript:void(0)", "   "), "https://thanhnien.vn/a.htm");
  // AMP page declaring its canonical desktop URL.
  EXPECT_EQ(choose_canonical("https://znews.vn/amp/abc-post1.html", "https://znews.vn/abc-post1.html", ""),
            "https://znews.vn/abc-post1.html");
  // No usable fetched URL: an absolute candidate is still returned, else "".
  EXPECT_EQ(choose_canonical("", "https://tuoitre.vn/a.htm", ""), "https://tuoitre.vn/a.htm");
  EXPECT_EQ(choose_canonical("not a url", "/relative.htm", ""), "");
  EXPECT_EQ(choose_canonical("", "", ""), "");
}

TEST(Canonical, HostileInputNeverCrashes) {
  std::string big = "https://a.vn/" + std::string(100000, 'a');
  EXPECT_EQ(canonicalize_url(big), "");
  for (const char* s : {"http://%", "http://%zz/", "http://a.vn/%", "http://a.vn/%%%", "http://a.vn?&&&=&=", "http://[::1",
                        "http://a.vn:/", "https://..../", "http://\xFF\xFE/", "https://a.vn/\xC3", "http://a..vn/"}) {
    std::string r = canonicalize_url(s);
    if (!r.empty()) {
      EXPECT_EQ(canonicalize_url(r), r) << s;
    }
  }
  EXPECT_EQ(canonicalize_url("http://a.vn:/"), "http://a.vn/");
}

// Issue 14: "https://Z::1]:8080/a" became "https://[z::1]]:8080/a", which canonicalised again to
// "https://[z::1]/a" (not idempotent, port lost). Brackets only delimit an IPv6 literal, and IPv6 literals are
// validated and written in one form (RFC 5952).
TEST(Canonical, MalformedIpv6AuthorityIsRejected) {
  for (const char* s : {"https://Z::1]:8080/a", "https://[z::1]]:8080/a", "https://[z::1]/a", "http://[::1]x/",
                        "http://::1/", "http://a]b.vn/", "http://a[b.vn/", "http://[[::1]]/", "http://[::1]]/"}) {
    EXPECT_EQ(canonicalize_url(s), "") << s;
  }
  EXPECT_EQ(canonicalize_url("https://[0:0:0::1]:8080/a"), "https://[::1]:8080/a");
  EXPECT_EQ(canonicalize_url("https://[2001:DB8:0:0::1]/a"), "https://[2001:db8::1]/a");
  EXPECT_EQ(canonicalize_url("http://[::ffff:1.2.3.4]:81/"), "http://[::ffff:1.2.3.4]:81/");
}

TEST(Canonical, IdempotentOnIpv6AndPorts) {
  for (const char* s : {"https://[::1]:8080/a", "https://[0::1]:08080/a", "http://[2001:db8::1]:80/x/../y",
                        "https://a.vn:8443/", "https://A.vn:08443/b"}) {
    std::string once = canonicalize_url(s);
    ASSERT_FALSE(once.empty()) << s;
    EXPECT_EQ(canonicalize_url(once), once) << s;
    EXPECT_NE(once.find(':', 6), std::string::npos) << s << " -> " << once;  // the port (or IPv6) survives
  }
}

TEST(Canonical, UrlsOverTheCapAreRejected) {
  EXPECT_EQ(canonicalize_url("https://a.vn/" + std::string(9000, 'a')), "");
  EXPECT_FALSE(canonicalize_url("https://a.vn/" + std::string(8000, 'a')).empty());
}

// Found by fuzz_canonical: a 4 KB URL of raw 0xFF bytes canonicalised to 9 KB of "%FF", which the next
// canonicalisation rejected as too long (c(c(x)) != c(x)). The cap now applies to the result as well.
TEST(Canonical, EscapingCannotPushTheResultOverTheCap) {
  std::string u = "https://a.vn/p?x=" + std::string(4000, '\xFF');
  std::string c = canonicalize_url(u);
  EXPECT_EQ(c, "");
  EXPECT_EQ(canonicalize_url(c), c);
  std::string ok = "https://a.vn/p?x=" + std::string(2000, '\xFF');
  std::string c2 = canonicalize_url(ok);
  ASSERT_FALSE(c2.empty());
  EXPECT_EQ(canonicalize_url(c2), c2);
}

// Found by fuzz_canonical: removing a ".amp" suffix left a dot segment ("/http/..amp/" -> "/http/."), which the
// next canonicalisation resolved (c(c(x)) != c(x)).
TEST(Canonical, AmpSuffixRemovalIsIdempotent) {
  EXPECT_EQ(canonicalize_url("https://a.vn/x/http//..amp/"), "https://a.vn/x/http");
  EXPECT_EQ(canonicalize_url("https://a.vn/x/y/...amp"), "https://a.vn/x");
  EXPECT_EQ(canonicalize_url("https://a.vn/x/a.amp.amp"), "https://a.vn/x/a");
  EXPECT_EQ(canonicalize_url("https://a.vn/x/amp.amp"), "https://a.vn/x");
  EXPECT_EQ(canonicalize_url("https://a.vn/b.amp/c.amp"), "https://a.vn/b.amp/c");
  for (const char* s : {"https://a.vn/x/http//..amp/", "https://a.vn/x/y/...amp", "https://a.vn/x/a.amp.amp",
                        "https://a.vn/b.amp/amp.amp", "https://a.vn/.amp.amp"}) {
    std::string c = canonicalize_url(s);
    EXPECT_EQ(canonicalize_url(c), c) << s;
  }
}
