#include "daemon/cli.h"

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/identity.h"
#include "daemon/config.h"
#include "daemon/metrics.h"
#include "daemon/service.h"
#include "parse/date.h"
#include "parse/extract.h"
#include "parse/feed.h"
#include "parse/url.h"
#include "store/diff.h"
#include "store/export.h"
#include "store/store.h"

namespace baotin {

namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

// Read-only view of a store that a running daemon may hold open.
std::unique_ptr<Store> open_reader(const std::string& db) {
  if (!std::filesystem::exists(std::filesystem::path(db) / "CURRENT")) {
    std::fprintf(stderr, "no baotin store at %s\n", db.c_str());
    return nullptr;
  }
  std::string scratch = (std::filesystem::temp_directory_path() /
                         ("baotin-reader-" + std::to_string(::getpid())))
                            .string();
  std::string err;
  auto s = Store::open_secondary(db, scratch, &err);
  if (!s) std::fprintf(stderr, "cannot open store %s: %s\n", db.c_str(), err.c_str());
  return s;
}

void cleanup_reader() {
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::temp_directory_path() / ("baotin-reader-" + std::to_string(::getpid())), ec);
}

int cmd_extract(const std::string& site, const std::string& file, std::string url, const std::string& templates_dir,
                bool no_generic) {
  std::string bytes;
  if (!read_file(file, bytes)) {
    std::fprintf(stderr, "extract: cannot read %s\n", file.c_str());
    return 2;
  }
  TemplateRegistry reg;
  std::vector<TemplateError> errs;
  reg.load_dir(templates_dir, errs);
  for (const auto& e : errs) std::fprintf(stderr, "%s\n", e.str().c_str());
  auto t = site.empty() ? nullptr : reg.by_name(site);
  if (!site.empty() && !t) {
    std::fprintf(stderr, "extract: no template named '%s' in %s\n", site.c_str(), templates_dir.c_str());
    return 2;
  }
  if (url.empty()) url = t ? "https://" + t->hosts.front() + "/" : "https://example.invalid/";
  ExtractOptions eo;
  eo.templates = &reg;
  eo.site = site;
  eo.allow_generic = !no_generic;
  Article a = extract_article(bytes, url, "", eo);
  std::cout << to_json(a).dump(2) << "\n";
  return a.body.empty() ? 1 : 0;
}

int cmd_check(const std::string& config_path, const std::string& db) {
  Config cfg;
  std::vector<TemplateError> errs;
  bool ok = load_config(config_path, cfg, errs);
  TemplateRegistry reg;
  if (ok) reg.load_dir(cfg.templates_dir, errs);
  for (const auto& e : errs) std::printf("%s\n", e.str().c_str());
  if (!ok) {
    std::printf("config: INVALID\n");
    return 1;
  }
  for (const auto& f : cfg.feeds)
    if (!f.site.empty() && !reg.by_name(f.site))
      errs.push_back({config_path, 0, "feed " + redact_url(f.url) + ": unknown site '" + f.site + "'"}),
          std::printf("%s\n", errs.back().str().c_str());
  for (const auto& name : cfg.sites)
    if (!reg.by_name(name))
      errs.push_back({config_path, 0, "sites.enabled: unknown template '" + name + "'"}),
          std::printf("%s\n", errs.back().str().c_str());
  auto feeds = effective_feeds(cfg, reg);
  std::printf("config: %s ok; %zu templates, %zu feeds\n", config_path.c_str(), reg.all().size(), feeds.size());
  for (const auto& t : reg.all())
    std::printf("  template %-14s rev %-3d hosts %-28s feeds %zu\n", t->name.c_str(), t->revision,
                t->hosts.front().c_str(), t->feeds.size());
  // Template health as recorded by the daemon.
  std::string dbdir = db.empty() ? cfg.data_dir : db;
  int degraded = 0;
  if (std::filesystem::exists(std::filesystem::path(dbdir) / "CURRENT")) {
    if (auto store = open_reader(dbdir)) {
      if (auto s = store->get_meta("template_health")) {
        try {
          auto j = nlohmann::json::parse(*s);
          std::printf("template health (%s):\n", dbdir.c_str());
          for (auto& [n, hj] : j.items()) {
            TemplateHealth h = TemplateHealth::from_json(hj);
            std::printf("  %-14s %s pages %llu, empty %llu, short %llu, generic %llu, recent bad %.0f%%\n", n.c_str(),
                        h.degraded ? "DEGRADED" : "ok      ", (unsigned long long)h.pages,
                        (unsigned long long)h.empty_body, (unsigned long long)h.short_body,
                        (unsigned long long)h.generic_fallback, 100 * h.recent_bad_ratio());
            if (h.degraded) ++degraded;
          }
        } catch (const std::exception& e) {
          std::printf("template health unreadable: %s\n", e.what());
        }
      }
      cleanup_reader();
    }
  }
  if (degraded) std::printf("%d template(s) degraded: their recent pages come out empty or short\n", degraded);
  return errs.empty() && degraded == 0 ? 0 : 1;
}

