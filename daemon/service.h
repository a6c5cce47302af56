// The commands behind the CLI: serve (long-running daemon), backfill (one-shot), export, and friends.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/config.h"
#include "fetch/fetcher.h"
#include "store/store.h"

namespace baotin {

struct ServeOptions {
  std::string config_path;
  std::string data_dir;  // overrides [daemon].data_dir when set
};
int run_serve(const ServeOptions& opts);

struct BackfillOptions {
  std::string config_path;
  std::string data_dir;
  std::string site;          // template name (required)
  std::string urls_file;     // one URL per line ('#' comments)
  std::string sitemap;       // sitemap or sitemap index URL
  std::string from, to;      // date range (YYYY-MM-DD or any normalize_date form), inclusive
  bool refetch = false;      // also fetch URLs already stored
  bool detach = false;       // with a running daemon: return once it accepted the job
};
// Without a daemon on the store: runs in-process. With one (the store is locked): hands the job to it over the
// control socket (daemon/control.h) and prints its progress.
int run_backfill(const BackfillOptions& opts);

struct ReprocessOptions {
  std::string config_path;
  std::string data_dir;
  std::string site, since, template_name;  // ReprocessSpec (daemon/reprocess.h)
  bool restart = false;  // in-process: start over instead of continuing an interrupted run of the same selection
  bool detach = false;   // with a running daemon: return once it accepted the job
};
int run_reprocess_command(const ReprocessOptions& opts);

struct JobsOptions {
  std::string config_path;
  std::string data_dir;
  uint64_t cancel = 0;  // cancel this job (daemon jobs only)
  bool json = false;    // a JSON array
};
int run_jobs_command(const JobsOptions& opts);

// Shared by serve and backfill: the config (errors printed as file:line, nullopt when invalid; a
// non-empty data_dir overrides [daemon].data_dir; Config::fetch goes to the Fetcher as it is) and the
// templates (broken files logged and skipped).
std::optional<Config> load_run_config(const std::string& path, const std::string& data_dir);
std::shared_ptr<const TemplateRegistry> load_templates(const Config& cfg, bool log_errors);
// The store of cfg.data_dir opened for writing as the one-shot commands do (the config's memory share); nullptr
// after "<command>: cannot open store <dir>: <why>" on stderr.
std::unique_ptr<Store> open_run_store(const Config& cfg, const char* command);
// Loads cfg.templates_dir for a (re)load: errors are logged (file:line) and appended to `errors`; a template of
// `previous` whose file now fails to load is kept (logged); *failed_files = files that failed.
std::shared_ptr<const TemplateRegistry> reload_templates(const Config& cfg, const TemplateRegistry& previous,
                                                         std::vector<TemplateError>& errors, size_t* failed_files);

// Logging to stderr. format "text": "<time> <level> <message>" lines; "json": one object per line
// {"time","level","msg"}. Under journald (JOURNAL_STREAM set) each line starts with its syslog priority
// ("<4>" ...) and text lines carry no timestamp (journald stamps them). Callable again (reload).
void setup_logging(const std::string& level, const std::string& format = "text");
// "5,000" (thousands separators for log lines).
std::string group_thousands(uint64_t n);

}  // namespace baotin
