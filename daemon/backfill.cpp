#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "core/canonical.h"
#include "core/date.h"
#include "core/text.h"
#include "core/url.h"
#include "daemon/config.h"
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
    if (depth > 4 || !seen_maps.insert(url).second) return;
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

int run_backfill(const BackfillOptions& opts) {
  auto loaded = load_run_config(opts.config_path, opts.data_dir);
  if (!loaded) return 2;
  Config cfg = std::move(*loaded);
  setup_logging(cfg.log_level == "info" ? "warn" : cfg.log_level, cfg.log_format);  // progress lines replace per-article logs

  auto templates = load_templates(cfg, true);
  auto tpl = templates->by_name(opts.site);
  if (!tpl) {
    std::fprintf(stderr, "backfill: no template named '%s' in %s\n", opts.site.c_str(), cfg.templates_dir.c_str());
    return 2;
  }
  auto from = bound(opts.from, false), to = bound(opts.to, true);
  if ((!opts.from.empty() && !from) || (!opts.to.empty() && !to)) {
    std::fprintf(stderr, "backfill: cannot read --from/--to dates (use YYYY-MM-DD)\n");
    return 2;
  }
  std::string err;
  StoreOptions so;  // the daemon's defaults (raw pages in blob files); named fields, not positional
  so.path = cfg.data_dir;
  so.block_cache_mb = cfg.store_memory_mb();
  auto store = Store::open(so, &err);
  if (!store) {
    std::fprintf(stderr, "backfill: cannot open store %s: %s\n(is `baotin serve` running on it? stop it or use another --data-dir)\n",
                 cfg.data_dir.c_str(), err.c_str());
    return 1;
  }
  Fetcher fetcher(cfg.fetch);

  std::vector<std::string> urls;
  if (!opts.urls_file.empty()) {
    std::ifstream file;
    if (opts.urls_file != "-") file.open(opts.urls_file);  // "-": stdin
    std::istream& in = opts.urls_file == "-" ? std::cin : file;
    if (!in) {
      std::fprintf(stderr, "backfill: cannot read %s\n", opts.urls_file.c_str());
      return 2;
    }
    for (std::string line; std::getline(in, line);) {
      std::string u(trim(line));
      if (!u.empty() && u[0] != '#') urls.push_back(u);
    }
  } else {
    std::vector<std::string> maps;
    if (!opts.sitemap.empty()) maps.push_back(opts.sitemap);
    else maps = tpl->sitemaps;
    if (maps.empty()) {
      std::fprintf(stderr, "backfill: template '%s' lists no sitemaps; give --urls or --sitemap\n", opts.site.c_str());
      return 2;
    }
    SitemapWalk w{fetcher, from, to, {}, {}, 0};
    for (const auto& m : maps) w.walk(m, 0);
    urls = std::move(w.urls);
    if (urls.empty() && w.errors) {
      std::fprintf(stderr, "backfill: no URLs: every sitemap failed\n");
      return 1;
    }
  }

  Metrics metrics;
  // Re-visits are serve's work: a backfill starts none, and the archive pages it stores get no schedule.
  Config ingest_cfg = cfg;
  ingest_cfg.revisit.after_s.clear();
  Ingestor ing(ingest_cfg, *store, fetcher, metrics, templates);
  std::atomic<size_t> done{0}, failed{0}, skipped_known{0};
  ing.set_outcome_listener([&](const IngestOutcome& o) {
    ++done;
    if (o.kind == "failed") {
      ++failed;
      std::fprintf(stderr, "backfill: FAILED %s: %s\n", redact_url(o.url).c_str(), redact_url(o.error).c_str());
    }
  });
  size_t queued = 0;
  std::set<std::string> unique;
  for (const auto& u : urls) {
    if (!unique.insert(u).second) continue;
    if (!tpl->is_article_url(url_key(u))) continue;  // URL rules: on the canonical form
    // Known, also under the outlet's current domain?
    if (!opts.refetch && find_known(u, tpl->outlet(), [&](const std::string& k) { return store->id_for_url(k); })) {
      ++skipped_known;
      continue;
    }
    // The ingestor bounds outstanding URLs (max_queued_articles): wait for room rather than lose the URL.
    Ingestor::QueueResult qr;
    while ((qr = ing.ingest_url(u, "", tpl->name, opts.refetch)) == Ingestor::QueueResult::Full) {
      ing.tick();
      ing.wait_idle(0.2);
    }
    if (qr != Ingestor::QueueResult::Queued) continue;  // the same article under another URL is in flight
    ++queued;
  }
  std::fprintf(stderr, "backfill %s: %zu URLs to fetch (%zu already stored, %zu listed)\n", opts.site.c_str(), queued,
               skipped_known.load(), urls.size());
  double start = monotonic_seconds();
  while (!ing.wait_idle(1.0)) {
    ing.tick();
    std::fprintf(stderr, "backfill: %zu/%zu done, new %llu, updated %llu, duplicate %llu, failed %zu, %.1f pages/s\n",
                 done.load(), queued, (unsigned long long)metrics.articles_new.load(),
                 (unsigned long long)metrics.articles_updated.load(),
                 (unsigned long long)metrics.articles_duplicate.load(), failed.load(),
                 done.load() / std::max(1e-3, monotonic_seconds() - start));
  }
  ing.finish();
  fetcher.shutdown(true);
  std::fprintf(stderr, "backfill: finished: %zu/%zu done, new %llu, updated %llu, unchanged %llu, duplicate %llu, failed %zu\n",
               done.load(), queued, (unsigned long long)metrics.articles_new.load(),
               (unsigned long long)metrics.articles_updated.load(),
               (unsigned long long)metrics.articles_unchanged.load(),
               (unsigned long long)metrics.articles_duplicate.load(), failed.load());
  store->close();
  return failed ? 1 : 0;
}

}  // namespace baotin
