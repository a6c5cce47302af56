// core/identity: which URL and id an article has (fetched URL, final URL, page canonical, outlet host aliases).
#include "core/identity.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstdio>
#include <map>

using namespace baotin;

namespace {

const std::vector<std::string> kZnHosts{"znews.vn", "zingnews.vn"};
const std::map<std::string, std::string> kZnAliases{{"zingnews.vn", "znews.vn"}};
const std::vector<std::string> kPlusHosts{"plus.vn", "plus-old.com"};
const std::map<std::string, std::string> kNoAliases;
const OutletHosts kZn{&kZnHosts, &kZnAliases};
const OutletHosts kPlus{&kPlusHosts, &kNoAliases};
const OutletHosts kNone{};

struct Case {
  const char* what;
  std::string fetched, final_url, page_canonical;
  const OutletHosts* outlet;
  std::string canonical;
  bool rejected, moved;
  std::vector<std::string> aliases;
};

}  // namespace

TEST(Identity, Table) {
  const Case cases[] = {
      {"tracking parameters", "https://vnexpress.net/a-1.html?utm_source=fb&fbclid=x", "", "", &kNone,
       "https://vnexpress.net/a-1.html", false, false, {"https://vnexpress.net/a-1.html?utm_source=fb&fbclid=x"}},
      {"amp page naming its desktop canonical", "https://vnexpress.net/amp/a-1.html", "", "https://vnexpress.net/a-1.html",
       &kNone, "https://vnexpress.net/a-1.html", false, false, {"https://vnexpress.net/amp/a-1.html"}},
      {"amp query and suffix", "https://vnexpress.net/a-1.amp?amp=1", "", "", &kNone, "https://vnexpress.net/a-1", false,
       false, {"https://vnexpress.net/a-1.amp?amp=1"}},
      {"www and m hosts", "https://m.vnexpress.net/a-1.html", "", "https://www.vnexpress.net/a-1.html", &kNone,
       "https://vnexpress.net/a-1.html", false, false, {"https://m.vnexpress.net/a-1.html"}},
      {"former domain, canonical on it", "https://zingnews.vn/x-post1.html", "", "https://zingnews.vn/x-post1.html", &kZn,
       "https://znews.vn/x-post1.html", false, true, {"https://zingnews.vn/x-post1.html", "https://znews.vn/x-post1.html"}},
      {"former domain, www, tracking, no canonical", "https://www.zingnews.vn/x-post2.html?utm_source=a#top", "", "", &kZn,
       "https://znews.vn/x-post2.html", false, true,
       {"https://www.zingnews.vn/x-post2.html?utm_source=a#top", "https://znews.vn/x-post2.html"}},
      {"former domain page naming the current one", "https://zingnews.vn/x-post3.html", "", "https://znews.vn/x-post3.html",
       &kZn, "https://znews.vn/x-post3.html", false, false,
       {"https://zingnews.vn/x-post3.html", "https://znews.vn/x-post3.html"}},
      {"former domain without the outlet: not moved", "https://zingnews.vn/x-post1.html", "", "", &kNone,
       "https://zingnews.vn/x-post1.html", false, false, {"https://zingnews.vn/x-post1.html"}},
      {"subdomain of a former domain is not moved", "https://video.zingnews.vn/x-post1.html", "", "", &kZn,
       "https://video.zingnews.vn/x-post1.html", false, false, {"https://video.zingnews.vn/x-post1.html"}},
      {"homepage canonical rejected", "https://plus.vn/tin-post1.vnp?utm_source=fb", "", "https://plus.vn/", &kPlus,
       "https://plus.vn/tin-post1.vnp", true, false, {"https://plus.vn/tin-post1.vnp?utm_source=fb"}},
      {"homepage canonical of the homepage", "https://plus.vn/", "", "https://plus.vn/", &kPlus, "https://plus.vn/", false,
       false, {"https://plus.vn/"}},
      {"canonical on another site rejected", "https://plus.vn/tin-post2.vnp", "", "https://other.com/x.html", &kPlus,
       "https://plus.vn/tin-post2.vnp", true, false, {"https://plus.vn/tin-post2.vnp"}},
      {"canonical on another host of the outlet", "https://plus.vn/tin-post4.vnp", "", "https://plus-old.com/tin-post4.vnp",
       &kPlus, "https://plus-old.com/tin-post4.vnp", false, false, {"https://plus.vn/tin-post4.vnp"}},
      {"... rejected without the outlet", "https://plus.vn/tin-post4.vnp", "", "https://plus-old.com/tin-post4.vnp", &kNone,
       "https://plus.vn/tin-post4.vnp", true, false, {"https://plus.vn/tin-post4.vnp"}},
      {"homepage of another outlet host rejected", "https://plus.vn/tin-post5.vnp", "", "https://plus-old.com/", &kPlus,
       "https://plus.vn/tin-post5.vnp", true, false, {"https://plus.vn/tin-post5.vnp"}},
      {"non-http canonical rejected", "https://plus.vn/tin-post6.vnp", "", "javascript:void(0)", &kPlus,
       "https://plus.vn/tin-post6.vnp", true, false, {"https://plus.vn/tin-post6.vnp"}},
      {"redirect: the final URL is the page", "http://vnexpress.net/a-2.html", "https://vnexpress.net/a-2.html?utm_medium=x",
       "", &kNone, "https://vnexpress.net/a-2.html", false, false,
       {"http://vnexpress.net/a-2.html", "https://vnexpress.net/a-2.html?utm_medium=x"}},
      {"redirect: canonical judged against the final URL", "https://t.co/abc", "https://vnexpress.net/a-3.html",
       "https://vnexpress.net/a-3.html", &kNone, "https://vnexpress.net/a-3.html", false, false,
       {"https://t.co/abc", "https://vnexpress.net/a-3.html"}},
      {"redirect off the former domain", "https://zingnews.vn/old-post7.html", "https://znews.vn/new-post7.html", "", &kZn,
       "https://znews.vn/new-post7.html", false, false,
       {"https://zingnews.vn/old-post7.html", "https://znews.vn/new-post7.html", "https://znews.vn/old-post7.html"}},
      {"redirect to the same URL", "https://vnexpress.net/a-4.html", "https://vnexpress.net/a-4.html", "", &kNone,
       "https://vnexpress.net/a-4.html", false, false, {"https://vnexpress.net/a-4.html"}},
      {"no http URL: as given", "bai-viet.html", "", "", &kZn, "bai-viet.html", false, false, {"bai-viet.html"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    ArticleUrls r = identify(c.fetched, c.final_url, c.page_canonical, *c.outlet);
    EXPECT_EQ(r.canonical, c.canonical);
    EXPECT_EQ(r.id, article_id(c.canonical));
    EXPECT_EQ(r.canonical_rejected, c.rejected);
    EXPECT_EQ(r.moved, c.moved);
    EXPECT_EQ(r.aliases, c.aliases);
    // Idempotent: identifying again with the chosen canonical gives the same answer.
    EXPECT_EQ(identify(c.fetched, c.final_url, r.canonical, *c.outlet).canonical, r.canonical);
  }
}

TEST(Identity, IdIsHexXxh3OfTheCanonicalUrl) {
  const std::string u = "https://vnexpress.net/a-1.html";
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(XXH3_64bits(u.data(), u.size())));
  EXPECT_EQ(article_id(u), buf);
  EXPECT_EQ(article_id(u).size(), 16u);
}

TEST(Identity, UrlKey) {
  EXPECT_EQ(url_key(""), "");
  EXPECT_EQ(url_key("https://www.vnexpress.net/a-1.html?utm_source=x&b=2&a=1"), "https://vnexpress.net/a-1.html?a=1&b=2");
  EXPECT_EQ(url_key("mailto:toa-soan@vnexpress.net"), "mailto:toa-soan@vnexpress.net");  // no http(s) URL: as given
  EXPECT_EQ(url_key("/relative/path"), "/relative/path");
}

TEST(Identity, Unalias) {
  EXPECT_EQ(unalias("http://zingnews.vn/x-post123.html?b=2&a=1", kZn), "http://znews.vn/x-post123.html?a=1&b=2");
  EXPECT_EQ(unalias("https://m.zingnews.vn/x-post123.html", kZn), "https://znews.vn/x-post123.html");
  EXPECT_EQ(unalias("https://znews.vn/x-post123.html", kZn), "");
  EXPECT_EQ(unalias("https://zingnews.vn/x-post123.html", kNone), "");
  EXPECT_EQ(unalias("not a url", kZn), "");
}

TEST(Identity, RecordKeysCanonicalFirst) {
  RecordKeys k = record_keys("https://www.znews.vn/x-post1.html", "https://zingnews.vn/x-post1.html?utm_source=a",
                             {"https://zingnews.vn/x-post1.html?utm_source=a", "https://znews.vn/x-post1.html"});
  EXPECT_EQ(k.canonical, "https://znews.vn/x-post1.html");
  EXPECT_EQ(k.keys, (std::vector<std::string>{"https://znews.vn/x-post1.html", "https://zingnews.vn/x-post1.html?utm_source=a",
                                              "https://zingnews.vn/x-post1.html"}));
  // No canonical URL: the URL's own canonical form.
  RecordKeys n = record_keys("", "https://vnexpress.net/a-1.html?utm_source=x", {});
  EXPECT_EQ(n.canonical, "https://vnexpress.net/a-1.html");
  EXPECT_EQ(n.keys, (std::vector<std::string>{"https://vnexpress.net/a-1.html", "https://vnexpress.net/a-1.html?utm_source=x"}));
  EXPECT_TRUE(record_keys("", "", {}).canonical.empty());
}

TEST(Identity, FindKnown) {
  std::map<std::string, std::string> urls{{"https://znews.vn/x-post1.html", "id1"},
                                          {"https://vnexpress.net/a-1.html", "id2"},
                                          {"raw spelling", "id3"}};
  std::vector<std::string> asked;
  UrlLookup lookup = [&](const std::string& k) -> std::optional<std::string> {
    asked.push_back(k);
    auto it = urls.find(k);
    if (it == urls.end()) return std::nullopt;
    return it->second;
  };
  EXPECT_EQ(find_known("https://znews.vn/x-post1.html", kZn, lookup), "id1");
  EXPECT_EQ(find_known("https://www.zingnews.vn/x-post1.html?utm_source=a", kZn, lookup), "id1");  // former domain
  EXPECT_EQ(find_known("https://zingnews.vn/x-post1.html", kNone, lookup), std::nullopt);         // no outlet
  EXPECT_EQ(find_known("https://m.vnexpress.net/a-1.html?fbclid=z", kNone, lookup), "id2");        // canonical form
  EXPECT_EQ(find_known("raw spelling", kNone, lookup), "id3");
  EXPECT_EQ(find_known("https://vnexpress.net/b-2.html", kZn, lookup), std::nullopt);
  asked.clear();
  EXPECT_EQ(find_known("", kZn, lookup), std::nullopt);
  EXPECT_TRUE(asked.empty());
  // Order: as given, canonical form, current domain; each asked once.
  EXPECT_EQ(find_known("https://zingnews.vn/nope.html?utm_source=a", kZn, lookup), std::nullopt);
  EXPECT_EQ(asked, (std::vector<std::string>{"https://zingnews.vn/nope.html?utm_source=a", "https://zingnews.vn/nope.html",
                                             "https://znews.vn/nope.html"}));
}
