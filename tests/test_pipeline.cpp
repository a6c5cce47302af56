// End to end, in process: local feed + article pages -> fetch -> extract -> RocksDB -> JSONL export.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>

#include "daemon/pipeline.h"
#include "e2e_server.h"
#include "store/export.h"
#include "test_util.h"

using namespace baotin;
using baotin::testing::NewsServer;

namespace {

struct Harness {
  std::filesystem::path dir;
  Config cfg;
  std::unique_ptr<Store> store;
  std::unique_ptr<Fetcher> fetcher;
  Metrics metrics;
  std::shared_ptr<TemplateRegistry> templates = std::make_shared<TemplateRegistry>();
  std::unique_ptr<Ingestor> ing;

  // `tune` adjusts the fetcher settings (by default loopback is allowed by the network policy).
  explicit Harness(const std::string& name, std::function<void(FetcherConfig&)> tune = {}) {
    dir = std::filesystem::temp_directory_path() / ("baotin-pipe-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::vector<TemplateError> errs;
    auto t = load_template(std::string(BAOTIN_FIXTURES) + "/e2e/site.toml", errs);
    EXPECT_TRUE(t) << (errs.empty() ? "" : errs[0].str());
    templates->add(t);
    cfg.poll.min_interval_s = 1;
    cfg.article_retries = 3;
    std::string err;
    store = Store::open({(dir / "db").string(), true}, &err);
    EXPECT_TRUE(store) << err;
    FetcherConfig fc;
    fc.per_host_min_delay_s = 0;
    fc.per_host_concurrency = 4;
    fc.total_timeout_ms = 5000;
    fc.allow_private = {"127.0.0.1", "localhost"};  // the test servers (network policy)
    if (tune) tune(fc);
    fetcher = std::make_unique<Fetcher>(fc);
    ing = std::make_unique<Ingestor>(cfg, *store, *fetcher, metrics, templates);
  }
  ~Harness() {
    ing->finish();
    fetcher->shutdown(false);
    ing.reset();
    store.reset();
    std::filesystem::remove_all(dir);
  }
  void run_until_idle() {
    for (int i = 0; i < 300 && !ing->wait_idle(0.1); ++i) ing->tick();
    ASSERT_EQ(ing->outstanding(), 0u);
  }
  std::vector<nlohmann::json> exported(uint64_t since = 0, uint64_t* cursor = nullptr) {
    std::ostringstream out;
    ExportOptions eo;
    eo.since = since;
    uint64_t c = export_records(*store, eo, out);
    if (cursor) *cursor = c;
    std::vector<nlohmann::json> recs;
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) recs.push_back(nlohmann::json::parse(line));
    return recs;
  }
};

}  // namespace

TEST(Pipeline, FeedToCleanRecordsAndSecondPollAddsNothing) {
  NewsServer site;
  Harness h("basic");
  FeedConfig feed{site.base() + "/rss.xml", ""};
  h.ing->poll_feed(feed);
  h.run_until_idle();

  uint64_t cursor = 0;
  auto recs = h.exported(0, &cursor);
  ASSERT_EQ(recs.size(), 3u);
  std::set<std::string> titles;
  for (const auto& r : recs) {
    titles.insert(r["title"].get<std::string>());
    EXPECT_EQ(r["extractor"], "template");
    EXPECT_EQ(r["template"], "site@1");
    EXPECT_EQ(r["version"], 1);
    EXPECT_EQ(r["feed"], feed.url);
    ASSERT_EQ(r["body"].size(), 2u) << r.dump(2);
    std::string body = r["body"].dump();
    for (const char* junk : {"Tin liên quan", "Đọc thêm", "Chia sẻ", "Ý kiến", "Cùng chủ đề", "Ảnh minh họa", "Nguyễn Văn An"})
      EXPECT_EQ(body.find(junk), std::string::npos) << junk;
    EXPECT_EQ(r["authors"], nlohmann::json::array({"Nguyễn Văn An"}));
    EXPECT_EQ(r["category"], "Thời sự");
    std::string pub = r["published"];
    EXPECT_EQ(pub.substr(pub.size() - 6), "+07:00") << pub;
    EXPECT_EQ(r["images"].size(), 1u);
    EXPECT_EQ(r["images"][0]["caption"], "Ảnh minh họa");
    // Tracking parameters never reach the canonical URL.
    EXPECT_EQ(r["canonical_url"].get<std::string>().find("utm_source"), std::string::npos);
  }
  EXPECT_TRUE(titles.count("Mưa lớn gây ngập nhiều tuyến phố Hà Nội"));
  EXPECT_TRUE(titles.count("Giá vàng giảm mạnh phiên đầu tuần"));
  for (const auto& r : recs) {
    if (r["title"] == "Mưa lớn gây ngập nhiều tuyến phố Hà Nội") {
      EXPECT_EQ(r["published"], "2025-01-27T14:30:00+07:00");
    } else if (r["title"] == "Giá vàng giảm mạnh phiên đầu tuần") {
      EXPECT_EQ(r["published"], "2025-02-06T13:54:00+07:00");
    }
  }
  EXPECT_EQ(h.metrics.articles_skipped.load(), 1u);  // the /video/ item

  // Second poll: 304 (ETag), nothing fetched, nothing new.
  h.ing->poll_feed(feed);
  h.run_until_idle();
  EXPECT_EQ(site.feed_304.load(), 1);
  EXPECT_EQ(h.exported(cursor).size(), 0u);

  // Feed changes (new ETag) but its old items are known: only the new item is fetched.
  site.add_item("tet-nguyen-dan-1003");  // same story under a second link -> alias, not refetched twice
  int before = site.requests_for("mua-lon-ha-noi-1001");
  h.ing->poll_feed(feed);
  h.run_until_idle();
  EXPECT_EQ(site.requests_for("mua-lon-ha-noi-1001"), before);
  EXPECT_EQ(h.exported(cursor).size(), 0u);
  auto st = h.ing->feed_state(feed.url);
  EXPECT_EQ(st.consecutive_failures, 0);
  EXPECT_GE(st.polls, 3u);
}

