#include "daemon/job_runner.h"

#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "daemon/reprocess.h"

namespace baotin {

namespace {
struct Interrupted {};  // the job's stop flag ended it before it was complete
}  // namespace

JobRunner::JobRunner(Store& store, Ingestor& ing, Fetcher& fetcher)
    : store_(store), ing_(ing), fetcher_(fetcher), jobs_(store) {}

JobRunner::~JobRunner() {
  stop();
  ing_.set_outcome_listener(nullptr);  // the Ingestor may outlive this runner (an early return of serve)
}

void JobRunner::start() {
  {
    std::lock_guard lk(mu_);
    for (const auto& j : jobs_.list())
      if (j.origin == "daemon" && (j.state == "queued" || j.state == "running")) {
        queue_.push_back(j.id);
        spdlog::info("jobs: {} resumes", job_summary(to_json(j)));
      }
  }
  thread_ = std::thread([this] { loop(); });
}

void JobRunner::stop() {
  stop_ = true;
  job_stop_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void JobRunner::on_outcome(const IngestOutcome& o) {
  if (!o.job) return;
  std::lock_guard lk(mu_);
  if (backfill_ && current_ && current_->id == o.job) backfill_->on_outcome(o);
}

void JobRunner::checkpoint(Job& job) {
  std::lock_guard lk(mu_);
  try {
    jobs_.save(job);
  } catch (const std::exception& e) {
    spdlog::error("jobs: cannot save job {}: {} (its progress is kept in memory)", job.id, e.what());
  }
  current_ = job;
}

std::optional<Job> JobRunner::snapshot(uint64_t id) const {
  std::lock_guard lk(mu_);
  if (current_ && current_->id == id) return current_;
  if (auto e = ended_.find(id); e != ended_.end()) return e->second;
  return jobs_.get(id);
}

nlohmann::json JobRunner::active_jobs() const {
  std::lock_guard lk(mu_);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& j : jobs_.list())
    if (!j.finished() && j.origin == "daemon")
      out.push_back(to_json(current_ && current_->id == j.id ? *current_ : j));
  return out;
}

void JobRunner::loop() {
  while (!stop_) {
    std::optional<Job> job;
    {
      std::unique_lock lk(mu_);
      cv_.wait_for(lk, std::chrono::seconds(1), [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      if (queue_.empty()) continue;
      const uint64_t id = queue_.front();
      queue_.pop_front();
      try {
        job = jobs_.get(id);
      } catch (const std::exception& e) {
        spdlog::error("jobs: cannot read job {}: {}", id, e.what());
      }
      if (!job || job->finished()) continue;
      cancel_ = false;
      job_stop_ = stop_.load();  // (stop() sets both: a stop between the two stores still ends the job)
      current_ = job;
    }
    run_one(*job);
  }
}

void JobRunner::run_one(Job& job) {
  job.state = "running";
  checkpoint(job);
  spdlog::info("jobs: {} started", job_summary(to_json(job)));
  const std::atomic<bool>& stop = job_stop_;
  bool complete = false;
  try {
    const auto cfg = ing_.config();
    const auto templates = ing_.templates();
    if (job.kind == "reprocess") {
      const ReprocessSpec spec = ReprocessSpec::from_json(job.spec);
      if (auto why = check_reprocess_spec(spec, *templates)) throw std::runtime_error(*why);
      complete = run_reprocess(store_, *templates, *cfg, job, stop, [&](Job& j) { checkpoint(j); }, 1);
    } else if (job.kind == "backfill") {
      const BackfillSpec spec = BackfillSpec::from_json(job.spec);
      if (auto why = check_backfill_spec(spec, *templates)) throw std::runtime_error(*why);
      auto tpl = templates->by_name(spec.site);
      // A sitemap job's list is walked once and kept with the job: a resumed job works through the same list
      // (its cursor is an index into it), whatever the sitemaps say by then.
      const bool listed = job.progress.value("urls_stored", false);
      BackfillSpec list_spec = spec;
      std::vector<std::string> given;
      if (spec.urls_given || listed) {
        std::lock_guard lk(mu_);
        given = jobs_.urls(job.id);
        list_spec.urls_given = true;
      }
      std::string err;
      auto urls = backfill_urls(list_spec, *tpl, fetcher_, std::move(given), &err, &stop);
      if (!urls && stop) throw Interrupted();
      if (!urls) throw std::runtime_error(err);
      if (!spec.urls_given && !listed) {
        {
          std::lock_guard lk(mu_);
          jobs_.store_urls(job.id, *urls);  // throws on a store error: the job fails, with the reason
        }
        job.progress["urls_stored"] = true;
        checkpoint(job);
      }
      BackfillRun run(ing_, store_, *tpl, spec, job);
      {
        std::lock_guard lk(mu_);
        backfill_ = &run;
      }
      const size_t room = std::max<size_t>(1, static_cast<size_t>(std::max(1, cfg->max_queued_articles)) / 2);
      try {
        complete = run.run(*urls, stop, false, room, [&](Job& j) { checkpoint(j); });
      } catch (...) {
        std::lock_guard lk(mu_);
        backfill_ = nullptr;
        throw;
      }
      std::lock_guard lk(mu_);
      backfill_ = nullptr;
    } else {
      throw std::runtime_error("unknown job kind '" + job.kind + "'");
    }
    if (complete) job.state = "done";
    else if (cancel_) job.state = "cancelled";
    // else: the daemon stops; the job stays "running" and resumes at the next start.
  } catch (const Interrupted&) {
    if (cancel_) job.state = "cancelled";  // else: stays "running", resumed at the next start
  } catch (const std::exception& e) {
    job.state = "failed";
    job.error = e.what();
  }
  checkpoint(job);
  spdlog::info("jobs: {}", job_summary(to_json(job)));
  std::lock_guard lk(mu_);
  current_.reset();
  // Served from memory too: a client waiting for the end gets it even if the store could not save it (disk full).
  if (job.finished()) {
    ended_[job.id] = job;
    while (ended_.size() > 100) ended_.erase(ended_.begin());
  }
}

void JobRunner::handle(ControlConnection& conn, const nlohmann::json& req, const std::atomic<bool>& server_stop) {
  const std::string op = req.is_object() ? req.value("op", "") : "";
  if (op == "list") {
    nlohmann::json out = nlohmann::json::array();
    {
      std::lock_guard lk(mu_);
      for (const auto& j : jobs_.list()) {
        const auto e = ended_.find(j.id);
        out.push_back(to_json(current_ && current_->id == j.id ? *current_ : e != ended_.end() ? e->second : j));
      }
    }
    conn.send({{"jobs", out}});
    return;
  }
  if (op == "cancel") {
    const uint64_t id = req.value("job", uint64_t{0});
    std::lock_guard lk(mu_);
    auto j = jobs_.get(id);
    if (!j || j->finished()) {
      conn.send({{"ok", false}, {"error", j ? "job " + std::to_string(id) + " is " + j->state : "no job " + std::to_string(id)}});
      return;
    }
    if (current_ && current_->id == id) {
      cancel_ = true;  // run_one ends it as "cancelled"
      job_stop_ = true;
    } else {
      j->state = "cancelled";
      jobs_.save(*j);
      std::erase(queue_, id);
    }
    conn.send({{"ok", true}, {"job", to_json(*j)}});
    return;
  }
  if (op != "submit") {
    conn.send({{"event", "error"}, {"error", "unknown op '" + op + "' (submit, list, cancel)"}, {"usage", true}});
    return;
  }
  const std::string kind = req.value("kind", "");
  const nlohmann::json spec = req.contains("spec") ? req["spec"] : nlohmann::json::object();
  std::vector<std::string> urls;
  if (req.contains("urls") && req["urls"].is_array())
    for (const auto& u : req["urls"])
      if (u.is_string()) urls.push_back(u.get<std::string>());
  std::optional<std::string> why;
  const auto templates = ing_.templates();
  if (kind == "reprocess") why = check_reprocess_spec(ReprocessSpec::from_json(spec), *templates);
  else if (kind == "backfill") {
    BackfillSpec b = BackfillSpec::from_json(spec);
    if (b.urls_given && urls.empty()) why = "the URL list is empty";
    if (!why) why = check_backfill_spec(b, *templates);
  } else why = "unknown job kind '" + kind + "' (backfill, reprocess)";
  if (why) {
    conn.send({{"event", "error"}, {"error", *why}, {"usage", true}});
    return;
  }
  Job job;
  {
    std::lock_guard lk(mu_);
    job = jobs_.create(kind, spec, "daemon", urls);
    queue_.push_back(job.id);
  }
  cv_.notify_all();
  spdlog::info("jobs: {} accepted", job_summary(to_json(job)));
  if (!conn.send({{"event", "accepted"}, {"job", to_json(job)}}) || !req.value("wait", true)) return;
  while (!server_stop && !conn.peer_closed()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto j = snapshot(job.id);
    if (!j) return;
    if (j->finished()) {
      conn.send({{"event", "finished"}, {"job", to_json(*j)}});
      return;
    }
    if (!conn.send({{"event", "progress"}, {"job", to_json(*j)}})) return;
  }
}

}  // namespace baotin
