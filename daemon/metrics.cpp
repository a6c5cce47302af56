#include "daemon/metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/url.h"

namespace baotin {

// ---------------------------------------------------------------------------------------------
Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1) {}

void Histogram::observe(double v) {
  if (std::isnan(v)) return;
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());  // v <= le
  std::lock_guard lk(mu_);
  ++counts_[i];
  ++count_;
  sum_ += v;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  std::lock_guard lk(mu_);
  uint64_t acc = 0;
  for (uint64_t c : counts_) s.cumulative.push_back(acc += c);
  s.count = count_;
  s.sum = sum_;
  return s;
}

const char* drop_reason_name(DropReason r) {
  switch (r) {
    case DropReason::NoLink: return "no_link";
    case DropReason::LinkTooLong: return "link_too_long";
    case DropReason::NotHttp: return "not_http";
    case DropReason::UrlTooLong: return "url_too_long";
    case DropReason::SkipUrls: return "skip_urls";
    case DropReason::NotArticleUrl: return "not_article_url";
    case DropReason::kCount: break;
  }
  return "unknown";
}

std::string prometheus_escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
std::optional<ProcessStats> parse_proc_stat(std::string_view stat, long ticks_per_second, long page_size,
                                            int64_t boot_time) {
  // "pid (comm) state ppid ...": comm may hold anything, so fields are counted from the last ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0 || page_size <= 0) return std::nullopt;
  std::vector<std::string_view> f;  // f[0] = field 3 (state)
  for (size_t i = close + 1; i < stat.size();) {
    while (i < stat.size() && (stat[i] == ' ' || stat[i] == '\n')) ++i;
    size_t j = i;
    while (j < stat.size() && stat[j] != ' ' && stat[j] != '\n') ++j;
    if (j > i) f.push_back(stat.substr(i, j - i));
    i = j;
  }
  auto num = [&](size_t field, uint64_t& out) {  // proc(5) field number, 1-based
    if (field < 3 || field - 3 >= f.size()) return false;
    std::string_view t = f[field - 3];
    auto r = std::from_chars(t.data(), t.data() + t.size(), out);
    return r.ec == std::errc() && r.ptr == t.data() + t.size();
  };
  uint64_t utime, stime, starttime, vsize, rss;
  if (!num(14, utime) || !num(15, stime) || !num(22, starttime) || !num(23, vsize) || !num(24, rss))
    return std::nullopt;
  ProcessStats p;
  const double tps = static_cast<double>(ticks_per_second);
  p.cpu_seconds = static_cast<double>(utime + stime) / tps;
  p.start_time_seconds = static_cast<double>(boot_time) + static_cast<double>(starttime) / tps;
  p.virtual_bytes = vsize;
  p.resident_bytes = rss * static_cast<uint64_t>(page_size);
  return p;
}

std::optional<int64_t> parse_boot_time(std::string_view proc_stat) {
  for (size_t pos = 0; pos < proc_stat.size();) {
    size_t end = proc_stat.find('\n', pos);
    if (end == std::string_view::npos) end = proc_stat.size();
    std::string_view line = proc_stat.substr(pos, end - pos);
    if (line.rfind("btime ", 0) == 0) {
      std::string_view v = line.substr(6);
      int64_t t = 0;
      auto r = std::from_chars(v.data(), v.data() + v.size(), t);
      if (r.ec == std::errc() && t > 0) return t;
      return std::nullopt;
    }
    pos = end + 1;
  }
  return std::nullopt;
}