TEST(Pipeline, TransientArticleErrorsAreRetriedAndPermanentOnesReported) {
  NewsServer site;
  Harness h("faults");
  site.fault("mua-lon-ha-noi-1001", 503, 1);   // Retry-After: 0 -> retried at once
  site.fault("gia-vang-giam-1002", 500, 100);  // always failing -> given up after 3 attempts
  site.fault("tet-nguyen-dan-1003", 404, 100);
  FeedConfig feed{site.base() + "/rss.xml", ""};
  h.ing->poll_feed(feed);
  h.run_until_idle();
  auto recs = h.exported();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["title"], "Mưa lớn gây ngập nhiều tuyến phố Hà Nội");
  EXPECT_EQ(site.requests_for("mua-lon-ha-noi-1001"), 2);
  EXPECT_EQ(site.requests_for("gia-vang-giam-1002"), 3);
  EXPECT_EQ(site.requests_for("tet-nguyen-dan-1003"), 1);  // 404 is not retried
  EXPECT_EQ(h.metrics.articles_failed.load(), 2u);
  // The feed's validators are not kept while an item failed transiently, so later polls re-read the feed
  // and the lost item is rediscovered, not hidden behind a 304.
  EXPECT_TRUE(h.ing->feed_state(feed.url).etag.empty());
  site.fault("gia-vang-giam-1002", 500, 0);
  // A poll soon after the give-up does not hammer the failing URL again (it waits 15 minutes) ...
  int64_t t0 = epoch_now();
  h.ing->set_clock([&] { return t0 + 60; });
  h.ing->poll_feed(feed);
  h.run_until_idle();
  EXPECT_EQ(site.requests_for("gia-vang-giam-1002"), 3);
  EXPECT_EQ(h.exported().size(), 1u);
  EXPECT_TRUE(h.ing->feed_state(feed.url).etag.empty());
  // ... and the 404 is settled: not fetched again within a day.
  EXPECT_EQ(site.requests_for("tet-nguyen-dan-1003"), 1);
  // After the pause the item is fetched again and stored; only then does the feed keep its ETag.
  h.ing->set_clock([&] { return t0 + 16 * 60; });
  h.ing->poll_feed(feed);
  h.run_until_idle();
  EXPECT_EQ(h.exported().size(), 2u);
  EXPECT_EQ(site.requests_for("tet-nguyen-dan-1003"), 1);
  EXPECT_FALSE(h.ing->feed_state(feed.url).etag.empty());
}

TEST(Pipeline, UnreachableAndBrokenFeedsAreRecordedNotFatal) {
  Harness h("unreachable");
  // A port nothing listens on.
  int port = baotin::testing::free_port();
  FeedConfig dead{"http://127.0.0.1:" + std::to_string(port) + "/rss.xml", ""};
  h.ing->poll_feed(dead);
  h.run_until_idle();
  auto st = h.ing->feed_state(dead.url);
  EXPECT_EQ(st.consecutive_failures, 1);
  EXPECT_FALSE(st.last_error.empty());
  EXPECT_GT(st.next_poll, epoch_now());

  NewsServer site;
  FeedConfig broken{site.base() + "/bai/mua-lon-ha-noi-1001.html", ""};  // HTML, not a feed
  h.ing->poll_feed(broken);
  h.run_until_idle();
  EXPECT_EQ(h.ing->feed_state(broken.url).consecutive_failures, 1);
  EXPECT_EQ(h.exported().size(), 0u);
  // State is persisted in the store.
  EXPECT_TRUE(h.store->get_feed_state(dead.url).has_value());
}

