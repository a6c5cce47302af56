// The ingestion pipeline shared by `serve` and `backfill`:
// feed poll -> parse -> new article URLs -> fetch -> extract (template / generic) -> store.
// Fetches run on the Fetcher's libcurl-multi thread; parsing and extraction run on a worker pool.
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <deque>
#include <map>
#include <unordered_map>
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
#include "core/clock.h"
#include "daemon/poll_schedule.h"
#include "daemon/revisit.h"
#include "daemon/worker_pool.h"
#include "fetch/fetcher.h"
#include "feed/feed.h"
#include "extract/template.h"
#include "store/store.h"

namespace baotin {


// Delay before retry `attempt + 1` of an article fetch that failed transiently: exponential backoff
// (5 s, 10 s, 20 s, ... up to 600 s) is the floor; a server's Retry-After may lengthen it, never beyond
// max_retry_after_s, and never shorten it (Retry-After: 0 is not "hammer me").
double article_retry_delay(int attempt, std::optional<double> retry_after_s, double max_retry_after_s);

struct IngestOutcome {
  std::string url;
  bool stored = false;
  std::string kind;   // new | updated | unchanged | duplicate | failed | skipped | gone (a re-visit redirected away)
  std::string error;
  bool revisit = false;  // a scheduled re-visit (daemon/revisit.h), not a feed item
  uint64_t job = 0;      // the one-shot job (daemon/jobs.h) that queued the URL; 0: none
};

class Ingestor {
 public:
  Ingestor(const Config& cfg, Store& store, Fetcher& fetcher, Metrics& metrics,
           std::shared_ptr<const TemplateRegistry> templates);
  ~Ingestor();

  // Starts a poll of `feed` (asynchronous). `done` runs when the poll and the article fetches it
  // started have been handed off (not when the articles are stored).
  void poll_feed(const FeedConfig& feed);
  enum class QueueResult { Queued, InFlight, Full, Stopped };
  // Fetches, extracts and stores one article URL (asynchronous, retried on transient errors). `Full` when
  // max_queued_articles URLs are outstanding (nothing was queued: call again after tick()/wait_idle()),
  // `InFlight` when the URL is already being fetched, `Stopped` after stop_accepting(). `job` tags the outcome
  // (IngestOutcome::job: the backfill job that queued it).
  QueueResult ingest_url(const std::string& url, const std::string& feed, const std::string& site,
                         bool refetch = false, uint64_t job = 0);

  // Feed state (persisted in the store).
  FeedState feed_state(const std::string& url);
  std::vector<FeedState> feed_states();
  // Feeds (of `feeds`) whose next poll time has come and that are not being polled now.
  std::vector<FeedConfig> due_feeds(const std::vector<FeedConfig>& feeds, int64_t now);

  // Runs delayed retries that are due, then dispatches due re-visits (dispatch_revisits). Called by the
  // scheduler loop.
  void tick();
  // Re-visits (README "Re-visits"): starts fetches of re-visits that are due by the injected clock, at a lower
  // priority than new articles: nothing while a new article waits for a fetch slot, none of a host that has a new
  // article queued or fetching, at most [revisit] per_tick per call and max_in_flight at once. Returns how many
  // were started.
  size_t dispatch_revisits();
  size_t revisits_in_flight() const;
  // Entries due now (counted up to `cap`); also sets the baotin_revisits_due gauge.
  size_t revisits_due(size_t cap = 100000);
  // Blocks until no work is outstanding (polls, fetches, extractions, pending retries).
  // Returns false on timeout (seconds <= 0: wait forever).
  bool wait_idle(double seconds = 0);
  size_t outstanding() const { return outstanding_.load(); }

  void set_templates(std::shared_ptr<const TemplateRegistry> t);
  std::shared_ptr<const TemplateRegistry> templates() const;  // the templates in force (set_templates)
  // The settings in force: replaced whole by reconfigure() (SIGHUP), read through config() (a snapshot that
  // stays valid for the caller however long it keeps it).
  std::shared_ptr<const Config> config() const;
  // SIGHUP: the [poll] and [fetch]-derived settings (retries, per-poll and queue caps, Retry-After cap, body
  // limit, poll policy) and store_raw_html take effect for work that starts from now on. `workers` is not
  // changed (the pool is fixed at construction).
  void reconfigure(const Config& cfg);
  // The wall clock (epoch seconds) for schedules and failure pauses; tests inject their own.
  void set_clock(std::function<int64_t()> clock) { clock_ = std::move(clock); }
  int64_t now() const { return clock_(); }
  // The feed parser (parse_feed); a test or tool may wrap it (e.g. to inject a failure mid-poll).
  using FeedParser = std::function<ParsedFeed(std::string_view, const std::string&, const std::string&)>;
  void set_feed_parser(FeedParser p) { parser_ = std::move(p); }
  void set_outcome_listener(std::function<void(const IngestOutcome&)> fn) { listener_ = std::move(fn); }
  // Stop accepting new work: pending retries are dropped, queued work that has not started is not
  // started (it is rediscovered by the next run: a feed's validators are only kept once every item of
  // the poll is settled), transfers in flight finish or are cancelled by the fetcher.
  void stop_accepting() { accepting_ = false; }
  // One line for the log at shutdown: how much queued work was dropped.
  std::string shutdown_summary() const;
  void finish();  // stop accepting, wait for workers

