// `serve`'s one-shot jobs (README "Jobs"): backfill and reprocess handed over on the control socket
// (daemon/control.h), persisted in the store (daemon/jobs.h), run one at a time on a thread of their own beside
// feed polling: a backfill queues into the daemon's Ingestor with at most half of max_queued_articles outstanding,
// so feeds keep room; a reprocess extracts on one thread. Jobs the daemon was running or had queued when it stopped
// (SIGTERM, SIGKILL, a crash) run again when it starts: a backfill from its cursor (its settled URLs are skipped), a
// reprocess from the last article key it finished.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "daemon/backfill.h"
#include "daemon/control.h"
#include "daemon/jobs.h"
#include "daemon/pipeline.h"

namespace baotin {

class JobRunner {
 public:
  JobRunner(Store& store, Ingestor& ing, Fetcher& fetcher);
  ~JobRunner();
  // Loads the daemon's unfinished jobs and starts the job thread.
  void start();
  // The running job stops at its next checkpoint and stays "running" (resumed at the next start); joins.
  void stop();
  // The Ingestor's outcome listener forwards every outcome here.
  void on_outcome(const IngestOutcome& o);
  // One control-socket request (ControlServer::Handler).
  void handle(ControlConnection& conn, const nlohmann::json& req, const std::atomic<bool>& server_stop);
  // For /status: the jobs not finished.
  nlohmann::json active_jobs() const;

 private:
  void loop();
  void run_one(Job& job);
  void checkpoint(Job& job);
  std::optional<Job> snapshot(uint64_t id) const;

  Store& store_;
  Ingestor& ing_;
  Fetcher& fetcher_;
  mutable std::mutex mu_;  // guards everything below (and every JobStore call)
  std::condition_variable cv_;
  JobStore jobs_;
  std::deque<uint64_t> queue_;
  std::optional<Job> current_;  // the running job as of its last checkpoint
  std::map<uint64_t, Job> ended_;  // the last jobs that finished here (a save of the end may have failed)
  BackfillRun* backfill_ = nullptr;
  std::atomic<bool> stop_{false}, cancel_{false};
  std::atomic<bool> job_stop_{false};  // the running job's stop flag: stop() or a cancel of that job
  std::thread thread_;
};

}  // namespace baotin