// An outlet that moved domains: the same article at http://localhost:P/... (the former domain) and
// http://127.0.0.1:P/... (the current one). Each page names its own host in <link rel=canonical>, as the old
// zingnews.vn pages did. With host_aliases = { "localhost" = "127.0.0.1" } both URLs are one record.
TEST(Pipeline, HostAliasesGiveOneRecordForOldAndNewDomain) {
  Harness h("aliases");
  std::string toml = baotin::testing::read_file(std::string(BAOTIN_FIXTURES) + "/e2e/site.toml");
  const std::string hosts_line = "hosts = [\"127.0.0.1\"]";
  ASSERT_NE(toml.find(hosts_line), std::string::npos);
  toml.replace(toml.find(hosts_line), hosts_line.size(),
               "hosts = [\"127.0.0.1\", \"localhost\"]\nhost_aliases = { \"localhost\" = \"127.0.0.1\" }");
  std::vector<TemplateError> errs;
  auto t = parse_template(toml, "site.toml", errs);
  ASSERT_TRUE(t) << (errs.empty() ? "" : errs[0].str());
  h.templates->add(t);  // replaces the fixture's "site" template

  httplib::Server svr;
  svr.set_keep_alive_timeout(1);  // the fetcher keeps connections open; do not hold up stop()
  std::mutex mu;
  std::map<std::string, int> hits;  // "host path" -> requests
  const auto stories = baotin::testing::default_stories();
  svr.Get(R"(/bai/(.+)\.html)", [&](const httplib::Request& req, httplib::Response& res) {
    std::string host = req.get_header_value("Host");
    {
      std::lock_guard lk(mu);
      ++hits[host.substr(0, host.find(':')) + " " + req.path];
    }
    for (const auto& st : stories)
      if (st.slug == req.matches[1].str()) {
        res.set_content(baotin::testing::article_html(st, "http://" + host), "text/html; charset=utf-8");
        return;
      }
    res.status = 404;
  });
  svr.Get("/rss.xml", [&](const httplib::Request& req, httplib::Response& res) {
    std::string x = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>";
    for (const auto& st : stories)
      x += "<item><title>" + st.title + "</title><link>http://" + req.get_header_value("Host") + "/bai/" + st.slug +
           ".html</link></item>";
    res.set_content(x + "</channel></rss>", "application/rss+xml");
  });
  int port = svr.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread th([&] { svr.listen_after_bind(); });
  for (int i = 0; i < 5000 && !svr.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string p = std::to_string(port);
  const std::string old_url = "http://localhost:" + p + "/bai/mua-lon-ha-noi-1001.html";
  const std::string new_url = "http://127.0.0.1:" + p + "/bai/mua-lon-ha-noi-1001.html";

  std::vector<IngestOutcome> outcomes;
  h.ing->set_outcome_listener([&](const IngestOutcome& o) {
    std::lock_guard lk(mu);
    outcomes.push_back(o);
  });
  h.ing->ingest_url(old_url, "", "");
  h.run_until_idle();
  h.ing->ingest_url(new_url, "", "");
  h.run_until_idle();
  {
    std::lock_guard lk(mu);
    ASSERT_EQ(outcomes.size(), 2u);
    EXPECT_EQ(outcomes[0].kind, "new") << outcomes[0].error;
    EXPECT_EQ(outcomes[1].kind, "unchanged") << outcomes[1].error;  // the same article, not a second one
    EXPECT_EQ(hits["localhost /bai/mua-lon-ha-noi-1001.html"], 1);
    EXPECT_EQ(hits["127.0.0.1 /bai/mua-lon-ha-noi-1001.html"], 1);
  }
  auto recs = h.exported();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["canonical_url"], new_url);
  EXPECT_EQ(recs[0]["url"], old_url);  // the URL it was fetched from is kept
  auto id_old = h.store->id_for_url(old_url), id_new = h.store->id_for_url(new_url);
  ASSERT_TRUE(id_old && id_new);
  EXPECT_EQ(*id_old, *id_new);
  EXPECT_EQ(*id_old, recs[0]["id"].get<std::string>());

  // The other way round: stored from the current domain first, the old-domain link in a feed is known
  // already and is not fetched at all.
  const std::string gold_new = "http://127.0.0.1:" + p + "/bai/gia-vang-giam-1002.html";
  h.ing->ingest_url(gold_new, "", "");
  h.run_until_idle();
  ASSERT_TRUE(h.store->id_for_url(gold_new));
  h.ing->poll_feed({"http://localhost:" + p + "/rss.xml", ""});
  h.run_until_idle();
  {
    std::lock_guard lk(mu);
    EXPECT_EQ(hits["localhost /bai/gia-vang-giam-1002.html"], 0);
    EXPECT_EQ(hits["localhost /bai/mua-lon-ha-noi-1001.html"], 1);  // known since the first fetch
    EXPECT_EQ(hits["localhost /bai/tet-nguyen-dan-1003.html"], 1);  // new: fetched from the old domain
  }
  // The article new to the store got its id from the current domain.
  auto tet = h.store->id_for_url("http://127.0.0.1:" + p + "/bai/tet-nguyen-dan-1003.html");
  ASSERT_TRUE(tet);
  EXPECT_EQ(h.store->get(*tet)->canonical_url, "http://127.0.0.1:" + p + "/bai/tet-nguyen-dan-1003.html");
  EXPECT_EQ(h.exported().size(), 3u);

  h.ing->finish();
  svr.stop();
  th.join();
}

