// `baotin reprocess` and `baotin jobs` (README "Reprocess", "Jobs").
#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cstdio>

#include "core/clock.h"
#include "daemon/commands.h"
#include "daemon/control.h"
#include "daemon/jobs.h"
#include "daemon/reprocess.h"
#include "daemon/service.h"

namespace baotin {

namespace {
// A bar for a terminal: [#########...........] 45%
std::string bar(uint64_t done, uint64_t total) {
  constexpr int kWidth = 24;
  const int filled = total ? static_cast<int>(std::min<uint64_t>(done, total) * kWidth / total) : 0;
  return "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "] ";
}
}  // namespace

int run_reprocess_command(const ReprocessOptions& opts) {
  auto loaded = load_run_config(opts.config_path, opts.data_dir);
  if (!loaded) return 2;
  Config cfg = std::move(*loaded);
  setup_logging(cfg.log_level == "info" ? "warn" : cfg.log_level, cfg.log_format);
  ReprocessSpec spec;
  spec.site = opts.site;
  spec.since = opts.since;
  spec.template_name = opts.template_name;

  // A daemon holds the store: it runs the job with the templates it has loaded (reload it after a template fix).
  if (Store::in_use(cfg.data_dir)) {
    if (opts.restart) std::fprintf(stderr, "reprocess: --restart applies to in-process runs only; ignored\n");
    return hand_over_job(cfg.data_dir, "reprocess", spec.to_json(), {}, opts.detach);
  }
  if (!cli::store_exists(cfg.data_dir)) return cli::no_store("reprocess", cfg.data_dir);

  auto templates = load_templates(cfg, true);
  if (auto why = check_reprocess_spec(spec, *templates)) {
    std::fprintf(stderr, "reprocess: %s\n", why->c_str());
    return 2;
  }
  auto store = open_run_store(cfg, "reprocess");
  if (!store) return 1;
  JobStore jobs(*store);
  std::optional<Job> job;
  try {
    // An interrupted run of the same selection continues (unless --restart).
    for (auto& j : jobs.list()) {
      if (j.origin != "cli" || j.kind != "reprocess" || j.finished() || j.spec != spec.to_json()) continue;
      if (opts.restart) {
        j.state = "cancelled";
        jobs.save(j);
        continue;
      }
      job = j;
    }
    if (job)
      std::fprintf(stderr, "reprocess: continuing job %llu (%s articles done before)\n",
                   (unsigned long long)job->id, group_thousands(job->progress.value("scanned", uint64_t{0})).c_str());
    else
      job = jobs.create("reprocess", spec.to_json(), "cli");
    job->state = "running";
    jobs.save(*job);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "reprocess: %s\n", e.what());
    return 1;
  }

  std::atomic<bool>& g_stop = cli::install_stop_handlers();
  const bool tty = ::isatty(2);
  const double start = monotonic_seconds();
  const uint64_t scanned_before = job->progress.value("scanned", uint64_t{0});
  double last_line = 0;
  auto show = [&](const Job& j, bool final) {
    const double t = monotonic_seconds();
    if (!final && t - last_line < (tty ? 0.2 : 5.0)) return;
    last_line = t;
    const uint64_t scanned = j.progress.value("scanned", uint64_t{0});
    const double rate = (scanned - scanned_before) / std::max(1e-3, t - start);
    const std::string line = reprocess_progress_line(j.progress, rate);
    if (tty && !final)
      std::fprintf(stderr, "\r\033[Kreprocess: %s%s", bar(scanned, j.progress.value("total", uint64_t{0})).c_str(),
                   line.c_str());
    else
      std::fprintf(stderr, "%sreprocess: %s\n", tty ? "\r\033[K" : "", line.c_str());
  };
  bool complete = false;
  try {
    complete = run_reprocess(*store, *templates, cfg, *job, g_stop,
                             [&](Job& j) {
                               jobs.save(j);
                               show(j, false);
                             },
                             std::max(1, cfg.workers));
    job->state = complete ? "done" : "interrupted";
  } catch (const std::exception& e) {
    job->state = "failed";
    job->error = e.what();
  }
  try {
    jobs.save(*job);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "reprocess: cannot save the job: %s\n", e.what());
  }
  show(*job, true);
  store->close();
  if (job->state == "interrupted") {
    std::fprintf(stderr, "reprocess: interrupted; run the same command again to continue (or --restart)\n");
    return 1;
  }
  if (job->state == "failed") {
    std::fprintf(stderr, "reprocess: failed: %s\n", job->error.c_str());
    return 1;
  }
  return job->progress.value("failed", uint64_t{0}) ? 1 : 0;
}

int run_jobs_command(const JobsOptions& opts) {
  auto loaded = load_run_config(opts.config_path, opts.data_dir);
  if (!loaded) return 2;
  const Config cfg = std::move(*loaded);
  setup_logging("warn", cfg.log_format);
  nlohmann::json list = nlohmann::json::array();
  if (Store::in_use(cfg.data_dir)) {
    std::string err;
    auto conn = control_connect(control_socket_path(cfg.data_dir), &err);
    if (!conn) {
      std::fprintf(stderr, "jobs: the store is in use and no daemon answers on its control socket: %s\n", err.c_str());
      return 1;
    }
    conn->send(opts.cancel ? nlohmann::json{{"op", "cancel"}, {"job", opts.cancel}} : nlohmann::json{{"op", "list"}});
    auto r = conn->receive(30, &err);
    if (!r) {
      std::fprintf(stderr, "jobs: no answer from the daemon: %s\n", err.c_str());
      return 1;
    }
    if (opts.cancel) {
      if (!r->value("ok", false)) {
        std::fprintf(stderr, "jobs: %s\n", r->value("error", "").c_str());
        return 1;
      }
      std::fprintf(stderr, "jobs: job %llu cancelled\n", (unsigned long long)opts.cancel);
      return 0;
    }
    if (r->contains("jobs")) list = (*r)["jobs"];
  } else {
    if (!cli::store_exists(cfg.data_dir)) return cli::no_store("jobs", cfg.data_dir);
    if (opts.cancel) {
      std::fprintf(stderr, "jobs: no daemon runs on %s: nothing to cancel (an in-process job ends with Ctrl-C)\n",
                   cfg.data_dir.c_str());
      return 1;
    }
    int rc = cli::with_reader("jobs", cfg.data_dir, [&](Store& s) {
      for (const auto& j : JobStore(s).list()) list.push_back(to_json(j));
      return 0;
    });
    if (rc) return rc;
  }
  if (opts.json) {
    std::printf("%s\n", list.dump(2).c_str());
  } else {
    for (const auto& j : list) std::printf("%s\n", job_summary(j).c_str());
    if (list.empty()) std::fprintf(stderr, "jobs: none\n");
  }
  return 0;
}

}  // namespace baotin