 private:
  // The items queued by one poll of a feed. The feed's new validators (ETag/Last-Modified) are
  // committed only when every item of the batch is settled (stored, unchanged, or failed for good), so a
  // 304 can never hide an item that was deferred, is still queued, failed transiently, or was lost to a
  // shutdown or crash.
  struct Batch {
    uint64_t gen = 0;
    size_t pending = 0;
    bool clean = true;  // false once any item of the poll is not settled
    std::string etag, last_modified;
  };
  struct ArticleJob {
    std::string url, feed, site;
    uint64_t batch = 0;  // Batch::gen of the poll that queued it (0: not from a poll)
    bool refetch = false;
    std::string feed_published;  // the feed item's date (used when the page shows none)
    std::shared_ptr<const RevisitEntry> revisit;  // set for a re-visit: its schedule entry
    uint64_t job = 0;  // IngestOutcome::job
  };
  // Recently failed article URLs (canonical form): not re-queued before retry_at.
  struct FailedUrl {
    int64_t retry_at = 0;
    int giveups = 0;
    bool permanent = false;  // 404/410/...: the item counts as settled for its feed
  };
  static constexpr size_t kMaxFailedUrls = 100000;
  static constexpr size_t kMaxItemLinkBytes = 8192;  // longer item links are skipped unparsed
  static constexpr size_t kArticleSlots = 16;                 // article fetches submitted at once
  static constexpr size_t kWorkBudgetBytes = size_t{32} << 20;  // fetched bodies waiting for a worker

  void on_feed_result(const FeedConfig& feed, FetchResult r);
  void on_article_result(const ArticleJob& job, int attempt, FetchResult r, bool& finished);
  // Admission: at most kArticleSlots article fetches are submitted to the fetcher at once, and none while
  // fetched pages waiting for a worker hold kWorkBudgetBytes or more; the rest wait in waiting_.
  void fetch_article(const ArticleJob& job, int attempt);
  void submit_article(const ArticleJob& job, int attempt);
  void pump();
  // The end of an article job, whatever its outcome: in-flight entry, metrics, listener, its poll's batch.
  // `r`: the fetch result when there is one (a re-visit's next schedule entry keeps its validators).
  void finish_job(const ArticleJob& job, const IngestOutcome& o, bool settled, const FetchResult* r = nullptr);
  // A new article's first re-visit entry (after it was stored as new or duplicate).
  void schedule_revisits(const ArticleJob& job, const std::string& id, const FetchResult& r);
  // A re-visit ended: its entry is replaced by the next step's (or removed), unless the daemon is stopping.
  void revisit_finished(const ArticleJob& job, const IngestOutcome& o, const FetchResult* r);
  static std::string inflight_key(const std::string& url);
  static uint64_t failure_key(const std::string& inflight_key);
  QueueResult queue_article(ArticleJob job);
  bool retry_later(double seconds, std::function<void()> fn);  // false once stopping (nothing scheduled)
  void done_one();
  void report(const IngestOutcome& o);
  // The one way feed state changes: `fn` edits the current state under the lock, then it is persisted.
  FeedState update_state(const std::string& url, const std::function<void(FeedState&)>& fn);
  FeedState update_state_locked(const std::string& url, const std::function<void(FeedState&)>& fn);  // holds state_write_mu_
  void record_poll_failure(const std::string& url, long status, const std::string& err,
                           std::optional<double> retry_after);
  void batch_item_done(const std::string& feed, uint64_t gen, bool settled);
  void remember_failure(const std::string& key, bool permanent);

  mutable std::mutex cfg_mu_;  // guards cfg_ only; a leaf lock (taken under mu_ or state_write_mu_ too)
  std::shared_ptr<const Config> cfg_;
  Store& store_;
  Fetcher& fetcher_;
  Metrics& metrics_;
  WorkerPool pool_;
  RevisitSchedule revisits_;
  std::atomic<bool> accepting_{true};
  std::atomic<uint64_t> dropped_at_shutdown_{0};

  mutable std::mutex mu_;  // guards everything below
  std::mutex state_write_mu_;  // orders update_state's persist calls (taken before mu_)
  std::condition_variable idle_cv_;
  std::shared_ptr<const TemplateRegistry> templates_;
  std::map<std::string, FeedState> states_;
  std::map<std::string, Batch> batches_;  // feed URL -> its latest poll's batch
  uint64_t next_batch_ = 1;
  std::set<std::string> polling_;
  std::set<std::string> articles_in_flight_;  // canonical URLs
  std::unordered_map<uint64_t, FailedUrl> failed_;  // xxh3 of the canonical URL -> last failure
  std::deque<std::pair<ArticleJob, int>> waiting_;  // admitted jobs not yet submitted (job, attempt)
  size_t submitted_ = 0;   // article fetches submitted to the fetcher and not yet answered
  size_t work_bytes_ = 0;  // bodies of fetched pages waiting for or in a worker
  std::set<std::string> revisits_in_flight_;  // schedule keys of re-visits being fetched or stored
  std::unordered_map<std::string, size_t> new_per_host_;  // host -> new-article jobs queued or fetching
  double last_due_sample_ = -1e300;  // monotonic time the due gauge was last sampled
  std::map<std::string, std::vector<std::string>> feed_allow_;  // feed URL -> network-policy allow entries
  std::multimap<double, std::function<void()>> delayed_;  // monotonic seconds -> task
  std::mt19937_64 rng_{std::random_device{}()};
  std::atomic<size_t> outstanding_{0};
  std::function<void(const IngestOutcome&)> listener_;
  std::function<int64_t()> clock_ = epoch_now;
  FeedParser parser_ = [](std::string_view b, const std::string& ct, const std::string& base) {
    return parse_feed(b, ct, base);
  };
};

}  // namespace baotin