// A truncated page reached through a URL the store does not know yet, whose canonical URL names a stored
// complete article, keeps that complete version: the partial-page guard asks the store under the keys
// put_article resolves the id with, the canonical URL first (core/identity.h record_keys). It used to ask
// only under the fetched URLs, so the cut page was written over the complete one as a new version.
TEST(Pipeline, PartialPageUnderANewUrlKeepsTheCompleteVersionItsCanonicalNames) {
  Harness h("partial-canonical");
  httplib::Server svr;
  svr.set_keep_alive_timeout(1);
  const auto story = baotin::testing::default_stories()[0];
  std::string base;  // set before the first request
  svr.Get("/bai/mua-lon-ha-noi-1001.html", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(baotin::testing::article_html(story, base), "text/html; charset=utf-8");
  });
  svr.Get("/in/mua-lon-ha-noi-1001.html", [&](const httplib::Request&, httplib::Response& res) {
    // The print view, cut after the first body paragraph (no </body></html>); its canonical is /bai/.
    const std::string full = baotin::testing::article_html(story, base);
    res.set_content(full.substr(0, full.find("</p>", full.find("fck_detail")) + 4), "text/html; charset=utf-8");
  });
  int port = svr.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  base = "http://127.0.0.1:" + std::to_string(port);
  std::thread th([&] { svr.listen_after_bind(); });
  for (int i = 0; i < 5000 && !svr.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  std::mutex mu;
  std::vector<IngestOutcome> outcomes;
  h.ing->set_outcome_listener([&](const IngestOutcome& o) {
    std::lock_guard lk(mu);
    outcomes.push_back(o);
  });
  h.ing->ingest_url(base + "/bai/mua-lon-ha-noi-1001.html", "", "");
  h.run_until_idle();
  h.ing->ingest_url(base + "/in/mua-lon-ha-noi-1001.html", "", "");
  h.run_until_idle();
  {
    std::lock_guard lk(mu);
    ASSERT_EQ(outcomes.size(), 2u);
    EXPECT_EQ(outcomes[0].kind, "new") << outcomes[0].error;
    EXPECT_EQ(outcomes[1].kind, "unchanged") << outcomes[1].error;
    EXPECT_NE(outcomes[1].error.find("partial page"), std::string::npos) << outcomes[1].error;
  }
  auto recs = h.exported();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["version"], 1);
  EXPECT_EQ(recs[0]["partial"], false);
  EXPECT_EQ(recs[0]["body"].size(), 2u);

  h.ing->finish();
  svr.stop();
  th.join();
}

TEST(Pipeline, RetryDelayKeepsBackoffAsFloorAndCapsServerDelays) {
  EXPECT_DOUBLE_EQ(article_retry_delay(0, std::nullopt, 600), 5);
  EXPECT_DOUBLE_EQ(article_retry_delay(3, std::nullopt, 600), 40);
  EXPECT_DOUBLE_EQ(article_retry_delay(0, 0.0, 600), 5);    // Retry-After: 0 does not remove the backoff
  EXPECT_DOUBLE_EQ(article_retry_delay(2, 0.0, 600), 20);
  EXPECT_DOUBLE_EQ(article_retry_delay(0, 999999999.0, 600), 600);  // capped, not 1.2e9 s "in flight"
  EXPECT_DOUBLE_EQ(article_retry_delay(0, 120.0, 600), 120);
  EXPECT_DOUBLE_EQ(article_retry_delay(0, std::nan(""), 600), 5);
  EXPECT_DOUBLE_EQ(article_retry_delay(0, -7.0, 600), 5);
  EXPECT_DOUBLE_EQ(article_retry_delay(1000, std::nullopt, 600), 600);
}

