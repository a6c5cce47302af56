#include "daemon/backfill.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "core/canonical.h"
#include "core/date.h"
#include "core/text.h"
#include "core/url.h"
#include "daemon/commands.h"
#include "daemon/config.h"
#include "daemon/control.h"
#include "daemon/metrics.h"
#include "daemon/pipeline.h"
#include "daemon/service.h"
#include "core/date.h"
#include "core/identity.h"
#include "core/text.h"
#include "feed/sitemap.h"

namespace baotin {

namespace {

// Date bound as epoch seconds: "YYYY-MM-DD" or anything normalize_date accepts. end_of_day for --to.
std::optional<int64_t> bound(const std::string& s, bool end_of_day) {
  if (s.empty()) return std::nullopt;
  auto iso = normalize_date(s);
  if (!iso) return std::nullopt;
  auto e = iso_to_epoch(*iso);
  if (e && end_of_day && s.size() <= 10) *e += 86399;
  return e;
}

struct SitemapWalk {
  Fetcher& fetcher;
  const std::atomic<bool>* stop;
  std::optional<int64_t> from, to;
  std::vector<std::string> urls;
  std::set<std::string> seen_maps;
  int errors = 0;

  bool in_range(const std::string& date) const {
    if (!from && !to) return true;
    if (date.empty()) return true;  // undated entries are kept: better one fetch too many than a lost article
    auto iso = normalize_date(date);
    auto e = iso ? iso_to_epoch(*iso) : std::nullopt;
    if (!e) return true;
    return (!from || *e >= *from) && (!to || *e <= *to);
  }

