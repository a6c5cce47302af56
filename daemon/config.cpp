#include "daemon/config.h"

#include "core/limits.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <sstream>

#include "daemon/http_endpoint.h"

#include "core/url.h"
#include "feed/opml.h"
#include "fetch/netpolicy.h"

namespace baotin {

namespace {

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

// Why `v` cannot be sent as an HTTP header value ("" = it can): CR/LF would inject headers, other
// control bytes are rejected by servers; the length keeps every request line reasonable.
std::string check_header_value(const std::string& v) {
  if (v.empty()) return "must not be empty";
  if (v.size() > 512) return "longer than 512 bytes";
  for (unsigned char c : v)
    if (c < 0x20 || c == 0x7f) return "contains a control character (CR, LF, ...): it would change the request's headers";
  return "";
}

std::string resolve_path(const std::string& base_dir, const std::string& p) {
  if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

// `allow_private`: an array of network-policy entries (fetch/netpolicy.h), each validated.
void read_allow_list(const toml::node& n, const std::string& file, const std::string& key,
                     std::vector<std::string>& out, std::vector<TemplateError>& errors) {
  auto arr = n.as_array();
  if (!arr) {
    errors.push_back({file, line_of(n), key + ": expected an array of addresses, CIDR networks or host names" +
                                            std::string(key == "feeds.allow_private" ? " (or true)" : "")});
    return;
  }
  for (const auto& e : *arr) {
    auto s = e.as_string();
    NetAllowList probe;
    std::string why;
    if (!s) errors.push_back({file, line_of(e), key + ": expected strings"});
    else if (!probe.add(s->get(), &why)) errors.push_back({file, line_of(e), key + ": " + why});
    else out.push_back(s->get());
  }
}

// The feeds of an OPML file (feed/opml.h); errors as "opml-file:line: message".
std::vector<OpmlFeed> read_opml_feeds(const std::string& file, std::vector<TemplateError>& errors) {
  const OpmlLimits lim;
  std::error_code ec;
  auto size = std::filesystem::file_size(file, ec);
  if (ec) {
    errors.push_back({file, 0, "cannot read the OPML file: " + ec.message()});
    return {};
  }
  if (size > lim.max_bytes) {
    errors.push_back({file, 0, "OPML file is larger than " + std::to_string(lim.max_bytes) + " bytes"});
    return {};
  }
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) {
    errors.push_back({file, 0, "cannot read the OPML file"});
    return {};
  }
  OpmlParseResult r = parse_opml(bytes, lim);
  if (!r.error.empty()) {
    errors.push_back({file, r.error_line, "OPML: " + r.error});
    return {};
  }
  return std::move(r.feeds);
}

struct Reader {
  const toml::table& tbl;
  const std::string& file;
  std::vector<TemplateError>& errors;
  std::string section;

