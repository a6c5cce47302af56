// The daemon's metrics (Prometheus text exposition format 0.0.4), per-template extraction health, process
// metrics read from /proc/self, and the /healthz decision.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/article.h"

namespace baotin {

// Rolling health of one template: a template whose recent pages come out empty or short is "degraded".
struct TemplateHealth {
  uint64_t pages = 0, empty_body = 0, short_body = 0, no_title = 0, generic_fallback = 0;
  std::map<std::string, uint64_t> field_hits;  // field -> pages where the template filled it
  std::deque<bool> recent_bad;                 // last kWindow pages: true = empty/short body
  bool degraded = false;
  static constexpr size_t kWindow = 20;
  static constexpr double kDegradedRatio = 0.5;
  double recent_bad_ratio() const;
  nlohmann::json to_json() const;
  static TemplateHealth from_json(const nlohmann::json& j);
};

// A Prometheus histogram with fixed upper bounds (seconds). Exposed with cumulative buckets
// (`_bucket{le="…"}`, the last one `le="+Inf"`), `_sum` and `_count`. Thread-safe.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);  // ascending, finite; +Inf is implicit
  void observe(double v);                                // NaN is ignored
  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative); the last one is (last bound, +Inf)
  uint64_t count_ = 0;
  double sum_ = 0;
};

// Bucket bounds, in seconds (README, "Metrics").
inline const std::vector<double> kFetchBuckets = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
inline const std::vector<double> kExtractBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
// A minute to a week: 1 m, 5 m, 15 m, 30 m, 1 h, 2 h, 6 h, 12 h, 1 d, 2 d, 7 d.
inline const std::vector<double> kPublishDelayBuckets = {60,    300,   900,   1800,   3600,  7200,
                                                         21600, 43200, 86400, 172800, 604800};

// Why a feed item was not queued although the feed listed it (baotin_feed_items_dropped_total{reason}).
enum class DropReason {
  NoLink,         // neither <link> nor an http(s) id
  LinkTooLong,    // link over the pipeline's item link limit (never parsed)
  NotHttp,        // javascript:, data:, mailto:, ... after resolution
  UrlTooLong,     // over limits::kMaxUrlBytes: never an article (SiteTemplate::is_article_url)
  SkipUrls,       // matched one of the template's skip_urls
  NotArticleUrl,  // the template has article_urls and none matched
  kCount
};
const char* drop_reason_name(DropReason r);

// Process metrics from /proc/self (Linux), under the standard names of Prometheus client libraries.
struct ProcessStats {
  double cpu_seconds = 0;         // user + system
  double start_time_seconds = 0;  // since the epoch (boot time + start ticks)
  uint64_t resident_bytes = 0, virtual_bytes = 0;
  uint64_t open_fds = 0, max_fds = 0;
};
// Parses the text of /proc/<pid>/stat (the fields after the command's closing parenthesis; the command may
// itself contain spaces and parentheses). nullopt when malformed.
std::optional<ProcessStats> parse_proc_stat(std::string_view stat, long ticks_per_second, long page_size,
                                            int64_t boot_time);
// Parses the "btime" line of /proc/stat.
std::optional<int64_t> parse_boot_time(std::string_view proc_stat);
// Reads this process's figures (nullopt when /proc is not readable).
std::optional<ProcessStats> read_process_stats();

// Escapes a label value for the text format: backslash, double quote and line feed.
std::string prometheus_escape_label(std::string_view v);

// baotin_build_info's labels.
struct BuildInfo {
  std::string version, revision, rocksdb, curl;
};
BuildInfo build_info();

// /healthz: unhealthy when store writes fail or when the scheduler loop has not ticked for
// kStuckAfterSeconds, or for systemd's watchdog interval when that is shorter (monotonic seconds, passed in so
// that the decision is testable).
class HealthState {
 public:
  static constexpr double kStuckAfterSeconds = 60;
  // The threshold under a systemd watchdog of `watchdog_usec` (0: none): the loop that ticks also sends
  // WATCHDOG=1, so a loop stuck past the watchdog interval is one systemd is about to restart.
  static double stuck_after_for_watchdog(uint64_t watchdog_usec);
  explicit HealthState(double now_monotonic, double stuck_after_s = kStuckAfterSeconds);
  double stuck_after() const { return stuck_after_s_; }
  void heartbeat(double now_monotonic) { last_tick_.store(now_monotonic); }
  double last_tick() const { return last_tick_.load(); }
  struct Verdict {
    int status = 200;    // 200 or 503
    std::string body;    // "ok\n", or one line per problem
  };
  Verdict check(double now_monotonic, bool store_ok, const std::string& store_reason) const;

