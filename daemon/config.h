// Daemon configuration (TOML). See systemd/baotin.toml for the documented example.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "daemon/poll_schedule.h"
#include "daemon/revisit.h"
#include "fetch/fetcher.h"
#include "extract/template.h"
#include "stream/nats_config.h"

namespace baotin {

struct FeedConfig {
  FeedConfig(std::string u = {}, std::string s = {}, std::vector<std::string> allow = {})
      : url(std::move(u)), site(std::move(s)), allow_private(std::move(allow)) {}
  std::string url;
  std::string site;  // template name; "" = chosen by the article URLs' host
  // Network-policy allow entries for this feed's fetch, its articles' fetches and their redirects
  // (`allow_private = true` is the feed URL's own host:port; a list gives entries as in [fetch] allow_private).
  std::vector<std::string> allow_private;
  int line = 0;  // line of its [[feeds]] table in the config file (0 = not from a file)
};

inline constexpr int kMaxWorkers = 256;
inline constexpr size_t kDefaultMemoryMb = 256;
inline constexpr size_t kMinRestOfProcessMb = 64;  // memory_mb - store share, at least (fetcher, workers, code)
inline constexpr size_t kDefaultRestOfProcessMb = 128;

struct Config {
  std::string path;           // file it was read from
  std::string data_dir = "./data";
  std::string templates_dir = "sites";
  int workers = 2;            // extraction / parse threads
  std::string metrics_listen = "127.0.0.1:9464";  // "" disables the endpoint
  bool metrics_allow_remote = false;  // a non-loopback metrics_listen is an error unless this is set
  std::string log_level = "info";
  std::string log_format = "text";  // "text" (human lines) or "json" (one JSON object per line)
  bool store_raw_html = true;
  // Memory budget (README "Storage", memory budget). 0 = not set in the file; use the accessors.
  size_t memory_mb = 0;       // daemon.memory_mb: what the daemon's RSS stays within
  size_t block_cache_mb = 0;  // daemon.block_cache_mb (deprecated): the store's share of it, explicitly
  // The budget: memory_mb, else block_cache_mb + 128 (a config of before memory_mb keeps its cache and gets
  // the default rest), else 256.
  size_t memory_budget_mb() const;
  // The store's share (StoreOptions::block_cache_mb: its one cache, memtables charged to it): block_cache_mb,
  // else half the budget.
  size_t store_memory_mb() const;

  // The fetcher's settings, handed to the Fetcher as they are; the defaults are FetcherConfig's (fetch/fetcher.h),
  // declared only there. From [fetch] (user_agent, max_in_flight, per_host_concurrency, per_host_min_delay_s,
  // connect_timeout_ms, total_timeout_ms, max_body_bytes, max_redirects, respect_robots, allow_private),
  // [robots_override] and [host_min_delay]; the other FetcherConfig fields are not configurable.
  FetcherConfig fetch;

  // [poll]: the schedule's settings (min_interval_s, max_interval_s, max_backoff_s); defaults in PollPolicy
  // (daemon/poll_schedule.h). jitter and ewma_alpha are not configurable.
  PollPolicy poll;
  // [poll]: the pipeline's own settings (daemon/pipeline.h).
  int article_retries = 5;
  int max_new_per_poll = 100;          // new items queued from one poll; the rest wait for the next poll
  int max_queued_articles = 20000;     // article fetches outstanding at once, all feeds together
  double max_retry_after_s = 600;      // a server's Retry-After on an article is honoured up to this
  // [revisit]: when new articles are fetched again to catch corrections (daemon/revisit.h).
  RevisitPolicy revisit;

  // [sites] / [[feeds]]
  std::vector<std::string> sites;   // template names whose feeds are polled; empty = all templates
  std::vector<int> sites_lines;     // line of each `sites` entry in the config file
  bool template_feeds = true;       // poll the feeds listed in the templates
  std::vector<FeedConfig> feeds;    // extra feeds

  // [stream.nats]: the live stream (stream/nats_outbox.h); enabled when the section is present. Needs a restart.
  NatsStreamConfig stream_nats;
};

// Reads and validates a config file. Relative paths inside are resolved against the file's directory.
// On error returns false and appends "file:line: message" lines.
bool load_config(const std::string& path, Config& out, std::vector<TemplateError>& errors);

// One setting that differs between the running config and a reloaded one, by its config-file name
// ("fetch.user_agent", "poll.min_interval_s", "feeds", ...). `needs_restart`: serve cannot apply it while
// running (data_dir, workers, metrics_listen, metrics_allow_remote, memory_mb, block_cache_mb, stream.nats)
// and keeps the running value.
struct SettingChange {
  std::string name;
  bool needs_restart = false;
};
std::vector<SettingChange> changed_settings(const Config& running, const Config& next);

// Template names the config refers to ([sites] enabled, [[feeds]] site) that no template in `templates`
// declares and for which no file <templates_dir>/<name>.toml exists, as "file:line" configuration errors: serve
// refuses to start on them and check reports them. (A <name>.toml that exists but fails to load is not listed:
// TemplateRegistry::load_dir reports it, and serve runs without that template.)
std::vector<TemplateError> unknown_template_names(const Config& cfg, const TemplateRegistry& templates);

// The Fetcher's settings for the daemon's config, as serve (and `extract --url`) use them: cfg.fetch, plus the
// daemon's own metrics endpoint in never_connect (no feed, page or redirect can make it fetch its own /status).
FetcherConfig daemon_fetcher_config(const Config& cfg);

// Feeds to poll: [[feeds]] plus the feeds of the enabled templates, de-duplicated.
std::vector<FeedConfig> effective_feeds(const Config& cfg, const TemplateRegistry& templates);

}  // namespace baotin
