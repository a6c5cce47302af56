// The `baotin` command line: CLI11 wiring only. The commands' bodies are one file each (daemon/cmd_*.cpp,
// declared in daemon/commands.h; serve and backfill in daemon/service.h), as Miniflux's internal/cli does.
//
// Exit codes (README "Exit codes"): 0 ok (also --help, --version, `help`); 1 a runtime failure or problems found;
// 2 a usage or configuration error (CLI11's own parse errors, 105-109 and so on, are all mapped to 2).
#include "daemon/cli.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>
#include <filesystem>

#include "daemon/commands.h"
#include "daemon/service.h"
#include "fetch/netpolicy.h"

namespace baotin {

namespace {

constexpr int kUsageError = 2;

// An input file that exists, or "-" (stdin).
const CLI::Validator kInputFile(
    [](std::string& v) -> std::string { return v == "-" ? std::string() : CLI::ExistingFile(v); }, "FILE|-");

// A config file: a path, not stdin (relative paths inside resolve against its directory; serve re-reads it on
// SIGHUP).
const CLI::Validator kConfigFile(
    [](std::string& v) -> std::string {
      if (v == "-")
        return "the config is read from a file, not stdin ('-'): its relative paths resolve against its directory";
      return CLI::ExistingFile(v);
    },
    "FILE");

// A network-policy allow entry (fetch/netpolicy.h).
const CLI::Validator kAllowEntry(
    [](std::string& v) -> std::string {
      NetAllowList probe;
      std::string why;
      return probe.add(v, &why) ? std::string() : "--allow-private '" + v + "': " + why;
    },
    "ADDR");

// Optimal string alignment distance (Levenshtein plus adjacent transpositions: "sreve" is 1 from "serve").
size_t edit_distance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i)
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                                  std::tolower(static_cast<unsigned char>(b[j - 1]))
                              ? 0
                              : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[n][m];
}

std::vector<std::string> command_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const auto* sub : app.get_subcommands(std::function<bool(const CLI::App*)>())) names.push_back(sub->get_name());
  return names;
}

// "unknown command 'serv'; did you mean 'serve'?" on stderr (the suggestion only when it is close: at most a
// third of the command's letters differ); exit status 2.
int unknown_command(const CLI::App& app, const std::string& name) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& c : command_names(app)) {
    const size_t d = edit_distance(name, c);
    if (d < best_d && d <= std::max<size_t>(1, c.size() / 3) && d < name.size()) best = c, best_d = d;
  }
  std::string list;
  for (const auto& c : command_names(app)) list += (list.empty() ? "" : ", ") + c;
  if (!best.empty())
    std::fprintf(stderr, "baotin: unknown command '%s'; did you mean '%s'?\n", name.c_str(), best.c_str());
  else
    std::fprintf(stderr, "baotin: unknown command '%s' (commands: %s)\n", name.c_str(), list.c_str());
  std::fprintf(stderr, "Run 'baotin --help' (or 'baotin help COMMAND') for more information.\n");
  return kUsageError;
}

