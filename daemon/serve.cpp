#include <poll.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <atomic>
#include <filesystem>
#include <memory>
#include <set>
#include <thread>

#include "core/date.h"
#include "core/url.h"
#include "daemon/config.h"
#include "daemon/control.h"
#include "daemon/http_endpoint.h"
#include "daemon/job_runner.h"
#include "daemon/metrics.h"
#include "daemon/pipeline.h"
#include "daemon/service.h"
#include "stream/nats_outbox.h"

namespace baotin {

namespace {
// "<N>" syslog priority prefix (sd-daemon(3) SD_ERR...): journald reads it from a stream and strips it, so
// `journalctl -p warning` works.
char syslog_priority(spdlog::level::level_enum l) {
  static constexpr char kPrio[] = {'7', '7', '6', '4', '3', '2', '6'};  // trace debug info warn err critical off
  return kPrio[static_cast<int>(l)];
}

class SyslogPriorityFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const char text[3] = {'<', syslog_priority(msg.level), '>'};
    dest.append(text, text + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<SyslogPriorityFlag>(); }
};

// log_format = "json": {"time":"2026-12-01T18:57:37.123+07:00","level":"info","msg":"..."} per line, for log
// shippers (Loki, Elasticsearch, `jq`). Invalid UTF-8 in a message (a hostile feed's bytes) becomes U+FFFD.
class JsonLineFormatter : public spdlog::formatter {
 public:
  explicit JsonLineFormatter(bool priority_prefix) : prio_(priority_prefix) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto t = std::chrono::system_clock::to_time_t(msg.time);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() % 1000;
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[64], zone[8];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::strftime(zone, sizeof zone, "%z", &tm);  // +0700
    std::string time = std::string(buf) + "." + std::to_string(1000 + ms).substr(1) + std::string(zone, 3) + ":" +
                       std::string(zone + 3);
    nlohmann::json j = {{"time", time},
                        {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                                              spdlog::level::to_string_view(msg.level).size())},
                        {"msg", std::string(msg.payload.data(), msg.payload.size())}};
    std::string line;
    if (prio_) line = std::string{'<', syslog_priority(msg.level), '>'};
    line += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonLineFormatter>(prio_); }

 private:
  bool prio_;
};
}  // namespace

std::string group_thousands(uint64_t n) {
  std::string d = std::to_string(n), out;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i && (d.size() - i) % 3 == 0) out += ',';
    out += d[i];
  }
  return out;
}

void setup_logging(const std::string& level, const std::string& format) {
  auto logger = spdlog::get("baotin");
  if (!logger) logger = spdlog::stderr_color_mt("baotin");
  const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  if (format == "json") {
    logger->set_formatter(std::make_unique<JsonLineFormatter>(journal));
  } else if (journal) {
    // journald stamps lines itself; the priority prefix lets it keep the level.
    auto f = std::make_unique<spdlog::pattern_formatter>();
    f->add_flag<SyslogPriorityFlag>('*').set_pattern("%*%l: %v");
    logger->set_formatter(std::move(f));
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::info);
}

std::optional<Config> load_run_config(const std::string& path, const std::string& data_dir) {
  Config cfg;
  std::vector<TemplateError> errs;
  if (!load_config(path, cfg, errs)) {
    for (const auto& e : errs) std::fprintf(stderr, "%s\n", e.str().c_str());
    return std::nullopt;
  }
  if (!data_dir.empty()) cfg.data_dir = data_dir;
  return cfg;
}

std::unique_ptr<Store> open_run_store(const Config& cfg, const char* command) {
  std::string err;
  StoreOptions so;  // the daemon's defaults (raw pages in blob files); named fields, not positional
  so.path = cfg.data_dir;
  so.block_cache_mb = cfg.store_memory_mb();
  auto store = Store::open(so, &err);
  if (!store) std::fprintf(stderr, "%s: cannot open store %s: %s\n", command, cfg.data_dir.c_str(), err.c_str());
  return store;
}

