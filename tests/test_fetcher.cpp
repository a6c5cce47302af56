#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <future>
#include <mutex>
#include <set>
#include <vector>

#include "fetch/fetcher.h"
#include "fixtures/fetch/test_server.h"

using namespace baotin;
using baotin::testing::nap;
using baotin::testing::TestServer;
using Clock = std::chrono::steady_clock;

namespace {

FetcherConfig fast_cfg() {
  FetcherConfig c;
  c.per_host_min_delay_s = 0;
  c.respect_robots = false;  // robots has its own test file
  c.connect_timeout_ms = 2000;
  c.total_timeout_ms = 8000;
  c.max_retry_after_pause_s = 0;  // tested on its own below
  c.allow_private = {"127.0.0.1"};  // the test servers are on loopback (network policy; tested below)
  return c;
}

std::string http_date(std::time_t t) {
  char buf[64];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string big_text(size_t n) {
  std::string s;
  s.reserve(n);
  const std::string phrase = "Tin tức thời sự Việt Nam hôm nay. ";
  while (s.size() < n) s += phrase;
  s.resize(n);
  return s;
}

}  // namespace

TEST(Fetcher, Ok200WithHeadersAndValidators) {
  TestServer s;
  std::string seen_ua, seen_ae;
  s.svr.Get("/feed.rss", [&](const httplib::Request& req, httplib::Response& res) {
    seen_ua = req.get_header_value("User-Agent");
    seen_ae = req.get_header_value("Accept-Encoding");
    res.set_header("ETag", "\"v1\"");
    res.set_header("Last-Modified", "Wed, 21 Oct 2026 07:28:00 GMT");
    res.set_content("<rss>tin</rss>", "application/rss+xml; charset=utf-8");
  });
  s.start();
  Fetcher f(fast_cfg());
  auto r = f.fetch({s.url("/feed.rss")});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<rss>tin</rss>");
  EXPECT_EQ(r.content_type, "application/rss+xml; charset=utf-8");
  EXPECT_EQ(r.etag, "\"v1\"");
  EXPECT_EQ(r.last_modified, "Wed, 21 Oct 2026 07:28:00 GMT");
  EXPECT_EQ(r.url, s.url("/feed.rss"));
  EXPECT_EQ(r.final_url, s.url("/feed.rss"));
  EXPECT_EQ(r.redirects, 0);
  EXPECT_FALSE(r.not_modified);
  EXPECT_GT(r.wire_bytes, r.body.size());
  EXPECT_EQ(r.header("ETag"), "\"v1\"");
  EXPECT_EQ(seen_ua, "baotin/0.1 (Vietnamese news ingestion; +https://example.invalid/baotin)");  // the default
  EXPECT_NE(seen_ae.find("gzip"), std::string::npos) << seen_ae;
  EXPECT_NE(seen_ae.find("deflate"), std::string::npos) << seen_ae;
}

// Issue 14: validators are stored in the feed state and sent back on every poll; over-long ones are ignored
// (limits::kMaxValidatorBytes) instead of being kept.
TEST(Fetcher, OverlongValidatorsAreIgnored) {
  TestServer s;
  s.svr.Get("/feed.rss", [&](const httplib::Request&, httplib::Response& res) {
    res.set_header("ETag", "\"" + std::string(2000, 'e') + "\"");
    res.set_header("Last-Modified", "Wed, 21 Oct 2026 07:28:00 GMT" + std::string(2000, ' ') + "x");
    res.set_content("<rss>tin</rss>", "application/rss+xml");
  });
  s.svr.Get("/ok.rss", [&](const httplib::Request&, httplib::Response& res) {
    res.set_header("ETag", "\"" + std::string(1000, 'e') + "\"");
    res.set_content("<rss>tin</rss>", "application/rss+xml");
  });
  s.start();
  Fetcher f(fast_cfg());
  auto r = f.fetch({s.url("/feed.rss")});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.etag, "");
  EXPECT_EQ(r.last_modified, "");
  auto ok = f.fetch({s.url("/ok.rss")});
  ASSERT_TRUE(ok.ok()) << ok.error;
  EXPECT_EQ(ok.etag.size(), 1002u);
}

TEST(Fetcher, ConditionalGetSends304) {
  TestServer s;
  std::string inm, ims;
  s.svr.Get("/feed", [&](const httplib::Request& req, httplib::Response& res) {
    inm = req.get_header_value("If-None-Match");
    ims = req.get_header_value("If-Modified-Since");
    if (inm == "\"v1\"" || ims == "Wed, 21 Oct 2026 07:28:00 GMT") {
      res.status = 304;
      res.set_header("ETag", "\"v1\"");
      return;
    }
    res.set_content("fresh", "text/xml");
  });
  s.start();
  Fetcher f(fast_cfg());
  FetchRequest rq{s.url("/feed")};
  rq.etag = "\"v1\"";
  auto r = f.fetch(rq);
  EXPECT_EQ(inm, "\"v1\"");
  EXPECT_EQ(ims, "");
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.not_modified);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.body.empty());

  FetchRequest rq2{s.url("/feed")};
  rq2.last_modified = "Wed, 21 Oct 2026 07:28:00 GMT";
  auto r2 = f.fetch(rq2);
  EXPECT_EQ(ims, "Wed, 21 Oct 2026 07:28:00 GMT");
  EXPECT_EQ(inm, "");
  EXPECT_TRUE(r2.not_modified);

  auto r3 = f.fetch({s.url("/feed")});  // unconditional: no validators sent
  EXPECT_EQ(inm, "");
  EXPECT_EQ(ims, "");
  EXPECT_TRUE(r3.ok());
  EXPECT_EQ(r3.body, "fresh");
  EXPECT_EQ(f.stats().not_modified, 2u);
}