  void check_keys(const std::set<std::string>& known) {
    for (const auto& [k, v] : tbl)
      if (!known.count(std::string(k.str())))
        errors.push_back({file, line_of(v), "unknown key '" + section + std::string(k.str()) + "'"});
  }
  // Strings and booleans.
  template <class T>
  void get(const char* key, T& out) {
    const toml::node* n = tbl.get(key);
    if (!n) return;
    if constexpr (std::is_same_v<T, std::string>) {
      if (auto s = n->as_string()) out = s->get();
      else errors.push_back({file, line_of(*n), section + key + ": expected a string"});
    } else {
      static_assert(std::is_same_v<T, bool>);
      if (auto b = n->as_boolean()) out = b->get();
      else errors.push_back({file, line_of(*n), section + key + ": expected true or false"});
    }
  }
  // An integer within [lo, hi]. The check runs on the 64-bit TOML value before any narrowing, so
  // 9223372036854775807 is an error, not a wrapped-around 1.
  template <class T>
  void get_int(const char* key, T& out, int64_t lo, int64_t hi) {
    const toml::node* n = tbl.get(key);
    if (!n) return;
    auto v = n->as_integer();
    if (!v) {
      errors.push_back({file, line_of(*n), section + key + ": expected an integer"});
    } else if (v->get() < lo || v->get() > hi) {
      errors.push_back({file, line_of(*n), section + key + ": " + std::to_string(v->get()) + " is out of range [" +
                                               std::to_string(lo) + ", " + std::to_string(hi) + "]"});
    } else {
      out = static_cast<T>(v->get());
    }
  }
  // A finite number within [lo, hi] (nan and inf are errors).
  void get_num(const char* key, double& out, double lo, double hi) {
    const toml::node* n = tbl.get(key);
    if (!n) return;
    check_num(*n, section + key, out, lo, hi);
  }
  void check_num(const toml::node& n, const std::string& what, double& out, double lo, double hi) {
    auto v = n.value<double>();
    if (!v || !n.is_number()) {
      errors.push_back({file, line_of(n), what + ": expected a number"});
    } else if (!std::isfinite(*v)) {
      errors.push_back({file, line_of(n), what + ": must be a finite number"});
    } else if (*v < lo || *v > hi) {
      errors.push_back({file, line_of(n), what + ": " + fmt_num(*v) + " is out of range [" + fmt_num(lo) + ", " +
                                              fmt_num(hi) + "]"});
    } else {
      out = *v;
    }
  }
  static std::string fmt_num(double v) {
    std::ostringstream o;
    o << v;
    return o.str();
  }
};

// A NATS subject made of plain tokens (no wildcard, no empty token, no whitespace): the subject prefix.
std::string check_subject(const std::string& s) {
  if (s.empty()) return "must not be empty";
  if (s.size() > 200) return "longer than 200 bytes";
  if (s.front() == '.' || s.back() == '.' || s.find("..") != std::string::npos) return "has an empty token (a leading, trailing or double '.')";
  for (unsigned char c : s)
    if (c == '*' || c == '>' || c <= 0x20 || c == 0x7f) return "must not contain '*', '>', spaces or control characters";
  return "";
}

// [stream.nats] (README "Live stream (NATS JetStream)").
void read_stream_nats(const toml::table& t, const std::string& file, const std::string& base, NatsStreamConfig& c,
                      std::vector<TemplateError>& errors) {
  Reader r{t, file, errors, "stream.nats."};
  r.check_keys({"servers", "stream", "subject_prefix", "credentials", "retention", "storage", "max_age_s", "max_bytes",
                "duplicate_window_s", "replicas", "publish_timeout_ms", "max_in_flight", "start"});
  c.enabled = true;
  auto line = [&](const char* key) {
    const toml::node* n = t.get(key);
    return n ? line_of(*n) : line_of(t);
  };
  auto err = [&](const char* key, const std::string& msg) {
    errors.push_back({file, line(key), std::string("stream.nats.") + key + ": " + msg});
  };
  if (const toml::node* n = t.get("servers")) {
    std::vector<std::pair<std::string, int>> urls;
    if (auto s = n->as_string()) {
      urls.push_back({s->get(), line_of(*n)});
    } else if (auto a = n->as_array()) {
      for (const auto& e : *a) {
        if (auto s = e.as_string()) urls.push_back({s->get(), line_of(e)});
        else errors.push_back({file, line_of(e), "stream.nats.servers: expected strings"});
      }
    } else {
      err("servers", "expected an array of URLs (nats://host:port)");
    }
    if (n->is_array() && urls.empty() && n->as_array()->empty()) err("servers", "must name at least one server");
    c.servers.clear();
    for (const auto& [u, l] : urls) {
      auto p = parse_url(u);
      const bool scheme = u.rfind("nats://", 0) == 0 || u.rfind("tls://", 0) == 0;
      if (!scheme || !p || p->host.empty() || !check_header_value(u).empty() || u.find(' ') != std::string::npos)
        errors.push_back({file, l, "stream.nats.servers: not a NATS URL (nats://host:port or tls://host:port): '" +
                                       redact_url(u.substr(0, 200)) + "'"});
      else
        c.servers.push_back(u);
    }
  }
  r.get("stream", c.stream);
  r.get("subject_prefix", c.subject_prefix);
  r.get("credentials", c.credentials);
  r.get("retention", c.retention);
  r.get("storage", c.storage);
  r.get("start", c.start);
  r.get_int("max_age_s", c.max_age_s, 0, int64_t{100} * 365 * 86400);
  r.get_int("max_bytes", c.max_bytes, 0, int64_t{1} << 50);
  r.get_int("duplicate_window_s", c.duplicate_window_s, 1, 30 * 86400);
  r.get_int("replicas", c.replicas, 1, 5);
  r.get_int("publish_timeout_ms", c.publish_timeout_ms, 100, 300000);
  r.get_int("max_in_flight", c.max_in_flight, 1, 65536);
  // JetStream stream names: no '.', '*', '>', whitespace or path separators (they name files on the server).
  if (t.get("stream")) {
    bool ok = !c.stream.empty() && c.stream.size() <= 64;
    for (unsigned char ch : c.stream)
      if (ch == '.' || ch == '*' || ch == '>' || ch == '/' || ch == '\\' || ch <= 0x20 || ch == 0x7f) ok = false;
    if (!ok) err("stream", "'" + c.stream + "' is not a JetStream stream name (1-64 bytes, no '.', '*', '>', '/', '\\' or spaces)");
  }
  if (std::string why = check_subject(c.subject_prefix); !why.empty())
    err("subject_prefix", "'" + c.subject_prefix + "' " + why);
  if (c.retention != "limits" && c.retention != "interest" && c.retention != "workqueue")
    err("retention", "\"limits\", \"interest\" or \"workqueue\", got '" + c.retention + "'");
  if (c.storage != "file" && c.storage != "memory") err("storage", "\"file\" or \"memory\", got '" + c.storage + "'");
  if (c.start != "all" && c.start != "new") err("start", "\"all\" or \"new\", got '" + c.start + "'");
  // The default window (1 day) shrinks to a shorter max age; a window set explicitly must fit in it.
  if (!t.get("duplicate_window_s") && c.max_age_s > 0 && c.duplicate_window_s > c.max_age_s)
    c.duplicate_window_s = c.max_age_s;
  if (c.max_age_s > 0 && c.duplicate_window_s > c.max_age_s)
    err("duplicate_window_s", std::to_string(c.duplicate_window_s) + " exceeds max_age_s = " +
                                  std::to_string(c.max_age_s) + " (JetStream requires the window within the max age)");
  if (t.get("credentials")) {
    if (c.credentials.empty()) {
      err("credentials", "expected the path of a .creds file");
    } else {
      c.credentials = resolve_path(base, c.credentials);
      std::ifstream in(c.credentials);
      if (!in) err("credentials", "cannot read '" + c.credentials + "'");
    }
  }
}

// [revisit]: after = ["1h", "6h", "24h", "72h", "7d"] (or integer seconds; [] = off), per_tick, max_in_flight.
void read_revisit(const toml::table& t, const std::string& path, RevisitPolicy& out, std::vector<TemplateError>& errors) {
  Reader r{t, path, errors, "revisit."};
  r.check_keys({"after", "per_tick", "max_in_flight"});
  r.get_int("per_tick", out.per_tick, 1, 10000);
  r.get_int("max_in_flight", out.max_in_flight, 1, 256);
  const toml::node* n = t.get("after");
  if (!n) return;
  const auto* arr = n->as_array();
  if (!arr) {
    errors.push_back({path, line_of(*n), "revisit.after: expected a list of durations (\"1h\", \"7d\", or seconds)"});
    return;
  }
  constexpr int64_t kMin = 60, kMax = 365 * 86400;
  constexpr size_t kMaxSteps = 32;
  std::vector<int64_t> steps;
  for (const auto& e : *arr) {
    std::optional<int64_t> secs;
    std::string shown;
    if (auto i = e.as_integer()) {
      secs = i->get();
      shown = std::to_string(i->get());
    } else if (auto s = e.as_string()) {
      shown = "'" + s->get() + "'";
      const std::string& v = s->get();
      static const std::map<char, int64_t> kUnit = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
      if (v.size() >= 2 && v.size() <= 12 && kUnit.count(v.back()) &&
          std::all_of(v.begin(), v.end() - 1, [](char c) { return c >= '0' && c <= '9'; }))
        secs = std::stoll(v.substr(0, v.size() - 1)) * kUnit.at(v.back());
      else {
        errors.push_back({path, line_of(e), "revisit.after: " + shown + " is not a duration (a number followed by s, m, h or d)"});
        continue;
      }
    } else {
      errors.push_back({path, line_of(e), "revisit.after: expected durations (\"1h\", \"7d\") or integer seconds"});
      continue;
    }
    if (*secs < kMin || *secs > kMax) {
      errors.push_back({path, line_of(e), "revisit.after: " + shown + " is out of range [60 s, 365 d]"});
      continue;
    }
    if (!steps.empty() && *secs <= steps.back()) {
      errors.push_back({path, line_of(e), "revisit.after: " + shown + " must be later than the step before it"});
      continue;
    }
    steps.push_back(*secs);
  }
  if (steps.size() > kMaxSteps)
    errors.push_back({path, line_of(*n), "revisit.after: at most " + std::to_string(kMaxSteps) + " steps"});
  out.after_s = std::move(steps);
}

}  // namespace

bool load_config(const std::string& path, Config& cfg, std::vector<TemplateError>& errors) {
  const size_t before = errors.size();
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    errors.push_back({path, static_cast<int>(e.source().begin.line), std::string("TOML: ") + std::string(e.description())});
    return false;
  }
  cfg.path = path;
  std::string base = std::filesystem::path(path).parent_path().string();
  if (base.empty()) base = ".";

