// `baotin check`: validate the config and every template; show template health as recorded by the daemon.
//
// Exit status (README "Exit codes"): 2 when the config is invalid, i.e. when `serve` would refuse to start on it
// (including a template name in [sites] enabled / [[feeds]] site that no template declares), or when --db names
// no store; 1 when a template file does not load (serve runs without it) or a template is degraded; else 0.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/commands.h"
#include "daemon/config.h"
#include "daemon/metrics.h"
#include "core/url.h"

namespace baotin::cli {

namespace {

nlohmann::json errors_json(const std::vector<TemplateError>& errs) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& e : errs) a.push_back({{"file", e.file}, {"line", e.line}, {"message", e.message}});
  return a;
}

// Template health as recorded by the daemon in the store at `dbdir` (meta "template_health").
struct Health {
  std::string error;     // unreadable record / store
  std::map<std::string, TemplateHealth> templates;
};

Health read_health(const std::string& dbdir) {
  Health h;
  auto store = open_reader(dbdir);
  if (!store) {
    h.error = "cannot open store " + dbdir;
    return h;
  }
  try {
    if (auto s = store->get_meta("template_health")) {
      auto j = nlohmann::json::parse(*s);
      for (auto& [n, hj] : j.items()) h.templates[n] = TemplateHealth::from_json(hj);
    }
  } catch (const std::exception& e) {
    h.error = std::string("template health unreadable: ") + e.what();
  }
  cleanup_reader();
  return h;
}

// [stream.nats] as `check --json` shows it (null without the section).
nlohmann::json stream_json(const Config& cfg) {
  if (!cfg.stream_nats.enabled) return nullptr;
  const auto& n = cfg.stream_nats;
  nlohmann::json servers = nlohmann::json::array();
  for (const auto& u : n.servers) servers.push_back(redact_url(u));
  return {{"servers", servers},
          {"stream", n.stream},
          {"subjects", n.subject_prefix + ".>"},
          {"retention", n.retention},
          {"storage", n.storage},
          {"max_age_s", n.max_age_s},
          {"duplicate_window_s", n.duplicate_window_s},
          {"credentials", n.credentials}};
}

// The memory budget as serve splits it (README "Storage", memory).
nlohmann::json memory_json(const Config& cfg) {
  const size_t budget = cfg.memory_budget_mb(), store = cfg.store_memory_mb();
  return {{"budget_mb", budget},
          {"store_mb", store},
          {"memtables_mb", store / 4},
          {"rest_mb", budget - std::min(budget, store)},
          {"block_cache_mb_deprecated", cfg.block_cache_mb != 0}};
}

}  // namespace

