// The commands behind the CLI: serve (long-running daemon), backfill (one-shot), export, and friends.
#pragma once
#include <string>
#include <vector>

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
};
int run_backfill(const BackfillOptions& opts);

// Logging to stderr (journald-friendly: no timestamps when JOURNAL_STREAM is set).
void setup_logging(const std::string& level);

}  // namespace baotin
