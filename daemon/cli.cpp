// The `baotin` command line: CLI11 wiring only. The commands' bodies are one file each (daemon/cmd_*.cpp,
// declared in daemon/commands.h; serve and backfill in daemon/service.h), as Miniflux's internal/cli does.
#include "daemon/cli.h"

#include <CLI/CLI.hpp>

#include <cstdio>

#include "daemon/commands.h"
#include "daemon/service.h"

namespace baotin {

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

  cli::ExportArgs ex;
  auto* e = app.add_subcommand("export", "Write stored records as JSONL or CSV (safe while serve runs)");
  e->add_option("--db", ex.db, "RocksDB directory")->required();
  e->add_option("--format", ex.options.format, "jsonl or csv")->check(CLI::IsMember({"jsonl", "csv"}));
  // A cursor is a change-log sequence number: decimal digits only (CLI11 alone would wrap "-1" to 2^64-1).
  e->add_option("--since", ex.options.since, "Change-log cursor: only records changed after it (printed by the last export)")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos)
              return "--since takes a change-log cursor (a non-negative integer printed by the last export), got '" +
                     v + "'";
            return "";
          },
          "CURSOR"));
  e->add_option("--site", ex.options.site, "Only this site");
  e->add_option("--out,-o", ex.out_file, "Output file (default: stdout)");
  e->add_flag("--versions", ex.options.versions, "Every version, not only the latest");
  e->add_flag("--one-per-cluster", ex.options.one_per_cluster, "Leave out copies of stories already exported (duplicates)");

  cli::ExtractArgs xa;
  xa.templates = std::string(BAOTIN_SOURCE_DIR) + "/sites";
  auto* x = app.add_subcommand("extract", "Extract one saved HTML page and print the record as JSON");
  x->add_option("--site", xa.site, "Template name (default: chosen by --url's host)");
  x->add_option("--url", xa.url, "The page's URL (resolves links, picks the template)");
  x->add_option("--templates", xa.templates, "Template directory");
  x->add_flag("--no-generic", xa.no_generic, "Template only: no generic fallback");
  x->add_option("file", xa.file, "HTML file")->required()->check(CLI::ExistingFile);

  cli::CheckArgs ca;
  auto* c = app.add_subcommand("check", "Validate the config and every template; show template health");
  c->add_option("--config,-c", ca.config, "Config file (TOML)")->required()->check(CLI::ExistingFile);
  c->add_option("--db", ca.db, "Store whose template health to show (default: the config's data_dir)");

  cli::ParseFeedArgs pa;
  auto* pf = app.add_subcommand("parse-feed", "Parse an RSS/Atom file and print it as JSON");
  pf->add_option("file", pa.file, "Feed file")->required()->check(CLI::ExistingFile);
  pf->add_option("--content-type", pa.content_type, "HTTP Content-Type to assume (charset)");
  pf->add_option("--base", pa.base, "Base URL for relative links");

  cli::DiffArgs da;
  da.templates = std::string(BAOTIN_SOURCE_DIR) + "/sites";
  auto* d = app.add_subcommand("diff", "Show what changed between versions of an article");
  d->add_option("--db", da.db, "RocksDB directory")->required();
  d->add_option("id", da.id, "Article id (or a URL of the article)")->required();
  d->add_option("--from", da.from, "Older version (default: each consecutive pair)");
  d->add_option("--to", da.to, "Newer version");
  d->add_option("--templates", da.templates, "Template directory, for URLs on an outlet's former domain (host_aliases)");

  std::string feeds_db;
  auto* fd = app.add_subcommand("feeds", "List feed states: next poll, interval, failures, last error");
  fd->add_option("--db", feeds_db, "RocksDB directory")->required();

  cli::EvalArgs ev;
  ev.dir = std::string(BAOTIN_SOURCE_DIR) + "/tests/fixtures/sites";
  ev.templates = std::string(BAOTIN_SOURCE_DIR) + "/sites";
  auto* evc = app.add_subcommand("eval", "Quality report: extract golden pages and compare with their hand-written records");
  evc->add_option("dir", ev.dir, "Directory of golden pages (<template>/<YYYY>_<n>.json + .html.gz)")->check(CLI::ExistingDirectory);
  evc->add_option("--templates", ev.templates, "Template directory");
  evc->add_flag("--json", ev.json, "One JSON object per page instead of the table");

  cli::VerifyArgs va;
  auto* v = app.add_subcommand("verify", "Check the store's consistency (checksums, records, versions, change log, indexes)");
  v->add_option("--db", va.db, "RocksDB directory")->required();
  v->add_flag("--salvage-wal", va.salvage_wal,
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
  if (*x) return cli::cmd_extract(xa);
  if (*c) return cli::cmd_check(ca);
  if (*pf) return cli::cmd_parse_feed(pa);
  if (*e) return cli::cmd_export(ex);
  if (*d) return cli::cmd_diff(da);
  if (*fd) return cli::cmd_feeds(feeds_db);
  if (*v) return cli::cmd_verify(va);
  if (*evc) return cli::cmd_eval(ev);
  return 0;
}

}  // namespace baotin