TEST(Fetcher, HttpErrorStatuses) {
  TestServer s;
  for (int code : {404, 410, 500, 503}) {
    s.svr.Get("/s/" + std::to_string(code), [code](const httplib::Request&, httplib::Response& res) {
      res.status = code;
      res.set_content("error page", "text/html");
    });
  }
  s.start();
  Fetcher f(fast_cfg());
  for (int code : {404, 410, 500, 503}) {
    auto r = f.fetch({s.url("/s/" + std::to_string(code))});
    EXPECT_EQ(r.status, code);
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(r.retry_after_s.has_value());
    EXPECT_FALSE(r.not_modified);
  }
  auto st = f.stats();
  EXPECT_EQ(st.status_4xx, 2u);
  EXPECT_EQ(st.status_5xx, 2u);
  EXPECT_EQ(st.completed, 4u);
}

TEST(Fetcher, RetryAfterSecondsAndDate) {
  TestServer s;
  s.svr.Get("/429", [](const httplib::Request&, httplib::Response& res) {
    res.status = 429;
    res.set_header("Retry-After", "120");
  });
  s.svr.Get("/503", [](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_header("Retry-After", http_date(std::time(nullptr) + 90));
  });
  s.svr.Get("/503bad", [](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_header("Retry-After", "soon-ish");
  });
  s.start();
  Fetcher f(fast_cfg());
  auto a = f.fetch({s.url("/429")});
  EXPECT_EQ(a.status, 429);
  ASSERT_TRUE(a.retry_after_s.has_value());
  EXPECT_DOUBLE_EQ(*a.retry_after_s, 120);
  auto b = f.fetch({s.url("/503")});
  EXPECT_EQ(b.status, 503);
  ASSERT_TRUE(b.retry_after_s.has_value());
  EXPECT_NEAR(*b.retry_after_s, 90, 3);
  auto c = f.fetch({s.url("/503bad")});
  EXPECT_EQ(c.status, 503);
  EXPECT_FALSE(c.retry_after_s.has_value());
}

TEST(Fetcher, RetryAfterPausesTheHost) {
  TestServer s;
  std::mutex mu;
  std::vector<std::pair<std::string, Clock::time_point>> hits;
  s.svr.Get(R"(/(busy|next))", [&](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard lk(mu);
      hits.emplace_back(req.path, Clock::now());
    }
    if (req.path == "/busy") {
      res.status = 429;
      res.set_header("Retry-After", "1");
      return;
    }
    res.set_content("ok", "text/plain");
  });
  s.start();
  auto cfg = fast_cfg();
  cfg.max_retry_after_pause_s = 5;
  Fetcher f(cfg);
  auto a = f.fetch({s.url("/busy")});
  EXPECT_EQ(a.status, 429);
  auto b = f.fetch({s.url("/next")});
  EXPECT_TRUE(b.ok());
  EXPECT_GE(b.queued_seconds, 0.8);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_GE(std::chrono::duration<double>(hits[1].second - hits[0].second).count(), 0.9);
}

TEST(Fetcher, ParseRetryAfter) {
  EXPECT_EQ(parse_retry_after("  30 ", 0), 30.0);
  EXPECT_EQ(parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", 40), 60.0);
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", 784111777 - 60), 60.0);  // RFC 850
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", 784111777 - 5), 5.0);           // asctime
  EXPECT_EQ(parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", 1000), 0.0);   // past: now
  EXPECT_FALSE(parse_retry_after("", 0).has_value());
  EXPECT_FALSE(parse_retry_after("-5", 0).has_value());
  EXPECT_FALSE(parse_retry_after("99999999999999999999", 0).has_value());
}

TEST(Fetcher, ConnectionClosedMidBody) {
  TestServer s;
  s.svr.Get("/cut", [](const httplib::Request&, httplib::Response& res) {
    res.set_content_provider(
        10000, "text/html",
        [](size_t offset, size_t, httplib::DataSink& sink) {
          if (offset > 0) return false;  // die after the first chunk
          std::string part(1000, 'a');
          sink.write(part.data(), part.size());
          return true;
        },
        nullptr);
  });
  s.start();
  Fetcher f(fast_cfg());
  auto r = f.fetch({s.url("/cut")});
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("closed"), std::string::npos) << r.error;
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(f.stats().transport_errors, 1u);
}

TEST(Fetcher, ConnectionResetMidBody) {
  baotin::testing::RawServer raw(
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n" + std::string(2000, 'a'),
      /*reset=*/true);
  Fetcher f(fast_cfg());
  auto r = f.fetch({raw.url("/reset")});
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("reset"), std::string::npos) << r.error;
  EXPECT_TRUE(r.body.empty());
}

