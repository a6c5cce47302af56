// Feed polling schedule: pure functions over a serialisable per-feed state.
//
// The interval adapts to the observed publishing rate: it is half the EWMA of the gaps between item
// times (so on average an item is seen within half a gap), stretched when the feed has been quiet for
// longer than usual, and clamped to [min_interval_s, max_interval_s]. Failures back off exponentially
// from the current interval up to max_backoff_s (Retry-After is honoured up to that cap); a feed is
// never dropped. All delays get +-jitter so feeds do not synchronise.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace baotin {

struct FeedState {
  std::string url;
  std::string etag, last_modified;  // validators for the next conditional GET
  int64_t next_poll = 0;            // epoch seconds
  double interval_s = 0;            // current polling interval; 0 = not yet known (min_interval_s is used)
  int consecutive_failures = 0;
  std::string last_error;
  long last_status = 0;
  int64_t last_poll = 0, last_success = 0, last_new_item = 0;
  uint64_t polls = 0, new_items = 0;
  std::vector<int64_t> recent_item_times;  // ascending epoch seconds, at most kMaxRecentItems
  static constexpr size_t kMaxRecentItems = 32;
  bool operator==(const FeedState&) const = default;
};

nlohmann::json to_json(const FeedState& s);
// Throws std::invalid_argument with a clear message when `j` is not a valid FeedState object.
FeedState feed_state_from_json(const nlohmann::json& j);

struct PollPolicy {
  double min_interval_s = 120;
  double max_interval_s = 3600;
  double max_backoff_s = 6 * 3600;
  double jitter = 0.2;       // delays are multiplied by a uniform factor in [1 - jitter, 1 + jitter]
  double ewma_alpha = 0.3;   // weight of the newest gap
};

// A successful poll (HTTP 2xx, feed parsed). `new_items` = number of items not seen before;
// `item_times` = their publication times (epoch s; 0/absent/implausible ones are ignored — when none are
// usable and new_items > 0, `now` is recorded as the observation).
void on_poll_success(FeedState& s, const PollPolicy& p, int64_t now, size_t new_items,
                     const std::vector<int64_t>& item_times, std::mt19937_64& rng);
// A failed poll: transport error (status 0), HTTP error, or unparsable feed (pass the HTTP status).
void on_poll_failure(FeedState& s, const PollPolicy& p, int64_t now, long status, const std::string& error,
                     std::optional<double> retry_after_s, std::mt19937_64& rng);
// HTTP 304 to a conditional GET.
void on_not_modified(FeedState& s, const PollPolicy& p, int64_t now, std::mt19937_64& rng);

// First poll for a feed without persisted state: a stable (hash of the URL) point in
// [now, now + min_interval_s), so a restart with many new feeds causes no burst.
int64_t initial_poll_time(const std::string& url, const PollPolicy& p, int64_t now);

// The interval the rate estimator would choose now (no jitter); exposed for tests and status pages.
double estimated_interval(const FeedState& s, const PollPolicy& p, int64_t now);

}  // namespace baotin