namespace {
std::string slurp(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

std::optional<ProcessStats> read_process_stats() {
  auto boot = parse_boot_time(slurp("/proc/stat"));
  if (!boot) return std::nullopt;
  auto p = parse_proc_stat(slurp("/proc/self/stat"), ::sysconf(_SC_CLK_TCK), ::sysconf(_SC_PAGESIZE), *boot);
  if (!p) return std::nullopt;
  std::error_code ec;
  uint64_t fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++fds;
  if (ec) return std::nullopt;
  p->open_fds = fds > 0 ? fds - 1 : 0;  // less the directory's own descriptor, open while it is listed
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) p->max_fds = static_cast<uint64_t>(rl.rlim_cur);
  return p;
}

// ---------------------------------------------------------------------------------------------
double HealthState::stuck_after_for_watchdog(uint64_t watchdog_usec) {
  if (watchdog_usec == 0) return kStuckAfterSeconds;
  return std::min(kStuckAfterSeconds, static_cast<double>(watchdog_usec) / 1e6);
}

HealthState::HealthState(double now_monotonic, double stuck_after_s)
    : last_tick_(now_monotonic), stuck_after_s_(stuck_after_s) {}

HealthState::Verdict HealthState::check(double now_monotonic, bool store_ok, const std::string& store_reason) const {
  Verdict v;
  if (!store_ok) v.body += "store unhealthy: " + store_reason + "\n";
  const double ago = now_monotonic - last_tick_.load();
  if (ago > stuck_after_s_) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "scheduler stuck: last tick %.0f s ago\n", std::floor(ago));
    v.body += buf;
  }
  if (v.body.empty()) {
    v.body = "ok\n";
  } else {
    v.status = 503;
  }
  return v;
}

double TemplateHealth::recent_bad_ratio() const {
  if (recent_bad.empty()) return 0;
  return static_cast<double>(std::count(recent_bad.begin(), recent_bad.end(), true)) / recent_bad.size();
}

nlohmann::json TemplateHealth::to_json() const {
  return {{"pages", pages},           {"empty_body", empty_body},
          {"short_body", short_body}, {"no_title", no_title},
          {"generic_fallback", generic_fallback}, {"field_hits", field_hits},
          {"recent_bad", std::vector<bool>(recent_bad.begin(), recent_bad.end())},
          {"degraded", degraded}};
}

TemplateHealth TemplateHealth::from_json(const nlohmann::json& j) {
  TemplateHealth h;
  h.pages = j.value("pages", 0ull);
  h.empty_body = j.value("empty_body", 0ull);
  h.short_body = j.value("short_body", 0ull);
  h.no_title = j.value("no_title", 0ull);
  h.generic_fallback = j.value("generic_fallback", 0ull);
  if (j.contains("field_hits") && j["field_hits"].is_object())
    for (auto& [k, v] : j["field_hits"].items())
      if (v.is_number_unsigned()) h.field_hits[k] = v.get<uint64_t>();
  if (j.contains("recent_bad") && j["recent_bad"].is_array())
    for (const auto& b : j["recent_bad"])
      if (b.is_boolean()) h.recent_bad.push_back(b.get<bool>());
  h.degraded = j.value("degraded", false);
  return h;
}

void Metrics::count_status(long status, bool transport_error) {
  ++fetches;
  if (transport_error || status == 0) ++fetch_transport_errors;
  else if (status == 304) ++fetch_304;
  else if (status == 429) ++fetch_429;
  else if (status >= 200 && status < 300) ++fetch_2xx;
  else if (status >= 300 && status < 400) ++fetch_3xx;
  else if (status >= 400 && status < 500) ++fetch_4xx;
  else if (status >= 500) ++fetch_5xx;
}

void Metrics::observe_publish_delay(int64_t stored_at, int64_t published_at) {
  if (stored_at < published_at) ++published_in_future;
  else publish_delay_seconds.observe(static_cast<double>(stored_at - published_at));
}

void Metrics::set_feed_last_success(const std::string& feed_url, int64_t epoch_s) {
  if (epoch_s <= 0) return;
  std::lock_guard lk(mu_);
  feed_last_success_[feed_url] = epoch_s;
}

void Metrics::set_configured_feed_urls(const std::vector<std::string>& feed_urls) {
  feeds_total = static_cast<int64_t>(feed_urls.size());
  std::set<std::string> keep(feed_urls.begin(), feed_urls.end());
  std::lock_guard lk(mu_);
  configured_feeds_ = std::move(keep);
}