TEST(Fetcher, ConnectionRefusedAndInvalidUrls) {
  int port = baotin::testing::closed_port();
  Fetcher f(fast_cfg());
  auto r = f.fetch({"http://127.0.0.1:" + std::to_string(port) + "/x"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("connection failed"), std::string::npos) << r.error;
  auto bad = f.fetch({"not a url"});
  EXPECT_NE(bad.error.find("invalid URL"), std::string::npos) << bad.error;
  auto ftp = f.fetch({"ftp://example.com/file"});
  EXPECT_NE(ftp.error.find("scheme"), std::string::npos) << ftp.error;
  auto file = f.fetch({"file:///etc/passwd"});
  EXPECT_FALSE(file.ok());
  EXPECT_TRUE(file.body.empty());
  FetchRequest inj{"http://127.0.0.1:" + std::to_string(port) + "/x"};
  inj.etag = "\"a\"\r\nX-Evil: 1";
  auto ri = f.fetch(inj);
  EXPECT_NE(ri.error.find("CR/LF"), std::string::npos) << ri.error;
}

TEST(Fetcher, SlowDripAbortedByLowSpeedLimit) {
  TestServer s;
  s.svr.Get("/drip", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/html", [&](size_t, httplib::DataSink& sink) {
      for (int i = 0; i < 100; ++i) {  // 1 byte every 200 ms, at most 20 s
        if (!sink.write("x", 1)) return false;
        if (!nap(s, 200)) return false;
      }
      sink.done();
      return true;
    });
  });
  s.start();
  auto cfg = fast_cfg();
  cfg.low_speed_limit_bytes = 100;
  cfg.low_speed_time_s = 1;
  cfg.total_timeout_ms = 20000;
  Fetcher f(cfg);
  auto t0 = Clock::now();
  auto r = f.fetch({s.url("/drip")});
  double took = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("timeout"), std::string::npos) << r.error;
  EXPECT_LT(took, 6.0);
  EXPECT_GE(took, 0.9);
}

TEST(Fetcher, TotalTimeout) {
  TestServer s;
  s.svr.Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
    nap(s, 3000);
    res.set_content("late", "text/plain");
  });
  s.start();
  auto cfg = fast_cfg();
  cfg.total_timeout_ms = 400;
  Fetcher f(cfg);
  auto t0 = Clock::now();
  auto r = f.fetch({s.url("/slow")});
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 2.5);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("timeout"), std::string::npos) << r.error;
}

TEST(Fetcher, OversizedBodyIsAbortedWithAndWithoutContentLength) {
  TestServer s;
  s.svr.Get("/big", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(50000, 'z'), "application/octet-stream");
  });
  s.svr.Get("/bigchunked", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/octet-stream", [](size_t offset, httplib::DataSink& sink) {
      if (offset >= 50000) {
        sink.done();
        return true;
      }
      std::string part(5000, 'z');
      return sink.write(part.data(), part.size());
    });
  });
  s.svr.Get("/fits", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(4096, 'y'), "application/octet-stream");
  });
  s.start();
  auto cfg = fast_cfg();
  cfg.max_body_bytes = 4096;
  Fetcher f(cfg);
  for (const char* path : {"/big", "/bigchunked"}) {
    auto r = f.fetch({s.url(path)});
    EXPECT_TRUE(r.too_large) << path;
    EXPECT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_NE(r.error.find("too large"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("4096"), std::string::npos) << r.error;
    EXPECT_LE(r.body.size(), 4096u) << path;
  }
  auto ok = f.fetch({s.url("/fits")});  // exactly at the limit is fine
  EXPECT_TRUE(ok.ok()) << ok.error;
  EXPECT_EQ(ok.body.size(), 4096u);
  EXPECT_EQ(f.stats().too_large, 2u);
}

TEST(Fetcher, CompressedBodiesAreDecoded) {
  TestServer s;
  const std::string text = big_text(200000);
  std::string gz;
  {
    httplib::detail::gzip_compressor c;
    ASSERT_TRUE(c.compress(text.data(), text.size(), true, [&](const char* d, size_t n) {
      gz.append(d, n);
      return true;
    }));
  }
  ASSERT_LT(gz.size(), text.size() / 5);
  s.svr.Get("/gz.rss", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Accept-Encoding").find("gzip") == std::string::npos) {
      res.status = 406;
      return;
    }
    // A content type httplib does not compress itself: the body is our own gzip stream.
    res.set_header("Content-Encoding", "gzip");
    res.set_content(gz, "application/rss+xml");
  });
  s.svr.Get("/auto.html", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(text, "text/html; charset=utf-8");  // httplib compresses (br or gzip) on its own
  });
  s.start();
  Fetcher f(fast_cfg());
  auto r = f.fetch({s.url("/gz.rss")});
  ASSERT_TRUE(r.ok()) << r.error << " status " << r.status;
  EXPECT_EQ(r.header("content-encoding"), "gzip");
  EXPECT_EQ(r.body, text);
  EXPECT_LT(r.wire_bytes, text.size() / 4);
  auto a = f.fetch({s.url("/auto.html")});
  ASSERT_TRUE(a.ok()) << a.error;
  EXPECT_FALSE(a.header("content-encoding").empty());
  EXPECT_EQ(a.body, text);
  EXPECT_LT(a.wire_bytes, text.size() / 4);
}

TEST(Fetcher, CorruptGzipIsAClearError) {
  TestServer s;
  s.svr.Get("/badgz", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Encoding", "gzip");
    res.set_content("this is not gzip at all", "application/octet-stream");
  });
  s.start();
  Fetcher f(fast_cfg());
  auto r = f.fetch({s.url("/badgz")});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error.empty());
}

