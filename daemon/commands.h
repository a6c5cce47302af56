// The bodies of the CLI's tool commands, one file per command (daemon/cmd_<name>.cpp); daemon/cli.cpp only
// wires them to CLI11. `serve` and `backfill` are in daemon/service.h (serve.cpp, backfill.cpp).
// Each returns the process exit code: 0 ok, 1 the command found a problem or failed, 2 unusable input (a usage
// or configuration error: a file that cannot be read, no store at --db, an invalid config). README "Exit codes".
// A file argument "-" is stdin (an output file "-" is stdout).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/export.h"
#include "store/store.h"

namespace baotin::cli {

struct ExtractArgs {
  std::string site;       // template name; "" = chosen by the URL's host
  std::string file;       // saved HTML page ("-" = stdin); "" = fetch `url`
  std::string url;        // the page's URL; "" = the template's first host (or example.invalid)
  std::string templates;  // template directory
  bool templates_given = false;  // --templates was given (else the config's templates_dir, when --config is)
  std::string config;     // optional config file: [fetch] settings (network policy, robots, limits), templates_dir
  std::vector<std::string> allow_private;  // extra network-policy allow entries for the fetch
  bool no_generic = false;
};
int cmd_extract(const ExtractArgs& a);

struct CheckArgs {
  std::string config;  // config file
  std::string db;      // store whose template health to show; "" = the config's data_dir
  bool json = false;   // one JSON document on stdout (README "check --json")
};
int cmd_check(const CheckArgs& a);

struct ParseFeedArgs {
  std::string file, content_type, base;
};
int cmd_parse_feed(const ParseFeedArgs& a);

struct ExportArgs {
  std::string db;
  ExportOptions options;
  std::string out_file;   // "" or "-" = stdout
  std::string compress;   // "" or "zstd"
  std::string from, to;   // --from/--to as given (parsed by cmd_export)
  std::string templates;  // template directory: a --site that names a template is known
  bool follow = false;    // stay running, print each new change
  int poll_ms = 200;      // --follow: interval between catch-ups with the primary
};
int cmd_export(const ExportArgs& a);

struct DiffArgs {
  std::string db;
  std::string id;         // article id or one of its URLs
  uint32_t from = 0, to = 0;  // 0 = each consecutive pair
  std::string templates;  // for URLs on an outlet's former domain (host_aliases)
};
int cmd_diff(const DiffArgs& a);

struct FeedsArgs {
  std::string db;
  bool json = false;  // a JSON array of feed states, shaped as /status "feeds"
};
int cmd_feeds(const FeedsArgs& a);

struct FeedsOpmlArgs {
  std::string config;  // config file whose effective feed list is written
  std::string out;     // "" or "-" = stdout
};
int cmd_feeds_opml(const FeedsOpmlArgs& a);

struct EvalArgs {
  std::string dir;        // golden pages: <template>/<YYYY>_<n>.json + .html.gz
  std::string templates;  // template directory
  bool json = false;
};
int cmd_eval(const EvalArgs& a);

struct VerifyArgs {
  std::string db;
  bool salvage_wal = false;
  bool json = false;  // one JSON object: db, consistent, last_seq, problems
};
int cmd_verify(const VerifyArgs& a);

// --- Shared by the commands (daemon/commands.cpp).

// SIGINT/SIGTERM set stop_flag() once install_stop_handlers() ran (no SA_RESTART: a blocked sleep, read or write
// returns). One flag for the process: `export --follow`, in-process backfill/reprocess, a job hand-over's wait.
std::atomic<bool>& stop_flag();
std::atomic<bool>& install_stop_handlers();

// Reads a whole file ("-" = all of stdin); false when it cannot be opened or read.
bool read_whole_file(const std::string& path, std::string& out);
// True when `db` holds a baotin store (RocksDB's CURRENT file). Nothing is created.
bool store_exists(const std::string& db);
// Prints "<command>: no baotin store at <db>" on stderr; returns 2, the exit status for it.
int no_store(const char* command, const std::string& db);
// Read-only view (RocksDB secondary) of a store that a running daemon may hold open; nullptr with a message on
// stderr when it cannot be opened (check store_exists() first: no store is a usage error, exit 2).
// cleanup_reader() removes its scratch directory.
std::unique_ptr<Store> open_reader(const std::string& db);
void cleanup_reader();
// Runs `fn` on an opened store: read errors (checksum mismatch, missing file) end the command with
// "<command>: <error>" on stderr and exit status 1; the reader's scratch directory is removed afterwards.
int run_on_store(const char* command, Store& store, const std::function<int(Store&)>& fn);
// Opens `db` with open_reader() and runs `fn` on it as run_on_store() does; 2 when there is no store at `db`
// (nothing is created), 1 when it cannot be opened.
int with_reader(const char* command, const std::string& db, const std::function<int(Store&)>& fn);

}  // namespace baotin::cli
