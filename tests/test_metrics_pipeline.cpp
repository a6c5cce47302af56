// The pipeline's observations (issue 11, items 2 and 4), in process against a local site with the clock
// injected: items dropped by the template's URL rules (counted by reason, logged at debug level with the
// rule), fetch and extraction histograms, the publish-to-ingest delay and the per-feed last success.
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "core/date.h"
#include "core/url.h"
#include "daemon/pipeline.h"
#include "e2e_server.h"
#include "test_util.h"

using namespace baotin;
using baotin::testing::NewsServer;

namespace {

struct Harness {
  baotin::testing::TempDir dir{"baotin-metrics-pipe"};
  Config cfg;
  std::unique_ptr<Store> store;
  std::unique_ptr<Fetcher> fetcher;
  Metrics metrics;
  std::shared_ptr<TemplateRegistry> templates = std::make_shared<TemplateRegistry>();
  std::unique_ptr<Ingestor> ing;

  Harness() {
    std::vector<TemplateError> errs;
    auto t = load_template(std::string(BAOTIN_FIXTURES) + "/e2e/site.toml", errs);  // skip_urls ['/video/']
    EXPECT_TRUE(t) << (errs.empty() ? "" : errs[0].str());
    templates->add(t);
    cfg.poll.min_interval_s = 1;
    std::string err;
    store = Store::open({(dir.path / "db").string(), true}, &err);
    EXPECT_TRUE(store) << err;
    FetcherConfig fc;
    fc.per_host_min_delay_s = 0;
    fc.per_host_concurrency = 4;
    fc.total_timeout_ms = 5000;
    fc.allow_private = {"127.0.0.1"};
    fetcher = std::make_unique<Fetcher>(fc);
    ing = std::make_unique<Ingestor>(cfg, *store, *fetcher, metrics, templates);
  }
  ~Harness() {
    ing->finish();
    fetcher->shutdown(false);
    ing.reset();
    store.reset();
  }
  void run_until_idle() {
    for (int i = 0; i < 300 && !ing->wait_idle(0.1); ++i) ing->tick();
    ASSERT_EQ(ing->outstanding(), 0u);
  }
};

// Captures the default logger's lines for the scope (debug level), then restores the previous logger.
struct LogCapture {
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  spdlog::level::level_enum previous_level = spdlog::get_level();
  LogCapture() {
    auto l = std::make_shared<spdlog::logger>("capture", sink);
    l->set_pattern("%l %v");
    spdlog::set_default_logger(l);
    spdlog::set_level(spdlog::level::debug);
  }
  ~LogCapture() {
    spdlog::set_default_logger(previous);
    spdlog::set_level(previous_level);
  }
  std::string text() const {
    std::string s;
    for (const auto& line : sink->last_formatted()) s += line;
    return s;
  }
};

int64_t epoch(const char* iso) { return iso_to_epoch(iso).value(); }

}  // namespace