TEST(Fetcher, RedirectsFollowedAndLoopsReported) {
  TestServer s;
  s.svr.Get("/r1", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/r2", 301); });
  s.svr.Get("/r2", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/final", 302); });
  s.svr.Get("/final", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("ETag", "\"final\"");
    res.set_content("landed", "text/html");
  });
  s.svr.Get("/loop", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/loop", 302); });
  s.svr.Get("/toftp", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("ftp://127.0.0.1/x", 302);
  });
  s.start();
  Fetcher f(fast_cfg());
  auto r = f.fetch({s.url("/r1")});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.body, "landed");
  EXPECT_EQ(r.redirects, 2);
  EXPECT_EQ(r.final_url, s.url("/final"));
  EXPECT_EQ(r.url, s.url("/r1"));
  EXPECT_EQ(r.etag, "\"final\"");  // headers are the final response's
  EXPECT_EQ(r.headers.count("location"), 0u);

  auto loop = f.fetch({s.url("/loop")});
  EXPECT_FALSE(loop.ok());
  EXPECT_EQ(loop.status, 0);
  EXPECT_NE(loop.error.find("too many redirects"), std::string::npos) << loop.error;
  EXPECT_NE(loop.error.find("limit 5"), std::string::npos) << loop.error;

  auto ftp = f.fetch({s.url("/toftp")});
  EXPECT_FALSE(ftp.ok());
  EXPECT_TRUE(ftp.blocked_by_policy);
  EXPECT_NE(ftp.error.find("scheme 'ftp'"), std::string::npos) << ftp.error;
}

TEST(Fetcher, RedirectKindsRelativeLocationsAndHopLimit) {
  TestServer s;
  std::string inm_at_target;
  s.svr.Get("/a/start", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("../b/next?x=1#frag", 303); });
  s.svr.Get("/b/next", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/c/last", 307); });
  s.svr.Get("/c/last", [&](const httplib::Request& req, httplib::Response& res) {
    inm_at_target = req.get_header_value("If-None-Match");
    res.set_content("end of chain", "text/plain");
  });
  s.svr.Get("/nolocation", [](const httplib::Request&, httplib::Response& res) { res.status = 302; });
  s.start();
  Fetcher f(fast_cfg());
  FetchRequest rq{s.url("/a/start")};
  rq.etag = "\"v7\"";  // validators travel with the request, as they did when libcurl followed
  auto r = f.fetch(rq);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.body, "end of chain");
  EXPECT_EQ(r.redirects, 2);
  EXPECT_EQ(r.final_url, s.url("/c/last"));
  EXPECT_EQ(inm_at_target, "\"v7\"");
  EXPECT_EQ(f.stats().status_2xx, 1u);  // one result per request, not per hop

  // A redirect without a Location is the answer itself.
  auto nl = f.fetch({s.url("/nolocation")});
  EXPECT_EQ(nl.status, 302);
  EXPECT_FALSE(nl.ok());
  EXPECT_EQ(nl.redirects, 0);

  // Exactly max_redirects hops are followed; one more is an error.
  auto cfg = fast_cfg();
  cfg.max_redirects = 2;
  Fetcher two(cfg);
  EXPECT_TRUE(two.fetch({s.url("/a/start")}).ok());
  cfg.max_redirects = 1;
  Fetcher one(cfg);
  auto over = one.fetch({s.url("/a/start")});
  EXPECT_FALSE(over.ok());
  EXPECT_EQ(over.status, 0);
  EXPECT_NE(over.error.find("too many redirects"), std::string::npos) << over.error;
  EXPECT_NE(over.error.find("limit 1"), std::string::npos) << over.error;
  EXPECT_EQ(over.redirects, 1);
  EXPECT_EQ(over.url, s.url("/a/start"));
}

TEST(Fetcher, RedirectLoopAcrossTwoUrlsDetected) {
  TestServer s;
  std::atomic<int> hits{0};
  s.svr.Get("/ping", [&](const httplib::Request&, httplib::Response& res) {
    ++hits;
    res.set_redirect("/pong", 302);
  });
  s.svr.Get("/pong", [&](const httplib::Request&, httplib::Response& res) {
    ++hits;
    res.set_redirect("/ping", 301);
  });
  s.start();
  auto cfg = fast_cfg();
  cfg.max_redirects = 20;
  Fetcher f(cfg);
  auto r = f.fetch({s.url("/ping")});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("redirect loop"), std::string::npos) << r.error;
  EXPECT_EQ(hits.load(), 2);  // stopped when the chain came back, not after 20 hops
}

// The target of a cross-host redirect waits for that host's politeness delay, like any request to it.
TEST(Fetcher, CrossHostRedirectRespectsTargetHostDelay) {
  TestServer a, b;
  std::mutex mu;
  std::vector<std::pair<std::string, Clock::time_point>> b_hits;
  b.svr.Get(R"(/page/\d+)", [&](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard lk(mu);
      b_hits.emplace_back(req.path, Clock::now());
    }
    res.set_content("b", "text/plain");
  });
  b.start();
  a.svr.Get("/hop", [&](const httplib::Request&, httplib::Response& res) { res.set_redirect(b.url("/page/2"), 302); });
  a.start();
  auto cfg = fast_cfg();
  cfg.host_min_delay["127.0.0.1:" + std::to_string(b.port())] = 0.6;  // only b is slow
  Fetcher f(cfg);
  ASSERT_TRUE(f.fetch({b.url("/page/1")}).ok());
  auto r = f.fetch({a.url("/hop")});  // a has no delay; its redirect lands on b
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.final_url, b.url("/page/2"));
  ASSERT_EQ(b_hits.size(), 2u);
  EXPECT_GE(std::chrono::duration<double>(b_hits[1].second - b_hits[0].second).count(), 0.5);
  EXPECT_GE(r.queued_seconds, 0.4);  // the wait is reported as queueing
}

