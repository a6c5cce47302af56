#include <gtest/gtest.h>

#include <random>

#include <atomic>
#include <fstream>
#include <sstream>

#include "fetch/fetcher.h"
#include "fetch/robots.h"
#include "fixtures/fetch/test_server.h"
#include "test_util.h"

using namespace baotin;
using baotin::testing::TestServer;
using namespace std::string_literals;

namespace {

std::string read_fixture(const std::string& name) {
  return baotin::testing::read_file(std::string(BAOTIN_FIXTURES) + "/fetch/" + name);
}

FetcherConfig fast_cfg() {
  FetcherConfig c;
  c.per_host_min_delay_s = 0;
  c.connect_timeout_ms = 2000;
  c.total_timeout_ms = 5000;
  c.allow_private = {"127.0.0.1"};  // the test servers are on loopback (network policy)
  return c;
}

}  // namespace

TEST(RobotsPattern, PrefixWildcardAndAnchor) {
  EXPECT_TRUE(robots_pattern_match("/a", "/a"));
  EXPECT_TRUE(robots_pattern_match("/a", "/abc/d"));
  EXPECT_FALSE(robots_pattern_match("/a", "/b/a"));
  EXPECT_TRUE(robots_pattern_match("/*.php", "/x/y/index.php?q=1"));
  EXPECT_TRUE(robots_pattern_match("/*.php$", "/x/index.php"));
  EXPECT_FALSE(robots_pattern_match("/*.php$", "/x/index.php?q=1"));
  EXPECT_FALSE(robots_pattern_match("/*.php$", "/x/index.phpx"));
  EXPECT_TRUE(robots_pattern_match("/fish*", "/fish.html"));
  EXPECT_TRUE(robots_pattern_match("*", "/anything"));
  EXPECT_TRUE(robots_pattern_match("/$", "/"));
  EXPECT_FALSE(robots_pattern_match("/$", "/a"));
  EXPECT_TRUE(robots_pattern_match("/a*b*c", "/a-x-b-y-c-z"));
  EXPECT_FALSE(robots_pattern_match("/a*b*c", "/a-x-c-y-b"));
}

TEST(RobotsPattern, NormalisesPercentEncodingAndUtf8) {
  EXPECT_EQ(robots_normalize("/th\xE1\xBB\x9Di"), "/th%E1%BB%9Di");
  EXPECT_EQ(robots_normalize("/a%2fb"), "/a%2Fb");
  EXPECT_EQ(robots_normalize("/100%"), "/100%");  // stray percent kept
  EXPECT_EQ(robots_product_token("baotin/0.1 (+https://github.com/baotin)"), "baotin");
  EXPECT_EQ(robots_product_token("  Googlebot "), "googlebot");
}

TEST(RobotsRules, GroupSelectionSpecificBeatsStar) {
  auto text = read_fixture("robots_news.txt");
  ASSERT_FALSE(text.empty()) << "fixture missing";
  auto ours = RobotsRules::parse(text, "baotin/0.1 (+x)");
  EXPECT_TRUE(ours.specific_group());
  // Our group only: '*' rules do not apply to us.
  EXPECT_TRUE(ours.allowed("/tim-kiem?q=x"));
  EXPECT_TRUE(ours.allowed("/admin/"));
  EXPECT_FALSE(ours.allowed("/khong-cho-phep/bai.html"));
  EXPECT_TRUE(ours.allowed("/khong-cho-phep/ngoai-le.html"));  // longer Allow wins
  // UTF-8 pattern matches the percent-encoded request path.
  EXPECT_FALSE(ours.allowed("/th%E1%BB%9Di-s%E1%BB%B1/c%E1%BA%A5m/1"));
  EXPECT_FALSE(ours.allowed("/th%e1%bb%9di-s%e1%bb%b1/c%e1%ba%a5m/1"));
  ASSERT_TRUE(ours.crawl_delay().has_value());
  EXPECT_DOUBLE_EQ(*ours.crawl_delay(), 2.0);

  auto other = RobotsRules::parse(text, "SomeBot/2.0");
  EXPECT_FALSE(other.specific_group());
  EXPECT_FALSE(other.allowed("/tim-kiem?q=x"));
  EXPECT_TRUE(other.allowed("/tim-kiem/huong-dan"));
  EXPECT_FALSE(other.allowed("/bai-viet?utm_source=fb"));
  EXPECT_TRUE(other.allowed("/bai-viet?id=1"));
  EXPECT_FALSE(other.allowed("/api/data.json"));
  EXPECT_TRUE(other.allowed("/api/data.json?x=1"));
  EXPECT_TRUE(other.allowed("/khong-cho-phep/bai.html"));
  EXPECT_FALSE(other.crawl_delay().has_value());

  // Multiple User-agent lines share one group.
  auto bing = RobotsRules::parse(text, "bingbot");
  EXPECT_FALSE(bing.allowed("/private-google/x"));
  EXPECT_TRUE(bing.allowed("/admin/"));
}