  Reader top{root, path, errors, ""};
  top.check_keys({"daemon", "fetch", "poll", "sites", "feeds", "robots_override", "host_min_delay", "stream",
                  "revisit"});

  if (auto t = root["daemon"].as_table()) {
    Reader r{*t, path, errors, "daemon."};
    r.check_keys({"data_dir", "templates_dir", "workers", "metrics_listen", "metrics_allow_remote", "log_level",
                  "log_format", "store_raw_html", "memory_mb", "block_cache_mb"});
    r.get("data_dir", cfg.data_dir);
    r.get("templates_dir", cfg.templates_dir);
    r.get_int("workers", cfg.workers, 1, kMaxWorkers);
    r.get("metrics_listen", cfg.metrics_listen);
    r.get("metrics_allow_remote", cfg.metrics_allow_remote);
    r.get("log_level", cfg.log_level);
    r.get("log_format", cfg.log_format);
    r.get("store_raw_html", cfg.store_raw_html);
    r.get_int("memory_mb", cfg.memory_mb, 64, 1 << 20);
    r.get_int("block_cache_mb", cfg.block_cache_mb, 1, 1 << 20);
    if (cfg.memory_mb && cfg.block_cache_mb && cfg.block_cache_mb + kMinRestOfProcessMb > cfg.memory_mb) {
      const toml::node* n = t->get("block_cache_mb");
      errors.push_back({path, n ? line_of(*n) : line_of(*t),
                        "daemon.block_cache_mb: " + std::to_string(cfg.block_cache_mb) + " MiB for the store leaves " +
                            std::to_string(cfg.memory_mb > cfg.block_cache_mb ? cfg.memory_mb - cfg.block_cache_mb : 0) +
                            " MiB of daemon.memory_mb = " + std::to_string(cfg.memory_mb) +
                            " for the rest of the daemon (at least " + std::to_string(kMinRestOfProcessMb) +
                            "); block_cache_mb is deprecated: set only memory_mb"});
    }
    static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (!kLevels.count(cfg.log_level))
      errors.push_back({path, line_of(*t), "daemon.log_level: one of trace, debug, info, warn, error, critical, off"});
    if (cfg.log_format != "text" && cfg.log_format != "json") {
      const toml::node* n = t->get("log_format");
      errors.push_back({path, n ? line_of(*n) : line_of(*t), "daemon.log_format: \"text\" or \"json\", got '" +
                                                                 cfg.log_format + "'"});
    }
    if (!cfg.metrics_listen.empty()) {
      const toml::node* n = t->get("metrics_listen");
      int line = n ? line_of(*n) : line_of(*t);
      std::string why;
      auto addr = parse_listen_address(cfg.metrics_listen, &why);
      if (!addr)
        errors.push_back({path, line, "daemon.metrics_listen: " + why});
      else if (!addr->loopback && !cfg.metrics_allow_remote)
        errors.push_back({path, line, "daemon.metrics_listen: " + cfg.metrics_listen +
                                          " is not a loopback address; /status shows every feed URL and error, so "
                                          "listening beyond this machine needs metrics_allow_remote = true"});
    }
  }
  if (auto t = root["fetch"].as_table()) {
    Reader r{*t, path, errors, "fetch."};
    r.check_keys({"user_agent", "max_in_flight", "per_host_concurrency", "per_host_min_delay_s", "connect_timeout_ms",
                  "total_timeout_ms", "max_body_bytes", "max_redirects", "respect_robots", "allow_private"});
    r.get("user_agent", cfg.fetch.user_agent);
    r.get_int("max_in_flight", cfg.fetch.max_in_flight, 1, 4096);
    r.get_int("per_host_concurrency", cfg.fetch.per_host_concurrency, 1, 64);
    r.get_num("per_host_min_delay_s", cfg.fetch.per_host_min_delay_s, 0, 3600);
    r.get_int("connect_timeout_ms", cfg.fetch.connect_timeout_ms, 100, 300000);
    r.get_int("total_timeout_ms", cfg.fetch.total_timeout_ms, 100, 3600000);
    r.get_int("max_body_bytes", cfg.fetch.max_body_bytes, 1024, int64_t{1} << 30);
    r.get_int("max_redirects", cfg.fetch.max_redirects, 0, 20);
    r.get("respect_robots", cfg.fetch.respect_robots);
    if (const toml::node* n = t->get("user_agent")) {
      std::string why = check_header_value(cfg.fetch.user_agent);
      if (!why.empty()) errors.push_back({path, line_of(*n), "fetch.user_agent: " + why});
    }
    if (auto n = t->get("allow_private")) read_allow_list(*n, path, "fetch.allow_private", cfg.fetch.allow_private, errors);
  }
  if (auto t = root["poll"].as_table()) {
    Reader r{*t, path, errors, "poll."};
    r.check_keys({"min_interval_s", "max_interval_s", "max_backoff_s", "article_retries", "max_new_per_poll",
                  "max_queued_articles", "max_retry_after_s"});
    r.get_num("min_interval_s", cfg.poll.min_interval_s, 1, 7 * 86400.0);
    r.get_num("max_interval_s", cfg.poll.max_interval_s, 1, 30 * 86400.0);
    r.get_num("max_backoff_s", cfg.poll.max_backoff_s, 1, 30 * 86400.0);
    r.get_int("article_retries", cfg.article_retries, 1, 20);
    r.get_int("max_new_per_poll", cfg.max_new_per_poll, 1, 100000);
    r.get_int("max_queued_articles", cfg.max_queued_articles, 1, 10000000);
    r.get_num("max_retry_after_s", cfg.max_retry_after_s, 1, 86400);
    if (cfg.poll.min_interval_s > cfg.poll.max_interval_s)
      errors.push_back({path, line_of(*t), "poll.min_interval_s must not exceed poll.max_interval_s"});
    if (cfg.poll.max_backoff_s < cfg.poll.min_interval_s)
      errors.push_back({path, line_of(*t), "poll.max_backoff_s must not be below poll.min_interval_s"});
  }
  if (auto t = root["revisit"].as_table()) read_revisit(*t, path, cfg.revisit, errors);
  if (auto t = root["sites"].as_table()) {
    Reader r{*t, path, errors, "sites."};
    r.check_keys({"enabled", "template_feeds"});
    r.get("template_feeds", cfg.template_feeds);
    if (auto n = t->get("enabled")) {
      if (auto arr = n->as_array()) {
        for (const auto& e : *arr) {
          if (auto s = e.as_string()) {
            cfg.sites.push_back(s->get());
            cfg.sites_lines.push_back(line_of(e));
          } else {
            errors.push_back({path, line_of(e), "sites.enabled: expected strings"});
          }
        }
      } else if (auto s = n->as_string(); s && s->get() == "all") {
        cfg.sites.clear();
        cfg.sites_lines.clear();
      } else {
        errors.push_back({path, line_of(*n), "sites.enabled: expected \"all\" or an array of template names"});
      }
    }
  }
  if (auto n = root.get("feeds")) {
    auto arr = n->as_array();
    if (!arr) {
      errors.push_back({path, line_of(*n), "feeds: expected [[feeds]] tables"});
    } else {
      for (const auto& e : *arr) {
        auto t = e.as_table();
        if (!t) {
          errors.push_back({path, line_of(e), "feeds: expected a table with url = ..."});
          continue;
        }
        Reader r{*t, path, errors, "feeds."};
        r.check_keys({"url", "site", "allow_private", "opml"});
        FeedConfig f;
        f.line = line_of(e);
        r.get("url", f.url);
        r.get("site", f.site);
        // allow_private = true: each feed's own origin host:port (the default port when the URL has none);
        // resolved per URL below, so that it also applies to every feed of an OPML file.
        bool allow_own_origin = false;
        std::vector<std::string> allow_list;
        if (auto n = t->get("allow_private")) {
          if (auto b = n->as_boolean()) allow_own_origin = b->get();
          else read_allow_list(*n, path, "feeds.allow_private", allow_list, errors);
        }
        auto add_feed = [&](FeedConfig feed, const std::string& file, int line, const char* what) {
          auto parsed = parse_url(feed.url);
          if (feed.url.rfind("http://", 0) != 0 && feed.url.rfind("https://", 0) != 0) {
            errors.push_back({file, line, std::string(what) + ": must be an http(s) URL, got '" +
                                              redact_url(feed.url) + "'"});
            return;
          }
          if (!parsed || parsed->host.empty() || feed.url.size() > limits::kMaxUrlBytes ||
              !check_header_value(feed.url).empty() || feed.url.find(' ') != std::string::npos) {
            errors.push_back({file, line, std::string(what) + ": not a valid URL (host, length, no spaces or control "
                                                              "characters): '" + redact_url(feed.url.substr(0, 200)) + "'"});
            return;
          }
          feed.allow_private = allow_list;
          if (allow_own_origin) {
            std::string port = parsed->port.empty() ? (parsed->scheme == "https" ? "443" : "80") : parsed->port;
            std::string host = parsed->host.find(':') != std::string::npos ? "[" + parsed->host + "]" : parsed->host;
            feed.allow_private.push_back(host + ":" + port);
          }
          cfg.feeds.push_back(std::move(feed));
        };
        const toml::node* opml_node = t->get("opml");
        if (opml_node) {
          if (t->get("url")) {
            errors.push_back({path, line_of(e), "feeds: give either url = ... or opml = ..., not both"});
            continue;
          }
          auto s = opml_node->as_string();
          if (!s || s->get().empty()) {
            errors.push_back({path, line_of(*opml_node), "feeds.opml: expected the path of an OPML file"});
            continue;
          }
          std::string opml_path = resolve_path(base, s->get());
          size_t before_opml = errors.size();
          auto imported = read_opml_feeds(opml_path, errors);
          if (errors.size() != before_opml) {
            errors.push_back({path, line_of(*opml_node), "feeds.opml: cannot import '" + opml_path + "'"});
            continue;
          }
          for (auto& of : imported)
            add_feed(FeedConfig(std::move(of.xml_url), of.site.empty() ? f.site : of.site), opml_path, of.line,
                     "xmlUrl");
          continue;
        }
        add_feed(std::move(f), path, line_of(e), "feeds.url");
      }
    }
  }
  for (const char* section : {"robots_override", "host_min_delay"}) {
    auto t = root[section].as_table();
    if (!t) continue;
    for (const auto& [k, v] : *t) {
      if (std::string_view(section) == "robots_override") {
        if (auto b = v.as_boolean()) cfg.fetch.robots_override[std::string(k.str())] = b->get();
        else errors.push_back({path, line_of(v), std::string(section) + "." + std::string(k.str()) + ": expected true/false"});
      } else {
        double d = 0;
        size_t before_num = errors.size();
        top.check_num(v, std::string(section) + "." + std::string(k.str()), d, 0, 3600);
        if (errors.size() == before_num) cfg.fetch.host_min_delay[std::string(k.str())] = d;
      }
    }
  }
  if (const toml::node* n = root.get("stream")) {
    if (auto st = n->as_table()) {
      Reader r{*st, path, errors, "stream."};
      r.check_keys({"nats"});
      if (const toml::node* nn = st->get("nats")) {
        if (auto t = nn->as_table()) read_stream_nats(*t, path, base, cfg.stream_nats, errors);
        else errors.push_back({path, line_of(*nn), "stream.nats: expected a table ([stream.nats])"});
      }
    } else {
      errors.push_back({path, line_of(*n), "stream: expected a table ([stream.nats])"});
    }
  }
  cfg.templates_dir = resolve_path(base, cfg.templates_dir);
  return errors.size() == before;
}