TEST(Fetcher, ContentTypeReportedAsIsWhenWrongOrAbsent) {
  TestServer s;
  s.svr.Get("/wrongtype", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("<rss/>", "image/png");
  });
  s.start();
  // httplib always adds a Content-Type, so the "absent" case comes from a raw socket server.
  baotin::testing::RawServer raw("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\n<rss/>", false);
  Fetcher f(fast_cfg());
  auto a = f.fetch({raw.url("/notype")});
  ASSERT_TRUE(a.ok()) << a.error;
  EXPECT_EQ(a.content_type, "");
  EXPECT_EQ(a.body, "<rss/>");
  auto b = f.fetch({s.url("/wrongtype")});
  ASSERT_TRUE(b.ok()) << b.error;
  EXPECT_EQ(b.content_type, "image/png");
  EXPECT_EQ(b.body, "<rss/>");
}

TEST(Fetcher, PerHostConcurrencyNeverExceeded) {
  TestServer s;
  std::atomic<int> cur{0}, peak{0};
  s.svr.Get(R"(/c/\d+)", [&](const httplib::Request&, httplib::Response& res) {
    int now = ++cur;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    nap(s, 60);
    --cur;
    res.set_content("ok", "text/plain");
  });
  s.start();
  auto cfg = fast_cfg();
  cfg.per_host_concurrency = 2;
  Fetcher f(cfg);
  std::atomic<int> ok{0};
  std::atomic<size_t> max_in_flight_seen{0};
  for (int i = 0; i < 12; ++i)
    f.submit({s.url("/c/" + std::to_string(i))}, [&](FetchResult r) {
      if (r.ok()) ++ok;
    });
  for (int i = 0; i < 20; ++i) {
    auto st = f.stats();
    max_in_flight_seen = std::max(max_in_flight_seen.load(), st.in_flight);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  f.shutdown(true);
  EXPECT_EQ(ok.load(), 12);
  EXPECT_LE(peak.load(), 2);
  EXPECT_EQ(peak.load(), 2);  // the limit is reached, so the counter does measure overlap
  EXPECT_LE(max_in_flight_seen.load(), 2u);
}

TEST(Fetcher, GlobalInFlightLimit) {
  TestServer s;
  std::atomic<int> cur{0}, peak{0};
  s.svr.Get(R"(/g/\d+)", [&](const httplib::Request&, httplib::Response& res) {
    int now = ++cur;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    nap(s, 50);
    --cur;
    res.set_content("ok", "text/plain");
  });
  s.start();
  auto cfg = fast_cfg();
  cfg.per_host_concurrency = 50;
  cfg.max_in_flight = 3;
  Fetcher f(cfg);
  std::atomic<int> ok{0};
  for (int i = 0; i < 15; ++i)
    f.submit({s.url("/g/" + std::to_string(i))}, [&](FetchResult r) { ok += r.ok(); });
  f.shutdown(true);
  EXPECT_EQ(ok.load(), 15);
  EXPECT_EQ(peak.load(), 3);
}

TEST(Fetcher, MinDelayBetweenRequestsToOneHost) {
  TestServer s;
  std::mutex mu;
  std::vector<Clock::time_point> times;
  s.svr.Get("/warm", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  s.svr.Get(R"(/d/\d+)", [&](const httplib::Request&, httplib::Response& res) {
    {
      std::lock_guard lk(mu);
      times.push_back(Clock::now());
    }
    res.set_content("ok", "text/plain");
  });
  s.start();
  auto cfg = fast_cfg();
  cfg.per_host_concurrency = 4;            // concurrency alone would allow all four at once
  cfg.per_host_min_delay_s = 5;            // default would be slow ...
  cfg.host_min_delay["127.0.0.1"] = 0.3;   // ... the per-host override applies
  Fetcher f(cfg);
  // Warm up one keep-alive connection so arrival times at the server track the fetcher's start times
  // (otherwise connection set-up jitter, large under sanitizers, blurs them).
  ASSERT_TRUE(f.fetch({s.url("/warm")}).ok());
  for (int i = 0; i < 4; ++i) f.submit({s.url("/d/" + std::to_string(i))}, [](FetchResult) {});
  f.shutdown(true);
  ASSERT_EQ(times.size(), 4u);
  std::sort(times.begin(), times.end());
  for (size_t i = 1; i < times.size(); ++i)
    EXPECT_GE(std::chrono::duration<double>(times[i] - times[i - 1]).count(), 0.2) << i;
  double span = std::chrono::duration<double>(times.back() - times.front()).count();
  EXPECT_GE(span, 0.8);
  EXPECT_LT(span, 3.0);
}

TEST(Fetcher, ManyConcurrentRequestsComplete) {
  TestServer s;
  s.svr.Get(R"(/m/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content("page " + req.matches[1].str(), "text/html");
  });
  s.start();
  auto cfg = fast_cfg();
  cfg.per_host_concurrency = 8;
  Fetcher f(cfg);
  constexpr int kN = 300;
  std::mutex mu;
  std::set<std::string> bodies;
  std::atomic<int> bad{0};
  std::vector<std::thread> submitters;
  for (int t = 0; t < 3; ++t)
    submitters.emplace_back([&, t] {
      for (int i = t; i < kN; i += 3)
        f.submit({s.url("/m/" + std::to_string(i))}, [&, i](FetchResult r) {
          if (!r.ok() || r.body != "page " + std::to_string(i)) ++bad;
          std::lock_guard lk(mu);
          bodies.insert(r.body);
        });
    });
  for (auto& th : submitters) th.join();
  f.shutdown(true);
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(bodies.size(), static_cast<size_t>(kN));
  auto st = f.stats();
  EXPECT_EQ(st.requests, static_cast<uint64_t>(kN));
  EXPECT_EQ(st.completed, static_cast<uint64_t>(kN));
  EXPECT_EQ(st.status_2xx, static_cast<uint64_t>(kN));
  EXPECT_EQ(st.queued, 0u);
  EXPECT_EQ(st.in_flight, 0u);
}

TEST(Fetcher, ShutdownDrainCompletesQueuedWork) {
  TestServer s;
  s.svr.Get(R"(/q/\d+)", [&](const httplib::Request&, httplib::Response& res) {
    nap(s, 20);
    res.set_content("ok", "text/plain");
  });
  s.start();
  auto cfg = fast_cfg();
  cfg.per_host_concurrency = 1;
  Fetcher f(cfg);
  std::atomic<int> ok{0}, calls{0};
  for (int i = 0; i < 20; ++i)
    f.submit({s.url("/q/" + std::to_string(i))}, [&](FetchResult r) {
      ++calls;
      ok += r.ok();
    });
  EXPECT_GT(f.stats().queued + f.stats().in_flight, 0u);
  f.shutdown(true);
  EXPECT_EQ(calls.load(), 20);
  EXPECT_EQ(ok.load(), 20);
  // After shutdown: immediate, clear rejection; shutdown is idempotent.
  auto late = f.fetch({s.url("/q/1")});
  EXPECT_EQ(late.error, "fetcher is shut down");
  f.shutdown(true);
  f.shutdown(false);
}

TEST(Fetcher, DestructorWithWorkInFlightDoesNotHang) {
  TestServer s;
  s.svr.Get(R"(/h/\d+)", [&](const httplib::Request&, httplib::Response& res) {
    nap(s, 5000);
    res.set_content("late", "text/plain");
  });
  s.start();
  std::atomic<int> calls{0}, cancelled{0};
  auto t0 = Clock::now();
  {
    auto cfg = fast_cfg();
    cfg.per_host_concurrency = 2;
    Fetcher f(cfg);
    for (int i = 0; i < 10; ++i)
      f.submit({s.url("/h/" + std::to_string(i))}, [&](FetchResult r) {
        ++calls;
        if (r.error.find("cancelled") != std::string::npos) ++cancelled;
      });
    std::this_thread::sleep_for(std::chrono::milliseconds(150));  // two transfers are now running
    EXPECT_EQ(f.stats().in_flight, 2u);
  }
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 2.0);
  EXPECT_EQ(calls.load(), 10);  // every callback ran exactly once
  EXPECT_EQ(cancelled.load(), 10);
}

