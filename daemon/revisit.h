// Re-visits: every new article is fetched again on a schedule after it was first seen (1 h, 6 h, 24 h, 72 h,
// 7 d by default), with a conditional GET, to catch silent corrections. The schedule lives in the store's `meta`
// family under time-ordered keys, so a restart resumes it and reads only what is due:
//   "revisit:" + big-endian uint64 due time (epoch seconds) + article id  ->  RevisitEntry JSON
// The Ingestor (daemon/pipeline.h) dispatches due entries at a lower priority than new articles.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace baotin {

class Store;

// [revisit] in the config file.
struct RevisitPolicy {
  // Seconds after an article was first seen at which it is fetched again, strictly increasing; empty = off.
  std::vector<int64_t> after_s = {3600, 6 * 3600, 24 * 3600, 72 * 3600, 7 * 86400};
  int per_tick = 20;      // re-visits dispatched by one scheduler tick at most
  int max_in_flight = 4;  // re-visits being fetched or stored at once
  // A failed visit of the last step is tried again after this long, at most `last_step_retries` times.
  static constexpr int64_t kLastStepRetryS = 86400;
  static constexpr uint32_t kLastStepRetries = 3;
  bool operator==(const RevisitPolicy&) const = default;
};

struct RevisitEntry {
  std::string id;              // article id
  std::string url, site, feed; // what to fetch, the template name, the feed that listed it (for its allow list)
  int64_t first_seen = 0;      // epoch seconds (the pipeline's clock) when it was first stored
  int64_t due = 0;             // epoch seconds of this visit (part of the key)
  uint32_t step = 0;           // index into RevisitPolicy::after_s of this visit
  uint32_t failures = 0;       // failed visits in a row
  std::string etag, last_modified;  // validators of the last successful fetch (conditional GET)
};

inline constexpr std::string_view kRevisitPrefix = "revisit:";
std::string revisit_key(int64_t due, std::string_view id);
std::string revisit_value(const RevisitEntry& e);
// nullopt when the key or the JSON is malformed.
std::optional<RevisitEntry> parse_revisit(std::string_view key, std::string_view value);

// The step to visit after a visit of step `step` done at `now`: the first later step whose time
// (first_seen + after_s[i]) has not passed yet, so a daemon that was down for days does not visit three times
// in a row. nullopt: the schedule is over.
std::optional<uint32_t> next_revisit_step(const std::vector<int64_t>& after_s, int64_t first_seen, uint32_t step,
                                          int64_t now);

// The persisted schedule (thread-safe as the store is).
class RevisitSchedule {
 public:
  explicit RevisitSchedule(Store& store) : store_(store) {}
  void add(const RevisitEntry& e);
  // Replaces `done` by `next` (nullopt: removes it) in one atomic write.
  void advance(const RevisitEntry& done, const std::optional<RevisitEntry>& next);
  // Entries due at `now` (due <= now), oldest first: at most `limit` that `accept` takes, looking at no more
  // than `max_scan` entries. Malformed entries are deleted (and counted in *malformed).
  std::vector<RevisitEntry> due(int64_t now, size_t limit, size_t max_scan,
                                const std::function<bool(const RevisitEntry&)>& accept, size_t* malformed = nullptr);
  // Entries due at `now`, counted up to `cap` (the backlog gauge; bounded work).
  size_t count_due(int64_t now, size_t cap) const;

 private:
  Store& store_;
};

}  // namespace baotin