TEST(RobotsRules, TieGoesToAllowAndEmptyDisallowAllowsAll) {
  auto r = RobotsRules::parse("User-agent: *\nDisallow: /page\nAllow: /page\n", "baotin");
  EXPECT_TRUE(r.allowed("/page"));
  auto r2 = RobotsRules::parse("User-agent: *\nDisallow:\n", "baotin");
  EXPECT_TRUE(r2.allowed("/anything"));
  EXPECT_TRUE(r2.rules().empty());
  auto all = RobotsRules::parse("User-agent: *\nDisallow: /\n", "baotin");
  EXPECT_FALSE(all.allowed("/"));
  EXPECT_FALSE(all.allowed("/x?y"));
  EXPECT_TRUE(all.allowed("/robots.txt"));
}

TEST(RobotsRules, MergesRepeatedGroupsAndToleratesJunk) {
  std::string text =
      "\xEF\xBB\xBF"
      "Disallow: /before-any-agent\n"   // applies to nobody
      "garbage line without colon\r\n"
      "user-AGENT: BaoTin\r\n"
      "disallow: /a # comment\r\n"
      "\n"
      "User-agent: other\n"
      "Disallow: /b\n"
      "User-agent: baotin\n"
      "Disallow: /c\n"
      "Crawl-delay: notanumber\n"
      "\x00\xff\xfe binary junk\n"s;
  ASSERT_NE(text.find("binary junk"), std::string::npos);
  auto r = RobotsRules::parse(text, "baotin");
  EXPECT_TRUE(r.allowed("/before-any-agent"));
  EXPECT_FALSE(r.allowed("/a/x"));
  EXPECT_TRUE(r.allowed("/b"));
  EXPECT_FALSE(r.allowed("/c"));
  EXPECT_FALSE(r.crawl_delay().has_value());
  // Empty and binary inputs never crash and allow everything.
  EXPECT_TRUE(RobotsRules::parse("", "baotin").allowed("/x"));
  EXPECT_TRUE(RobotsRules::parse(std::string("\0\0\0", 3), "baotin").allowed("/x"));
}

TEST(RobotsRules, PatternWithoutLeadingSlash) {
  auto r = RobotsRules::parse("User-agent: *\nDisallow: private\n", "baotin");
  EXPECT_FALSE(r.allowed("/private/x"));
}

// ---- integration with the fetcher ---------------------------------------------------------------

