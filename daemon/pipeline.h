// The ingestion pipeline shared by `serve` and `backfill`:
// feed poll -> parse -> new article URLs -> fetch -> extract (template / generic) -> store.
// Fetches run on the Fetcher's libcurl-multi thread; parsing and extraction run on a worker pool.
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "daemon/config.h"
#include "daemon/metrics.h"
#include "fetch/fetcher.h"
#include "fetch/schedule.h"
#include "parse/template.h"
#include "store/store.h"

namespace baotin {

// Fixed-size thread pool with a FIFO queue.
class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  void post(std::function<void()> fn);
  size_t queued() const;
  void stop();  // runs what is queued, then joins

 private:
  void run();
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::queue<std::function<void()>> q_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
};

struct IngestOutcome {
  std::string url;
  bool stored = false;
  std::string kind;   // new | updated | unchanged | duplicate | failed | skipped
  std::string error;
};

class Ingestor {
 public:
  Ingestor(const Config& cfg, Store& store, Fetcher& fetcher, Metrics& metrics,
           std::shared_ptr<const TemplateRegistry> templates);
  ~Ingestor();

  // Starts a poll of `feed` (asynchronous). `done` runs when the poll and the article fetches it
  // started have been handed off (not when the articles are stored).
  void poll_feed(const FeedConfig& feed);
  // Fetches, extracts and stores one article URL (asynchronous, retried on transient errors).
  void ingest_url(const std::string& url, const std::string& feed, const std::string& site, bool refetch = false);

  // Feed state (persisted in the store).
  FeedState feed_state(const std::string& url);
  std::vector<FeedState> feed_states();
  bool poll_in_progress(const std::string& url);
  // Feeds (of `feeds`) whose next poll time has come and that are not being polled now.
  std::vector<FeedConfig> due_feeds(const std::vector<FeedConfig>& feeds, int64_t now);

  // Runs delayed retries that are due. Called by the scheduler loop.
  void tick();
  // Blocks until no work is outstanding (polls, fetches, extractions, pending retries).
  // Returns false on timeout (seconds <= 0: wait forever).
  bool wait_idle(double seconds = 0);
  size_t outstanding() const { return outstanding_.load(); }

  void set_templates(std::shared_ptr<const TemplateRegistry> t);
  void set_outcome_listener(std::function<void(const IngestOutcome&)> fn) { listener_ = std::move(fn); }
  // Stop accepting new work (retries are dropped; in-flight work finishes).
  void stop_accepting() { accepting_ = false; }
  void finish();  // stop accepting, wait for workers

 private:
  void on_feed_result(const FeedConfig& feed, FetchResult r);
  void on_article_result(const std::string& url, const std::string& feed, const std::string& site, int attempt,
                         bool refetch, FetchResult r);
  void fetch_article(const std::string& url, const std::string& feed, const std::string& site, int attempt,
                     bool refetch);
  void retry_later(double seconds, std::function<void()> fn);
  void done_one();
  void report(const IngestOutcome& o);
  void save_state(const FeedState& s);
  std::shared_ptr<const TemplateRegistry> templates() const;

  const Config& cfg_;
  Store& store_;
  Fetcher& fetcher_;
  Metrics& metrics_;
  PollPolicy policy_;
  WorkerPool pool_;
  std::atomic<bool> accepting_{true};

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable idle_cv_;
  std::shared_ptr<const TemplateRegistry> templates_;
  std::map<std::string, FeedState> states_;
  std::set<std::string> polling_;
  std::set<std::string> articles_in_flight_;  // canonical URLs
  std::map<std::string, std::vector<std::string>> feed_allow_;  // feed URL -> network-policy allow entries
  std::multimap<double, std::function<void()>> delayed_;  // monotonic seconds -> task
  std::mt19937_64 rng_{std::random_device{}()};
  std::atomic<size_t> outstanding_{0};
  std::function<void(const IngestOutcome&)> listener_;
};

double monotonic_seconds();
int64_t epoch_now();

}  // namespace baotin