size_t Config::memory_budget_mb() const {
  if (memory_mb) return memory_mb;
  if (block_cache_mb) return block_cache_mb + kDefaultRestOfProcessMb;
  return kDefaultMemoryMb;
}

size_t Config::store_memory_mb() const { return block_cache_mb ? block_cache_mb : memory_budget_mb() / 2; }

std::vector<SettingChange> changed_settings(const Config& a, const Config& b) {
  std::vector<SettingChange> out;
  auto cmp = [&](const char* name, const auto& x, const auto& y, bool restart = false) {
    if (!(x == y)) out.push_back({name, restart});
  };
  auto feeds_key = [](const std::vector<FeedConfig>& v) {
    std::vector<std::tuple<std::string, std::string, std::vector<std::string>>> k;
    for (const auto& f : v) k.emplace_back(f.url, f.site, f.allow_private);
    return k;
  };
  cmp("daemon.data_dir", a.data_dir, b.data_dir, true);
  cmp("daemon.templates_dir", a.templates_dir, b.templates_dir);
  cmp("daemon.workers", a.workers, b.workers, true);
  cmp("daemon.metrics_listen", a.metrics_listen, b.metrics_listen, true);
  cmp("daemon.metrics_allow_remote", a.metrics_allow_remote, b.metrics_allow_remote, true);
  cmp("daemon.log_level", a.log_level, b.log_level);
  cmp("daemon.log_format", a.log_format, b.log_format);
  cmp("daemon.store_raw_html", a.store_raw_html, b.store_raw_html);
  cmp("daemon.memory_mb", a.memory_mb, b.memory_mb, true);
  cmp("daemon.block_cache_mb", a.block_cache_mb, b.block_cache_mb, true);
  cmp("fetch.user_agent", a.fetch.user_agent, b.fetch.user_agent);
  cmp("fetch.max_in_flight", a.fetch.max_in_flight, b.fetch.max_in_flight);
  cmp("fetch.per_host_concurrency", a.fetch.per_host_concurrency, b.fetch.per_host_concurrency);
  cmp("fetch.per_host_min_delay_s", a.fetch.per_host_min_delay_s, b.fetch.per_host_min_delay_s);
  cmp("fetch.connect_timeout_ms", a.fetch.connect_timeout_ms, b.fetch.connect_timeout_ms);
  cmp("fetch.total_timeout_ms", a.fetch.total_timeout_ms, b.fetch.total_timeout_ms);
  cmp("fetch.max_body_bytes", a.fetch.max_body_bytes, b.fetch.max_body_bytes);
  cmp("fetch.max_redirects", a.fetch.max_redirects, b.fetch.max_redirects);
  cmp("fetch.respect_robots", a.fetch.respect_robots, b.fetch.respect_robots);
  cmp("fetch.allow_private", a.fetch.allow_private, b.fetch.allow_private);
  cmp("robots_override", a.fetch.robots_override, b.fetch.robots_override);
  cmp("host_min_delay", a.fetch.host_min_delay, b.fetch.host_min_delay);
  cmp("poll.min_interval_s", a.poll.min_interval_s, b.poll.min_interval_s);
  cmp("poll.max_interval_s", a.poll.max_interval_s, b.poll.max_interval_s);
  cmp("poll.max_backoff_s", a.poll.max_backoff_s, b.poll.max_backoff_s);
  cmp("poll.article_retries", a.article_retries, b.article_retries);
  cmp("poll.max_new_per_poll", a.max_new_per_poll, b.max_new_per_poll);
  cmp("poll.max_queued_articles", a.max_queued_articles, b.max_queued_articles);
  cmp("poll.max_retry_after_s", a.max_retry_after_s, b.max_retry_after_s);
  cmp("revisit.after", a.revisit.after_s, b.revisit.after_s);
  cmp("revisit.per_tick", a.revisit.per_tick, b.revisit.per_tick);
  cmp("revisit.max_in_flight", a.revisit.max_in_flight, b.revisit.max_in_flight);
  cmp("sites.enabled", a.sites, b.sites);
  cmp("sites.template_feeds", a.template_feeds, b.template_feeds);
  cmp("feeds", feeds_key(a.feeds), feeds_key(b.feeds));
  cmp("stream.nats", a.stream_nats, b.stream_nats, true);
  return out;
}