std::shared_ptr<const TemplateRegistry> load_templates(const Config& cfg, bool log_errors) {
  auto reg = std::make_shared<TemplateRegistry>();
  std::vector<TemplateError> errs;
  reg->load_dir(cfg.templates_dir, errs);
  if (log_errors)
    for (const auto& e : errs) spdlog::error("template: {} (template skipped)", e.str());
  spdlog::info("templates: {} loaded from {}", reg->all().size(), cfg.templates_dir);
  return reg;
}

std::shared_ptr<const TemplateRegistry> reload_templates(const Config& cfg, const TemplateRegistry& previous,
                                                         std::vector<TemplateError>& errors, size_t* failed_files) {
  auto reg = std::make_shared<TemplateRegistry>();
  const size_t first = errors.size();
  reg->load_dir(cfg.templates_dir, errors);
  std::set<std::string> error_files;
  for (size_t i = first; i < errors.size(); ++i) error_files.insert(errors[i].file);
  auto loaded_from = [&](const std::string& path) {
    for (const auto& t : reg->all())
      if (t->path == path) return true;
    return false;
  };
  size_t failed = 0;
  for (const auto& f : error_files)
    if (!loaded_from(f)) ++failed;
  for (size_t i = first; i < errors.size(); ++i) spdlog::error("template: {}", errors[i].str());
  // A file that fails now (or a directory that cannot be read) keeps the version that was running: an edit in
  // progress or a typo must not silently drop an outlet's feeds. A file that was removed drops its template.
  for (const auto& t : previous.all()) {
    const bool failing = (error_files.count(t->path) || error_files.count(cfg.templates_dir)) && !loaded_from(t->path);
    if (!failing || reg->by_name(t->name)) continue;
    spdlog::error("template: {} does not load; keeping the previous version {}", t->path, t->id());
    reg->add(t);
  }
  if (failed_files) *failed_files = failed;
  return reg;
}

static void persist_health(Store& store, const Metrics& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [n, h] : m.health()) j[n] = h.to_json();
  try {
    store.put_meta("template_health", j.dump());
  } catch (const std::exception& e) {
    spdlog::warn("cannot persist template health: {}", e.what());
  }
}

static std::map<std::string, TemplateHealth> stored_health(const Store& store) {
  std::map<std::string, TemplateHealth> out;
  if (auto s = store.get_meta("template_health")) {
    try {
      auto j = nlohmann::json::parse(*s);
      for (auto& [n, h] : j.items()) out[n] = TemplateHealth::from_json(h);
    } catch (const std::exception&) {
    }
  }
  return out;
}

static nlohmann::json store_status_json(const Store& store) {
  const auto h = store.health();
  const auto r = store.dedup_rebuild_progress();
  const auto c = store.dedup_cap_counters();
  return {{"healthy", h.ok},
          {"error", h.reason},
          {"dedup_rebuild", {{"pending", r.pending}, {"running", r.running}, {"indexed", r.indexed}}},
          {"dedup_caps", {{"lookups", c.lookups}, {"capped_scans", c.capped_scans}, {"capped_lookups", c.capped_lookups}}}};
}

// Duplicate-index cap counters (store/dedup.h, recall model), appended to /metrics.
static std::string dedup_prometheus(const Store& store) {
  const auto c = store.dedup_cap_counters();
  std::string o;
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    o += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
         std::to_string(v) + "\n";
  };
  counter("baotin_dedup_lookups_total", "Near-duplicate look-ups in the duplicate index.", c.lookups);
  counter("baotin_dedup_capped_scans_total",
          "Duplicate-index bucket scans that stopped at their cap (entries of the day window left unread).",
          c.capped_scans);
  counter("baotin_dedup_capped_lookups_total",
          "Near-duplicate look-ups that dropped candidates beyond the verification cap.", c.capped_lookups);
  return o;
}