TEST(MetricsPipeline, DroppedItemsHistogramsDelayAndLastSuccess) {
  NewsServer site;
  // Not an article by the template's article_urls ('/bai/[a-z0-9-]+-\d+\.html$'): no number before .html.
  site.add_item("khong-phai-bai");
  Harness h;
  // Stored two hours after "Mưa lớn" was published (2025-01-27 14:30 +07): "Giá vàng" (2025-02-06) is then
  // dated in the future, "Tết" (2025-01-20 08:15) is 7 d 8 h 15 min old.
  const int64_t now = epoch("2025-01-27T16:30:00+07:00");
  h.ing->set_clock([now] { return now; });
  const FeedConfig feed{site.base() + "/rss.xml", ""};
  LogCapture log;
  h.ing->poll_feed(feed);
  h.run_until_idle();
  const std::string lines = log.text();
  Metrics& m = h.metrics;
  ASSERT_EQ(m.articles_new.load(), 3u) << lines;

  // Dropped: the /video/ item by skip_urls, the extra item by article_urls; each logged with its reason.
  EXPECT_EQ(m.items_dropped[static_cast<size_t>(DropReason::SkipUrls)].load(), 1u);
  EXPECT_EQ(m.items_dropped[static_cast<size_t>(DropReason::NotArticleUrl)].load(), 1u);
  EXPECT_EQ(m.items_dropped[static_cast<size_t>(DropReason::NotHttp)].load(), 0u);
  EXPECT_EQ(m.articles_skipped.load(), 2u);
  EXPECT_NE(lines.find("debug poll " + redact_url(feed.url) + ": item " + site.base() +
                       "/video/clip-2001.html dropped by template site: skip_urls rule '/video/'"),
            std::string::npos)
      << lines;
  EXPECT_NE(lines.find("item " + site.base() + "/bai/khong-phai-bai.html dropped by template site: matches none of its 1 "
                       "article_urls rules"),
            std::string::npos)
      << lines;
  EXPECT_NE(lines.find("5 items, 3 new (2 dropped by link or URL rules)"), std::string::npos) << lines;
  const std::string text = m.prometheus(false);
  EXPECT_NE(text.find("baotin_feed_items_dropped_total{reason=\"skip_urls\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("baotin_feed_items_dropped_total{reason=\"not_article_url\"} 1\n"), std::string::npos);

  // Fetch latency by kind (the feed once, three articles), one extraction per article page.
  EXPECT_EQ(m.fetch_feed_seconds.snapshot().count, 1u);
  EXPECT_EQ(m.fetch_article_seconds.snapshot().count, 3u);
  EXPECT_EQ(m.extract_seconds.snapshot().count, 3u);
  EXPECT_GT(m.fetch_article_seconds.snapshot().sum, 0.0);

  // Publish-to-ingest delay on the injected clock. "Giá vàng" claims a time after the fetch: counted as such, and
  // its record takes the feed item's date instead (extract/record), 14:30, also two hours before the fetch.
  auto d = m.publish_delay_seconds.snapshot();
  EXPECT_EQ(d.count, 3u);
  EXPECT_EQ(m.published_in_future.load(), 1u);  // "Giá vàng"
  const double tet = static_cast<double>(now - epoch("2025-01-20T08:15:00+07:00"));
  EXPECT_DOUBLE_EQ(d.sum, 7200.0 + 7200.0 + tet);
  EXPECT_NE(text.find("baotin_publish_to_ingest_delay_seconds_bucket{le=\"3600\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("baotin_publish_to_ingest_delay_seconds_bucket{le=\"7200\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("baotin_publish_to_ingest_delay_seconds_bucket{le=\"604800\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("baotin_publish_to_ingest_delay_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("baotin_published_in_future_total 1\n"), std::string::npos);

  // The feed's last success is the poll's time on the same clock.
  EXPECT_NE(text.find("baotin_feed_last_success_timestamp_seconds{feed=\"" + redact_url(feed.url) + "\"} " +
                      std::to_string(now) + "\n"),
            std::string::npos)
      << text;

  // A second poll (304) observes the fetch, counts nothing new as dropped, and moves the last success.
  h.ing->set_clock([now] { return now + 600; });
  h.ing->poll_feed(feed);
  h.run_until_idle();
  EXPECT_EQ(site.feed_304.load(), 1);
  EXPECT_EQ(m.fetch_feed_seconds.snapshot().count, 2u);
  EXPECT_EQ(m.publish_delay_seconds.snapshot().count, 3u);  // nothing new stored
  EXPECT_NE(m.prometheus(false).find("{feed=\"" + redact_url(feed.url) + "\"} " + std::to_string(now + 600) + "\n"),
            std::string::npos);

  // A restart (fresh metrics, same store) shows the feed's last success from its persisted state.
  Metrics fresh;
  Ingestor again(h.cfg, *h.store, *h.fetcher, fresh, h.templates);
  again.feed_state(feed.url);
  EXPECT_NE(fresh.prometheus(false).find("{feed=\"" + redact_url(feed.url) + "\"} " + std::to_string(now + 600) + "\n"),
            std::string::npos);
}

TEST(MetricsPipeline, KnownItemsAreNamedInThePollLine) {
  NewsServer site;
  Harness h;
  const FeedConfig feed{site.base() + "/rss.xml", ""};
  h.ing->poll_feed(feed);
  h.run_until_idle();
  ASSERT_EQ(h.metrics.articles_new.load(), 3u);
  site.add_item("tin-moi-1004");  // new ETag; the three stories are known, the new link is a 404
  LogCapture log;
  h.ing->poll_feed(feed);
  h.run_until_idle();
  EXPECT_NE(log.text().find("5 items, 1 new (3 known, 1 dropped by link or URL rules)"), std::string::npos)
      << log.text();
  site.add_item("tin-moi-1005");  // the 404 of the last poll is paused (a day), not queued again
  h.ing->poll_feed(feed);
  h.run_until_idle();
  EXPECT_NE(log.text().find("6 items, 1 new (3 known, 1 dropped by link or URL rules, 1 failed recently)"),
            std::string::npos)
      << log.text();
}