const CLI::App* find_command(const CLI::App& app, const std::string& name) {
  for (const auto* sub : app.get_subcommands(std::function<bool(const CLI::App*)>()))
    if (sub->get_name() == name) return sub;
  return nullptr;
}


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
  CLI::App app{"baotin: Vietnamese news ingestion daemon (RSS/Atom -> clean article records in RocksDB)", "baotin"};
  app.require_subcommand(1);
  app.set_version_flag("--version,-V", "baotin 0.1.0");
  app.footer("Exit status: 0 ok, 1 failure or problems found, 2 usage or configuration error.\n"
             "A FILE argument '-' means stdin (an output file '-' means stdout).");

  // The commands that run on a config's store: --config (required) and --data-dir.
  auto config_options = [](CLI::App* sub, std::string& config, std::string& data_dir) {
    sub->add_option("--config,-c", config, "Config file (TOML)")->required()->check(kConfigFile);
    sub->add_option("--data-dir", data_dir, "RocksDB directory (overrides [daemon].data_dir)");
  };
  ServeOptions serve;
  auto* s = app.add_subcommand("serve", "Run the daemon: poll feeds, fetch, extract and store articles");
  config_options(s, serve.config_path, serve.data_dir);

  BackfillOptions bf;
  auto* b = app.add_subcommand("backfill", "One-shot: fetch and store a site's articles from URLs or sitemaps");
  config_options(b, bf.config_path, bf.data_dir);
  b->add_option("--site", bf.site, "Template name (sites/NAME.toml)")->required();
  auto* urls = b->add_option("--urls", bf.urls_file, "File with one article URL per line ('-': stdin)")->check(kInputFile);
  auto* sm = b->add_option("--sitemap", bf.sitemap, "Sitemap or sitemap index URL");
  b->add_option("--from", bf.from, "Only articles published on or after this date (YYYY-MM-DD)");
  b->add_option("--to", bf.to, "Only articles published on or before this date (YYYY-MM-DD)");
  b->add_flag("--refetch", bf.refetch, "Fetch URLs that are already stored too (new version if changed)");
  urls->excludes(sm);
  b->add_flag("--detach", bf.detach, "With a running daemon: return once it accepted the job (`baotin jobs` follows it)");

  ReprocessOptions rp;
  auto* rpc = app.add_subcommand("reprocess", "Re-extract stored raw pages with the current templates (new version only if changed)");
  config_options(rpc, rp.config_path, rp.data_dir);
  rpc->add_option("--site", rp.site, "Only records of this site (a template name, or a host for generic pages)");
  rpc->add_option("--since", rp.since, "Only pages fetched on or after this date (YYYY-MM-DD)");
  rpc->add_option("--template", rp.template_name, "Only pages this template applies to, or extracted before");
  rpc->add_flag("--restart", rp.restart, "Start over instead of continuing an interrupted run of the same selection");
  rpc->add_flag("--detach", rp.detach, "With a running daemon: return once it accepted the job");

  JobsOptions jo;
  auto* jbc = app.add_subcommand("jobs", "List backfill/reprocess jobs (a running daemon's, or the store's)");
  config_options(jbc, jo.config_path, jo.data_dir);
  jbc->add_option("--cancel", jo.cancel, "Cancel this job of the running daemon");
  jbc->add_flag("--json", jo.json, "A JSON array of the jobs");

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
  e->add_option("--site", ex.options.site, "Only this site (a template name or a site the store holds; else exit 2)");
  e->add_option("--category", ex.options.category, "Only records with exactly this category");
  e->add_option("--language", ex.options.language, "Only records in this language (vi, en, ...)");
  e->add_option("--from", ex.from, "Only records published at or after: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM] (default +07:00)");
  e->add_option("--to", ex.to, "Only records published at or before (a date: the whole day), same forms as --from");
  e->add_option("--out,-o", ex.out_file, "Output file ('-' or none: stdout)");
  e->add_option("--compress", ex.compress, "Compress the output: zstd (a .zst stream, `zstd -d` reads it)")
      ->check(CLI::IsMember({"zstd"}));
  e->add_flag("--bom", ex.options.bom, "CSV: start with a UTF-8 byte order mark (for spreadsheets)");
  e->add_flag("--versions", ex.options.versions, "Every version, not only the latest");
  e->add_flag("--one-per-cluster", ex.options.one_per_cluster, "Leave out copies of stories already exported (duplicates)");
  e->add_flag("--follow,-f", ex.follow, "Stay running: write each new change (JSONL) as it is committed, from --since");
  e->add_option("--poll-ms", ex.poll_ms, "--follow: milliseconds between looks for new changes (default 200)")
      ->check(CLI::Range(10, 60000));
  e->add_option("--pass-records", ex.options.pass_records,
                "Memory bound: changed records held per pass over the store (default 2000000, ~100 B each)")
      ->check(CLI::Range(static_cast<size_t>(16), static_cast<size_t>(1) << 40));
  ex.templates = default_templates_dir();
  e->add_option("--templates", ex.templates, "Template directory for --site (default: the installed templates)");

  cli::ExtractArgs xa;
  xa.templates = default_templates_dir();
  auto* x = app.add_subcommand("extract", "Extract one saved HTML page (or, with --url alone, fetch one) and print the record as JSON");
  x->add_option("--site", xa.site, "Template name (default: chosen by --url's host)");
  auto* x_url = x->add_option("--url", xa.url,
                              "The page's URL: without FILE it is fetched (serve's network policy and limits); with "
                              "FILE it resolves links and picks the template");
  auto* x_tpl = x->add_option("--templates", xa.templates, "Template directory (default: the config's templates_dir "
                                                           "with --config, else the installed templates, else the source sites/)");
  x->add_option("--config,-c", xa.config, "Config file: its [fetch] settings and templates_dir")->check(kConfigFile);
  auto* x_allow = x->add_option("--allow-private", xa.allow_private,
                                "Allow the fetch to connect to this non-public address, network or host[:port] "
                                "(network policy; repeatable)")
                      ->check(kAllowEntry)
                      ->allow_extra_args(false);
  x->add_flag("--no-generic", xa.no_generic, "Template only: no generic fallback");
  auto* x_file = x->add_option("file", xa.file, "Saved HTML page ('-': stdin); without it, --url is fetched")->check(kInputFile);
  x_allow->needs(x_url)->excludes(x_file);

  cli::CheckArgs ca;
  auto* c = app.add_subcommand("check", "Validate the config and every template; show template health");
  c->add_option("--config,-c", ca.config, "Config file (TOML)")->required()->check(kConfigFile);
  c->add_option("--db", ca.db, "Store whose template health to show (default: the config's data_dir)");
  c->add_flag("--json", ca.json, "One JSON document on stdout (README \"check --json\")");

  cli::ParseFeedArgs pa;
  auto* pf = app.add_subcommand("parse-feed", "Parse an RSS/Atom file and print it as JSON");
  pf->add_option("file", pa.file, "Feed file ('-': stdin)")->required()->check(kInputFile);
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

  cli::FeedsArgs fa;
  auto* fd = app.add_subcommand("feeds", "List feed states: next poll, interval, failures, last error");
  auto* fd_db = fd->add_option("--db", fa.db, "RocksDB directory");
  auto* fd_json = fd->add_flag("--json", fa.json, "A JSON array of feed states, shaped as /status \"feeds\"");
  // --opml: the config's effective feed list as OPML 2.0 (no store needed).
  bool feeds_opml = false;
  cli::FeedsOpmlArgs oa;
  auto* fd_opml = fd->add_flag("--opml", feeds_opml, "Write the config's feed list ([[feeds]] and templates) as OPML 2.0");
  auto* fd_config = fd->add_option("--config,-c", oa.config, "Config file (TOML), with --opml")->check(kConfigFile);
  auto* fd_out = fd->add_option("--out,-o", oa.out, "OPML output file, with --opml (default: stdout)");
  fd_opml->needs(fd_config)->excludes(fd_db)->excludes(fd_json);
  fd_config->needs(fd_opml);
  fd_out->needs(fd_opml);

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
  v->add_flag("--json", va.json, "One JSON object on stdout: db, consistent, last_seq, salvaged_wal, problems");

  std::string help_topic;
  auto* h = app.add_subcommand("help", "Show help for baotin or for one command");
  h->add_option("command", help_topic, "Command to describe");

  // An unknown command: name it and suggest the nearest (CLI11 would only say "a subcommand is required" or
  // "arguments were not expected"). The top level takes flags only, so the first non-flag argument is the command.
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-') {
      if (std::strcmp(argv[i], "--") == 0) break;
      continue;
    }
    if (!find_command(app, argv[i])) return unknown_command(app, argv[i]);
    break;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& err) {
    // --help and --version are "errors" with exit code 0; every real parse error is a usage error.
    return app.exit(err) == 0 ? 0 : kUsageError;
  }

  if (*h) {
    if (help_topic.empty()) {  // the top level's help (app.help() would describe `help`, the parsed command)
      std::cout << app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
      return 0;
    }
    const CLI::App* sub = find_command(app, help_topic);
    if (!sub) return unknown_command(app, help_topic);
    std::cout << sub->help(app.get_name());
    return 0;
  }
  if (*s) return run_serve(serve);
  if (*b) {
    if (bf.urls_file.empty() && bf.sitemap.empty() && bf.from.empty() && bf.to.empty()) {
      std::fprintf(stderr, "backfill: give --urls FILE, --sitemap URL or --from/--to (the template's sitemaps)\n");
      return kUsageError;
    }
    return run_backfill(bf);
  }
  if (*rpc) return run_reprocess_command(rp);
  if (*jbc) return run_jobs_command(jo);
  if (*x) {
    if (xa.file.empty() && xa.url.empty()) {
      std::fprintf(stderr, "extract: give FILE ('-': stdin) or --url URL (fetched)\n");
      return kUsageError;
    }
    xa.templates_given = x_tpl->count() > 0;
    return cli::cmd_extract(xa);
  }
  if (*c) return cli::cmd_check(ca);
  if (*pf) return cli::cmd_parse_feed(pa);
  if (*e) return cli::cmd_export(ex);
  if (*d) return cli::cmd_diff(da);
  if (*fd) {
    if (feeds_opml) return cli::cmd_feeds_opml(oa);
    if (fa.db.empty()) {
      std::fprintf(stderr, "feeds: give --db DIR (feed states) or --opml --config F (the feed list as OPML)\n");
      return kUsageError;
    }
    return cli::cmd_feeds(fa);
  }
  if (*v) return cli::cmd_verify(va);
  if (*evc) return cli::cmd_eval(ev);
  return 0;
}

}  // namespace baotin