bool Metrics::record_extraction(const Article& a, size_t min_body_chars, bool* recovered) {
  if (a.template_name.empty()) return false;
  std::string name = a.template_name.substr(0, a.template_name.find('@'));
  size_t chars = 0;
  for (const auto& p : a.body) chars += p.size();
  bool template_body = std::find(a.fields.begin(), a.fields.end(), "body") != a.fields.end() && a.extractor == "template";
  std::lock_guard lk(mu_);
  TemplateHealth& h = health_[name];
  ++h.pages;
  bool empty = !template_body;
  bool shrt = template_body && chars < min_body_chars;
  if (empty) ++h.empty_body;
  if (shrt) ++h.short_body;
  if (a.title.empty()) ++h.no_title;
  if (a.extractor == "generic") ++h.generic_fallback;
  if (a.extractor == "template")
    for (const auto& f : a.fields) ++h.field_hits[f];
  h.recent_bad.push_back(empty || shrt);
  while (h.recent_bad.size() > TemplateHealth::kWindow) h.recent_bad.pop_front();
  bool was = h.degraded;
  // Judge only with enough evidence: at least 5 pages in the window.
  h.degraded = h.recent_bad.size() >= 5 && h.recent_bad_ratio() >= TemplateHealth::kDegradedRatio;
  if (recovered) *recovered = was && !h.degraded;
  return !was && h.degraded;
}

std::map<std::string, TemplateHealth> Metrics::health() const {
  std::lock_guard lk(mu_);
  return health_;
}

void Metrics::load_health(const std::map<std::string, TemplateHealth>& h) {
  std::lock_guard lk(mu_);
  health_ = h;
}

namespace {
// A float sample value: shortest round-trip form, "+Inf"/"-Inf"/"NaN" as the text format spells them.
std::string fmt_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    o_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  void sample(std::string_view name, const std::string& labels, uint64_t v) {
    o_ << name << labels << ' ' << v << '\n';
  }
  void sample_i(std::string_view name, const std::string& labels, int64_t v) {
    o_ << name << labels << ' ' << v << '\n';
  }
  void sample_f(std::string_view name, const std::string& labels, double v) {
    o_ << name << labels << ' ' << fmt_value(v) << '\n';
  }
  void counter(std::string_view name, std::string_view help, uint64_t v) {
    family(name, "counter", help);
    sample(name, "", v);
  }
  void gauge(std::string_view name, std::string_view help, int64_t v) {
    family(name, "gauge", help);
    sample_i(name, "", v);
  }
  // `series`: label set ("" or `k="v"`) -> histogram, all under one family.
  void histogram(std::string_view name, std::string_view help,
                 const std::vector<std::pair<std::string, const Histogram*>>& series) {
    family(name, "histogram", help);
    const std::string n(name);
    for (const auto& [labels, h] : series) {
      const auto s = h->snapshot();
      const std::string pre = labels.empty() ? "" : labels + ",";
      for (size_t i = 0; i < s.bounds.size(); ++i)
        sample(n + "_bucket", "{" + pre + "le=\"" + fmt_value(s.bounds[i]) + "\"}", s.cumulative[i]);
      sample(n + "_bucket", "{" + pre + "le=\"+Inf\"}", s.count);
      const std::string l = labels.empty() ? "" : "{" + labels + "}";
      sample_f(n + "_sum", l, s.sum);
      sample(n + "_count", l, s.count);
    }
  }
  std::string str() const { return o_.str(); }

 private:
  std::ostringstream o_;
};

std::string label(std::string_view k, std::string_view v) {
  return std::string(k) + "=\"" + prometheus_escape_label(v) + "\"";
}
}  // namespace