TEST(FetcherRobots, DisallowHonouredAndFetchedOncePerHost) {
  TestServer s;
  std::atomic<int> robots_hits{0}, page_hits{0};
  s.svr.Get("/robots.txt", [&](const httplib::Request&, httplib::Response& res) {
    ++robots_hits;
    res.set_content("User-agent: *\nDisallow: /private/\n", "text/plain");
  });
  s.svr.Get(R"(/.*)", [&](const httplib::Request&, httplib::Response& res) {
    ++page_hits;
    res.set_content("page", "text/html");
  });
  s.start();
  Fetcher f(fast_cfg());
  auto blocked = f.fetch({s.url("/private/secret.html")});
  EXPECT_TRUE(blocked.blocked_by_robots);
  EXPECT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.status, 0);
  EXPECT_NE(blocked.error.find("robots.txt"), std::string::npos) << blocked.error;
  EXPECT_NE(blocked.error.find("/private/"), std::string::npos) << blocked.error;
  auto ok = f.fetch({s.url("/public/a.html")});
  EXPECT_TRUE(ok.ok()) << ok.error;
  EXPECT_EQ(ok.body, "page");
  auto ok2 = f.fetch({s.url("/public/b.html")});
  EXPECT_TRUE(ok2.ok());
  EXPECT_EQ(robots_hits.load(), 1);
  EXPECT_EQ(page_hits.load(), 2);  // the blocked page never reached the server
  auto st = f.stats();
  EXPECT_EQ(st.robots_blocked, 1u);
  EXPECT_EQ(st.robots_fetches, 1u);
}