// A feed with far more items than max_new_per_poll: one poll queues at most that many, the rest wait for
// the next poll (counted), and the feed keeps no validators until every item has been taken.
TEST(Pipeline, HugeFeedIsTakenInBoundedBatches) {
  NewsServer site(baotin::testing::many_stories(120));
  Harness h("huge");
  h.cfg.max_new_per_poll = 25;
  h.ing->reconfigure(h.cfg);  // the Ingestor holds its own copy (reload semantics)
  FeedConfig feed{site.base() + "/rss.xml", ""};
  size_t stored = 0;
  h.ing->set_outcome_listener([&](const IngestOutcome& o) { stored += o.stored; });
  h.ing->poll_feed(feed);
  h.run_until_idle();
  EXPECT_EQ(stored, 25u);
  EXPECT_GE(h.metrics.feed_items_deferred.load(), 95u);
  auto st = h.ing->feed_state(feed.url);
  EXPECT_TRUE(st.etag.empty());  // a 304 must not hide the 95 items still waiting
  EXPECT_LE(st.next_poll, epoch_now() + static_cast<int64_t>(h.cfg.poll.min_interval_s) + 1);
  for (int i = 0; i < 6 && stored < 120; ++i) {
    h.ing->poll_feed(feed);
    h.run_until_idle();
  }
  EXPECT_EQ(stored, 120u);
  EXPECT_EQ(site.feed_304.load(), 0);
  // The poll that took the last items left nothing behind: once they are stored its validators are kept.
  EXPECT_FALSE(h.ing->feed_state(feed.url).etag.empty());
  h.ing->poll_feed(feed);
  h.run_until_idle();
  EXPECT_EQ(site.feed_304.load(), 1);
}