std::string Metrics::prometheus(bool process) const {
  Exposition e;
  {
    const BuildInfo b = build_info();
    e.family("baotin_build_info", "gauge", "Constant 1, labelled with the version, the source revision and the libraries.");
    e.sample("baotin_build_info",
             "{" + label("version", b.version) + "," + label("revision", b.revision) + "," + label("rocksdb", b.rocksdb) +
                 "," + label("curl", b.curl) + "}",
             1);
  }
  if (process) {
    if (auto p = read_process_stats()) {
      e.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
      e.sample_f("process_cpu_seconds_total", "", p->cpu_seconds);
      e.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
      e.sample("process_resident_memory_bytes", "", p->resident_bytes);
      e.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
      e.sample("process_virtual_memory_bytes", "", p->virtual_bytes);
      e.family("process_open_fds", "gauge", "Number of open file descriptors.");
      e.sample("process_open_fds", "", p->open_fds);
      e.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
      e.sample("process_max_fds", "", p->max_fds);
      e.family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
      e.sample_f("process_start_time_seconds", "", p->start_time_seconds);
    }
  }
  e.counter("baotin_polls_total", "Feed polls attempted.", polls);
  e.counter("baotin_polls_failed_total", "Feed polls that failed (transport, HTTP error or unparsable feed).",
            polls_failed);
  e.counter("baotin_polls_not_modified_total", "Feed polls answered 304 Not Modified.", polls_not_modified);
  e.counter("baotin_feed_items_total", "Items seen in parsed feeds.", feed_items);
  e.family("baotin_feed_items_dropped_total", "counter",
           "Feed items not queued because of their link: no link, too long, not http(s), or refused by the template's "
           "URL rules (skip_urls, article_urls).");
  for (size_t i = 0; i < items_dropped.size(); ++i)
    e.sample("baotin_feed_items_dropped_total", "{" + label("reason", drop_reason_name(static_cast<DropReason>(i))) + "}",
             items_dropped[i].load());
  e.counter("baotin_feed_parse_errors_total", "Feeds that could not be parsed.", feed_parse_errors);
  e.counter("baotin_feed_items_deferred_total",
            "New feed items left for a later poll (max_new_per_poll or max_queued_articles reached, or a recent "
            "failure).",
            feed_items_deferred);
  e.counter("baotin_poll_internal_errors_total", "Polls that failed inside baotin (recorded as failed polls).",
            poll_internal_errors);
  e.family("baotin_fetches_total", "counter", "HTTP fetches (feeds and articles) by status class.");
  const std::pair<const char*, uint64_t> by_status[] = {
      {"2xx", fetch_2xx}, {"304", fetch_304}, {"3xx", fetch_3xx}, {"4xx", fetch_4xx}, {"429", fetch_429},
      {"5xx", fetch_5xx}, {"error", fetch_transport_errors}};
  for (const auto& [st, v] : by_status) e.sample("baotin_fetches_total", "{" + label("status", st) + "}", v);
  e.counter("baotin_fetch_too_large_total", "Bodies over the size limit.", fetch_too_large);
  e.counter("baotin_fetch_robots_blocked_total", "URLs not fetched because robots.txt disallows them.",
            fetch_robots_blocked);
  e.counter("baotin_bytes_total", "Body bytes received (decoded), feeds and articles.", bytes);
  e.histogram("baotin_fetch_duration_seconds",
              "Transfer time of HTTP fetches that were sent (queueing for politeness excluded), by kind.",
              {{label("kind", "feed"), &fetch_feed_seconds}, {label("kind", "article"), &fetch_article_seconds}});
  e.histogram("baotin_extract_duration_seconds", "Time to extract one fetched article page.",
              {{"", &extract_seconds}});
  e.histogram("baotin_publish_to_ingest_delay_seconds",
              "New articles: time stored minus the article's published time (articles with a known published time).",
              {{"", &publish_delay_seconds}});
  e.counter("baotin_published_in_future_total",
            "New articles whose published time is later than the time they were stored (not observed in "
            "baotin_publish_to_ingest_delay_seconds).",
            published_in_future);
  e.family("baotin_articles_total", "counter", "Articles by outcome of their fetch and store.");
  const std::pair<const char*, uint64_t> by_kind[] = {
      {"new", articles_new}, {"updated", articles_updated}, {"unchanged", articles_unchanged},
      {"duplicate", articles_duplicate}, {"failed", articles_failed}, {"partial", articles_partial},
      {"skipped", articles_skipped}};
  for (const auto& [k, v] : by_kind) e.sample("baotin_articles_total", "{" + label("outcome", k) + "}", v);
  e.gauge("baotin_queue_fetch", "Requests queued or in flight in the fetcher (sampled every 5 s).", queue_fetch);
  e.gauge("baotin_queue_work", "Fetched feeds and pages waiting for a worker (parse, extraction, store).", queue_work);
  e.gauge("baotin_articles_in_flight",
          "Article URLs accepted and not finished (waiting, fetching, extracting or awaiting a retry); bounded by "
          "max_queued_articles.",
          articles_in_flight);
  e.gauge("baotin_feeds", "Feeds configured.", feeds_total);
  e.counter("baotin_revisits_total", "Re-visits of stored articles done (any outcome).", revisits);
  e.counter("baotin_revisits_not_modified_total", "Re-visits answered 304 Not Modified.", revisits_not_modified);
  e.counter("baotin_revisits_corrections_total", "Re-visits that stored a new version (the page was edited).",
            revisits_corrections);
  e.counter("baotin_revisits_failed_total",
            "Re-visits that failed (transport error, HTTP error, nothing extracted); retried at the next step.",
            revisits_failed);
  e.counter("baotin_revisits_abandoned_total",
            "Re-visit schedules ended early: the last step kept failing, or the URL now redirects to another page.",
            revisits_abandoned);
  e.counter("baotin_revisits_scheduled_total", "New articles given a re-visit schedule.", revisits_scheduled);
  e.gauge("baotin_revisits_due", "Re-visits due and not yet dispatched (sampled every 10 s, counted up to 100000).",
          revisits_due);
  e.gauge("baotin_revisits_in_flight", "Re-visits being fetched or stored.", revisits_in_flight);
  e.counter("baotin_template_load_errors_total", "Template files that failed to load (start and reloads).",
            template_load_errors);
  std::lock_guard lk(mu_);
  {
    // Keyed by configured URL; two URLs that differ only in a redacted credential share a series (the latest).
    std::map<std::string, int64_t> by_label;
    for (const auto& [url, t] : feed_last_success_) {
      if (configured_feeds_ && !configured_feeds_->count(url)) continue;
      int64_t& v = by_label[redact_url(url)];
      v = std::max(v, t);
    }
    e.family("baotin_feed_last_success_timestamp_seconds", "gauge",
             "Time of the feed's last successful poll (200 or 304), seconds since the epoch; feeds that never "
             "succeeded have no series.");
    for (const auto& [f, t] : by_label)
      e.sample_i("baotin_feed_last_success_timestamp_seconds", "{" + label("feed", f) + "}", t);
  }
  e.family("baotin_template_pages_total", "counter", "Pages extracted per template.");
  for (const auto& [n, h] : health_) e.sample("baotin_template_pages_total", "{" + label("template", n) + "}", h.pages);
  e.family("baotin_template_empty_total", "counter", "Pages where the template found no body.");
  for (const auto& [n, h] : health_)
    e.sample("baotin_template_empty_total", "{" + label("template", n) + "}", h.empty_body);
  e.family("baotin_template_short_total", "counter", "Pages where the template body was short.");
  for (const auto& [n, h] : health_)
    e.sample("baotin_template_short_total", "{" + label("template", n) + "}", h.short_body);
  e.family("baotin_template_degraded", "gauge", "1 when most recent pages of the template came out empty or short.");
  for (const auto& [n, h] : health_)
    e.sample("baotin_template_degraded", "{" + label("template", n) + "}", h.degraded ? 1 : 0);
  std::string out = e.str();
  for (const auto& f : extra_) out += f();
  return out;
}

void Metrics::add_exposition(std::function<std::string()> f) {
  std::lock_guard lk(mu_);
  extra_.push_back(std::move(f));
}

}  // namespace baotin