TEST(FetcherRobots, ConcurrentFirstRequestsShareOneRobotsFetch) {
  TestServer s;
  std::atomic<int> robots_hits{0};
  s.svr.Get("/robots.txt", [&](const httplib::Request&, httplib::Response& res) {
    ++robots_hits;
    baotin::testing::nap(s, 100);
    res.set_content("User-agent: *\nDisallow: /no\n", "text/plain");
  });
  s.svr.Get(R"(/.*)", [&](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  s.start();
  Fetcher f(fast_cfg());
  std::atomic<int> ok{0}, blocked{0}, done{0};
  for (int i = 0; i < 10; ++i) {
    f.submit({s.url(i % 2 ? "/no/" + std::to_string(i) : "/yes/" + std::to_string(i))}, [&](FetchResult r) {
      if (r.ok()) ++ok;
      if (r.blocked_by_robots) ++blocked;
      ++done;
    });
  }
  f.shutdown(true);
  EXPECT_EQ(done.load(), 10);
  EXPECT_EQ(ok.load(), 5);
  EXPECT_EQ(blocked.load(), 5);
  EXPECT_EQ(robots_hits.load(), 1);
}

TEST(FetcherRobots, OverrideIgnoresRobots) {
  TestServer s;
  std::atomic<int> robots_hits{0};
  s.svr.Get("/robots.txt", [&](const httplib::Request&, httplib::Response& res) {
    ++robots_hits;
    res.set_content("User-agent: *\nDisallow: /\n", "text/plain");
  });
  s.svr.Get("/page", [&](const httplib::Request&, httplib::Response& res) { res.set_content("yes", "text/plain"); });
  s.start();
  {
    auto cfg = fast_cfg();
    cfg.robots_override["127.0.0.1"] = true;
    Fetcher f(cfg);
    auto r = f.fetch({s.url("/page")});
    EXPECT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(robots_hits.load(), 0);
  }
  {
    auto cfg = fast_cfg();
    cfg.robots_override["127.0.0.1:" + std::to_string(s.port())] = true;  // host:port form works too
    Fetcher f(cfg);
    EXPECT_TRUE(f.fetch({s.url("/page")}).ok());
  }
  {
    auto cfg = fast_cfg();
    cfg.robots_override["127.0.0.1"] = false;  // explicit false = respect
    Fetcher f(cfg);
    auto r = f.fetch({s.url("/page")});
    EXPECT_TRUE(r.blocked_by_robots);
    EXPECT_EQ(robots_hits.load(), 1);
  }
  {
    auto cfg = fast_cfg();
    cfg.respect_robots = false;
    Fetcher f(cfg);
    EXPECT_TRUE(f.fetch({s.url("/page")}).ok());
    EXPECT_EQ(robots_hits.load(), 1);
  }
}

TEST(FetcherRobots, Robots4xxAllowsAll5xxDefersTemporarily) {
  TestServer s;
  std::atomic<int> mode{404}, robots_hits{0};
  s.svr.Get("/robots.txt", [&](const httplib::Request&, httplib::Response& res) {
    ++robots_hits;
    res.status = mode.load();
    res.set_content("error", "text/plain");
  });
  s.svr.Get("/page", [&](const httplib::Request&, httplib::Response& res) { res.set_content("yes", "text/plain"); });
  s.start();
  {
    Fetcher f(fast_cfg());
    auto r = f.fetch({s.url("/page")});
    EXPECT_TRUE(r.ok()) << r.error;
  }
  mode = 503;
  {
    auto cfg = fast_cfg();
    cfg.robots_error_ttl_s = 0.3;
    Fetcher f(cfg);
    auto r = f.fetch({s.url("/page")});
    // Not a disallow: robots.txt is unavailable, the page is not fetched, and the failure is transient.
    EXPECT_FALSE(r.blocked_by_robots);
    EXPECT_TRUE(r.robots_unavailable);
    EXPECT_FALSE(r.blocked_by_policy);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.error.find("503"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("robots.txt of " + s.url("") + " unavailable"), std::string::npos) << r.error;
    ASSERT_TRUE(r.retry_after_s);  // when robots.txt will be asked again
    EXPECT_LE(*r.retry_after_s, 0.3);
    int hits_before = robots_hits.load();
    auto again = f.fetch({s.url("/page")});  // within the error TTL: cached, no new robots request
    EXPECT_TRUE(again.robots_unavailable);
    EXPECT_FALSE(again.blocked_by_robots);
    EXPECT_EQ(robots_hits.load(), hits_before);
    // After the error TTL the robots.txt is retried; now it is gone (404) -> allowed.
    mode = 404;
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    auto later = f.fetch({s.url("/page")});
    EXPECT_TRUE(later.ok()) << later.error;
    EXPECT_EQ(robots_hits.load(), hits_before + 1);
  }
}

TEST(FetcherRobots, UnreachableRobotsDefersWithTheRealCause) {
  // Bind a port, then close it so nothing listens there.
  int port = baotin::testing::closed_port();
  Fetcher f(fast_cfg());
  auto r = f.fetch({"http://127.0.0.1:" + std::to_string(port) + "/page"});
  EXPECT_FALSE(r.blocked_by_robots);
  EXPECT_TRUE(r.robots_unavailable);
  EXPECT_NE(r.error.find("unreachable"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("connection failed"), std::string::npos) << r.error;  // the cause, not "disallowed"
  // An explicit robots request skips the robots check and reports the transport error itself.
  FetchRequest rq{"http://127.0.0.1:" + std::to_string(port) + "/robots.txt"};
  rq.is_robots = true;
  auto rr = f.fetch(rq);
  EXPECT_FALSE(rr.blocked_by_robots);
  EXPECT_EQ(rr.status, 0);
  EXPECT_NE(rr.error.find("connection failed"), std::string::npos) << rr.error;
}

TEST(FetcherRobots, CrawlDelayStretchesHostDelay) {
  TestServer s;
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> times;
  s.svr.Get("/robots.txt", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content("User-agent: baotin\nCrawl-delay: 0.4\nDisallow: /x\n", "text/plain");
  });
  s.svr.Get(R"(/p/\d+)", [&](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lk(mu);
    times.push_back(std::chrono::steady_clock::now());
    res.set_content("ok", "text/plain");
  });
  s.start();
  Fetcher f(fast_cfg());  // configured delay 0; robots asks for 0.4 s
  for (int i = 0; i < 3; ++i) f.submit({s.url("/p/" + std::to_string(i))}, [](FetchResult) {});
  f.shutdown(true);
  ASSERT_EQ(times.size(), 3u);
  for (size_t i = 1; i < times.size(); ++i)
    EXPECT_GE(std::chrono::duration<double>(times[i] - times[i - 1]).count(), 0.3);
}

// Redirects are followed by the fetcher hop by hop: each target is checked against the robots.txt of its own
// origin. Two loopback servers on different ports are two origins (robots.txt is per scheme://host:port).
TEST(FetcherRobots, CrossHostRedirectObeysTargetRobots) {
  TestServer a, b;
  std::atomic<int> a_robots{0}, b_robots{0}, b_private{0}, b_public{0};
  b.svr.Get("/robots.txt", [&](const httplib::Request&, httplib::Response& res) {
    ++b_robots;
    res.set_content("User-agent: *\nDisallow: /private/\n", "text/plain");
  });
  b.svr.Get(R"(/private/.*)", [&](const httplib::Request&, httplib::Response& res) {
    ++b_private;
    res.set_content("secret", "text/html");
  });
  b.svr.Get(R"(/public/.*)", [&](const httplib::Request&, httplib::Response& res) {
    ++b_public;
    res.set_content("public page on b", "text/html");
  });
  b.start();
  a.svr.Get("/robots.txt", [&](const httplib::Request&, httplib::Response& res) {
    ++a_robots;
    res.set_content("User-agent: *\nDisallow: /nothing-here/\n", "text/plain");  // a allows both redirects
  });
  a.svr.Get("/to-private", [&](const httplib::Request&, httplib::Response& res) {
    res.set_redirect(b.url("/private/secret.html"), 302);
  });
  a.svr.Get("/to-public", [&](const httplib::Request&, httplib::Response& res) {
    res.set_redirect(b.url("/public/page.html"), 301);
  });
  a.start();
  Fetcher f(fast_cfg());

  auto blocked = f.fetch({a.url("/to-private")});
  EXPECT_TRUE(blocked.blocked_by_robots);
  EXPECT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.status, 0);
  EXPECT_TRUE(blocked.body.empty());
  EXPECT_EQ(blocked.url, a.url("/to-private"));
  EXPECT_EQ(blocked.final_url, b.url("/private/secret.html"));
  EXPECT_EQ(blocked.redirects, 1);
  // The reason names the target's robots.txt and the rule.
  EXPECT_NE(blocked.error.find("robots.txt of " + b.url("")), std::string::npos) << blocked.error;
  EXPECT_NE(blocked.error.find("Disallow: /private/"), std::string::npos) << blocked.error;
  EXPECT_EQ(b_private.load(), 0);  // never requested

  auto ok = f.fetch({a.url("/to-public")});
  ASSERT_TRUE(ok.ok()) << ok.error;
  EXPECT_FALSE(ok.blocked_by_robots);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "public page on b");
  EXPECT_EQ(ok.url, a.url("/to-public"));
  EXPECT_EQ(ok.final_url, b.url("/public/page.html"));
  EXPECT_EQ(ok.redirects, 1);
  EXPECT_EQ(b_public.load(), 1);

  // Each origin's robots.txt was fetched once and cached.
  EXPECT_EQ(a_robots.load(), 1);
  EXPECT_EQ(b_robots.load(), 1);
  auto st = f.stats();
  EXPECT_EQ(st.robots_fetches, 2u);
  EXPECT_EQ(st.robots_blocked, 1u);
  EXPECT_EQ(st.completed, 2u);
}

