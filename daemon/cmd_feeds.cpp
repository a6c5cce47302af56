// `baotin feeds`: list feed states (next poll, interval, failures, last error) from the store.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "daemon/commands.h"
#include "daemon/poll_schedule.h"
#include "core/date.h"
#include "core/url.h"

namespace baotin::cli {

namespace {

// One feed as /status shows it (serve.cpp status_json): the stored FeedState's fields, url and last_error
// redacted, plus next_poll_iso and state. An unreadable stored state keeps the shape with state "unreadable".
nlohmann::json feed_json(const std::string& url, const std::string& stored) {
  nlohmann::json f;
  try {
    FeedState s = feed_state_from_json(nlohmann::json::parse(stored));
    f = to_json(s);
    f["url"] = redact_url(s.url);
    f["last_error"] = redact_url(s.last_error);
    f["next_poll_iso"] = s.next_poll ? epoch_to_iso_vn(s.next_poll) : "";
    f["state"] = s.consecutive_failures > 0 ? "failing" : (s.last_success ? "ok" : "pending");
  } catch (const std::exception& ex) {
    FeedState s;
    f = to_json(s);
    f["url"] = redact_url(url);
    f["last_error"] = std::string("unreadable state: ") + ex.what();
    f["next_poll_iso"] = "";
    f["state"] = "unreadable";
  }
  return f;
}

}  // namespace

int cmd_feeds(const FeedsArgs& args) {
  return with_reader("feeds", args.db, [&](Store& store) {
    if (args.json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& [url, json] : store.all_feed_states()) out.push_back(feed_json(url, json));
      std::cout << out.dump(2) << "\n";
      return 0;
    }
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