std::vector<TemplateError> unknown_template_names(const Config& cfg, const TemplateRegistry& templates) {
  std::vector<TemplateError> out;
  auto unknown = [&](const std::string& name) {
    if (templates.by_name(name)) return false;
    // <name>.toml that fails to load: load_dir reported it (a template's name must match its file name).
    std::error_code ec;
    return !std::filesystem::exists(std::filesystem::path(cfg.templates_dir) / (name + ".toml"), ec);
  };
  for (size_t i = 0; i < cfg.sites.size(); ++i)
    if (unknown(cfg.sites[i]))
      out.push_back({cfg.path, i < cfg.sites_lines.size() ? cfg.sites_lines[i] : 0,
                     "sites.enabled: unknown template '" + cfg.sites[i] + "' (no template in " + cfg.templates_dir +
                         " is named so)"});
  for (const auto& f : cfg.feeds)
    if (!f.site.empty() && unknown(f.site))
      out.push_back({cfg.path, f.line,
                     "feeds.site: unknown template '" + f.site + "' for feed " + redact_url(f.url) + " (no template in " +
                         cfg.templates_dir + " is named so)"});
  return out;
}

FetcherConfig daemon_fetcher_config(const Config& cfg) {
  FetcherConfig fc = cfg.fetch;
  if (!cfg.metrics_listen.empty()) {
    if (auto a = parse_listen_address(cfg.metrics_listen, nullptr)) {  // validated by load_config
      const bool any = a->host == "0.0.0.0" || a->host == "::";
      const bool v6 = a->host.find(':') != std::string::npos;
      fc.never_connect.push_back(any ? "*:" + std::to_string(a->port)
                                     : (v6 ? "[" + a->host + "]" : a->host) + ":" + std::to_string(a->port));
    }
  }
  return fc;
}

std::vector<FeedConfig> effective_feeds(const Config& cfg, const TemplateRegistry& templates) {
  std::vector<FeedConfig> out;
  std::set<std::string> seen;
  for (const auto& f : cfg.feeds)
    if (seen.insert(f.url).second) out.push_back(f);
  if (cfg.template_feeds) {
    for (const auto& t : templates.all()) {
      bool enabled = cfg.sites.empty() ||
                     std::find(cfg.sites.begin(), cfg.sites.end(), t->name) != cfg.sites.end();
      if (!enabled) continue;
      for (const auto& url : t->feeds)
        if (seen.insert(url).second) out.push_back({url, t->name});
    }
  }
  return out;
}

}  // namespace baotin