static nlohmann::json status_json(Ingestor& ing, const Metrics& m) {
  nlohmann::json feeds = nlohmann::json::array();
  for (const auto& s : ing.feed_states()) {
    nlohmann::json f = to_json(s);
    f["url"] = redact_url(s.url);  // credentials in feed URLs stay out of /status
    f["last_error"] = redact_url(s.last_error);
    f["next_poll_iso"] = s.next_poll ? epoch_to_iso_vn(s.next_poll) : "";
    f["state"] = s.consecutive_failures > 0 ? "failing" : (s.last_success ? "ok" : "pending");
    feeds.push_back(std::move(f));
  }
  nlohmann::json health = nlohmann::json::object();
  for (const auto& [n, h] : m.health()) health[n] = h.to_json();
  return {{"feeds", feeds}, {"templates", health}, {"outstanding", ing.outstanding()}};
}

int run_serve(const ServeOptions& opts) {
  auto loaded = load_run_config(opts.config_path, opts.data_dir);
  if (!loaded) return 2;
  Config cfg = std::move(*loaded);
  setup_logging(cfg.log_level, cfg.log_format);

  // Signals are handled synchronously through a signalfd; block them before any thread starts.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) {
    spdlog::critical("signalfd: {}", std::strerror(errno));
    return 1;
  }

  Metrics metrics;
  std::shared_ptr<const TemplateRegistry> templates;
  {
    std::vector<TemplateError> terrs;
    size_t failed = 0;
    templates = reload_templates(cfg, TemplateRegistry(), terrs, &failed);
    metrics.template_load_errors += failed;
    std::error_code ec;
    spdlog::info("templates: {} loaded from {}", templates->all().size(),
                 std::filesystem::absolute(cfg.templates_dir, ec).lexically_normal().string());
  }
  // A template name in [sites] enabled / [[feeds]] site that nothing declares is a configuration error, as in
  // `baotin check` (a template file that exists but does not load was logged above and is skipped).
  if (auto unknown = unknown_template_names(cfg, *templates); !unknown.empty()) {
    for (const auto& e : unknown) spdlog::critical("config: {}", e.str());
    spdlog::critical("not starting: the config names templates that do not exist");
    ::close(sfd);
    return 2;
  }

  std::string err;
  StoreOptions so;
  so.path = cfg.data_dir;
  so.sync_writes = true;
  so.block_cache_mb = cfg.store_memory_mb();  // README "Storage": the store's share of daemon.memory_mb
  spdlog::info("memory budget {} MiB: store {} MiB (memtables up to {} MiB of it), rest of the daemon {} MiB",
               cfg.memory_budget_mb(), cfg.store_memory_mb(), cfg.store_memory_mb() / 4,
               cfg.memory_budget_mb() - std::min(cfg.memory_budget_mb(), cfg.store_memory_mb()));
  so.defer_dedup_rebuild = true;  // after READY=1, in the background (systemd's start timeout)
  auto store = Store::open(so, &err);
  if (!store) {
    spdlog::critical("cannot open store {}: {}", cfg.data_dir, err);
    return 1;
  }
  {
    std::error_code ec;
    auto abs = std::filesystem::weakly_canonical(std::filesystem::absolute(cfg.data_dir, ec), ec);
    const uint64_t seq = store->last_seq();
    if (seq == 0)
      spdlog::info("store: {} (new, empty)", abs.string());
    else
      spdlog::info("store: {} ({} changes recorded so far)", abs.string(), group_thousands(seq));
  }

  metrics.load_health(stored_health(*store));
  // [stream.nats]: the change log is published to NATS JetStream by its own thread (ingestion never waits on it).
  std::unique_ptr<NatsOutbox> outbox;
  if (cfg.stream_nats.enabled) {
    outbox = std::make_unique<NatsOutbox>(*store, cfg.stream_nats);
    metrics.add_exposition([&outbox] { return outbox->prometheus(); });
  }
  // The daemon's own endpoint is never fetched, whatever allow_private says (it would store /status).
  Fetcher fetcher(daemon_fetcher_config(cfg));
  Ingestor ing(cfg, *store, fetcher, metrics, templates);
  std::vector<FeedConfig> feeds = effective_feeds(cfg, *templates);
  metrics.set_configured_feeds(feeds);
  if (feeds.empty()) spdlog::warn("no feeds configured: nothing to poll (see [[feeds]] and [sites] in the config)");
  for (const auto& f : feeds) ing.feed_state(f.url);  // load persisted schedule: no burst after a restart
  // One-shot jobs (backfill, reprocess) handed over on the control socket, run beside polling (README "Jobs").
  JobRunner jobs(*store, ing, fetcher);
  ing.set_outcome_listener([&jobs](const IngestOutcome& o) { jobs.on_outcome(o); });
  std::unique_ptr<ControlServer> control;
  {
    std::string why;
    control = ControlServer::bind(control_socket_path(cfg.data_dir), &why);
    if (!control)
      spdlog::error("control socket: {}; `baotin backfill`/`reprocess` cannot hand jobs to this daemon", why);
  }

  uint64_t health_watchdog_usec = 0;  // the scheduler loop's heartbeat, for /healthz
  HealthState health(monotonic_seconds(), HealthState::stuck_after_for_watchdog(
                                              sd_watchdog_enabled(0, &health_watchdog_usec) > 0 ? health_watchdog_usec : 0));
  std::unique_ptr<HttpEndpoint> http;
  if (!cfg.metrics_listen.empty()) {
    std::string why;
    auto addr = parse_listen_address(cfg.metrics_listen, &why);  // validated by load_config
    if (addr) http = HttpEndpoint::bind(*addr, &why);
    if (!http) {
      spdlog::critical("metrics: cannot listen on {}: {}", cfg.metrics_listen, why);
      store->close();
      return 1;
    }
    if (!addr->loopback)
      spdlog::warn("metrics: listening on non-loopback {} (metrics_allow_remote): /status shows every feed and error",
                   cfg.metrics_listen);
    http->route("/metrics", [&] {
      return HttpResponse{200, "text/plain; version=0.0.4", metrics.prometheus() + dedup_prometheus(*store)};
    });
    http->route("/status", [&] {
      auto j = status_json(ing, metrics);
      j["store"] = store_status_json(*store);
      if (outbox) j["stream"] = outbox->status_json();
      j["jobs"] = jobs.active_jobs();
      return HttpResponse{200, "application/json", j.dump(2)};
    });
    // 503 while store writes fail (disk full, I/O error): nothing is being stored; or while the scheduler loop
    // has not ticked for HealthState::kStuckAfterSeconds: nothing is being polled.
    http->route("/healthz", [&] {
      const auto h = store->health();
      const auto v = health.check(monotonic_seconds(), h.ok, h.reason);
      return HttpResponse{v.status, "text/plain; charset=utf-8", v.body};
    });
    spdlog::info("metrics: http://{}/metrics and /status", cfg.metrics_listen);
    http->start();
  }

  uint64_t watchdog_usec = 0;
  bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0;
  if (outbox) outbox->start();
  jobs.start();
  if (control) {
    control->start([&jobs](ControlConnection& c, const nlohmann::json& req, const std::atomic<bool>& st) {
      jobs.handle(c, req, st);
    });
    spdlog::info("control socket: {} (jobs: `baotin backfill`, `baotin reprocess`, `baotin jobs`)",
                 control_socket_path(cfg.data_dir));
  }
  sd_notify(0, "READY=1");
  sd_notifyf(0, "STATUS=polling %zu feeds", feeds.size());
  {
    // What the daemon will do, and when: the first poll is the earliest persisted (or newly spread) next poll.
    int64_t first = 0;
    for (const auto& f : feeds) {
      const int64_t np = ing.feed_state(f.url).next_poll;
      if (!first || np < first) first = np;
    }
    const int64_t now = epoch_now();
    if (feeds.empty())
      spdlog::info("serving: no feeds to poll, {} templates, {} workers", templates->all().size(), cfg.workers);
    else
      spdlog::info("serving: {} feeds, {} templates, {} workers; first poll in {} s ({})",
                   group_thousands(feeds.size()), templates->all().size(), cfg.workers,
                   std::max<int64_t>(0, first - now), epoch_to_iso_vn(std::max(first, now)));
  }

  // Duplicate index rebuild (older format, or interrupted): after READY, so that a large store does not exceed
  // systemd's start timeout; resumable, so a restart continues it. Polling runs meanwhile; duplicate look-ups
  // see the part of the index rebuilt so far.
  std::atomic<bool> rebuild_stop{false};
  std::thread rebuild_thread;
  if (store->dedup_rebuild_progress().pending) {
    rebuild_thread = std::thread([&] {
      spdlog::info("store: rebuilding the duplicate index in the background ({} articles done before)",
                   store->dedup_rebuild_progress().indexed);
      try {
        if (store->continue_dedup_rebuild(&rebuild_stop))
          spdlog::info("store: duplicate index rebuilt ({} articles)", store->dedup_rebuild_progress().indexed);
        else
          spdlog::info("store: duplicate index rebuild paused at {} articles; continues on the next start",
                       store->dedup_rebuild_progress().indexed);
      } catch (const std::exception& e) {
        spdlog::error("store: duplicate index rebuild failed: {} (retried on the next start)", e.what());
      }
    });
  }
  double last_watchdog = 0, last_status = 0, last_health = monotonic_seconds();
  bool stop = false;
  double last_loop_error = -1e9;
  while (!stop) {
    double mono = monotonic_seconds();
    health.heartbeat(mono);
    try {
      // A store read error here (a damaged feeds family, say) must not end the daemon: it is logged (at most
      // every 10 s) and the loop keeps answering signals, the watchdog and the endpoint.
      const int64_t now = epoch_now();
      for (const auto& f : ing.due_feeds(feeds, now)) ing.poll_feed(f);
      ing.tick();
      if (mono - last_health >= 60) {
        persist_health(*store, metrics);
        last_health = mono;
      }
    } catch (const std::exception& e) {
      if (mono - last_loop_error >= 10) spdlog::error("scheduler: {} (continuing)", redact_url(e.what()));
      last_loop_error = mono;
    }
    if (watchdog && mono - last_watchdog >= watchdog_usec / 2e6) {
      sd_notify(0, "WATCHDOG=1");
      last_watchdog = mono;
    }
    if (mono - last_status >= 5) {
      store->try_recover();  // clears a write error once space is back (no-op when healthy)
      auto st = fetcher.stats();
      metrics.queue_fetch = static_cast<int64_t>(st.queued + st.in_flight);
      sd_notifyf(0, "STATUS=%zu feeds; articles new %llu updated %llu duplicate %llu failed %llu; queue %zu",
                 feeds.size(), (unsigned long long)metrics.articles_new.load(),
                 (unsigned long long)metrics.articles_updated.load(),
                 (unsigned long long)metrics.articles_duplicate.load(),
                 (unsigned long long)metrics.articles_failed.load(), st.queued + st.in_flight);
      last_status = mono;
    }
    pollfd pfd{sfd, POLLIN, 0};
    if (::poll(&pfd, 1, 250) > 0) {
      signalfd_siginfo si;
      while (::read(sfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGHUP) {
          sd_notify(0, "RELOADING=1");
          Config next;
          std::vector<TemplateError> e2;
          if (!load_config(opts.config_path, next, e2)) {
            for (const auto& e : e2) spdlog::error("reload: {}", e.str());
            spdlog::error("reload: configuration invalid, keeping the running one");
          } else {
            if (!opts.data_dir.empty()) next.data_dir = opts.data_dir;
            // Every setting that can change while running does; the others keep their running value and are
            // named (they take effect on the next start).
            std::vector<std::string> applied, restart;
            for (const auto& c : changed_settings(cfg, next)) (c.needs_restart ? restart : applied).push_back(c.name);
            next.data_dir = cfg.data_dir;
            next.workers = cfg.workers;
            next.metrics_listen = cfg.metrics_listen;
            next.metrics_allow_remote = cfg.metrics_allow_remote;
            next.memory_mb = cfg.memory_mb;
            next.block_cache_mb = cfg.block_cache_mb;
            next.stream_nats = cfg.stream_nats;
            std::vector<TemplateError> terrs;
            size_t failed = 0;
            auto t = reload_templates(next, *templates, terrs, &failed);
            metrics.template_load_errors += failed;
            if (auto unknown = unknown_template_names(next, *t); !unknown.empty()) {
              // As at start: a name nothing declares is a typo; the running config (and templates) stay.
              for (const auto& e : unknown) spdlog::error("reload: {}", e.str());
              spdlog::error("reload: the config names templates that do not exist; keeping the running config");
              sd_notify(0, "READY=1");
              continue;
            }
            std::string why;
            if (!fetcher.reconfigure(daemon_fetcher_config(next), &why)) {
              spdlog::error("reload: [fetch]: {}; keeping the running fetch settings", why);
              next.fetch = cfg.fetch;
            }
            setup_logging(next.log_level, next.log_format);
            ing.reconfigure(next);
            ing.set_templates(t);
            feeds = effective_feeds(next, *t);
            for (const auto& f : feeds) ing.feed_state(f.url);
            metrics.set_configured_feeds(feeds);
            templates = t;
            cfg = std::move(next);
            auto join = [](const std::vector<std::string>& v) {
              std::string out;
              for (const auto& n : v) out += (out.empty() ? "" : ", ") + n;
              return out;
            };
            spdlog::info("reload: {} feeds, {} templates; changed: {}", group_thousands(feeds.size()), t->all().size(),
                         applied.empty() ? std::string("no settings") : join(applied));
            if (!restart.empty())
              spdlog::warn("reload: {} changed but need a restart; running with the previous value until then",
                           join(restart));
          }
          sd_notify(0, "READY=1");
        } else {
          spdlog::info("received {}, draining in-flight work", strsignal(static_cast<int>(si.ssi_signo)));
          stop = true;
        }
      }
    }
  }

  sd_notify(0, "STOPPING=1");
  rebuild_stop = true;  // the rebuild pauses after its current chunk and continues on the next start
  if (control) control->stop();  // progress streams end; clients say the job resumes
  jobs.stop();                    // a running job stops at its next checkpoint and resumes on the next start
  try {
    ing.stop_accepting();
    ing.tick();  // drops pending retries
    // Bounded drain: work that has not started is not started (see Ingestor::stop_accepting), and since a
    // result that arrives from now on is not processed either, transfers in flight are cancelled at once.
    // A page being extracted or stored by a worker finishes (finish() joins the workers).
    fetcher.shutdown(false);
    if (!ing.wait_idle(10)) spdlog::warn("shutdown: work still outstanding after 10s");
    ing.finish();
    spdlog::info("shutdown: {}", ing.shutdown_summary());
    persist_health(*store, metrics);
  } catch (const std::exception& e) {
    spdlog::error("shutdown: {}", redact_url(e.what()));
  }
  if (rebuild_thread.joinable()) rebuild_thread.join();
  if (outbox) outbox->stop();  // waits for the acks of a batch in flight (publish_timeout_ms at most)
  if (http) http->stop();
  store->close();
  ::close(sfd);
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace baotin
