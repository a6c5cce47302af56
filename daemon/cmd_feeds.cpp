// `baotin feeds`: list feed states (next poll, interval, failures, last error) from the store.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "daemon/commands.h"
#include "core/date.h"
#include "core/url.h"

namespace baotin::cli {

int cmd_feeds(const std::string& db) {
  return with_reader("feeds", db, [&](Store& store) {
    std::printf("%-60s %-8s %-25s %8s %5s %s\n", "feed", "state", "next poll", "interval", "fails", "last error");
    for (const auto& [url, json] : store.all_feed_states()) {
      try {
        auto j = nlohmann::json::parse(json);
        int fails = j.value("consecutive_failures", 0);
        int64_t next = j.value("next_poll", int64_t{0});
        std::printf("%-60s %-8s %-25s %7.0fs %5d %s\n", redact_url(url).c_str(),
                    fails ? "failing" : (j.value("last_success", int64_t{0}) ? "ok" : "pending"),
                    next ? epoch_to_iso_vn(next).c_str() : "-", j.value("interval_s", 0.0), fails,
                    redact_url(j.value("last_error", std::string())).c_str());
      } catch (const std::exception& ex) {
        std::printf("%-60s unreadable state: %s\n", redact_url(url).c_str(), ex.what());
      }
    }
    return 0;
  });
}

}  // namespace baotin::cli
