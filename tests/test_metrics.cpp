#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <sstream>

#include "core/url.h"
#include "daemon/metrics.h"

using namespace baotin;

namespace {
Article page(bool body_ok, size_t chars = 500) {
  Article a;
  a.template_name = "vnexpress@4";
  a.title = "T";
  if (body_ok) {
    a.body = {std::string(chars, 'x')};
    a.fields = {"title", "body"};
    a.extractor = "template";
  } else {
    a.extractor = "generic";
    a.body = {"generic body"};
    a.fields = {"title"};
  }
  return a;
}
}  // namespace

TEST(TemplateHealth, DegradesWhenRecentPagesComeOutEmptyAndRecovers) {
  Metrics m;
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(m.record_extraction(page(true), 200));
  EXPECT_FALSE(m.health().at("vnexpress").degraded);
  int became = 0;
  for (int i = 0; i < 10; ++i) became += m.record_extraction(page(false), 200);
  EXPECT_EQ(became, 1);  // reported once, not per page
  auto h = m.health().at("vnexpress");
  EXPECT_TRUE(h.degraded);
  EXPECT_EQ(h.empty_body, 10u);
  EXPECT_EQ(h.generic_fallback, 10u);
  EXPECT_EQ(h.pages, 30u);
  EXPECT_NE(m.prometheus().find("baotin_template_degraded{template=\"vnexpress\"} 1"), std::string::npos);
  bool recovered = false, any = false;
  for (int i = 0; i < 20; ++i) {
    m.record_extraction(page(true), 200, &recovered);
    any |= recovered;
  }
  EXPECT_TRUE(any);
  EXPECT_FALSE(m.health().at("vnexpress").degraded);
}

TEST(TemplateHealth, ShortBodiesCountAndJsonRoundTrips) {
  Metrics m;
  for (int i = 0; i < 6; ++i) m.record_extraction(page(true, 50), 200);
  auto h = m.health().at("vnexpress");
  EXPECT_EQ(h.short_body, 6u);
  EXPECT_TRUE(h.degraded);
  auto back = TemplateHealth::from_json(h.to_json());
  EXPECT_EQ(back.short_body, 6u);
  EXPECT_EQ(back.recent_bad.size(), 6u);
  EXPECT_TRUE(back.degraded);
  EXPECT_EQ(back.field_hits.at("body"), 6u);
}

TEST(TemplateHealth, FewPagesAreNotEnoughEvidence) {
  Metrics m;
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(m.record_extraction(page(false), 200));
  EXPECT_FALSE(m.health().at("vnexpress").degraded);
  Article generic_only;  // no template: not counted
  EXPECT_FALSE(m.record_extraction(generic_only, 200));
  EXPECT_EQ(m.health().size(), 1u);
}