TEST(Fetcher, FetchFromCallbackIsRefusedNotDeadlocked) {
  TestServer s;
  s.svr.Get("/x", [](const httplib::Request&, httplib::Response& res) { res.set_content("x", "text/plain"); });
  s.start();
  Fetcher f(fast_cfg());
  std::promise<std::string> inner;
  f.submit({s.url("/x")}, [&](FetchResult) { inner.set_value(f.fetch({s.url("/x")}).error); });
  auto fut = inner.get_future();
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_NE(fut.get().find("callback"), std::string::npos);
}

TEST(Fetcher, ThrowingCallbackDoesNotKillTheLoop) {
  TestServer s;
  s.svr.Get("/x", [](const httplib::Request&, httplib::Response& res) { res.set_content("x", "text/plain"); });
  s.start();
  Fetcher f(fast_cfg());
  f.submit({s.url("/x")}, [](FetchResult) { throw std::runtime_error("boom"); });
  auto r = f.fetch({s.url("/x")});
  EXPECT_TRUE(r.ok()) << r.error;
}

// ---- network policy (SSRF) -----------------------------------------------------------------------------
// The refusal happens before connecting: asserted by the error text, by blocked_by_policy, and by the test
// servers seeing no request. Non-loopback addresses (169.254.169.254, 10.x) are never connected to: the
// policy refuses the socket, so no packet leaves the machine.

namespace {

FetcherConfig policy_cfg() {  // fast_cfg() without the loopback opt-in
  FetcherConfig c = fast_cfg();
  c.allow_private.clear();
  return c;
}

struct CountingServer {
  TestServer s;
  std::atomic<int> hits{0};
  CountingServer() {
    s.svr.Get(R"(/.*)", [this](const httplib::Request&, httplib::Response& res) {
      ++hits;
      res.set_content("secret: the feed list", "text/plain");
    });
    s.start();
  }
};

void expect_blocked(const FetchResult& r, const std::string& needle) {
  EXPECT_TRUE(r.blocked_by_policy) << r.url << ": " << r.error;
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status, 0) << r.url;
  EXPECT_TRUE(r.body.empty()) << r.url;
  EXPECT_EQ(r.error.rfind("blocked: ", 0), 0u) << r.url << ": " << r.error;
  EXPECT_NE(r.error.find("(network policy"), std::string::npos) << r.url << ": " << r.error;
  EXPECT_NE(r.error.find(needle), std::string::npos) << r.url << ": " << r.error;
}

}  // namespace