TEST(FetcherRobots, SameHostRedirectIntoDisallowedPathIsBlocked) {
  TestServer s;
  std::atomic<int> robots_hits{0}, private_hits{0};
  s.svr.Get("/robots.txt", [&](const httplib::Request&, httplib::Response& res) {
    ++robots_hits;
    res.set_content("User-agent: *\nDisallow: /private/\n", "text/plain");
  });
  s.svr.Get("/moved", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/private/x.html", 302); });
  s.svr.Get("/moved-ok", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/open/x.html", 308); });
  s.svr.Get(R"(/private/.*)", [&](const httplib::Request&, httplib::Response& res) {
    ++private_hits;
    res.set_content("secret", "text/html");
  });
  s.svr.Get(R"(/open/.*)", [](const httplib::Request&, httplib::Response& res) { res.set_content("open", "text/html"); });
  s.start();
  Fetcher f(fast_cfg());
  auto r = f.fetch({s.url("/moved")});
  EXPECT_TRUE(r.blocked_by_robots);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.final_url, s.url("/private/x.html"));
  EXPECT_EQ(r.redirects, 1);
  EXPECT_NE(r.error.find("Disallow: /private/"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("redirected from " + s.url("/moved")), std::string::npos) << r.error;
  EXPECT_EQ(private_hits.load(), 0);
  auto ok = f.fetch({s.url("/moved-ok")});
  ASSERT_TRUE(ok.ok()) << ok.error;
  EXPECT_EQ(ok.body, "open");
  EXPECT_EQ(ok.final_url, s.url("/open/x.html"));
  EXPECT_EQ(robots_hits.load(), 1);
}

TEST(FetcherRobots, RedirectTargetWithUnreachableRobotsIsDeferred) {
  // The target origin's robots.txt cannot be fetched (nothing listens there): the target is not fetched for
  // now (robots_unavailable, transient), exactly as a direct request to it would be.
  int dead = baotin::testing::closed_port();
  TestServer a;
  a.svr.Get("/robots.txt", [](const httplib::Request&, httplib::Response& res) { res.status = 404; });
  a.svr.Get("/away", [&](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("http://127.0.0.1:" + std::to_string(dead) + "/page", 302);
  });
  a.start();
  Fetcher f(fast_cfg());
  auto r = f.fetch({a.url("/away")});
  EXPECT_FALSE(r.blocked_by_robots);
  EXPECT_TRUE(r.robots_unavailable);
  EXPECT_NE(r.error.find("unreachable"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("redirect target"), std::string::npos) << r.error;
  EXPECT_EQ(r.final_url, "http://127.0.0.1:" + std::to_string(dead) + "/page");
}

namespace {
// Reference '*'/'$' matcher (dynamic programming, obviously correct, quadratic): for checking the fast one.
bool reference_match(const std::string& pat, const std::string& s) {
  std::string p = pat;
  bool anchored = !p.empty() && p.back() == '$';
  if (anchored) p.pop_back();
  else p += '*';
  std::vector<std::vector<char>> m(p.size() + 1, std::vector<char>(s.size() + 1, 0));
  m[0][0] = 1;
  for (size_t i = 1; i <= p.size(); ++i) {
    m[i][0] = p[i - 1] == '*' && m[i - 1][0];
    for (size_t j = 1; j <= s.size(); ++j)
      m[i][j] = p[i - 1] == '*' ? (m[i - 1][j] || m[i][j - 1]) : (p[i - 1] == s[j - 1] && m[i - 1][j - 1]);
  }
  return m[p.size()][s.size()];
}
}  // namespace

TEST(RobotsMatch, AgreesWithAReferenceMatcherOnRandomPatterns) {
  std::mt19937 rng(20261201);
  const char alphabet[] = "ab/*";
  for (int n = 0; n < 20000; ++n) {
    std::string p = "/", s = "/";
    int lp = rng() % 7, ls = rng() % 10;
    for (int i = 0; i < lp; ++i) p += alphabet[rng() % 4];
    if (rng() % 4 == 0) p += '$';
    for (int i = 0; i < ls; ++i) s += alphabet[rng() % 3];
    ASSERT_EQ(robots_pattern_match(p, s), reference_match(p, s)) << "pattern " << p << " path " << s;
  }
}

// A hostile robots.txt: thousands of backtracking-bait rules against long paths. Only the first 2,000 rules of
// a group are kept, and matching is linear, so judging a URL stays cheap (no timing asserted here).
TEST(RobotsMatch, HostileRuleFloodIsBounded) {
  std::string txt = "User-agent: *\n";
  for (int i = 0; i < 15000; ++i) txt += "Disallow: /*aaaaaaaaaaaaaaaaaaab" + std::to_string(i % 10) + "\n";
  txt += "Disallow: /private/\n";  // past the cap: ignored
  auto rules = RobotsRules::parse(txt, "baotin");
  const std::string path = "/" + std::string(8000, 'a');
  EXPECT_TRUE(rules.allowed(path));
  EXPECT_FALSE(rules.allowed("/x" + std::string(30, 'a') + "b3"));
  EXPECT_TRUE(rules.allowed("/private/x"));  // the 15,001st rule was not kept
}
