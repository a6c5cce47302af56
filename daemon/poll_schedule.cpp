#include "daemon/poll_schedule.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace baotin {
namespace {

constexpr int64_t kFutureSlack = 3600;  // item times further ahead than this are bogus (bad time zones)
constexpr size_t kMaxErrorLen = 500;

double clampd(double v, double lo, double hi) { return std::max(lo, std::min(hi, v)); }

double current_interval(const FeedState& s, const PollPolicy& p) {
  double v = s.interval_s > 0 && std::isfinite(s.interval_s) ? s.interval_s : p.min_interval_s;
  return clampd(v, p.min_interval_s, std::max(p.min_interval_s, p.max_interval_s));
}

double jittered(double delay, const PollPolicy& p, std::mt19937_64& rng) {
  double j = clampd(std::isfinite(p.jitter) ? p.jitter : 0.0, 0.0, 0.9);
  if (j <= 0) return delay;
  std::uniform_real_distribution<double> d(1.0 - j, 1.0 + j);
  return delay * d(rng);
}

int64_t at(int64_t now, double delay) {
  if (!std::isfinite(delay) || delay < 1) delay = 1;
  return now + static_cast<int64_t>(std::ceil(delay));
}

void merge_times(FeedState& s, int64_t now, size_t new_items, const std::vector<int64_t>& item_times) {
  size_t added = 0;
  for (int64_t t : item_times) {
    if (t <= 0 || t > now + kFutureSlack) continue;
    s.recent_item_times.push_back(t);
    ++added;
  }
  if (added == 0 && new_items > 0) s.recent_item_times.push_back(now);
  auto& v = s.recent_item_times;
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  if (v.size() > FeedState::kMaxRecentItems) v.erase(v.begin(), v.end() - FeedState::kMaxRecentItems);
}

void record_ok(FeedState& s, int64_t now, long status) {
  ++s.polls;
  s.last_poll = now;
  s.last_success = now;
  s.last_status = status;
  s.consecutive_failures = 0;
  s.last_error.clear();
}

// Interval after a successful poll or a 304: from the rate estimate when there is one, otherwise
// grow slowly while nothing is ever seen.
void reschedule_ok(FeedState& s, const PollPolicy& p, int64_t now, std::mt19937_64& rng) {
  double hi = std::max(p.min_interval_s, p.max_interval_s);
  if (s.recent_item_times.empty())
    s.interval_s = clampd(current_interval(s, p) * 1.5, p.min_interval_s, hi);
  else
    s.interval_s = estimated_interval(s, p, now);
  // Jitter spreads feeds out but never leaves [min_interval_s, max_interval_s].
  s.next_poll = at(now, clampd(jittered(s.interval_s, p, rng), p.min_interval_s, hi));
}

template <typename T>
T get_or(const nlohmann::json& j, const char* key, T dflt) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return dflt;
  return it->get<T>();
}

}  // namespace

double estimated_interval(const FeedState& s, const PollPolicy& p, int64_t now) {
  double hi = std::max(p.min_interval_s, p.max_interval_s);
  const auto& t = s.recent_item_times;
  if (t.empty()) return current_interval(s, p);
  double gap;
  if (t.size() >= 2) {
    double alpha = clampd(p.ewma_alpha, 0.01, 1.0);
    gap = static_cast<double>(t[1] - t[0]);
    for (size_t i = 2; i < t.size(); ++i) gap = alpha * static_cast<double>(t[i] - t[i - 1]) + (1 - alpha) * gap;
  } else {
    gap = 0;
  }
  // A quiet stretch longer than the usual gap means the feed has slowed down (night, weekend).
  double open = static_cast<double>(now - t.back());
  gap = std::max(gap, open);
  return clampd(gap / 2, p.min_interval_s, hi);
}

void on_poll_success(FeedState& s, const PollPolicy& p, int64_t now, size_t new_items,
                     const std::vector<int64_t>& item_times, std::mt19937_64& rng) {
  record_ok(s, now, 200);
  s.new_items += new_items;
  if (new_items > 0) s.last_new_item = now;
  merge_times(s, now, new_items, new_items > 0 ? item_times : std::vector<int64_t>{});
  reschedule_ok(s, p, now, rng);
}