 private:
  std::atomic<double> last_tick_;
  const double stuck_after_s_;
};

class Metrics {
 public:
  std::atomic<uint64_t> polls{0}, polls_failed{0}, polls_not_modified{0};
  std::atomic<uint64_t> feed_items{0}, feed_parse_errors{0};
  std::atomic<uint64_t> feed_items_deferred{0};  // new items left for a later poll (per-poll / queue caps)
  std::atomic<uint64_t> poll_internal_errors{0}; // polls that threw (e.g. out of memory): recorded as failures
  std::atomic<uint64_t> fetches{0}, fetch_2xx{0}, fetch_304{0}, fetch_3xx{0}, fetch_4xx{0}, fetch_429{0}, fetch_5xx{0},
      fetch_transport_errors{0}, fetch_too_large{0}, fetch_robots_blocked{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> articles_new{0}, articles_updated{0}, articles_unchanged{0}, articles_duplicate{0},
      articles_failed{0}, articles_partial{0}, articles_skipped{0};
  std::atomic<int64_t> queue_fetch{0}, queue_work{0}, articles_in_flight{0}, feeds_total{0};
  // Template files that failed to load (at start and on each reload; a failing file on reload keeps its
  // previous version).
  std::atomic<uint64_t> template_load_errors{0};
  // Re-visits (daemon/revisit.h): visits done (every outcome), answered 304, new versions found (corrections),
  // failed (retried at the next step), schedules ended by failures; entries due and not yet dispatched (sampled,
  // counted up to a cap), visits in flight.
  std::atomic<uint64_t> revisits{0}, revisits_not_modified{0}, revisits_corrections{0}, revisits_failed{0},
      revisits_abandoned{0}, revisits_scheduled{0};
  std::atomic<int64_t> revisits_due{0}, revisits_in_flight{0};

  // Histograms (seconds). Fetch: the transfer time of requests actually made (FetchResult::seconds).
  Histogram fetch_feed_seconds{kFetchBuckets}, fetch_article_seconds{kFetchBuckets};
  Histogram extract_seconds{kExtractBuckets};
  // New articles: stored time (the pipeline's clock) minus the article's published time, when known.
  Histogram publish_delay_seconds{kPublishDelayBuckets};
  std::atomic<uint64_t> published_in_future{0};  // negative deltas: counted here, not observed
  std::array<std::atomic<uint64_t>, static_cast<size_t>(DropReason::kCount)> items_dropped{};

  void count_status(long status, bool transport_error);
  void count_dropped(DropReason r) { ++items_dropped[static_cast<size_t>(r)]; }
  // Observes the delay of a new article stored at `stored_at` that was published at `published_at` (epoch s).
  void observe_publish_delay(int64_t stored_at, int64_t published_at);

  // Per-feed time of the last successful poll (200 or 304), keyed by the configured URL (redacted on
  // exposition). Feeds that never succeeded have no series.
  void set_feed_last_success(const std::string& feed_url, int64_t epoch_s);
  // The configured feed list changed (start, reload): baotin_feeds is set, and only these feeds have a
  // last-success series from now on (a removed feed's is hidden, and shown again if it comes back). Until the
  // first call every feed recorded is shown.
  void set_configured_feed_urls(const std::vector<std::string>& feed_urls);
  template <typename FeedList>  // a range of FeedConfig (anything with a `url`)
  void set_configured_feeds(const FeedList& feeds) {
    std::vector<std::string> urls;
    for (const auto& f : feeds) urls.push_back(f.url);
    set_configured_feed_urls(urls);
  }

  // Records one extraction for template health; returns true when the template just became degraded
  // (the caller logs it once).
  bool record_extraction(const Article& a, size_t min_body_chars, bool* recovered = nullptr);
  std::map<std::string, TemplateHealth> health() const;
  void load_health(const std::map<std::string, TemplateHealth>& h);

  // The whole exposition; `process` adds the process_* families (read from /proc/self).
  std::string prometheus(bool process = true) const;
  // Families appended to the exposition, each a complete text block with HELP and TYPE (the stream
  // publisher's baotin_stream_*). `f` must not call back into Metrics.
  void add_exposition(std::function<std::string()> f);

 private:
  mutable std::mutex mu_;
  std::map<std::string, TemplateHealth> health_;
  std::map<std::string, int64_t> feed_last_success_;
  std::optional<std::set<std::string>> configured_feeds_;
  std::vector<std::function<std::string()>> extra_;
};

}  // namespace baotin
