// Backfill as a job: the URLs of a site's archive (a given list, or its sitemaps walked by date), queued into an
// Ingestor. `baotin backfill` runs it in-process with an Ingestor of its own; a running daemon runs it on its own
// Ingestor, beside feed polling (daemon/job_runner.h).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/jobs.h"
#include "daemon/pipeline.h"
#include "extract/template.h"
#include "fetch/fetcher.h"

namespace baotin {

struct BackfillSpec {
  std::string site;          // template name
  std::string sitemap;       // a sitemap or sitemap index URL; "" = the template's sitemaps (unless URLs are given)
  std::string from, to;      // published date range, inclusive
  bool refetch = false;      // URLs already stored are fetched too
  bool urls_given = false;   // the URL list came with the job (JobStore::urls)

  nlohmann::json to_json() const;
  static BackfillSpec from_json(const nlohmann::json& j);
};

// An unknown site, or --from/--to that cannot be read: the message; nullopt when usable.
std::optional<std::string> check_backfill_spec(const BackfillSpec& spec, const TemplateRegistry& templates);

// The URLs to backfill, sorted and without repeats: `given` when spec.urls_given, else the sitemaps walked (entries
// dated outside [from, to] left out; undated ones kept). nullopt with *error when every sitemap failed.
// `stop` (may be null) ends a sitemap walk early: nullopt, *error "stopped".
std::optional<std::vector<std::string>> backfill_urls(const BackfillSpec& spec, const SiteTemplate& tpl,
                                                      Fetcher& fetcher, std::vector<std::string> given,
                                                      std::string* error, const std::atomic<bool>* stop = nullptr);

// The part of a backfill that feeds the Ingestor. Outcomes reach it through on_outcome() (the Ingestor's listener
// forwards those tagged with job.id). job.cursor is {"next": the first index not yet queued, "in_flight": indices
// queued and not settled}: a resumed job queues those again, then goes on from "next", so every URL is counted
// once; job.progress counts listed, skipped_known, queued, done, stored, failed (other keys are kept).
class BackfillRun {
 public:
  // `print_failures`: each failed URL on stderr (in-process); else in the log.
  BackfillRun(Ingestor& ing, Store& store, const SiteTemplate& tpl, const BackfillSpec& spec, Job& job,
              bool print_failures = false)
      : ing_(ing), store_(store), tpl_(tpl), spec_(spec), job_(job), print_failures_(print_failures) {}
  void on_outcome(const IngestOutcome& o);
  // Brings job.progress and job.cursor up to date (run() does so at each checkpoint and at its end).
  void snapshot();
  // Queues `urls` from job.cursor on and waits until every queued one is settled or `stop` is true (false).
  // `drive` (in-process): this thread runs the Ingestor's ticks; else the daemon's scheduler does, and at most
  // `max_outstanding` articles are let outstanding (room is left for feed polling). `checkpoint` runs about every
  // second with the job (progress, cursor).
  bool run(const std::vector<std::string>& urls, const std::atomic<bool>& stop, bool drive, size_t max_outstanding,
           const std::function<void(Job&)>& checkpoint);

 private:
  void snapshot_locked();
  Ingestor& ing_;
  Store& store_;
  const SiteTemplate& tpl_;
  BackfillSpec spec_;
  Job& job_;
  bool print_failures_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, size_t> in_flight_;  // URL -> index in the list
  size_t next_ = 0;                          // the next index to queue
  std::vector<size_t> redo_;                 // in flight when the previous run stopped: queued first
  uint64_t listed_ = 0, skipped_ = 0, queued_ = 0, done_ = 0, stored_ = 0, failed_ = 0;
};

// One progress line of a backfill job.
std::string backfill_progress_line(const nlohmann::json& progress, double rate);

}  // namespace baotin