TEST(Metrics, StatusClassesInPrometheusText) {
  Metrics m;
  m.count_status(200, false);
  m.count_status(304, false);
  m.count_status(429, false);
  m.count_status(503, false);
  m.count_status(0, true);
  std::string p = m.prometheus();
  for (const char* s : {"2xx\"} 1", "304\"} 1", "429\"} 1", "5xx\"} 1", "error\"} 1"})
    EXPECT_NE(p.find(std::string("baotin_fetches_total{status=\"") + s), std::string::npos) << s;
  EXPECT_NE(p.find("# TYPE baotin_polls_total counter"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Exposition conventions, checked on the text itself (promtool checks a live daemon in test_metrics_serve).
namespace {
struct Family {
  std::string type;
  bool help = false;
  std::vector<std::string> samples;  // whole lines
};

// family name -> help/type/samples; fails the test on a sample without HELP and TYPE before it.
std::map<std::string, Family> parse_exposition(const std::string& text) {
  std::map<std::string, Family> out;
  std::istringstream in(text);
  std::string current;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# HELP ", 0) == 0) {
      current = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_FALSE(out[current].help) << "second HELP for " << current;
      out[current].help = true;
    } else if (line.rfind("# TYPE ", 0) == 0) {
      const size_t sp = line.find(' ', 7);
      EXPECT_EQ(line.substr(7, sp - 7), current) << "TYPE without its HELP: " << line;
      out[current].type = line.substr(sp + 1);
    } else if (!line.empty()) {
      const std::string name = line.substr(0, line.find_first_of("{ "));
      std::string fam = name;
      for (const char* suffix : {"_bucket", "_sum", "_count"})
        if (!out.count(fam) && fam.size() > std::strlen(suffix) &&
            fam.compare(fam.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
          fam = fam.substr(0, fam.size() - std::strlen(suffix));
      EXPECT_EQ(fam, current) << "sample outside its family: " << line;
      out[current].samples.push_back(line);
    }
  }
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}
}  // namespace

TEST(Exposition, EveryFamilyHasHelpTypeAndConventionalNames) {
  Metrics m;
  m.fetch_feed_seconds.observe(0.2);
  m.fetch_article_seconds.observe(3);
  m.extract_seconds.observe(0.004);
  m.observe_publish_delay(10000, 9000);
  m.set_feed_last_success("https://user:pw@bao.test/rss?token=abc", 1700000000);
  m.record_extraction(page(true), 200);
  const std::string text = m.prometheus();
  auto fams = parse_exposition(text);
  ASSERT_GT(fams.size(), 30u);
  for (const auto& [name, f] : fams) {
    EXPECT_TRUE(f.help) << name;
    ASSERT_TRUE(f.type == "counter" || f.type == "gauge" || f.type == "histogram") << name << ": " << f.type;
    const bool total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
    EXPECT_EQ(total, f.type == "counter") << name;  // counters and only counters end in _total
    EXPECT_EQ(name.find("_ms"), std::string::npos) << name;  // base units
    EXPECT_TRUE(name.rfind("baotin_", 0) == 0 || name.rfind("process_", 0) == 0) << name;
    if (f.type == "histogram") {
      EXPECT_NE(name.find("_seconds"), std::string::npos) << name;
    }
  }
  for (const char* n : {"process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds",
                        "process_max_fds", "process_cpu_seconds_total", "process_start_time_seconds",
                        "baotin_build_info", "baotin_fetch_duration_seconds", "baotin_extract_duration_seconds",
                        "baotin_publish_to_ingest_delay_seconds", "baotin_published_in_future_total",
                        "baotin_feed_last_success_timestamp_seconds", "baotin_feed_items_dropped_total",
                        "baotin_queue_fetch", "baotin_queue_work", "baotin_articles_in_flight",
                        "baotin_template_load_errors_total"})
    EXPECT_TRUE(fams.count(n)) << n;
  EXPECT_EQ(fams["process_cpu_seconds_total"].type, "counter");
  // The process figures are this test process's own.
  auto p = read_process_stats();
  ASSERT_TRUE(p);
  EXPECT_GT(p->resident_bytes, 0u);
  EXPECT_GE(p->virtual_bytes, p->resident_bytes);
  EXPECT_GE(p->open_fds, 3u);  // stdin, stdout, stderr at least
  EXPECT_GE(p->max_fds, p->open_fds);
  EXPECT_GT(p->start_time_seconds, 0);

  // Histograms: cumulative buckets, +Inf equal to _count, labels before le.
  EXPECT_TRUE(has_line(text, "baotin_fetch_duration_seconds_bucket{kind=\"feed\",le=\"0.1\"} 0")) << text;
  EXPECT_TRUE(has_line(text, "baotin_fetch_duration_seconds_bucket{kind=\"feed\",le=\"0.25\"} 1"));
  EXPECT_TRUE(has_line(text, "baotin_fetch_duration_seconds_bucket{kind=\"feed\",le=\"+Inf\"} 1"));
  EXPECT_TRUE(has_line(text, "baotin_fetch_duration_seconds_sum{kind=\"feed\"} 0.2"));
  EXPECT_TRUE(has_line(text, "baotin_fetch_duration_seconds_count{kind=\"article\"} 1"));
  EXPECT_TRUE(has_line(text, "baotin_fetch_duration_seconds_bucket{kind=\"article\",le=\"2.5\"} 0"));
  EXPECT_TRUE(has_line(text, "baotin_fetch_duration_seconds_bucket{kind=\"article\",le=\"5\"} 1"));
  EXPECT_TRUE(has_line(text, "baotin_extract_duration_seconds_bucket{le=\"0.005\"} 1"));
  EXPECT_TRUE(has_line(text, "baotin_extract_duration_seconds_bucket{le=\"0.0025\"} 0"));
  EXPECT_TRUE(has_line(text, "baotin_publish_to_ingest_delay_seconds_bucket{le=\"900\"} 0"));
  EXPECT_TRUE(has_line(text, "baotin_publish_to_ingest_delay_seconds_bucket{le=\"1800\"} 1"));
  EXPECT_TRUE(has_line(text, "baotin_publish_to_ingest_delay_seconds_sum 1000"));
  // The feed label is the redacted URL; every drop reason has a series from the start.
  EXPECT_TRUE(has_line(text, "baotin_feed_last_success_timestamp_seconds{feed=\"" + redact_url("https://user:pw@bao.test/rss?token=abc") +
                                 "\"} 1700000000")) << text;
  EXPECT_EQ(text.find("pw@"), std::string::npos);
  EXPECT_EQ(text.find("token=abc"), std::string::npos);
  for (const char* r : {"no_link", "link_too_long", "not_http", "url_too_long", "skip_urls", "not_article_url"})
    EXPECT_TRUE(has_line(text, std::string("baotin_feed_items_dropped_total{reason=\"") + r + "\"} 0")) << r;
  // build_info: one sample, value 1, the four labels.
  ASSERT_EQ(fams["baotin_build_info"].samples.size(), 1u);
  const std::string bi = fams["baotin_build_info"].samples[0];
  const BuildInfo b = build_info();
  EXPECT_FALSE(b.version.empty());
  EXPECT_FALSE(b.revision.empty());
  EXPECT_FALSE(b.rocksdb.empty());
  EXPECT_FALSE(b.curl.empty());
  EXPECT_EQ(bi, "baotin_build_info{version=\"" + b.version + "\",revision=\"" + prometheus_escape_label(b.revision) +
                    "\",rocksdb=\"" + b.rocksdb + "\",curl=\"" + b.curl + "\"} 1");
}

TEST(Exposition, LabelValuesAreEscaped) {
  EXPECT_EQ(prometheus_escape_label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(prometheus_escape_label("Thời sự"), "Thời sự");  // UTF-8 as is
  Metrics m;
  Article a = page(true);
  a.template_name = "we\"ird\\name\n@1";
  m.record_extraction(a, 10);
  m.set_feed_last_success("https://bao.test/rss?q=\"x\"", 5);
  const std::string text = m.prometheus(false);
  EXPECT_TRUE(has_line(text, "baotin_template_pages_total{template=\"we\\\"ird\\\\name\\n\"} 1")) << text;
  EXPECT_NE(text.find("baotin_feed_last_success_timestamp_seconds{feed=\"https://bao.test/rss?q=\\\"x\\\"\"} 5"),
            std::string::npos) << text;
  EXPECT_EQ(text.find("process_"), std::string::npos);  // prometheus(false): no process families
}

TEST(Exposition, PublishDelayOfFutureDatedPagesIsCountedNotObserved) {
  Metrics m;
  m.observe_publish_delay(1000, 1000);  // stored the second it was published: 0, observed
  m.observe_publish_delay(1000, 1060);  // published a minute "after" it was stored
  m.observe_publish_delay(100000, 100000 - 60);  // exactly a minute: in le="60" (bounds are inclusive)
  auto s = m.publish_delay_seconds.snapshot();
  EXPECT_EQ(s.count, 2u);
  EXPECT_EQ(s.sum, 60.0);
  EXPECT_EQ(s.cumulative[0], 2u);
  EXPECT_EQ(m.published_in_future.load(), 1u);
  EXPECT_EQ(s.bounds.front(), 60.0);
  EXPECT_EQ(s.bounds.back(), 7 * 86400.0);
  EXPECT_EQ(s.cumulative.size(), s.bounds.size() + 1);
}

TEST(Exposition, HistogramBucketsAreCumulative) {
  Histogram h({1, 2, 5});
  for (double v : {0.5, 1.0, 1.5, 4.0, 9.0, 100.0}) h.observe(v);
  h.observe(std::nan(""));  // ignored
  auto s = h.snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 3, 4, 6}));
  EXPECT_EQ(s.count, 6u);
  EXPECT_DOUBLE_EQ(s.sum, 116.0);
}

TEST(Exposition, FeedSeriesFollowTheConfiguredFeeds) {
  Metrics m;
  m.set_feed_last_success("https://a.test/rss", 10);
  m.set_feed_last_success("https://b.test/rss", 20);
  m.set_feed_last_success("https://c.test/rss", 0);  // never succeeded: no series
  std::string text = m.prometheus(false);
  EXPECT_TRUE(has_line(text, "baotin_feed_last_success_timestamp_seconds{feed=\"https://a.test/rss\"} 10"));
  EXPECT_TRUE(has_line(text, "baotin_feed_last_success_timestamp_seconds{feed=\"https://b.test/rss\"} 20"));
  EXPECT_EQ(text.find("c.test"), std::string::npos);
  // A reload that drops b: its series goes, baotin_feeds follows.
  m.set_configured_feed_urls({"https://a.test/rss", "https://c.test/rss"});
  text = m.prometheus(false);
  EXPECT_EQ(text.find("b.test"), std::string::npos);
  EXPECT_TRUE(has_line(text, "baotin_feed_last_success_timestamp_seconds{feed=\"https://a.test/rss\"} 10"));
  EXPECT_TRUE(has_line(text, "baotin_feeds 2"));
  m.set_feed_last_success("https://b.test/rss", 25);  // a poll still in flight when b was removed: stays hidden
  EXPECT_EQ(m.prometheus(false).find("b.test"), std::string::npos);
  m.set_configured_feed_urls({"https://a.test/rss", "https://b.test/rss"});  // b is back, with its last success
  EXPECT_TRUE(has_line(m.prometheus(false), "baotin_feed_last_success_timestamp_seconds{feed=\"https://b.test/rss\"} 25"));
  m.set_configured_feed_urls({"https://a.test/rss?token=one", "https://a.test/rss?token=two"});
  // Two URLs that differ only in a redacted credential share one series (no duplicate label sets).
  m.set_feed_last_success("https://a.test/rss?token=one", 30);
  m.set_feed_last_success("https://a.test/rss?token=two", 40);
  text = m.prometheus(false);
  const std::string red = redact_url("https://a.test/rss?token=one");
  ASSERT_EQ(red, redact_url("https://a.test/rss?token=two"));
  EXPECT_TRUE(has_line(text, "baotin_feed_last_success_timestamp_seconds{feed=\"" + red + "\"} 40")) << text;
  size_t n = 0;
  for (size_t p = 0; (p = text.find("{feed=\"" + red + "\"}", p)) != std::string::npos; ++p) ++n;
  EXPECT_EQ(n, 1u);
}

TEST(ProcessStats, ParsesProcStatWithAnOddCommandName) {
  // proc(5): utime 14, stime 15, starttime 22, vsize 23, rss 24. The command holds ") (" and spaces.
  const std::string stat =
      "4242 (bao tin) (x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 9 0 12345 104857600 2560 "
      "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
  auto p = parse_proc_stat(stat, 100, 4096, 1700000000);
  ASSERT_TRUE(p);
  EXPECT_DOUBLE_EQ(p->cpu_seconds, 3.0);                    // (250 + 50) / 100
  EXPECT_DOUBLE_EQ(p->start_time_seconds, 1700000123.45);  // btime + 12345 / 100
  EXPECT_EQ(p->virtual_bytes, 104857600u);
  EXPECT_EQ(p->resident_bytes, 2560u * 4096u);
  EXPECT_FALSE(parse_proc_stat("4242 (x) S 1 2 3", 100, 4096, 1));  // truncated
  EXPECT_FALSE(parse_proc_stat("no parenthesis", 100, 4096, 1));
  EXPECT_EQ(parse_boot_time("cpu  1 2 3\nintr 5\nbtime 1699999999\nprocesses 7\n"), 1699999999);
  EXPECT_FALSE(parse_boot_time("cpu 1\n"));
}

// ---------------------------------------------------------------------------------------------
TEST(HealthState, StoreFailureOrStuckSchedulerIsUnhealthy) {
  HealthState h(1000.0);
  auto v = h.check(1000.5, true, "");
  EXPECT_EQ(v.status, 200);
  EXPECT_EQ(v.body, "ok\n");
  v = h.check(1000.0 + HealthState::kStuckAfterSeconds, true, "");  // exactly the threshold: still ok
  EXPECT_EQ(v.status, 200);
  v = h.check(1075.4, true, "");
  EXPECT_EQ(v.status, 503);
  EXPECT_EQ(v.body, "scheduler stuck: last tick 75 s ago\n");
  h.heartbeat(1075.0);  // the loop ticks again
  v = h.check(1075.4, true, "");
  EXPECT_EQ(v.status, 200);
  v = h.check(1076.0, false, "IO error: No space left on device");
  EXPECT_EQ(v.status, 503);
  EXPECT_EQ(v.body, "store unhealthy: IO error: No space left on device\n");
  v = h.check(1200.0, false, "disk full");  // both: both said
  EXPECT_EQ(v.status, 503);
  EXPECT_EQ(v.body, "store unhealthy: disk full\nscheduler stuck: last tick 125 s ago\n");
  HealthState shorter(0.0, 5.0);
  EXPECT_EQ(shorter.check(6.0, true, "").status, 503);
  // Under systemd's watchdog the threshold is its interval when shorter than a minute.
  EXPECT_EQ(HealthState::stuck_after_for_watchdog(0), 60.0);
  EXPECT_EQ(HealthState::stuck_after_for_watchdog(20'000'000), 20.0);
  EXPECT_EQ(HealthState::stuck_after_for_watchdog(120'000'000), 60.0);
}
