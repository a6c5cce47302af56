// The `baotin` command line: CLI11 wiring only. The commands' bodies are one file each (daemon/cmd_*.cpp,
// declared in daemon/commands.h; serve and backfill in daemon/service.h), as Miniflux's internal/cli does.
#include "daemon/cli.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "daemon/commands.h"
#include "daemon/service.h"

namespace baotin {

namespace {
// `extract`/`diff --templates` default: the installed templates (`cmake --install`) when they are there, else the
// source tree's sites/ (a build that was never installed).
std::string default_templates_dir() {
#ifdef BAOTIN_INSTALLED_TEMPLATES_DIR
  std::error_code ec;
  if (std::filesystem::is_directory(BAOTIN_INSTALLED_TEMPLATES_DIR, ec)) return BAOTIN_INSTALLED_TEMPLATES_DIR;
#endif
  return std::string(BAOTIN_SOURCE_DIR) + "/sites";
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
  xa.templates = default_templates_dir();
  auto* x = app.add_subcommand("extract", "Extract one saved HTML page and print the record as JSON");
  x->add_option("--site", xa.site, "Template name (default: chosen by --url's host)");
  x->add_option("--url", xa.url, "The page's URL (resolves links, picks the template)");
  x->add_option("--templates", xa.templates, "Template directory (default: the installed templates, else the source sites/)");
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
  da.templates = default_templates_dir();
  auto* d = app.add_subcommand("diff", "Show what changed between versions of an article");
  d->add_option("--db", da.db, "RocksDB directory")->required();
  d->add_option("id", da.id, "Article id (or a URL of the article)")->required();
  d->add_option("--from", da.from, "Older version (default: each consecutive pair)");
  d->add_option("--to", da.to, "Newer version");
  d->add_option("--templates", da.templates, "Template directory, for URLs on an outlet's former domain (host_aliases)");

  std::string feeds_db;
  auto* fd = app.add_subcommand("feeds", "List feed states: next poll, interval, failures, last error");
  auto* fd_db = fd->add_option("--db", feeds_db, "RocksDB directory");
  // --opml: the config's effective feed list as OPML 2.0 (no store needed).
  bool feeds_opml = false;
  cli::FeedsOpmlArgs oa;
  auto* fd_opml = fd->add_flag("--opml", feeds_opml, "Write the config's feed list ([[feeds]] and templates) as OPML 2.0");
  auto* fd_config = fd->add_option("--config,-c", oa.config, "Config file (TOML), with --opml")->check(CLI::ExistingFile);
  auto* fd_out = fd->add_option("--out,-o", oa.out, "OPML output file, with --opml (default: stdout)");
  fd_opml->needs(fd_config)->excludes(fd_db);
  fd_config->needs(fd_opml);
  fd_out->needs(fd_opml);

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
  if (*fd) {
    if (feeds_opml) return cli::cmd_feeds_opml(oa);
    if (feeds_db.empty()) {
      std::fprintf(stderr, "feeds: give --db DIR (feed states) or --opml --config F (the feed list as OPML)\n");
      return 2;
    }
    return cli::cmd_feeds(feeds_db);
  }
  if (*v) return cli::cmd_verify(va);
  return 0;
}

}  // namespace baotin