// SIGTERM on a daemon with a long queue: work that has not started is not started, the drain ends quickly,
// and the next run rediscovers what was dropped (the feed's validators were not committed).
TEST(Pipeline, ShutdownDropsQueuedWorkAndNextRunRediscoversIt) {
  NewsServer site(baotin::testing::many_stories(60));
  site.article_delay_ms = 30;
  Harness h("drain");
  h.cfg.max_new_per_poll = 1000;
  h.ing->reconfigure(h.cfg);  // the Ingestor holds its own copy (reload semantics)
  FeedConfig feed{site.base() + "/rss.xml", ""};
  std::atomic<size_t> stored{0};
  h.ing->set_outcome_listener([&](const IngestOutcome& o) { stored += o.stored; });
  h.ing->poll_feed(feed);
  for (int i = 0; i < 500 && stored.load() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_GE(stored.load(), 3u);
  h.ing->stop_accepting();
  h.ing->tick();
  h.fetcher->shutdown(false);
  ASSERT_TRUE(h.ing->wait_idle(10));
  size_t first_run = stored.load();
  EXPECT_LT(first_run, 60u);
  EXPECT_NE(h.ing->shutdown_summary().find(" not started"), std::string::npos);
  EXPECT_TRUE(h.ing->feed_state(feed.url).etag.empty());

  // Next run on the same store.
  site.article_delay_ms = 0;
  FetcherConfig fc;
  fc.per_host_min_delay_s = 0;
  fc.per_host_concurrency = 4;
  fc.allow_private = {"127.0.0.1"};  // the test server (network policy)
  Fetcher fetcher2(fc);
  Ingestor ing2(h.cfg, *h.store, fetcher2, h.metrics, h.templates);
  ing2.set_outcome_listener([&](const IngestOutcome& o) { stored += o.stored; });
  ing2.poll_feed(feed);
  for (int i = 0; i < 300 && !ing2.wait_idle(0.1); ++i) ing2.tick();
  EXPECT_EQ(stored.load(), 60u);
  EXPECT_EQ(h.exported().size(), 60u);
  ing2.finish();
  fetcher2.shutdown(false);
}

// A poll that dies inside baotin (here: out of memory while parsing) is recorded as a failed poll with
// backoff, and while it runs the stored state already says so (a crash would not cause a crash loop).
TEST(Pipeline, PollThatDiesIsRecordedWithBackoff) {
  NewsServer site;
  Harness h("dies");
  FeedConfig feed{site.base() + "/rss.xml", ""};
  bool marker_seen = false;
  h.ing->set_feed_parser([&](std::string_view, const std::string&, const std::string&) -> ParsedFeed {
    auto js = h.store->get_feed_state(feed.url);
    if (js) {
      FeedState mid = feed_state_from_json(nlohmann::json::parse(*js));
      marker_seen = mid.consecutive_failures == 1 && mid.next_poll > epoch_now() &&
                    mid.last_error.find("did not complete") != std::string::npos;
    }
    throw std::bad_alloc();
  });
  h.ing->poll_feed(feed);
  h.run_until_idle();
  EXPECT_TRUE(marker_seen);
  auto st = h.ing->feed_state(feed.url);
  EXPECT_EQ(st.consecutive_failures, 1);
  EXPECT_NE(st.last_error.find("internal error"), std::string::npos) << st.last_error;
  EXPECT_GE(st.next_poll, epoch_now() + static_cast<int64_t>(h.cfg.poll.min_interval_s));
  EXPECT_EQ(h.metrics.poll_internal_errors.load(), 1u);
  auto stored = feed_state_from_json(nlohmann::json::parse(*h.store->get_feed_state(feed.url)));
  EXPECT_EQ(stored.last_error, st.last_error);
  // The real parser again: the feed recovers.
  h.ing->set_feed_parser([](std::string_view b, const std::string& ct, const std::string& base) {
    return parse_feed(b, ct, base);
  });
  h.ing->poll_feed(feed);
  h.run_until_idle();
  EXPECT_EQ(h.ing->feed_state(feed.url).consecutive_failures, 0);
  EXPECT_EQ(h.exported().size(), 3u);
}

// ---- robots.txt unavailable (issue 14 item 5) ------------------------------------------------------------
// robots.txt is asked for every request (ttl 0) so that its faults hit the article fetch, and an error is
// not cached (error ttl 0): the retry asks again at once (retry_after = time until robots.txt is retried).

namespace {
void robots_every_time(FetcherConfig& fc) {
  fc.robots_ttl_s = 0;
  fc.robots_error_ttl_s = 0;
}
}  // namespace

TEST(Pipeline, UnavailableRobotsTxtIsRetriedThenTheArticleIsStored) {
  for (int status : {500, 503, 0 /* hangs until the fetch times out */}) {
    SCOPED_TRACE("robots.txt status " + std::to_string(status));
    NewsServer site;
    Harness h("robots-" + std::to_string(status), [](FetcherConfig& fc) {
      robots_every_time(fc);
      fc.total_timeout_ms = 1500;
    });
    std::vector<IngestOutcome> outcomes;
    std::mutex mu;
    h.ing->set_outcome_listener([&](const IngestOutcome& o) {
      std::lock_guard lk(mu);
      outcomes.push_back(o);
    });
    site.robots_fault_status = status;
    site.robots_faults = 1;  // the first robots.txt request fails, then it recovers
    const std::string url = site.base() + "/bai/mua-lon-ha-noi-1001.html";
    h.ing->ingest_url(url, "", "");
    h.run_until_idle();
    std::lock_guard lk(mu);
    ASSERT_EQ(outcomes.size(), 1u);
    EXPECT_TRUE(outcomes[0].stored) << outcomes[0].kind << ": " << outcomes[0].error;
    EXPECT_EQ(outcomes[0].kind, "new");
    EXPECT_EQ(site.robots_requests.load(), 2);
    EXPECT_EQ(site.requests_for("mua-lon-ha-noi-1001"), 1);
    EXPECT_EQ(h.metrics.fetch_robots_blocked.load(), 0u);
    EXPECT_EQ(h.metrics.articles_skipped.load(), 0u);
    EXPECT_EQ(h.exported().size(), 1u);
  }
}

TEST(Pipeline, RobotsTxtDownForGoodGivesUpWithTheRealCauseAndTheFeedIsReread) {
  NewsServer site;
  Harness h("robots-down", robots_every_time);
  std::vector<IngestOutcome> outcomes;
  std::mutex mu;
  h.ing->set_outcome_listener([&](const IngestOutcome& o) {
    std::lock_guard lk(mu);
    outcomes.push_back(o);
  });
  FeedConfig feed{site.base() + "/rss.xml", ""};
  // First poll: the feed is read (ETag kept), its articles answer 404 (permanent: the validators stay).
  for (const auto& s : baotin::testing::default_stories()) site.fault(s.slug, 404, 1);
  h.ing->poll_feed(feed);
  h.run_until_idle();
  ASSERT_EQ(h.exported().size(), 0u);
  ASSERT_FALSE(h.ing->feed_state(feed.url).etag.empty());
  // robots.txt now answers 500 for good: the article is tried article_retries (3) times, never requested,
  // and given up as a failure naming robots.txt's real state; the feed validators are dropped.
  site.robots_faults = 1000;
  const std::string url = site.base() + "/bai/mua-lon-ha-noi-1001.html";
  const int page_requests = site.requests_for("mua-lon-ha-noi-1001");
  {
    std::lock_guard lk(mu);
    outcomes.clear();
  }
  h.ing->ingest_url(url, feed.url, "");
  h.run_until_idle();
  {
    std::lock_guard lk(mu);
    ASSERT_EQ(outcomes.size(), 1u);
    EXPECT_EQ(outcomes[0].kind, "failed");
    EXPECT_NE(outcomes[0].error.find("robots.txt of " + site.base() + " unavailable"), std::string::npos)
        << outcomes[0].error;
    EXPECT_NE(outcomes[0].error.find("HTTP 500"), std::string::npos) << outcomes[0].error;
    EXPECT_EQ(outcomes[0].error.find("disallowed"), std::string::npos) << outcomes[0].error;
  }
  EXPECT_EQ(site.requests_for("mua-lon-ha-noi-1001"), page_requests);
  EXPECT_EQ(h.metrics.articles_skipped.load(), 1u);  // the /video/ item of the first poll only
  // A feed poll while robots.txt is down: the poll's error is the real cause too.
  h.ing->poll_feed(feed);
  h.run_until_idle();
  auto st = h.ing->feed_state(feed.url);
  EXPECT_EQ(st.consecutive_failures, 1);
  EXPECT_NE(st.last_error.find("unavailable: robots.txt answered HTTP 500"), std::string::npos) << st.last_error;
  // robots.txt is back and the feed has changed; a day later the 404s of the first poll are tried again:
  // the articles are stored.
  site.robots_faults = 0;
  ++site.feed_version;
  const int64_t later = epoch_now() + 2 * 86400;
  h.ing->set_clock([later] { return later; });
  h.ing->poll_feed(feed);
  h.run_until_idle();
  EXPECT_EQ(h.exported().size(), 3u);
}

// The robots.txt of an article's host is unavailable while a poll's items are fetched: they fail as
// transient, so the feed keeps no validators and a later poll rediscovers them (no 304 hides them).
TEST(Pipeline, ItemsLostToAnUnavailableRobotsTxtAreRediscoveredByTheNextPoll) {
  NewsServer site;
  Harness h("robots-rediscover", robots_every_time);
  FeedConfig feed{site.base() + "/rss.xml", ""};
  h.cfg.article_retries = 1;  // give up at once
  h.ing->reconfigure(h.cfg);  // the Ingestor holds its own copy (reload semantics)
  std::atomic<bool> down{false};
  // Robots.txt goes down right after the feed itself was fetched: the parser turns it off.
  h.ing->set_feed_parser([&](std::string_view b, const std::string& ct, const std::string& base) {
    site.robots_faults = 1000;
    down = true;
    return parse_feed(b, ct, base);
  });
  h.ing->poll_feed(feed);
  h.run_until_idle();
  ASSERT_TRUE(down.load());
  EXPECT_EQ(h.exported().size(), 0u);
  EXPECT_TRUE(h.ing->feed_state(feed.url).etag.empty());
  // robots.txt is back; after the give-up pause the next poll reads the whole feed again (200, not 304).
  site.robots_faults = 0;
  h.ing->set_feed_parser([](std::string_view b, const std::string& ct, const std::string& base) {
    return parse_feed(b, ct, base);
  });
  const int64_t later = epoch_now() + 3600;
  h.ing->set_clock([later] { return later; });
  h.ing->poll_feed(feed);
  h.run_until_idle();
  EXPECT_EQ(site.feed_304.load(), 0);
  EXPECT_EQ(h.exported().size(), 3u);
  EXPECT_FALSE(h.ing->feed_state(feed.url).etag.empty());
}

// ---- network policy (issue 14 item 2) ---------------------------------------------------------------------
// A feed allowed on its own host:port lists items (and a redirect) pointing at another loopback port (the
// daemon's metrics endpoint, say), the cloud metadata address, and non-http(s) links. None is fetched, none
// is retried, the feed's validators stay, and the feed's own article is stored.
TEST(Pipeline, FeedItemsCannotReachPrivateAddressesOrOtherSchemes) {
  NewsServer metrics_port;  // stands for 127.0.0.1:<metrics>: must see no request at all
  Harness h("ssrf", [](FetcherConfig& fc) { fc.allow_private.clear(); });
  httplib::Server svr;
  svr.set_keep_alive_timeout(1);
  const auto story = baotin::testing::default_stories()[0];
  int port = svr.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const std::string other = metrics_port.base();
  std::atomic<int> feed_hits{0};
  svr.Get("/robots.txt", [](const httplib::Request&, httplib::Response& res) { res.status = 404; });
  svr.Get("/rss.xml", [&](const httplib::Request&, httplib::Response& res) {
    ++feed_hits;
    std::string x = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>";
    for (const std::string& link :
         {base + "/bai/" + story.slug + ".html", other + "/bai/gia-vang-giam-1002.html",
          "http://2130706433:" + std::to_string(metrics_port.port()) + "/bai/tet-nguyen-dan-1003.html",
          std::string("http://169.254.169.254/latest/meta-data/"), base + "/bai/chuyen-huong-3001.html",
          std::string("javascript:alert(1)"), std::string("file:///etc/passwd"), std::string("data:text/html,x"),
          std::string("gopher://127.0.0.1:70/_x")})
      x += "<item><title>x</title><link>" + link + "</link></item>";
    res.set_header("ETag", "\"v1\"");
    res.set_content(x + "</channel></rss>", "application/rss+xml");
  });
  svr.Get("/bai/chuyen-huong-3001.html", [&](const httplib::Request&, httplib::Response& res) {
    res.set_redirect(other + "/status", 302);
  });
  svr.Get("/bai/" + story.slug + ".html", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(baotin::testing::article_html(story, base), "text/html; charset=utf-8");
  });
  std::thread th([&] { svr.listen_after_bind(); });
  for (int i = 0; i < 5000 && !svr.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  std::vector<IngestOutcome> outcomes;
  std::mutex mu;
  h.ing->set_outcome_listener([&](const IngestOutcome& o) {
    std::lock_guard lk(mu);
    outcomes.push_back(o);
  });
  FeedConfig feed{base + "/rss.xml", ""};
  feed.allow_private = {"127.0.0.1:" + std::to_string(port)};  // what `allow_private = true` gives
  h.ing->poll_feed(feed);
  h.run_until_idle();
  {
    std::lock_guard lk(mu);
    std::map<std::string, IngestOutcome> by_url;
    for (const auto& o : outcomes) EXPECT_TRUE(by_url.emplace(o.url, o).second) << "reported twice: " << o.url;
    ASSERT_EQ(outcomes.size(), 5u);  // the 4 non-http(s) links are skipped before any fetch
    EXPECT_TRUE(by_url[base + "/bai/" + story.slug + ".html"].stored);
    for (const auto& [u, o] : by_url) {
      if (o.stored) continue;
      EXPECT_EQ(o.kind, "failed") << u;
      EXPECT_NE(o.error.find("(network policy"), std::string::npos) << u << ": " << o.error;
    }
    EXPECT_NE(by_url[other + "/bai/gia-vang-giam-1002.html"].error.find("127.0.0.1 is a loopback address"),
              std::string::npos);
    EXPECT_NE(by_url["http://169.254.169.254/latest/meta-data/"].error.find("link-local"), std::string::npos);
  }
  EXPECT_EQ(metrics_port.requests_for("gia-vang-giam-1002"), 0);
  EXPECT_EQ(metrics_port.requests_for("tet-nguyen-dan-1003"), 0);
  EXPECT_EQ(metrics_port.robots_requests.load(), 0);
  EXPECT_EQ(h.metrics.articles_failed.load(), 4u);  // each once: permanent, not retried
  EXPECT_EQ(h.metrics.articles_skipped.load(), 4u);  // javascript:, file:, data:, gopher:
  EXPECT_EQ(h.ing->feed_state(feed.url).etag, "\"v1\"");  // permanent failures keep the validators
  auto recs = h.exported();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["title"], story.title);
  h.ing->finish();
  svr.stop();
  th.join();
}