void on_not_modified(FeedState& s, const PollPolicy& p, int64_t now, std::mt19937_64& rng) {
  record_ok(s, now, 304);
  reschedule_ok(s, p, now, rng);
}

void on_poll_failure(FeedState& s, const PollPolicy& p, int64_t now, long status, const std::string& error,
                     std::optional<double> retry_after_s, std::mt19937_64& rng) {
  ++s.polls;
  s.last_poll = now;
  s.last_status = status;
  s.last_error = error.size() > kMaxErrorLen ? error.substr(0, kMaxErrorLen) + "..." : error;
  if (s.last_error.empty()) s.last_error = status ? "HTTP " + std::to_string(status) : "unknown error";
  s.consecutive_failures = std::min(s.consecutive_failures + 1, 1000000);
  double cap = std::max(p.max_backoff_s, p.min_interval_s);
  double base = current_interval(s, p);
  double delay = base * std::pow(2.0, std::min(s.consecutive_failures, 40));
  if (status == 410) delay = cap;  // Gone: check rarely, but never drop
  // Jitter never takes a failing feed below the normal minimum interval or above the backoff cap.
  delay = clampd(jittered(std::min(delay, cap), p, rng), p.min_interval_s, cap);
  // A server's Retry-After can lengthen the wait (up to the cap), never shorten the backoff.
  if (retry_after_s && std::isfinite(*retry_after_s) && *retry_after_s > 0)
    delay = std::max(delay, std::min(*retry_after_s, cap));
  s.next_poll = at(now, delay);
}

int64_t initial_poll_time(const std::string& url, const PollPolicy& p, int64_t now) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (unsigned char c : url) {
    h ^= c;
    h *= 1099511628211ull;
  }
  int64_t span = std::max<int64_t>(1, static_cast<int64_t>(p.min_interval_s));
  return now + static_cast<int64_t>(h % static_cast<uint64_t>(span));
}

nlohmann::json to_json(const FeedState& s) {
  return nlohmann::json{{"url", s.url},
                        {"etag", s.etag},
                        {"last_modified", s.last_modified},
                        {"next_poll", s.next_poll},
                        {"interval_s", s.interval_s},
                        {"consecutive_failures", s.consecutive_failures},
                        {"last_error", s.last_error},
                        {"last_status", s.last_status},
                        {"last_poll", s.last_poll},
                        {"last_success", s.last_success},
                        {"last_new_item", s.last_new_item},
                        {"polls", s.polls},
                        {"new_items", s.new_items},
                        {"recent_item_times", s.recent_item_times}};
}

FeedState feed_state_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("invalid FeedState JSON: expected an object, got " + std::string(j.type_name()));
  auto u = j.find("url");
  if (u == j.end() || !u->is_string() || u->get<std::string>().empty())
    throw std::invalid_argument("invalid FeedState JSON: missing or empty string field 'url'");
  FeedState s;
  try {
    s.url = u->get<std::string>();
    s.etag = get_or<std::string>(j, "etag", "");
    s.last_modified = get_or<std::string>(j, "last_modified", "");
    s.next_poll = get_or<int64_t>(j, "next_poll", 0);
    s.interval_s = get_or<double>(j, "interval_s", 0.0);
    s.consecutive_failures = get_or<int>(j, "consecutive_failures", 0);
    s.last_error = get_or<std::string>(j, "last_error", "");
    s.last_status = get_or<long>(j, "last_status", 0);
    s.last_poll = get_or<int64_t>(j, "last_poll", 0);
    s.last_success = get_or<int64_t>(j, "last_success", 0);
    s.last_new_item = get_or<int64_t>(j, "last_new_item", 0);
    s.polls = get_or<uint64_t>(j, "polls", 0);
    s.new_items = get_or<uint64_t>(j, "new_items", 0);
    s.recent_item_times = get_or<std::vector<int64_t>>(j, "recent_item_times", {});
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("invalid FeedState JSON for '") + s.url + "': " + e.what());
  }
  if (!std::isfinite(s.interval_s) || s.interval_s < 0) s.interval_s = 0;
  if (s.consecutive_failures < 0) s.consecutive_failures = 0;
  auto& v = s.recent_item_times;
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  if (v.size() > FeedState::kMaxRecentItems) v.erase(v.begin(), v.end() - FeedState::kMaxRecentItems);
  return s;
}

}  // namespace baotin