TEST(FetcherPolicy, NonPublicAddressesRefusedByDefault) {
  CountingServer srv;
  const std::string port = std::to_string(srv.s.port());
  Fetcher f(policy_cfg());
  expect_blocked(f.fetch({"http://127.0.0.1:" + port + "/status"}), "127.0.0.1 is a loopback address");
  expect_blocked(f.fetch({"http://2130706433:" + port + "/status"}), "127.0.0.1 is a loopback address");  // decimal
  expect_blocked(f.fetch({"http://0x7f.1:" + port + "/status"}), "127.0.0.1 is a loopback address");     // hex
  expect_blocked(f.fetch({"http://localhost:" + port + "/status"}), "is a loopback address");
  expect_blocked(f.fetch({"http://[::1]:" + port + "/status"}), "::1 is a loopback address");
  expect_blocked(f.fetch({"http://[::ffff:127.0.0.1]:" + port + "/status"}), "is a loopback address");
  expect_blocked(f.fetch({"http://169.254.169.254/latest/meta-data/"}), "169.254.169.254 is a link-local address");
  expect_blocked(f.fetch({"http://10.1.2.3/"}), "10.1.2.3 is a private (RFC 1918) address");
  expect_blocked(f.fetch({"http://0.0.0.0:" + port + "/"}), "0.0.0.0 is an unspecified");
  EXPECT_EQ(srv.hits.load(), 0);
  EXPECT_EQ(f.stats().policy_blocked, 9u);
}

TEST(FetcherPolicy, CheckIsOnTheResolvedAddress) {
  // A public-looking name that resolves (CURLOPT_RESOLVE, like a DNS rebind) to 127.0.0.1.
  CountingServer srv;
  const std::string port = std::to_string(srv.s.port());
  const std::string url = "http://tin.example.vn:" + port + "/x";
  auto cfg = policy_cfg();
  cfg.resolve = {"tin.example.vn:" + port + ":127.0.0.1"};
  {
    Fetcher f(cfg);
    expect_blocked(f.fetch({url}), "127.0.0.1 is a loopback address (network policy, host tin.example.vn)");
  }
  EXPECT_EQ(srv.hits.load(), 0);
  for (const char* allow : {"127.0.0.1", "tin.example.vn", "127.0.0.0/8"}) {
    cfg.allow_private = {allow};
    if (std::string(allow) == "127.0.0.1") cfg.allow_private = {"127.0.0.1:" + port};
    Fetcher f(cfg);
    auto r = f.fetch({url});
    EXPECT_TRUE(r.ok()) << allow << ": " << r.error;
  }
  EXPECT_EQ(srv.hits.load(), 3);
}

