#include "daemon/pipeline.h"

#include <spdlog/spdlog.h>
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/canonical.h"
#include "core/date.h"
#include "core/identity.h"
#include "core/limits.h"
#include "core/url.h"
#include "extract/extract.h"
#include "feed/feed.h"

namespace baotin {


double article_retry_delay(int attempt, std::optional<double> retry_after_s, double max_retry_after_s) {
  double delay = std::min(600.0, 5.0 * static_cast<double>(1 << std::clamp(attempt, 0, 7)));
  if (retry_after_s && std::isfinite(*retry_after_s))
    delay = std::max(delay, std::min(*retry_after_s, max_retry_after_s));
  return delay;
}

namespace {
// Fetch latency of requests that were sent: a URL refused by robots.txt or the network policy never was.
void observe_fetch(Histogram& h, const FetchResult& r) {
  if (r.blocked_by_robots || r.robots_unavailable || r.blocked_by_policy) return;
  h.observe(r.seconds);
}

// Why the template's URL rules refuse `url` (SiteTemplate::is_article_url is false), and the rule's source.
std::pair<DropReason, std::string> url_rule_verdict(const SiteTemplate& t, std::string_view url) {
  if (url.size() > limits::kMaxUrlBytes) return {DropReason::UrlTooLong, ""};
  for (size_t i = 0; i < t.skip_urls.size(); ++i)
    if (t.skip_urls[i].contains(url))
      return {DropReason::SkipUrls, i < t.skip_url_sources.size() ? t.skip_url_sources[i] : ""};
  return {DropReason::NotArticleUrl, ""};
}
}  // namespace

// ---------------------------------------------------------------------------------------------
Ingestor::Ingestor(const Config& cfg, Store& store, Fetcher& fetcher, Metrics& metrics,
                   std::shared_ptr<const TemplateRegistry> templates)
    : cfg_(std::make_shared<const Config>(cfg)), store_(store), fetcher_(fetcher), metrics_(metrics),
      pool_(cfg.workers), revisits_(store), templates_(std::move(templates)) {}

std::shared_ptr<const Config> Ingestor::config() const {
  std::lock_guard lk(cfg_mu_);
  return cfg_;
}

void Ingestor::reconfigure(const Config& cfg) {
  auto next = std::make_shared<const Config>(cfg);
  std::lock_guard lk(cfg_mu_);
  cfg_ = std::move(next);
}

Ingestor::~Ingestor() { finish(); }

void Ingestor::finish() {
  accepting_ = false;
  pool_.stop();
}

std::shared_ptr<const TemplateRegistry> Ingestor::templates() const {
  std::lock_guard lk(mu_);
  return templates_;
}

void Ingestor::set_templates(std::shared_ptr<const TemplateRegistry> t) {
  std::lock_guard lk(mu_);
  templates_ = std::move(t);
}

void Ingestor::done_one() {
  if (--outstanding_ == 0) {
    std::lock_guard lk(mu_);
    idle_cv_.notify_all();
  }
}

bool Ingestor::wait_idle(double seconds) {
  std::unique_lock lk(mu_);
  auto pred = [&] { return outstanding_.load() == 0; };
  if (seconds <= 0) {
    idle_cv_.wait(lk, pred);
    return true;
  }
  return idle_cv_.wait_for(lk, std::chrono::duration<double>(seconds), pred);
}

void Ingestor::report(const IngestOutcome& o) {
  if (listener_) listener_(o);
}

FeedState Ingestor::feed_state(const std::string& url) {
  {
    std::lock_guard lk(mu_);
    auto it = states_.find(url);
    if (it != states_.end()) return it->second;
  }
  FeedState s;
  bool loaded = false;
  if (auto json = store_.get_feed_state(url)) {
    try {
      s = feed_state_from_json(nlohmann::json::parse(*json));
      loaded = true;
    } catch (const std::exception& e) {
      spdlog::warn("feed {}: stored state unreadable ({}), starting afresh", redact_url(url), e.what());
    }
  }
  if (!loaded) {
    s = FeedState{};
    s.url = url;
    s.interval_s = config()->poll.min_interval_s;
    s.next_poll = initial_poll_time(url, config()->poll, now());
  }
  metrics_.set_feed_last_success(url, s.last_success);  // a restart keeps the per-feed series
  std::lock_guard lk(mu_);
  return states_.emplace(url, s).first->second;
}

std::vector<FeedState> Ingestor::feed_states() {
  std::lock_guard lk(mu_);
  std::vector<FeedState> out;
  for (const auto& [u, s] : states_) out.push_back(s);
  return out;
}

std::vector<FeedConfig> Ingestor::due_feeds(const std::vector<FeedConfig>& feeds, int64_t now) {
  std::vector<FeedConfig> due;
  std::vector<const FeedConfig*> unknown;
  {
    std::lock_guard lk(mu_);
    for (const auto& f : feeds) {
      if (polling_.count(f.url)) continue;
      auto it = states_.find(f.url);
      if (it == states_.end()) unknown.push_back(&f);
      else if (it->second.next_poll <= now) due.push_back(f);
    }
  }
  for (const auto* f : unknown)
    if (feed_state(f->url).next_poll <= now) due.push_back(*f);
  return due;
}

FeedState Ingestor::update_state(const std::string& url, const std::function<void(FeedState&)>& fn) {
  feed_state(url);  // loads the persisted state into states_ if needed
  std::lock_guard w(state_write_mu_);
  return update_state_locked(url, fn);
}

FeedState Ingestor::update_state_locked(const std::string& url, const std::function<void(FeedState&)>& fn) {
  feed_state(url);
  FeedState s;
  {
    std::lock_guard lk(mu_);
    FeedState& cur = states_[url];
    fn(cur);
    s = cur;
  }
  metrics_.set_feed_last_success(url, s.last_success);
  try {
    store_.put_feed_state(url, to_json(s).dump());
  } catch (const std::exception& e) {
    spdlog::error("feed {}: cannot persist state: {}", redact_url(url), e.what());
  }
  return s;
}

void Ingestor::record_poll_failure(const std::string& url, long status, const std::string& err,
                                   std::optional<double> retry_after) {
  const int64_t now = this->now();
  FeedState st = update_state(
      url, [&](FeedState& s) { on_poll_failure(s, config()->poll, now, status, err, retry_after, rng_); });
  spdlog::warn("poll {}: failed ({}), failures in a row: {}, next try in {}s", redact_url(url), err,
               st.consecutive_failures, st.next_poll - now);
}

void Ingestor::poll_feed(const FeedConfig& feed) {
  if (!accepting_) return;
  FeedState st = feed_state(feed.url);
  {
    std::lock_guard lk(mu_);
    if (!polling_.insert(feed.url).second) return;  // already polling
  }
  ++outstanding_;
  ++metrics_.polls;
  FetchRequest req;
  req.url = feed.url;
  req.etag = st.etag;
  req.last_modified = st.last_modified;
  req.allow_private = feed.allow_private;
  spdlog::debug("poll {}: requesting{}", redact_url(feed.url),
                req.etag.empty() && req.last_modified.empty() ? "" : " (conditional: If-None-Match/If-Modified-Since)");
  {
    std::lock_guard lk(mu_);  // the feed's article fetches get its allow list too
    if (feed.allow_private.empty()) feed_allow_.erase(feed.url);
    else feed_allow_[feed.url] = feed.allow_private;
  }
  fetcher_.submit(std::move(req), [this, feed](FetchResult r) {
    ++metrics_.queue_work;
    pool_.post([this, feed, r = std::move(r)]() mutable {
      --metrics_.queue_work;
      if (!accepting_) {
        ++dropped_at_shutdown_;  // not started; the feed is polled again on the next run
      } else {
        try {
          on_feed_result(feed, std::move(r));
        } catch (const std::exception& e) {
          // Out of memory or any other failure inside baotin: a failed poll with backoff, never a feed
          // that is due again at once.
          ++metrics_.poll_internal_errors;
          ++metrics_.polls_failed;
          try {
            record_poll_failure(feed.url, 0,
                                "internal error while processing the feed: " + redact_url(e.what()), std::nullopt);
          } catch (const std::exception& e2) {
            spdlog::error("feed {}: {}; and its failure could not be recorded: {}", redact_url(feed.url),
                          redact_url(e.what()), redact_url(e2.what()));
          }
        }
      }
      {
        std::lock_guard lk(mu_);
        polling_.erase(feed.url);
      }
      done_one();
    });
  });
}

void Ingestor::on_feed_result(const FeedConfig& feed, FetchResult r) {
  const int64_t now = this->now();
  metrics_.count_status(r.status, !r.error.empty() && r.status == 0);
  metrics_.bytes += r.body.size();
  observe_fetch(metrics_.fetch_feed_seconds, r);

  if (r.not_modified) {
    ++metrics_.polls_not_modified;
    update_state(feed.url, [&](FeedState& s) { on_not_modified(s, config()->poll, now, rng_); });
    return;
  }
  if (!r.ok()) {
    ++metrics_.polls_failed;
    // The fetcher's own words: a disallow, an unavailable robots.txt, a network-policy refusal, a TLS error...
    std::string err = r.error.empty() ? "HTTP " + std::to_string(r.status) : redact_url(r.error);
    record_poll_failure(feed.url, r.status, err, r.retry_after_s);
    return;
  }

  // A new version of the feed: the previous poll's batch can no longer commit its (older) validators.
  {
    std::lock_guard lk(mu_);
    batches_.erase(feed.url);
  }
  // Crash marker: until this poll is recorded, the stored state says it failed (with backoff). If the
  // process dies while parsing this feed or queueing its items, the next start backs off from it instead of
  // polling it again at once (a crash loop under Restart=on-failure).
  {
    FeedState marker = feed_state(feed.url);
    std::lock_guard w(state_write_mu_);
    {
      std::lock_guard lk(mu_);
      on_poll_failure(marker, config()->poll, now, r.status,
                      "poll did not complete: the daemon stopped or crashed while processing this feed", std::nullopt,
                      rng_);
    }
    try {
      store_.put_feed_state(feed.url, to_json(marker).dump());
    } catch (const std::exception& e) {
      spdlog::error("feed {}: cannot persist state: {}", redact_url(feed.url), e.what());
    }
  }

  ParsedFeed parsed = parser_(r.body, r.content_type, r.final_url.empty() ? feed.url : r.final_url);
  if (parsed.items.empty() && (parsed.bozo || parsed.format.empty())) {
    ++metrics_.polls_failed;
    ++metrics_.feed_parse_errors;
    std::string err = parsed.format.empty() ? "not an RSS/Atom feed" : "unparsable feed";
    if (!parsed.bozo_exception.empty()) err += ": " + parsed.bozo_exception;
    record_poll_failure(feed.url, r.status, err, std::nullopt);
    return;
  }
  if (parsed.bozo)
    spdlog::debug("poll {}: feed not well-formed, recovered: {}", redact_url(feed.url), parsed.bozo_exception);

  size_t new_items = 0, queued = 0, deferred = 0, unsettled = 0, dropped = 0, known = 0, paused = 0, in_flight = 0;
  uint64_t gen;
  {
    std::lock_guard lk(mu_);
    gen = next_batch_++;
    // pending = 1: the poll's own token, released once the poll's state is written below.
    batches_[feed.url] = Batch{gen, 1, true, r.etag, r.last_modified};
  }
  // Items past the parser's item limit were never seen: the feed must not keep validators that would hide them.
  unsettled += parsed.items_dropped;
  auto tpl = templates();
  std::vector<int64_t> item_times;
  const std::string base = r.final_url.empty() ? feed.url : r.final_url;
  for (size_t i = 0; i < parsed.items.size(); ++i) {
    const auto& item = parsed.items[i];
    ++metrics_.feed_items;
    std::string link = item.link;
    if (link.empty() && (item.id.rfind("http://", 0) == 0 || item.id.rfind("https://", 0) == 0)) link = item.id;
    if (link.empty()) {
      ++dropped;
      metrics_.count_dropped(DropReason::NoLink);
      spdlog::debug("poll {}: item {} has no link, skipped", redact_url(feed.url), i + 1);
      continue;
    }
    if (link.size() > kMaxItemLinkBytes) {  // no parser or regex ever sees a hostile 30 KB "link"
      ++metrics_.articles_skipped;
      ++dropped;
      metrics_.count_dropped(DropReason::LinkTooLong);
      spdlog::debug("poll {}: item {} link of {} bytes is too long, skipped", redact_url(feed.url), i + 1, link.size());
      continue;
    }
    link = resolve_url(base, link);
    if (!is_http_url(link)) {  // javascript:, data:, file:, gopher:, ...: never fetched, never retried
      ++metrics_.articles_skipped;
      ++dropped;
      metrics_.count_dropped(DropReason::NotHttp);
      spdlog::debug("poll {}: item link '{}' is not http(s), skipped", redact_url(feed.url), redact_url(link));
      continue;
    }
    int64_t item_time = 0;
    for (const auto* d : {&item.published, &item.updated})
      if (!d->empty())
        if (auto e = iso_to_epoch(*d)) item_time = std::max(item_time, *e);
    std::shared_ptr<const SiteTemplate> t =
        feed.site.empty() || !tpl ? (tpl ? tpl->for_url(link) : nullptr) : tpl->by_name(feed.site);
    // URL rules are matched against the canonical form (tracking parameters removed).
    const std::string canon = url_key(link);
    if (t && !t->is_article_url(canon)) {
      ++metrics_.articles_skipped;
      ++dropped;
      const auto [reason, rule] = url_rule_verdict(*t, canon);
      metrics_.count_dropped(reason);
      if (reason == DropReason::SkipUrls)
        spdlog::debug("poll {}: item {} dropped by template {}: skip_urls rule '{}'", redact_url(feed.url),
                      redact_url(canon), t->name, rule);
      else if (reason == DropReason::NotArticleUrl)
        spdlog::debug("poll {}: item {} dropped by template {}: matches none of its {} article_urls rules",
                      redact_url(feed.url), redact_url(canon), t->name, t->article_urls.size());
      else
        spdlog::debug("poll {}: item URL of {} bytes dropped by template {}: longer than {} bytes", redact_url(feed.url),
                      canon.size(), t->name, limits::kMaxUrlBytes);
      continue;
    }
    bool refetch = false;
    // Known, also under the outlet's current domain (template host_aliases)?
    if (auto id = find_known(link, t ? t->outlet() : OutletHosts{},
                             [&](const std::string& k) { return store_.id_for_url(k); })) {
      // Known article: re-fetch only when the feed says it changed after we fetched it.
      auto rec = store_.get(*id);
      int64_t fetched = rec ? iso_to_epoch(rec->fetched_at).value_or(0) : 0;
      if (!(item.updated.size() && item_time > fetched)) {
        ++known;
        continue;
      }
      refetch = true;
    }
    {
      // Failed recently: not queued again before its retry time.
      std::lock_guard lk(mu_);
      auto f = failed_.find(failure_key(canon.empty() ? link : canon));
      if (f != failed_.end() && f->second.retry_at > now) {
        if (!f->second.permanent) ++unsettled;
        ++paused;
        continue;
      }
    }
    ++new_items;
    if (queued >= static_cast<size_t>(config()->max_new_per_poll)) {
      // The rest of a huge feed waits for the next poll (which comes soon, see below).
      deferred = parsed.items.size() - i;
      break;
    }
    switch (queue_article({link, feed.url, t ? t->name : feed.site, gen, refetch, item.published, {}})) {
      case QueueResult::Queued:
        ++queued;
        if (!refetch && !item.published.empty())
          if (auto e = iso_to_epoch(item.published)) item_times.push_back(*e);
        break;
      case QueueResult::InFlight:
        ++unsettled;
        ++in_flight;
        break;
      case QueueResult::Full: deferred = parsed.items.size() - i; break;
      case QueueResult::Stopped: ++unsettled; break;
    }
    if (deferred || !accepting_) break;
  }
  if (deferred) metrics_.feed_items_deferred += deferred;
  bool commit_now = false;
  {
    std::lock_guard lk(mu_);
    auto it = batches_.find(feed.url);
    if (it != batches_.end() && it->second.gen == gen) {
      if (deferred || unsettled) it->second.clean = false;
      if (it->second.pending == 1) {
        commit_now = it->second.clean;
        batches_.erase(it);
        gen = 0;  // nothing left to release
      }
    }
  }
  FeedState st = update_state(feed.url, [&](FeedState& s) {
    on_poll_success(s, config()->poll, now, new_items, item_times, rng_);
    // The validators of this feed version count only once all its items are settled (see Batch).
    s.etag = commit_now ? r.etag : "";
    s.last_modified = commit_now ? r.last_modified : "";
    if (deferred) s.next_poll = std::min<int64_t>(s.next_poll, now + static_cast<int64_t>(config()->poll.min_interval_s));
  });
  if (gen) batch_item_done(feed.url, gen, true);
  // Why items were not new: already stored, dropped by their link (the debug lines name the rule), failed
  // recently (retried after a pause), or already being fetched.
  std::string why;
  auto say = [&](size_t n, const char* what) {
    if (n) why += (why.empty() ? "" : ", ") + std::to_string(n) + what;
  };
  say(known, " known");
  say(dropped, " dropped by link or URL rules");
  say(paused, " failed recently");
  say(in_flight, " already being fetched");
  if (!why.empty()) why = " (" + why + ")";
  if (deferred)
    spdlog::info("poll {}: {} items{}, {} queued, {} left for the next poll (max_new_per_poll {}, queue {}/{}), next "
                 "poll in {}s",
                 redact_url(feed.url), parsed.items.size(), why, queued, deferred, config()->max_new_per_poll,
                 metrics_.articles_in_flight.load(), config()->max_queued_articles, st.next_poll - now);
  else
    spdlog::info("poll {}: {} items, {} new{}, next poll in {}s", redact_url(feed.url), parsed.items.size(), queued,
                 why, st.next_poll - now);
}

void Ingestor::batch_item_done(const std::string& feed, uint64_t gen, bool settled) {
  if (feed.empty() || gen == 0) return;
  // Held across the check and the write, so that a newer poll's crash marker (written under the same lock
  // after it retired this batch) is never overwritten by this batch's commit.
  std::lock_guard w(state_write_mu_);
  std::string etag, last_modified;
  {
    std::lock_guard lk(mu_);
    auto it = batches_.find(feed);
    if (it == batches_.end() || it->second.gen != gen) return;  // a newer poll took over
    Batch& b = it->second;
    if (!settled) b.clean = false;
    if (--b.pending > 0) return;
    bool clean = b.clean;
    etag = b.etag;
    last_modified = b.last_modified;
    batches_.erase(it);
    if (!clean || (etag.empty() && last_modified.empty())) return;
  }
  update_state_locked(feed, [&](FeedState& s) {
    s.etag = etag;
    s.last_modified = last_modified;
  });
}

void Ingestor::remember_failure(const std::string& key, bool permanent) {
  const int64_t now = this->now();
  std::lock_guard lk(mu_);
  if (failed_.size() >= kMaxFailedUrls && !failed_.count(failure_key(key))) {
    // Bounded: first forget every entry whose pause is over (one pass, only when full), then, if still
    // full, the entry whose retry time is nearest (it would be retried soonest anyway).
    std::erase_if(failed_, [now](const auto& kv) { return kv.second.retry_at <= now; });
    if (failed_.size() >= kMaxFailedUrls)
      failed_.erase(std::min_element(failed_.begin(), failed_.end(), [](const auto& a, const auto& b) {
        return a.second.retry_at < b.second.retry_at;
      }));
  }
  FailedUrl& f = failed_[failure_key(key)];
  f.giveups = std::min(f.giveups + 1, 30);
  f.permanent = permanent;
  // Transient: 15 min, doubling per give-up, up to a day. Permanent (404, nothing extractable): a day.
  int64_t wait = permanent ? 86400 : std::min<int64_t>(86400, int64_t{900} << std::min(f.giveups - 1, 7));
  f.retry_at = now + wait;
}

// Keyed without host aliases: a template reload between queueing and the result must not change the key.
std::string Ingestor::inflight_key(const std::string& url) { return url_key(url); }

uint64_t Ingestor::failure_key(const std::string& key) { return XXH3_64bits(key.data(), key.size()); }

Ingestor::QueueResult Ingestor::queue_article(ArticleJob job) {
  if (!accepting_) return QueueResult::Stopped;
  const std::string key = inflight_key(job.url);
  {
    std::lock_guard lk(mu_);
    if (articles_in_flight_.count(key)) return QueueResult::InFlight;  // already being fetched
    if (articles_in_flight_.size() >= static_cast<size_t>(config()->max_queued_articles)) return QueueResult::Full;
    articles_in_flight_.insert(key);
    ++new_per_host_[url_host(job.url)];
    if (job.batch) {
      auto it = batches_.find(job.feed);
      if (it != batches_.end() && it->second.gen == job.batch) ++it->second.pending;
      else job.batch = 0;
    }
  }
  ++metrics_.articles_in_flight;
  fetch_article(job, 0);
  return QueueResult::Queued;
}

Ingestor::QueueResult Ingestor::ingest_url(const std::string& url, const std::string& feed, const std::string& site,
                                           bool refetch, uint64_t job) {
  return queue_article({url, feed, site, 0, refetch, "", {}, job});
}

void Ingestor::fetch_article(const ArticleJob& job, int attempt) {
  ++outstanding_;  // released by the pool job of submit_article, or by tick() if dropped while waiting
  {
    std::lock_guard lk(mu_);
    if (submitted_ >= kArticleSlots || work_bytes_ >= kWorkBudgetBytes) {
      waiting_.emplace_back(job, attempt);
      return;
    }
    ++submitted_;
  }
  submit_article(job, attempt);
}

void Ingestor::submit_article(const ArticleJob& job, int attempt) {
  FetchRequest req;
  req.url = job.url;
  if (job.revisit) {  // conditional GET with the validators of the last fetch
    req.etag = job.revisit->etag;
    req.last_modified = job.revisit->last_modified;
  }
  {
    std::lock_guard lk(mu_);
    if (auto it = feed_allow_.find(job.feed); it != feed_allow_.end()) req.allow_private = it->second;
  }
  fetcher_.submit(std::move(req), [=, this](FetchResult r) {
    const size_t bytes = r.body.size();
    {
      std::lock_guard lk(mu_);
      if (!job.revisit) --submitted_;  // re-visits have their own bound (max_in_flight), not kArticleSlots
      work_bytes_ += bytes;
    }
    ++metrics_.queue_work;
    pool_.post([=, this, r = std::move(r)]() mutable {
      --metrics_.queue_work;
      bool finished = false;
      try {
        on_article_result(job, attempt, std::move(r), finished);
      } catch (const std::exception& e) {
        // A read error from the store, out of memory in extraction...: the job still ends properly, so its
        // URL does not stay "in flight" for ever and its poll's batch can complete.
        spdlog::error("article {}: {}", redact_url(job.url), redact_url(e.what()));
        if (!finished) {
          ++metrics_.articles_failed;
          finish_job(job, {job.url, false, "failed", std::string("internal error: ") + e.what()}, false);
        }
      }
      {
        std::lock_guard lk(mu_);
        work_bytes_ -= bytes;
      }
      pump();
      done_one();
    });
  });
}

void Ingestor::pump() {
  for (;;) {
    std::pair<ArticleJob, int> next;
    {
      std::lock_guard lk(mu_);
      if (waiting_.empty() || !accepting_ || submitted_ >= kArticleSlots || work_bytes_ >= kWorkBudgetBytes) return;
      next = std::move(waiting_.front());
      waiting_.pop_front();
      ++submitted_;
    }
    submit_article(next.first, next.second);
  }
}

void Ingestor::finish_job(const ArticleJob& job, const IngestOutcome& o, bool settled, const FetchResult* r) {
  const std::string key = inflight_key(job.url);
  {
    std::lock_guard lk(mu_);
    articles_in_flight_.erase(key);
    if (o.stored) failed_.erase(failure_key(key));
    if (!job.revisit)
      if (auto h = new_per_host_.find(url_host(job.url)); h != new_per_host_.end() && --h->second == 0)
        new_per_host_.erase(h);
  }
  --metrics_.articles_in_flight;
  batch_item_done(job.feed, job.batch, settled);
  IngestOutcome out = o;
  out.job = job.job;
  if (job.revisit) {
    out.revisit = true;
    revisit_finished(job, o, r);
  }
  try {
    report(out);
  } catch (const std::exception& e) {
    spdlog::error("outcome listener: {}", e.what());
  }
}

bool Ingestor::retry_later(double seconds, std::function<void()> fn) {
  std::lock_guard lk(mu_);
  if (!accepting_) return false;  // checked under mu_, as tick() drops the queue under mu_
  ++outstanding_;
  delayed_.emplace(monotonic_seconds() + seconds, std::move(fn));
  return true;
}

void Ingestor::tick() {
  std::vector<std::function<void()>> due;
  std::deque<std::pair<ArticleJob, int>> not_started;
  size_t dropped = 0;
  {
    std::lock_guard lk(mu_);
    if (!accepting_) {
      // Shutting down: pending retries and admitted jobs not yet submitted are dropped (the next run
      // rediscovers them from the feeds).
      dropped = delayed_.size();
      delayed_.clear();
      not_started.swap(waiting_);
    } else {
      double now = monotonic_seconds();
      while (!delayed_.empty() && delayed_.begin()->first <= now) {
        due.push_back(std::move(delayed_.begin()->second));
        delayed_.erase(delayed_.begin());
      }
    }
  }
  for (auto& fn : due) {
    fn();
    done_one();
  }
  dropped_at_shutdown_ += dropped + not_started.size();
  for (size_t i = 0; i < dropped; ++i) done_one();
  for (auto& [job, attempt] : not_started) {
    finish_job(job, {job.url, false, "failed", "not fetched: the daemon is stopping"}, false);
    done_one();
  }
  pump();
  if (!accepting_) return;
  try {
    dispatch_revisits();
    if (monotonic_seconds() - last_due_sample_ >= 10) revisits_due();
  } catch (const std::exception& e) {  // a store read error: new articles go on; tried again next tick
    spdlog::error("revisit: {}", e.what());
  }
}

size_t Ingestor::revisits_in_flight() const {
  std::lock_guard lk(mu_);
  return revisits_in_flight_.size();
}

size_t Ingestor::revisits_due(size_t cap) {
  const size_t n = revisits_.count_due(now(), cap);
  metrics_.revisits_due = static_cast<int64_t>(n);
  last_due_sample_ = monotonic_seconds();
  return n;
}

size_t Ingestor::dispatch_revisits() {
  const auto cfg = config();
  const RevisitPolicy& pol = cfg->revisit;
  if (!accepting_ || pol.after_s.empty()) return 0;
  std::set<std::string> busy_keys;
  std::unordered_map<std::string, size_t> busy_hosts;
  size_t room;
  {
    std::lock_guard lk(mu_);
    // New articles first: none while a new article waits for a fetch slot.
    if (!waiting_.empty()) return 0;
    const size_t cap = static_cast<size_t>(pol.max_in_flight);
    if (revisits_in_flight_.size() >= cap) return 0;
    room = std::min(cap - revisits_in_flight_.size(), static_cast<size_t>(pol.per_tick));
    busy_keys = revisits_in_flight_;
    busy_hosts = new_per_host_;
  }
  size_t malformed = 0;
  auto due = revisits_.due(
      now(), room, room * 8 + 64,
      [&](const RevisitEntry& e) {
        // A host with a new article queued or fetching is left alone; so is an entry already in flight.
        return !busy_keys.count(revisit_key(e.due, e.id)) && !busy_hosts.count(url_host(e.url));
      },
      &malformed);
  size_t started = 0;
  for (auto& e : due) {
    const std::string key = inflight_key(e.url);
    {
      std::lock_guard lk(mu_);
      if (!accepting_) break;
      if (articles_in_flight_.count(key) || new_per_host_.count(url_host(e.url))) continue;  // a feed took it meanwhile
      articles_in_flight_.insert(key);
      revisits_in_flight_.insert(revisit_key(e.due, e.id));
    }
    ++metrics_.articles_in_flight;
    ++metrics_.revisits_in_flight;
    ++outstanding_;  // released by submit_article's pool job
    ArticleJob job{e.url, e.feed, e.site, 0, true, "", {}};
    spdlog::debug("revisit {}: step {} ({}s after first seen){}", redact_url(e.url), e.step + 1, e.due - e.first_seen,
                  e.etag.empty() && e.last_modified.empty() ? "" : ", conditional");
    job.revisit = std::make_shared<const RevisitEntry>(std::move(e));
    submit_article(job, 0);
    ++started;
  }
  return started;
}

void Ingestor::schedule_revisits(const ArticleJob& job, const std::string& id, const FetchResult& r) {
  if (job.job) return;  // a backfill job's archive pages get no re-visits (as an in-process backfill)
  const auto cfg = config();
  if (cfg->revisit.after_s.empty() || job.revisit || id.empty()) return;
  RevisitEntry e;
  e.id = id;
  e.url = job.url;
  e.site = job.site;
  e.feed = job.feed;
  e.first_seen = now();
  e.step = 0;
  e.due = e.first_seen + cfg->revisit.after_s.front();
  e.etag = r.etag;
  e.last_modified = r.last_modified;
  try {
    revisits_.add(e);
    ++metrics_.revisits_scheduled;
  } catch (const std::exception& ex) {
    spdlog::error("article {}: re-visit schedule not stored: {}", redact_url(job.url), ex.what());
  }
}

void Ingestor::revisit_finished(const ArticleJob& job, const IngestOutcome& o, const FetchResult* r) {
  const RevisitEntry& cur = *job.revisit;
  // Leaves the in-flight set only once the store holds the next entry, so that no dispatch meanwhile picks the
  // old one again.
  struct Release {
    Ingestor* self;
    std::string key;
    ~Release() {
      {
        std::lock_guard lk(self->mu_);
        self->revisits_in_flight_.erase(key);
      }
      --self->metrics_.revisits_in_flight;
    }
  } release{this, revisit_key(cur.due, cur.id)};
  // Stopping: the entry stays as it is and is visited after the restart.
  if (!accepting_) return;
  ++metrics_.revisits;
  const bool not_modified = r && r->not_modified;
  const bool gone = o.kind == "gone";  // redirects to another page: nothing more to re-visit
  const bool ok = not_modified || o.stored || o.kind == "unchanged" || gone;
  if (not_modified) ++metrics_.revisits_not_modified;
  if (o.kind == "updated") ++metrics_.revisits_corrections;
  if (!ok) ++metrics_.revisits_failed;
  const int64_t now = this->now();
  const auto cfg = config();
  std::optional<RevisitEntry> next = cur;
  next->failures = ok ? 0 : cur.failures + 1;
  if (ok && r && r->ok() && (!r->etag.empty() || !r->last_modified.empty())) {
    next->etag = r->etag;
    next->last_modified = r->last_modified;
  }
  if (gone) {
    ++metrics_.revisits_abandoned;
    next.reset();
  } else if (auto step = next_revisit_step(cfg->revisit.after_s, cur.first_seen, cur.step, now)) {
    next->step = *step;
    next->due = cur.first_seen + cfg->revisit.after_s[*step];
  } else if (!ok && next->failures <= RevisitPolicy::kLastStepRetries) {
    next->due = now + RevisitPolicy::kLastStepRetryS;  // the last step failed: tried again later
  } else {
    if (!ok) {
      ++metrics_.revisits_abandoned;
      spdlog::warn("revisit {}: last step failed {} times ({}), schedule ended", redact_url(cur.url), next->failures,
                   o.error);
    }
    next.reset();
  }
  if (!ok)
    spdlog::warn("revisit {}: failed ({}){}", redact_url(cur.url), o.error,
                 next ? ", tried again in " + std::to_string(next->due - now) + "s" : std::string());
  try {
    revisits_.advance(cur, next);
  } catch (const std::exception& ex) {
    // The old entry stays: visited again at the next tick (nothing lost).
    spdlog::error("revisit {}: schedule not updated: {}", redact_url(cur.url), ex.what());
  }
}

std::string Ingestor::shutdown_summary() const {
  return std::to_string(dropped_at_shutdown_.load()) +
         " queued fetches/retries/pages not started (they are rediscovered from the feeds on the next run)";
}

void Ingestor::on_article_result(const ArticleJob& job, int attempt, FetchResult r, bool& finished) {
  const std::string& url = job.url;
  metrics_.count_status(r.status, !r.error.empty() && r.status == 0);
  metrics_.bytes += r.body.size();
  observe_fetch(metrics_.fetch_article_seconds, r);
  const std::string key = inflight_key(url);
  // `settled`: the item needs nothing more from its feed (stored, unchanged, or failed for good).
  auto finish_url = [&](IngestOutcome o, bool settled) {
    finished = true;
    finish_job(job, o, settled, &r);
  };
  if (!accepting_) {
    // Shutting down: a fetched page or a cancelled transfer is not processed now. Counted, not logged
    // one by one; the item is rediscovered on the next run (its feed's validators were not committed).
    ++dropped_at_shutdown_;
    return finish_url({url, false, "failed", "not processed: the daemon is stopping"}, false);
  }
  if (job.revisit) {
    // A re-visit: 304 = unchanged (nothing parsed or written); any failure waits for the next step (no retries
    // here, no pause of the URL for the feeds).
    if (r.not_modified) return finish_url({url, false, "unchanged", ""}, true);
    if (!r.ok() && !r.too_large) {
      std::string err = r.error.empty() ? "HTTP " + std::to_string(r.status) : redact_url(r.error);
      return finish_url({url, false, "failed", err}, true);
    }
  }
  if (r.blocked_by_robots) {  // a real Disallow (an unreachable robots.txt is robots_unavailable: transient)
    ++metrics_.fetch_robots_blocked;
    ++metrics_.articles_skipped;
    spdlog::info("article {}: {}, skipped", redact_url(url), redact_url(r.error));
    remember_failure(key, true);  // not queued again by every poll (re-checked after a day)
    return finish_url({url, false, "skipped", redact_url(r.error)}, true);
  }
  if (r.too_large) ++metrics_.fetch_too_large;
  if (!r.ok() && !r.too_large) {
    std::string err = r.error.empty() ? "HTTP " + std::to_string(r.status) : redact_url(r.error);
    // Refusals of the network policy (private address, non-http(s) scheme) are permanent.
    bool transient = !r.blocked_by_policy && (r.status == 0 || r.status == 408 || r.status == 425 ||
                                              r.status == 429 || r.status >= 500);
    if (transient && attempt + 1 < config()->article_retries && accepting_) {
      double delay = article_retry_delay(attempt, r.retry_after_s, config()->max_retry_after_s);
      {
        std::lock_guard lk(mu_);
        delay *= std::uniform_real_distribution<double>(1.0, 1.3)(rng_);
      }
      if (retry_later(delay, [=, this] { fetch_article(job, attempt + 1); })) {
        spdlog::warn("article {}: {} (attempt {}), retrying in {:.0f}s", redact_url(url), err, attempt + 1, delay);
        return;
      }
      ++dropped_at_shutdown_;  // stopping: the retry is not scheduled, the item is rediscovered next run
      return finish_url({url, false, "failed", "not retried: the daemon is stopping"}, false);
    }
    ++metrics_.articles_failed;
    spdlog::error("article {}: giving up after {} attempt(s): {}", redact_url(url), attempt + 1, err);
    // Transient: tried again when its feed is polled after a growing pause (the feed keeps no validators
    // meanwhile, so the item is rediscovered, not lost behind a 304). Permanent (404, 410, ...): settled.
    remember_failure(key, !transient);
    return finish_url({url, false, "failed", err}, !transient);
  }

  ExtractOptions eo;
  auto tpl = templates();
  eo.templates = tpl.get();
  eo.site = job.site;
  eo.max_bytes = config()->fetch.max_body_bytes;
  eo.feed_published = job.feed_published;
  eo.now = clock_();
  std::string page_url = r.final_url.empty() ? url : r.final_url;
  const double extract_start = monotonic_seconds();
  Article a = extract_article(r.body, page_url, r.content_type, eo);
  metrics_.extract_seconds.observe(monotonic_seconds() - extract_start);
  if (r.too_large) {
    a.partial = true;
    a.warnings.push_back("body larger than the fetch limit: cut");
  }
  if (a.title.empty() && a.body.empty()) {
    ++metrics_.articles_failed;
    std::string why = a.warnings.empty() ? "nothing extracted" : a.warnings.front();
    spdlog::warn("article {}: not stored: {}", redact_url(url), why);
    remember_failure(key, true);
    return finish_url({url, false, "failed", why}, true);
  }
  std::shared_ptr<const SiteTemplate> t =
      tpl ? (job.site.empty() ? tpl->for_url(page_url) : tpl->by_name(job.site)) : nullptr;
  bool recovered = false;
  if (metrics_.record_extraction(a, t ? t->min_body_chars : 0, &recovered))
    spdlog::warn("template {}: most recent pages come out empty or short (e.g. {}); generic fallback is used for them",
                 a.template_name, redact_url(url));
  if (recovered) spdlog::info("template {}: healthy again", a.template_name);

  a.feed = job.feed;
  a.fetched_at = now_iso_vn();
  a.reason = job.revisit ? "revisit" : "fetch";
  a.content_type = r.content_type;
  // The fetched and final URLs, and their spellings on the outlet's current domain (extraction already chose
  // and moved the canonical URL).
  const ArticleUrls ids = identify(url, r.final_url, a.canonical_url, t ? t->outlet() : OutletHosts{});
  const std::vector<std::string>& aliases = ids.aliases;
  if (job.revisit && !r.final_url.empty() && url_key(r.final_url) != url_key(url) && ids.id != job.revisit->id) {
    // The stored article's URL now redirects to another page (taken down and sent to the homepage or a section,
    // or moved under a new slug): that page is not a new version of the article. The schedule ends.
    spdlog::info("revisit {}: now redirects to {}, which is not this article; not stored, re-visits end",
                 redact_url(url), redact_url(r.final_url));
    return finish_url({url, false, "gone", "redirects to another page"}, true);
  }
  // Never replace a complete stored version by a partial one (truncated page, cut body). Looked up under the
  // keys the store resolves the id with, the canonical URL first.
  if (a.partial) {
    ++metrics_.articles_partial;
    std::optional<std::string> id;
    for (const auto& k : record_keys(a.canonical_url, a.url, aliases).keys)
      if ((id = store_.id_for_url(k))) break;
    if (id) {
      auto prev = store_.get(*id);
      if (prev && !prev->partial) {
        spdlog::warn("article {}: partial page ({}), stored version kept", redact_url(url),
                     a.warnings.empty() ? "" : a.warnings.front());
        return finish_url({url, false, "unchanged", "partial page; stored version kept"}, true);
      }
    }
  }
  const std::optional<int64_t> published = a.published.empty() ? std::nullopt : iso_to_epoch(a.published);
  // The page claimed a time after the fetch (extract/record dropped it, the record took the feed's or URL's date).
  const bool claimed_future = std::any_of(a.warnings.begin(), a.warnings.end(), [](const std::string& w) {
    return w.rfind("published ", 0) == 0 && w.find(" is in the future") != std::string::npos;
  });
  PutResult res;
  try {
    res = store_.put_article(std::move(a), config()->store_raw_html ? std::string_view(r.body) : std::string_view(), aliases);
  } catch (const std::exception& e) {
    ++metrics_.articles_failed;
    spdlog::error("article {}: store failed: {}", redact_url(url), e.what());
    return finish_url({url, false, "failed", std::string("store: ") + e.what()}, false);
  }
  switch (res.kind) {
    case PutKind::New:
      schedule_revisits(job, res.id, r);
      ++metrics_.articles_new;
      if (published) metrics_.observe_publish_delay(now(), *published);  // the injected clock
      if (claimed_future) ++metrics_.published_in_future;
      break;
    case PutKind::Updated: ++metrics_.articles_updated; break;
    case PutKind::Unchanged: ++metrics_.articles_unchanged; break;
    case PutKind::Duplicate:
      schedule_revisits(job, res.id, r);
      ++metrics_.articles_duplicate;
      break;
  }
  spdlog::info("article {}: {} (id {}, version {}{}{})", redact_url(url), put_kind_name(res.kind), res.id, res.version,
               res.duplicate_of.empty() ? "" : ", duplicate of " + res.duplicate_of,
               res.moved.empty() ? std::string()
                                 : ", published first: the cluster's original now (" +
                                       std::to_string(res.moved.size()) + " copies re-pointed)");
  finish_url({url, true, put_kind_name(res.kind), ""}, true);
}

}  // namespace baotin
