// `baotin check`: validate the config and every template; show template health as recorded by the daemon.
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "daemon/commands.h"
#include "daemon/config.h"
#include "daemon/metrics.h"
#include "core/url.h"

namespace baotin::cli {

int cmd_check(const CheckArgs& args) {
  const std::string& config_path = args.config;
  Config cfg;
  std::vector<TemplateError> errs;
  bool ok = load_config(config_path, cfg, errs);
  TemplateRegistry reg;
  if (ok) reg.load_dir(cfg.templates_dir, errs);
  for (const auto& e : errs) std::printf("%s\n", e.str().c_str());
  if (!ok) {
    std::printf("config: INVALID\n");
    return 1;
  }
  for (const auto& f : cfg.feeds)
    if (!f.site.empty() && !reg.by_name(f.site))
      errs.push_back({config_path, 0, "feed " + redact_url(f.url) + ": unknown site '" + f.site + "'"}),
          std::printf("%s\n", errs.back().str().c_str());
  for (const auto& name : cfg.sites)
    if (!reg.by_name(name))
      errs.push_back({config_path, 0, "sites.enabled: unknown template '" + name + "'"}),
          std::printf("%s\n", errs.back().str().c_str());
  auto feeds = effective_feeds(cfg, reg);
  std::printf("config: %s ok; %zu templates, %zu feeds\n", config_path.c_str(), reg.all().size(), feeds.size());
  for (const auto& t : reg.all())
    std::printf("  template %-14s rev %-3d hosts %-28s feeds %zu\n", t->name.c_str(), t->revision,
                t->hosts.front().c_str(), t->feeds.size());
  // Template health as recorded by the daemon.
  std::string dbdir = args.db.empty() ? cfg.data_dir : args.db;
  int degraded = 0;
  if (std::filesystem::exists(std::filesystem::path(dbdir) / "CURRENT")) {
    if (auto store = open_reader(dbdir)) {
      if (auto s = store->get_meta("template_health")) {
        try {
          auto j = nlohmann::json::parse(*s);
          std::printf("template health (%s):\n", dbdir.c_str());
          for (auto& [n, hj] : j.items()) {
            TemplateHealth h = TemplateHealth::from_json(hj);
            std::printf("  %-14s %s pages %llu, empty %llu, short %llu, generic %llu, recent bad %.0f%%\n", n.c_str(),
                        h.degraded ? "DEGRADED" : "ok      ", (unsigned long long)h.pages,
                        (unsigned long long)h.empty_body, (unsigned long long)h.short_body,
                        (unsigned long long)h.generic_fallback, 100 * h.recent_bad_ratio());
            if (h.degraded) ++degraded;
          }
        } catch (const std::exception& e) {
          std::printf("template health unreadable: %s\n", e.what());
        }
      }
      cleanup_reader();
    }
  }
  if (degraded) std::printf("%d template(s) degraded: their recent pages come out empty or short\n", degraded);
  return errs.empty() && degraded == 0 ? 0 : 1;
}

}  // namespace baotin::cli