int cmd_check(const CheckArgs& args) {
  const std::string& config_path = args.config;
  // An explicit --db must name a store (nothing is created); without it the config's data_dir is looked at
  // only when the daemon has created a store there.
  if (!args.db.empty() && !store_exists(args.db)) return no_store("check", args.db);

  Config cfg;
  std::vector<TemplateError> config_errs, template_errs;
  const bool parsed = load_config(config_path, cfg, config_errs);
  TemplateRegistry reg;
  std::vector<FeedConfig> feeds;
  if (parsed) {
    reg.load_dir(cfg.templates_dir, template_errs);
    for (auto& e : unknown_template_names(cfg, reg)) config_errs.push_back(std::move(e));
    feeds = effective_feeds(cfg, reg);
  }
  const bool config_ok = config_errs.empty();

  Health health;
  std::string dbdir;
  if (config_ok) {
    dbdir = args.db.empty() ? cfg.data_dir : args.db;
    if (store_exists(dbdir)) health = read_health(dbdir);
    else dbdir.clear();
  }
  std::vector<std::string> degraded;
  for (const auto& [n, h] : health.templates)
    if (h.degraded) degraded.push_back(n);

  const int status = !config_ok ? 2 : (!template_errs.empty() || !degraded.empty() || !health.error.empty()) ? 1 : 0;

  if (args.json) {
    nlohmann::json loaded = nlohmann::json::array();
    for (const auto& t : reg.all())
      loaded.push_back({{"name", t->name},
                        {"revision", t->revision},
                        {"hosts", t->hosts},
                        {"feeds", t->feeds.size()},
                        {"path", t->path}});
    nlohmann::json hj = nullptr;
    if (!dbdir.empty()) {
      nlohmann::json per = nlohmann::json::object();
      for (const auto& [n, h] : health.templates) {
        per[n] = h.to_json();
        per[n]["recent_bad_ratio"] = h.recent_bad_ratio();
      }
      hj = {{"db", dbdir}, {"templates", per}, {"error", health.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(health.error)}};
    }
    nlohmann::json out{
        {"ok", status == 0},
        {"config", {{"path", config_path}, {"ok", config_ok}, {"errors", errors_json(config_errs)}}},
        {"templates", {{"dir", parsed ? nlohmann::json(cfg.templates_dir) : nlohmann::json(nullptr)},
                       {"loaded", loaded},
                       {"errors", errors_json(template_errs)}}},
        {"feeds", config_ok ? nlohmann::json(feeds.size()) : nlohmann::json(nullptr)},
        {"stream", stream_json(cfg)},
        {"memory", config_ok ? memory_json(cfg) : nlohmann::json(nullptr)},
        {"health", hj},
        {"degraded", degraded}};
    std::cout << out.dump(2) << "\n";
    return status;
  }

  for (const auto& e : config_errs) std::printf("%s\n", e.str().c_str());
  for (const auto& e : template_errs) std::printf("%s\n", e.str().c_str());
  if (!config_ok) {
    std::printf("config: %s INVALID (%zu error%s): serve would refuse to start\n", config_path.c_str(),
                config_errs.size(), config_errs.size() == 1 ? "" : "s");
    return status;
  }
  std::printf("config: %s ok; %zu templates, %zu feeds\n", config_path.c_str(), reg.all().size(), feeds.size());
  if (cfg.stream_nats.enabled) {
    const auto& n = cfg.stream_nats;
    std::string servers;
    for (const auto& u : n.servers) servers += (servers.empty() ? "" : ", ") + redact_url(u);
    std::printf("stream: NATS JetStream %s, stream '%s', subjects %s.>, retention %s, max age %lld s, duplicate "
                "window %lld s\n",
                servers.c_str(), n.stream.c_str(), n.subject_prefix.c_str(), n.retention.c_str(),
                static_cast<long long>(n.max_age_s), static_cast<long long>(n.duplicate_window_s));
  }
  std::printf("memory: budget %zu MiB = store %zu MiB (RocksDB cache: data, index and filter blocks, memtables up to "
              "%zu MiB) + %zu MiB for the rest of the daemon (fetcher, workers, code)%s\n",
              cfg.memory_budget_mb(), cfg.store_memory_mb(), cfg.store_memory_mb() / 4,
              cfg.memory_budget_mb() - std::min(cfg.memory_budget_mb(), cfg.store_memory_mb()),
              cfg.block_cache_mb ? "; daemon.block_cache_mb is deprecated: set daemon.memory_mb" : "");
  for (const auto& t : reg.all())
    std::printf("  template %-14s rev %-3d hosts %-28s feeds %zu\n", t->name.c_str(), t->revision,
                t->hosts.front().c_str(), t->feeds.size());
  if (!template_errs.empty())
    std::printf("templates: %zu error(s) above: serve skips the templates that do not load\n", template_errs.size());
  if (!health.error.empty()) std::printf("%s\n", health.error.c_str());
  if (!health.templates.empty()) {
    std::printf("template health (%s):\n", dbdir.c_str());
    for (const auto& [n, h] : health.templates)
      std::printf("  %-14s %s pages %llu, empty %llu, short %llu, generic %llu, recent bad %.0f%%\n", n.c_str(),
                  h.degraded ? "DEGRADED" : "ok      ", (unsigned long long)h.pages, (unsigned long long)h.empty_body,
                  (unsigned long long)h.short_body, (unsigned long long)h.generic_fallback, 100 * h.recent_bad_ratio());
  }
  if (!degraded.empty())
    std::printf("%zu template(s) degraded: their recent pages come out empty or short\n", degraded.size());
  return status;
}

}  // namespace baotin::cli