// Fetched pages wait for a worker within a byte budget: 100 pages of 1 MiB never pile up in memory (before,
// every fetched body was queued for the two workers at once). Bound: the 32 MiB budget, plus the 16 fetches
// already submitted when it filled, plus one page per worker.
TEST(Pipeline, FetchedPagesWaitingForWorkersStayWithinABudget) {
  auto stories = baotin::testing::many_stories(100);
  for (auto& s : stories) s.paragraphs.push_back(std::string(1 << 20, 'x'));
  NewsServer site(stories);
  Harness h("budget");
  h.cfg.max_new_per_poll = 1000;
  h.ing->reconfigure(h.cfg);  // the Ingestor holds its own copy (reload semantics)
  FeedConfig feed{site.base() + "/rss.xml", ""};
  std::atomic<bool> done{false};
  std::atomic<int64_t> peak{0};
  std::thread sampler([&] {
    while (!done) {
      peak = std::max<int64_t>(peak.load(), h.metrics.queue_work.load());
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  size_t stored = 0;
  h.ing->set_outcome_listener([&](const IngestOutcome& o) { stored += o.stored; });
  h.ing->poll_feed(feed);
  h.run_until_idle();
  done = true;
  sampler.join();
  EXPECT_EQ(stored, 100u);
  std::printf("peak pages waiting for workers: %lld\n", static_cast<long long>(peak.load()));
  EXPECT_LE(peak.load(), 32 + 16 + 2) << "pages queued for workers at once";
}