int cmd_parse_feed(const std::string& file, const std::string& content_type, const std::string& base) {
  std::string bytes;
  if (!read_file(file, bytes)) {
    std::fprintf(stderr, "parse-feed: cannot read %s\n", file.c_str());
    return 2;
  }
  ParsedFeed f = parse_feed(bytes, content_type, base);
  std::cout << feed_to_oracle_json(f).dump(2) << "\n";
  return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"baotin: Vietnamese news ingestion daemon (RSS/Atom -> clean article records in RocksDB)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "baotin 0.1.0");

  ServeOptions serve;
  auto* s = app.add_subcommand("serve", "Run the daemon: poll feeds, fetch, extract and store articles");
  s->add_option("--config,-c", serve.config_path, "Config file (TOML)")->required()->check(CLI::ExistingFile);
  s->add_option("--data-dir", serve.data_dir, "RocksDB directory (overrides [daemon].data_dir)");

  BackfillOptions bf;
  auto* b = app.add_subcommand("backfill", "One-shot: fetch and store a site's articles from URLs or sitemaps");
  b->add_option("--config,-c", bf.config_path, "Config file (TOML)")->required()->check(CLI::ExistingFile);
  b->add_option("--data-dir", bf.data_dir, "RocksDB directory (overrides [daemon].data_dir)");
  b->add_option("--site", bf.site, "Template name (sites/NAME.toml)")->required();
  auto* urls = b->add_option("--urls", bf.urls_file, "File with one article URL per line")->check(CLI::ExistingFile);
  auto* sm = b->add_option("--sitemap", bf.sitemap, "Sitemap or sitemap index URL");
  b->add_option("--from", bf.from, "Only articles published on or after this date (YYYY-MM-DD)");
  b->add_option("--to", bf.to, "Only articles published on or before this date (YYYY-MM-DD)");
  b->add_flag("--refetch", bf.refetch, "Fetch URLs that are already stored too (new version if changed)");
  urls->excludes(sm);

  std::string db, format = "jsonl", out_file, site;
  uint64_t since = 0;
  bool versions = false, one_per_cluster = false;
  auto* e = app.add_subcommand("export", "Write stored records as JSONL or CSV (safe while serve runs)");
  e->add_option("--db", db, "RocksDB directory")->required();
  e->add_option("--format", format, "jsonl or csv")->check(CLI::IsMember({"jsonl", "csv"}));
  // A cursor is a change-log sequence number: decimal digits only (CLI11 alone would wrap "-1" to 2^64-1).
  e->add_option("--since", since, "Change-log cursor: only records changed after it (printed by the last export)")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos)
              return "--since takes a change-log cursor (a non-negative integer printed by the last export), got '" +
                     v + "'";
            return "";
          },
          "CURSOR"));
  e->add_option("--site", site, "Only this site");
  e->add_option("--out,-o", out_file, "Output file (default: stdout)");
  e->add_flag("--versions", versions, "Every version, not only the latest");
  e->add_flag("--one-per-cluster", one_per_cluster, "Leave out copies of stories already exported (duplicates)");

  std::string x_site, x_file, x_url, x_templates = std::string(BAOTIN_SOURCE_DIR) + "/sites";
  bool x_no_generic = false;
  auto* x = app.add_subcommand("extract", "Extract one saved HTML page and print the record as JSON");
  x->add_option("--site", x_site, "Template name (default: chosen by --url's host)");
  x->add_option("--url", x_url, "The page's URL (resolves links, picks the template)");
  x->add_option("--templates", x_templates, "Template directory");
  x->add_flag("--no-generic", x_no_generic, "Template only: no generic fallback");
  x->add_option("file", x_file, "HTML file")->required()->check(CLI::ExistingFile);

  std::string c_config, c_db;
  auto* c = app.add_subcommand("check", "Validate the config and every template; show template health");
  c->add_option("--config,-c", c_config, "Config file (TOML)")->required()->check(CLI::ExistingFile);
  c->add_option("--db", c_db, "Store whose template health to show (default: the config's data_dir)");

  std::string pf_file, pf_ct, pf_base;
  auto* pf = app.add_subcommand("parse-feed", "Parse an RSS/Atom file and print it as JSON");
  pf->add_option("file", pf_file, "Feed file")->required()->check(CLI::ExistingFile);
  pf->add_option("--content-type", pf_ct, "HTTP Content-Type to assume (charset)");
  pf->add_option("--base", pf_base, "Base URL for relative links");

  std::string d_id;
  uint32_t d_from = 0, d_to = 0;
  auto* d = app.add_subcommand("diff", "Show what changed between versions of an article");
  d->add_option("--db", db, "RocksDB directory")->required();
  d->add_option("id", d_id, "Article id (or a URL of the article)")->required();
  d->add_option("--from", d_from, "Older version (default: each consecutive pair)");
  d->add_option("--to", d_to, "Newer version");
  std::string d_templates = std::string(BAOTIN_SOURCE_DIR) + "/sites";
  d->add_option("--templates", d_templates, "Template directory, for URLs on an outlet's former domain (host_aliases)");

  auto* fd = app.add_subcommand("feeds", "List feed states: next poll, interval, failures, last error");
  fd->add_option("--db", db, "RocksDB directory")->required();

  auto* v = app.add_subcommand("verify", "Check the store's consistency (checksums, records, versions, change log, indexes)");
  v->add_option("--db", db, "RocksDB directory")->required();
  bool salvage_wal = false;
  v->add_flag("--salvage-wal", salvage_wal,
              "Damaged WAL: keep a copy of it, recover the store up to the damage (drops what follows), then verify "
              "(needs the daemon stopped)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& err) {
    return app.exit(err);
  }

  if (*s) return run_serve(serve);
  if (*b) {
    if (bf.urls_file.empty() && bf.sitemap.empty() && bf.from.empty() && bf.to.empty()) {
      std::fprintf(stderr, "backfill: give --urls FILE, --sitemap URL or --from/--to (the template's sitemaps)\n");
      return 2;
    }
    return run_backfill(bf);
  }
  if (*x) return cmd_extract(x_site, x_file, x_url, x_templates, x_no_generic);
  if (*c) return cmd_check(c_config, c_db);
  if (*pf) return cmd_parse_feed(pf_file, pf_ct, pf_base);

  if (*v && salvage_wal) {
    std::string err;
    StoreOptions so;
    so.path = db;
    so.wal_recovery = WalRecovery::Salvage;
    auto st = Store::open(so, &err);
    if (!st) {
      std::fprintf(stderr, "verify: %s\n", err.c_str());
      return 1;
    }
    try {
      auto problems = st->verify();
      for (const auto& p : problems) std::printf("%s\n", p.c_str());
      std::printf("%s: %s after WAL salvage (last seq %llu)\n", db.c_str(),
                  problems.empty() ? "consistent" : "PROBLEMS FOUND", (unsigned long long)st->last_seq());
      st->close();
      return problems.empty() ? 0 : 1;
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "verify: %s\n", ex.what());
      return 1;
    }
  }

  std::unique_ptr<Store> store;
  if (*v && !Store::in_use(db) && std::filesystem::exists(std::filesystem::path(db) / "CURRENT")) {
    // No daemon: a read-only open checks every SST file and the WAL (a secondary skips unreadable files).
    std::string err;
    store = Store::open_readonly(db, &err);
    if (!store) {
      std::fprintf(stderr, "verify: %s\n", err.c_str());
      std::printf("%s: PROBLEMS FOUND (cannot open)\n", db.c_str());
      return 1;
    }
  } else {
    store = open_reader(db);
  }
  if (!store) return 1;
  // Read errors (checksum mismatch, missing file) end the command with a message and exit status 1.
  try {
  struct Cleanup {
    ~Cleanup() { cleanup_reader(); }
  } cleanup;
  if (*e) {
    ExportOptions eo;
    eo.format = format;
    eo.since = since;
    eo.site = site;
    eo.versions = versions;
    eo.one_per_cluster = one_per_cluster;
    uint64_t cursor;
    if (!out_file.empty()) {
      std::ofstream out(out_file, std::ios::binary);
      if (!out) {
        std::fprintf(stderr, "export: cannot write %s\n", out_file.c_str());
        return 2;
      }
      cursor = export_records(*store, eo, out);
      out.flush();
      if (!out) {
        std::fprintf(stderr, "export: write error on %s\n", out_file.c_str());
        return 1;
      }
    } else {
      cursor = export_records(*store, eo, std::cout);
      std::cout.flush();
    }
    std::fprintf(stderr, "next cursor: %llu\n", (unsigned long long)cursor);
    return 0;
  }
  if (*d) {
    std::string id = d_id;
    if (id.find("://") != std::string::npos) {
      auto found = store->id_for_url(id);
      if (!found) {  // an outlet's former domain (template host_aliases), never fetched under that spelling
        TemplateRegistry reg;
        std::vector<TemplateError> errs;
        if (std::filesystem::is_directory(d_templates)) reg.load_dir(d_templates, errs);
        if (auto t = reg.for_url(id))
          found = find_known(id, t->outlet(), [&](const std::string& k) { return store->id_for_url(k); });
      }
      if (!found) {
        std::fprintf(stderr, "diff: no article for URL %s\n", id.c_str());
        return 1;
      }
      id = *found;
    }
    auto vs = store->versions(id);
    if (vs.empty()) {
      std::fprintf(stderr, "diff: no article %s\n", id.c_str());
      return 1;
    }
    if (d_from || d_to) {
      auto a = store->version(id, d_from ? d_from : 1), bb = store->version(id, d_to ? d_to : vs.back().version);
      if (!a || !bb) {
        std::fprintf(stderr, "diff: article %s has versions 1..%u\n", id.c_str(), vs.back().version);
        return 1;
      }
      std::printf("=== %s v%u -> v%u (%s -> %s)\n%s", id.c_str(), a->version, bb->version, a->fetched_at.c_str(),
                  bb->fetched_at.c_str(), diff_versions(*a, *bb).c_str());
      return 0;
    }
    std::printf("%s: %zu version(s), %s\n", id.c_str(), vs.size(), vs.back().url.c_str());
    for (size_t i = 1; i < vs.size(); ++i)
      std::printf("=== v%u -> v%u (%s -> %s)\n%s", vs[i - 1].version, vs[i].version, vs[i - 1].fetched_at.c_str(),
                  vs[i].fetched_at.c_str(), diff_versions(vs[i - 1], vs[i]).c_str());
    return 0;
  }
  if (*fd) {
    std::printf("%-60s %-8s %-25s %8s %5s %s\n", "feed", "state", "next poll", "interval", "fails", "last error");
    for (const auto& [url, json] : store->all_feed_states()) {
      try {
        auto j = nlohmann::json::parse(json);
        int fails = j.value("consecutive_failures", 0);
        int64_t next = j.value("next_poll", int64_t{0});
        std::printf("%-60s %-8s %-25s %7.0fs %5d %s\n", redact_url(url).c_str(),
                    fails ? "failing" : (j.value("last_success", int64_t{0}) ? "ok" : "pending"),
                    next ? epoch_to_iso_vn(next).c_str() : "-", j.value("interval_s", 0.0), fails,
                    redact_url(j.value("last_error", std::string())).c_str());
      } catch (const std::exception& ex) {
        std::printf("%-60s unreadable state: %s\n", redact_url(url).c_str(), ex.what());
      }
    }
    return 0;
  }
  if (*v) {
    auto problems = store->verify();
    for (const auto& p : problems) std::printf("%s\n", p.c_str());
    std::printf("%s: %s (last seq %llu)\n", db.c_str(), problems.empty() ? "consistent" : "PROBLEMS FOUND",
                (unsigned long long)store->last_seq());
    return problems.empty() ? 0 : 1;
  }
  } catch (const std::exception& ex) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: %s\n", app.get_subcommands().empty() ? "baotin" : app.get_subcommands()[0]->get_name().c_str(),
                 ex.what());
    return 1;
  }
  return 0;
}

}  // namespace baotin
