// One-shot jobs (`backfill`, `reprocess`) persisted in the store, so that a restart resumes them (README "Jobs").
//
// A job is one `meta` entry "job:" + big-endian id -> JSON (see to_json(const Job&)); a backfill's URL list, when
// the client gave one, is kept beside it in chunks ("jobdata:" + id + chunk). A job handed to a running daemon over
// the control socket (daemon/control.h) has origin "daemon": `serve` runs it, and resumes it after a restart. A job
// run in-process (no daemon) has origin "cli": an interrupted one is continued by running the same command again.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/store.h"

namespace baotin {

struct Job {
  uint64_t id = 0;
  std::string kind;         // "backfill" | "reprocess"
  nlohmann::json spec;      // the command's options (BackfillSpec / ReprocessSpec as JSON)
  // "queued" (waits for the daemon's job thread), "running", "done", "failed" (could not run: `error` says why),
  // "cancelled" (`baotin jobs --cancel`), "interrupted" (an in-process run was stopped: Ctrl-C)
  std::string state = "queued";
  std::string origin = "cli";  // "daemon" | "cli"
  nlohmann::json progress = nlohmann::json::object();  // counters; "total" is an estimate
  std::string cursor;       // where a resumed run continues (opaque to the job store)
  std::string error;
  std::string created, updated;  // ISO 8601, +07:00

  bool finished() const { return state == "done" || state == "failed" || state == "cancelled"; }
};

nlohmann::json to_json(const Job& j);
Job job_from_json(const nlohmann::json& j);

// The jobs of one store. Not thread-safe by itself: the daemon's job runner serialises its calls.
class JobStore {
 public:
  explicit JobStore(Store& store) : store_(store) {}
  // A new job (state "queued"), persisted; `urls` (a backfill's list) are written before the job itself, so a job
  // that exists has all of them. Throws StoreError.
  Job create(const std::string& kind, const nlohmann::json& spec, const std::string& origin,
             const std::vector<std::string>& urls = {});
  void save(Job& job);  // sets `updated`; throws StoreError
  std::optional<Job> get(uint64_t id) const;
  std::vector<Job> list() const;  // oldest first
  // A backfill's URL list (kept until the job is removed). store_urls() saves one for an existing job (a sitemap
  // job's walked list, so that a resumed job works through the same list).
  std::vector<std::string> urls(uint64_t id) const;
  void store_urls(uint64_t id, const std::vector<std::string>& urls) { put_urls(id, urls); }
  // Finished jobs beyond the newest `keep` are removed with their data (called when a job is created). Returns the
  // highest job id stored before (the oldest go first, so it is never removed): ids are not reused.
  uint64_t prune(size_t keep = 100);

 private:
  void put_urls(uint64_t id, const std::vector<std::string>& urls);  // replaces the job's list
  std::vector<std::string> data_keys(uint64_t id) const;              // the "jobdata:" keys of a job
  Store& store_;
};

}  // namespace baotin