TEST(FetcherPolicy, RedirectToAnotherLoopbackPortRefused) {
  CountingServer metrics;  // stands for the daemon's own metrics port
  const std::string mport = std::to_string(metrics.s.port());
  TestServer feed;
  for (auto [path, target] : std::vector<std::pair<std::string, std::string>>{
           {"/to-status", "http://127.0.0.1:" + mport + "/status"},
           {"/to-decimal", "http://2130706433:" + mport + "/status"},
           {"/to-localhost", "http://localhost:" + mport + "/status"},
           {"/to-metadata", "http://169.254.169.254/latest/meta-data/"}}) {
    feed.svr.Get(path, [target](const httplib::Request&, httplib::Response& res) { res.set_redirect(target, 302); });
  }
  feed.svr.Get("/ok", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/page", 301); });
  feed.svr.Get("/page", [](const httplib::Request&, httplib::Response& res) { res.set_content("tin", "text/plain"); });
  feed.start();
  auto cfg = policy_cfg();
  cfg.allow_private = {"127.0.0.1:" + std::to_string(feed.port())};  // the feed's host:port only
  Fetcher f(cfg);
  auto ok = f.fetch({feed.url("/ok")});  // a redirect within the allowed origin is followed
  ASSERT_TRUE(ok.ok()) << ok.error;
  EXPECT_EQ(ok.body, "tin");
  for (const char* p : {"/to-status", "/to-decimal", "/to-localhost"}) {
    auto r = f.fetch({feed.url(p)});
    expect_blocked(r, "is a loopback address");
    EXPECT_EQ(r.url, feed.url(p));
    EXPECT_NE(r.final_url.find(":" + mport + "/status"), std::string::npos) << r.final_url;  // the refused hop
    EXPECT_EQ(r.redirects, 1);
  }
  expect_blocked(f.fetch({feed.url("/to-metadata")}), "169.254.169.254 is a link-local address");
  EXPECT_EQ(metrics.hits.load(), 0);
}

TEST(FetcherPolicy, NonHttpSchemesRefusedAsPermanent) {
  TestServer s;
  for (auto [path, target] : std::vector<std::pair<std::string, std::string>>{{"/js", "javascript:alert(1)"},
                                                                              {"/file", "file:///etc/passwd"},
                                                                              {"/data", "data:text/plain,x"},
                                                                              {"/gopher", "gopher://127.0.0.1:70/_x"},
                                                                              {"/ftp", "ftp://127.0.0.1/x"}})
    s.svr.Get(path, [target](const httplib::Request&, httplib::Response& res) { res.set_redirect(target, 302); });
  s.start();
  Fetcher f(fast_cfg());
  for (const char* p : {"/js", "/file", "/data", "/gopher", "/ftp"}) {
    auto r = f.fetch({s.url(p)});
    EXPECT_TRUE(r.blocked_by_policy) << p << ": " << r.error;
    EXPECT_NE(r.error.find("is not http/https (network policy)"), std::string::npos) << p << ": " << r.error;
  }
  for (const char* u : {"javascript:alert(1)", "file:///etc/passwd", "data:text/html,<b>x</b>", "gopher://x.vn/",
                        "ftp://x.vn/f", "not a url"}) {
    auto r = f.fetch({u});
    EXPECT_TRUE(r.blocked_by_policy) << u << ": " << r.error;
    EXPECT_FALSE(r.ok());
  }
}

TEST(FetcherPolicy, PerRequestAllowListAndRobotsTxt) {
  TestServer s;
  std::atomic<int> robots{0}, pages{0};
  s.svr.Get("/robots.txt", [&](const httplib::Request&, httplib::Response& res) {
    ++robots;
    res.set_content("User-agent: *\nAllow: /\n", "text/plain");
  });
  s.svr.Get("/page", [&](const httplib::Request&, httplib::Response& res) {
    ++pages;
    res.set_content("tin", "text/plain");
  });
  s.start();
  auto cfg = policy_cfg();
  cfg.respect_robots = true;
  Fetcher f(cfg);
  // Without an allow list the robots.txt fetch itself is refused: the page is refused by the policy (permanent),
  // not "robots.txt unavailable".
  auto r = f.fetch({s.url("/page")});
  expect_blocked(r, "127.0.0.1 is a loopback address");
  EXPECT_FALSE(r.robots_unavailable);
  EXPECT_EQ(robots.load(), 0);
  // With the request's allow list, robots.txt and the page are fetched.
  FetchRequest req{s.url("/page")};
  req.allow_private = {"127.0.0.1:" + std::to_string(s.port())};
  auto ok = f.fetch(req);
  ASSERT_TRUE(ok.ok()) << ok.error;
  EXPECT_EQ(robots.load(), 1);
  // The keep-alive connection opened for that request is not reused for one without the allow list.
  auto again = f.fetch({s.url("/page")});
  expect_blocked(again, "127.0.0.1 is a loopback address");
  EXPECT_EQ(pages.load(), 1);
  FetchRequest bad{s.url("/page")};
  bad.allow_private = {"not valid!"};
  auto rb = f.fetch(bad);
  EXPECT_TRUE(rb.blocked_by_policy);
  EXPECT_NE(rb.error.find("allow_private entry"), std::string::npos) << rb.error;
  FetcherConfig bad_cfg;
  bad_cfg.allow_private = {"10.0.0.0/99"};
  EXPECT_THROW(Fetcher{bad_cfg}, std::invalid_argument);
}

// The daemon's own endpoint is never connected to, even when the allow list covers its address.
TEST(FetcherPolicy, NeverConnectBeatsTheAllowList) {
  TestServer s;
  s.svr.Get("/page", [](const httplib::Request&, httplib::Response& res) { res.set_content("tin", "text/plain"); });
  s.start();
  FetcherConfig fc = fast_cfg();
  fc.allow_private = {"*"};
  fc.never_connect = {"127.0.0.1:" + std::to_string(s.port())};
  Fetcher f(fc);
  auto r = f.fetch({s.url("/page")});
  EXPECT_TRUE(r.blocked_by_policy);
  EXPECT_NE(r.error.find("baotin's own endpoint"), std::string::npos) << r.error;
  fc.never_connect = {"*:" + std::to_string(s.port())};
  Fetcher g(fc);
  EXPECT_TRUE(g.fetch({"http://localhost:" + std::to_string(s.port()) + "/page"}).blocked_by_policy);
}

// Proxies from the environment are not used (the network policy judges the address actually connected to).
TEST(FetcherPolicy, EnvironmentProxyIsIgnored) {
  TestServer s;
  s.svr.Get("/page", [](const httplib::Request&, httplib::Response& res) { res.set_content("tin", "text/plain"); });
  s.start();
  ::setenv("http_proxy", "http://127.0.0.1:1", 1);
  ::setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
  FetcherConfig fc = fast_cfg();
  Fetcher f(fc);
  auto r = f.fetch({s.url("/page")});
  ::unsetenv("http_proxy");
  ::unsetenv("ALL_PROXY");
  EXPECT_TRUE(r.ok()) << r.error;
}

// SIGHUP reload (issue 11, item 3): new settings apply to requests made after reconfigure(); an invalid allow
// list is refused and changes nothing.
TEST(Fetcher, ReconfigureAppliesToLaterRequests) {
  TestServer s;
  std::mutex mu;
  std::vector<std::string> agents;
  s.svr.Get("/page", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lk(mu);
    agents.push_back(req.get_header_value("User-Agent"));
    res.set_content(big_text(5000), "text/plain");
  });
  s.start();
  auto cfg = fast_cfg();
  cfg.user_agent = "baotin-test/one";
  Fetcher f(cfg);
  ASSERT_TRUE(f.fetch({s.url("/page")}).ok());

  auto next = cfg;
  next.user_agent = "baotin-test/two";
  next.max_body_bytes = 1024;
  ASSERT_TRUE(f.reconfigure(next));
  auto r = f.fetch({s.url("/page")});
  EXPECT_TRUE(r.too_large) << r.error;  // the new body limit
  {
    std::lock_guard lk(mu);
    ASSERT_EQ(agents.size(), 2u);
    EXPECT_EQ(agents[0], "baotin-test/one");
    EXPECT_EQ(agents[1], "baotin-test/two");
  }

  // The allow list too: without 127.0.0.1 the loopback server is refused from now on.
  auto closed = next;
  closed.allow_private.clear();
  ASSERT_TRUE(f.reconfigure(closed));
  EXPECT_TRUE(f.fetch({s.url("/page")}).blocked_by_policy);

  auto bad = cfg;
  bad.allow_private = {"10.0.0.0/99"};
  std::string why;
  EXPECT_FALSE(f.reconfigure(bad, &why));
  EXPECT_NE(why.find("10.0.0.0/99"), std::string::npos) << why;
  EXPECT_TRUE(f.fetch({s.url("/page")}).blocked_by_policy);  // unchanged by the refused reconfigure
}