  void walk(const std::string& url, int depth) {
    if (depth > 4 || (stop && *stop) || !seen_maps.insert(url).second) return;
    FetchRequest req;
    req.url = url;
    FetchResult r = fetcher.fetch(std::move(req));
    if (!r.ok()) {
      ++errors;
      spdlog::error("sitemap {}: {}", redact_url(url),
                    r.error.empty() ? "HTTP " + std::to_string(r.status) : redact_url(r.error));
      return;
    }
    ParsedSitemap sm = parse_sitemap(r.body);
    if (!sm.error.empty() && sm.entries.empty()) {
      ++errors;
      spdlog::error("sitemap {}: {}", redact_url(url), sm.error);
      return;
    }
    for (const auto& e : sm.entries) {
      if (sm.is_index) {
        // A child sitemap modified before the range cannot hold articles of the range.
        if (from && !e.lastmod.empty()) {
          auto iso = normalize_date(e.lastmod);
          auto t = iso ? iso_to_epoch(*iso) : std::nullopt;
          if (t && *t < *from) continue;
        }
        walk(e.loc, depth + 1);
      } else if (in_range(!e.news_published.empty() ? e.news_published : e.lastmod)) {
        urls.push_back(e.loc);
      }
    }
  }
};

}  // namespace

nlohmann::json BackfillSpec::to_json() const {
  return {{"site", site}, {"sitemap", sitemap}, {"from", from}, {"to", to}, {"refetch", refetch}, {"urls_given", urls_given}};
}

BackfillSpec BackfillSpec::from_json(const nlohmann::json& j) {
  BackfillSpec s;
  if (!j.is_object()) return s;
  s.site = j.value("site", "");
  s.sitemap = j.value("sitemap", "");
  s.from = j.value("from", "");
  s.to = j.value("to", "");
  s.refetch = j.value("refetch", false);
  s.urls_given = j.value("urls_given", false);
  return s;
}

std::optional<std::string> check_backfill_spec(const BackfillSpec& spec, const TemplateRegistry& templates) {
  auto tpl = templates.by_name(spec.site);
  if (!tpl) return "no template named '" + spec.site + "'";
  if ((!spec.from.empty() && !bound(spec.from, false)) || (!spec.to.empty() && !bound(spec.to, true)))
    return "cannot read --from/--to dates (use YYYY-MM-DD)";
  if (!spec.urls_given && spec.sitemap.empty() && tpl->sitemaps.empty())
    return "template '" + spec.site + "' lists no sitemaps; give --urls or --sitemap";
  return std::nullopt;
}

std::optional<std::vector<std::string>> backfill_urls(const BackfillSpec& spec, const SiteTemplate& tpl,
                                                      Fetcher& fetcher, std::vector<std::string> given,
                                                      std::string* error, const std::atomic<bool>* stop) {
  std::vector<std::string> urls;
  if (spec.urls_given) {
    urls = std::move(given);
  } else {
    std::vector<std::string> maps;
    if (!spec.sitemap.empty()) maps.push_back(spec.sitemap);
    else maps = tpl.sitemaps;
    SitemapWalk w{fetcher, stop, bound(spec.from, false), bound(spec.to, true), {}, {}, 0};
    for (const auto& m : maps) w.walk(m, 0);
    if (stop && *stop) {
      if (error) *error = "stopped";
      return std::nullopt;
    }
    urls = std::move(w.urls);
    if (urls.empty() && w.errors) {
      if (error) *error = "no URLs: every sitemap failed";
      return std::nullopt;
    }
  }
  // Sorted: a resumed job lists the same URLs in the same order, and its cursor (an index) still applies.
  std::sort(urls.begin(), urls.end());
  urls.erase(std::unique(urls.begin(), urls.end()), urls.end());
  return urls;
}

void BackfillRun::snapshot() {
  std::lock_guard lk(mu_);
  snapshot_locked();
}

void BackfillRun::snapshot_locked() {
  if (!job_.progress.is_object()) job_.progress = nlohmann::json::object();
  job_.progress["listed"] = listed_;
  job_.progress["skipped_known"] = skipped_;
  job_.progress["queued"] = queued_;
  job_.progress["done"] = done_;
  job_.progress["stored"] = stored_;
  job_.progress["failed"] = failed_;
  std::vector<size_t> in_flight = redo_;  // not queued again yet: still to do
  for (const auto& [u, i] : in_flight_) in_flight.push_back(i);
  std::sort(in_flight.begin(), in_flight.end());
  in_flight.erase(std::unique(in_flight.begin(), in_flight.end()), in_flight.end());
  job_.cursor = nlohmann::json{{"next", next_}, {"in_flight", in_flight}}.dump();
}

void BackfillRun::on_outcome(const IngestOutcome& o) {
  std::lock_guard lk(mu_);
  auto it = in_flight_.find(o.url);
  if (it == in_flight_.end()) return;
  in_flight_.erase(it);
  ++done_;
  if (o.stored) ++stored_;
  if (o.kind == "failed") {
    ++failed_;
    if (print_failures_)
      std::fprintf(stderr, "backfill: FAILED %s: %s\n", redact_url(o.url).c_str(), redact_url(o.error).c_str());
    else
      spdlog::warn("backfill job {}: FAILED {}: {}", job_.id, redact_url(o.url), redact_url(o.error));
  }
  cv_.notify_all();
}

bool BackfillRun::run(const std::vector<std::string>& urls, const std::atomic<bool>& stop, bool drive,
                      size_t max_outstanding, const std::function<void(Job&)>& checkpoint) {
  auto n = [&](const char* k) {
    return job_.progress.contains(k) && job_.progress[k].is_number() ? job_.progress[k].get<uint64_t>() : uint64_t{0};
  };
  {
    std::lock_guard lk(mu_);
    skipped_ = n("skipped_known");
    done_ = n("done");
    queued_ = done_;  // URLs in flight when a run stopped were not settled: they are queued (and counted) again
    stored_ = n("stored");
    failed_ = n("failed");
    listed_ = urls.size();
    next_ = 0;
    redo_.clear();
    if (!job_.cursor.empty()) {
      auto c = nlohmann::json::parse(job_.cursor, nullptr, false);
      if (c.is_number_unsigned()) next_ = std::min<size_t>(urls.size(), c.get<size_t>());  // a plain index
      if (c.is_object()) {
        next_ = std::min<size_t>(urls.size(), c.value("next", size_t{0}));
        if (c.contains("in_flight") && c["in_flight"].is_array())
          for (const auto& i : c["in_flight"])
            if (i.is_number_unsigned() && i.get<size_t>() < next_) redo_.push_back(i.get<size_t>());
        std::reverse(redo_.begin(), redo_.end());  // taken from the back: lowest first
      }
    }
  }
  double last_checkpoint = monotonic_seconds();
  auto maybe_checkpoint = [&](bool force) {
    if (!force && monotonic_seconds() - last_checkpoint < 1.0) return;
    last_checkpoint = monotonic_seconds();
    {
      std::lock_guard lk(mu_);
      snapshot_locked();
    }
    checkpoint(job_);
  };
  auto wait_a_bit = [&] {
    if (drive) {
      ing_.tick();
      ing_.wait_idle(0.2);
    } else {
      std::unique_lock lk(mu_);
      cv_.wait_for(lk, std::chrono::milliseconds(200));
    }
  };
  while (!stop) {
    size_t i;
    bool redo = false;
    {
      std::lock_guard lk(mu_);
      if (!redo_.empty()) {
        i = redo_.back();
        redo = true;
      } else if (next_ >= urls.size()) {
        break;
      } else {
        i = next_;
      }
    }
    const std::string& u = urls[i];
    bool skip = !tpl_.is_article_url(url_key(u));  // URL rules: on the canonical form
    // Known, also under the outlet's current domain?
    if (!skip && !spec_.refetch && find_known(u, tpl_.outlet(), [&](const std::string& k) { return store_.id_for_url(k); })) {
      std::lock_guard lk(mu_);
      ++skipped_;
      skip = true;
    }
    if (!skip) {
      // Room: the ingestor bounds outstanding URLs (max_queued_articles); a daemon's job leaves room for feeds.
      if (!drive && ing_.outstanding() >= max_outstanding) {
        wait_a_bit();
        maybe_checkpoint(false);
        continue;
      }
      {
        std::lock_guard lk(mu_);
        in_flight_[u] = i;  // before queueing: the outcome may come at once
      }
      const Ingestor::QueueResult qr = ing_.ingest_url(u, "", tpl_.name, spec_.refetch, job_.id);
      if (qr == Ingestor::QueueResult::Full) {
        {
          std::lock_guard lk(mu_);
          in_flight_.erase(u);
        }
        wait_a_bit();
        maybe_checkpoint(false);
        continue;
      }
      std::lock_guard lk(mu_);
      if (qr == Ingestor::QueueResult::Queued) ++queued_;
      else in_flight_.erase(u);  // the same article under another URL is in flight, or the ingestor stops
      if (qr == Ingestor::QueueResult::Stopped) break;  // not settled: stays in the cursor (next / redo)
    }
    {
      std::lock_guard lk(mu_);
      if (redo) redo_.pop_back();
      else ++next_;
    }
    maybe_checkpoint(false);
  }
  // Every queued URL settled?
  for (;;) {
    {
      std::lock_guard lk(mu_);
      if (in_flight_.empty()) break;
    }
    if (stop) {
      maybe_checkpoint(true);
      return false;
    }
    wait_a_bit();
    maybe_checkpoint(false);
  }
  maybe_checkpoint(true);
  std::lock_guard lk(mu_);
  return next_ >= urls.size() && redo_.empty();
}

std::string backfill_progress_line(const nlohmann::json& p, double rate) {
  auto n = [&](const char* k) { return p.contains(k) && p[k].is_number() ? p[k].get<uint64_t>() : uint64_t{0}; };
  std::string s = group_thousands(n("done")) + "/" + group_thousands(n("queued")) + " fetched (" +
                  group_thousands(n("listed")) + " listed, " + group_thousands(n("skipped_known")) +
                  " already stored), " + group_thousands(n("stored")) + " stored, " + group_thousands(n("failed")) +
                  " failed";
  if (rate > 0) {
    char buf[48];
    std::snprintf(buf, sizeof buf, ", %.1f pages/s", rate);
    s += buf;
  }
  return s;
}

int run_backfill(const BackfillOptions& opts) {
  auto loaded = load_run_config(opts.config_path, opts.data_dir);
  if (!loaded) return 2;
  Config cfg = std::move(*loaded);
  setup_logging(cfg.log_level == "info" ? "warn" : cfg.log_level, cfg.log_format);  // progress lines replace per-article logs

  BackfillSpec spec;
  spec.site = opts.site;
  spec.sitemap = opts.sitemap;
  spec.from = opts.from;
  spec.to = opts.to;
  spec.refetch = opts.refetch;
  spec.urls_given = !opts.urls_file.empty();
  std::vector<std::string> given;
  if (spec.urls_given) {
    std::ifstream file;
    if (opts.urls_file != "-") file.open(opts.urls_file);  // "-": stdin
    std::istream& in = opts.urls_file == "-" ? std::cin : file;
    if (!in) {
      std::fprintf(stderr, "backfill: cannot read %s\n", opts.urls_file.c_str());
      return 2;
    }
    for (std::string line; std::getline(in, line);) {
      std::string u(trim(line));
      if (!u.empty() && u[0] != '#') given.push_back(u);
    }
  }

  // A daemon holds the store: hand the job over (it runs beside feed polling) and show its progress.
  if (Store::in_use(cfg.data_dir)) return hand_over_job(cfg.data_dir, "backfill", spec.to_json(), given, opts.detach);

  auto templates = load_templates(cfg, true);
  if (auto why = check_backfill_spec(spec, *templates)) {
    std::fprintf(stderr, "backfill: %s\n", why->c_str());
    return 2;
  }
  auto tpl = templates->by_name(spec.site);
  std::string err;
  auto store = open_run_store(cfg, "backfill");
  if (!store) return 1;
  Fetcher fetcher(cfg.fetch);
  auto urls = backfill_urls(spec, *tpl, fetcher, std::move(given), &err);
  if (!urls) {
    std::fprintf(stderr, "backfill: %s\n", err.c_str());
    return 1;
  }

  Metrics metrics;
  // Re-visits are serve's work: a backfill starts none, and the archive pages it stores get no schedule.
  Config ingest_cfg = cfg;
  ingest_cfg.revisit.after_s.clear();
  Ingestor ing(ingest_cfg, *store, fetcher, metrics, templates);
  Job job;  // not persisted: an in-process backfill is continued by running it again (stored URLs are skipped)
  job.kind = "backfill";
  job.spec = spec.to_json();
  job.id = 1;
  BackfillRun run(ing, *store, *tpl, spec, job, /*print_failures=*/true);
  ing.set_outcome_listener([&](const IngestOutcome& o) {
    if (o.job == job.id) run.on_outcome(o);
  });
  std::atomic<bool>& g_stop = cli::install_stop_handlers();
  const double start = monotonic_seconds();
  double last_line = start;
  bool announced = false;
  const bool complete = run.run(*urls, g_stop, true, 0, [&](Job& j) {
    auto n = [&](const char* k) { return j.progress.value(k, uint64_t{0}); };
    if (!announced) {
      std::fprintf(stderr, "backfill %s: %zu URLs listed\n", spec.site.c_str(), urls->size());
      announced = true;
    }
    if (monotonic_seconds() - last_line >= 1.0) {
      last_line = monotonic_seconds();
      std::fprintf(stderr, "backfill: %s\n",
                   backfill_progress_line(j.progress, n("done") / std::max(1e-3, monotonic_seconds() - start)).c_str());
    }
  });
  if (complete) {
    ing.wait_idle(0);
    ing.finish();
    fetcher.shutdown(true);
  } else {  // Ctrl-C: as serve stops (pending retries dropped, transfers cancelled, pages being stored finish)
    ing.stop_accepting();
    ing.tick();
    fetcher.shutdown(false);
    ing.wait_idle(10);
    ing.finish();
  }
  run.snapshot();  // outcomes that came while the ingestor drained
  auto n = [&](const char* k) { return job.progress.value(k, uint64_t{0}); };
  std::fprintf(stderr,
               "backfill: %s: %llu/%llu done, new %llu, updated %llu, unchanged %llu, duplicate %llu, failed %llu "
               "; %llu URLs to fetch (%llu already stored, %zu listed)\n",
               complete ? "finished" : "interrupted (run it again to continue: stored URLs are skipped)",
               (unsigned long long)n("done"), (unsigned long long)n("queued"),
               (unsigned long long)metrics.articles_new.load(), (unsigned long long)metrics.articles_updated.load(),
               (unsigned long long)metrics.articles_unchanged.load(),
               (unsigned long long)metrics.articles_duplicate.load(), (unsigned long long)n("failed"),
               (unsigned long long)n("queued"), (unsigned long long)n("skipped_known"), urls->size());
  store->close();
  return n("failed") || !complete ? 1 : 0;
}

}  // namespace baotin
