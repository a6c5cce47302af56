#include <gtest/gtest.h>

#include <set>

#include "daemon/poll_schedule.h"

using namespace baotin;

namespace {
constexpr int64_t kNow = 1'780'000'000;  // some epoch second in 2026

PollPolicy no_jitter() {
  PollPolicy p;
  p.jitter = 0;
  return p;
}
}  // namespace

TEST(Schedule, InitialPollTimeSpreadsAndIsStable) {
  PollPolicy p;
  std::set<int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    std::string url = "https://site" + std::to_string(i) + ".vn/rss/tin-moi.rss";
    int64_t t = initial_poll_time(url, p, kNow);
    EXPECT_GE(t, kNow);
    EXPECT_LT(t, kNow + static_cast<int64_t>(p.min_interval_s));
    EXPECT_EQ(t, initial_poll_time(url, p, kNow));  // deterministic across restarts
    seen.insert(t);
  }
  EXPECT_GT(seen.size(), 60u);  // 200 feeds over 120 slots: well spread, not a burst
  PollPolicy tiny;
  tiny.min_interval_s = 0;
  EXPECT_EQ(initial_poll_time("x", tiny, kNow), kNow);
}

TEST(Schedule, FastFeedPollsAtMinimumInterval) {
  auto p = no_jitter();
  std::mt19937_64 rng(1);
  FeedState s;
  s.url = "https://a.vn/rss";
  std::vector<int64_t> times;
  for (int i = 0; i < 20; ++i) times.push_back(kNow - 60 * i);  // an item every minute
  on_poll_success(s, p, kNow, times.size(), times, rng);
  EXPECT_DOUBLE_EQ(s.interval_s, p.min_interval_s);
  EXPECT_EQ(s.next_poll, kNow + 120);
  EXPECT_EQ(s.new_items, 20u);
  EXPECT_EQ(s.polls, 1u);
  EXPECT_EQ(s.last_new_item, kNow);
  EXPECT_EQ(s.last_success, kNow);
  EXPECT_EQ(s.last_status, 200);
  EXPECT_EQ(s.recent_item_times.size(), 20u);
  EXPECT_TRUE(std::is_sorted(s.recent_item_times.begin(), s.recent_item_times.end()));
}

TEST(Schedule, IntervalFollowsPublishingRateWithinBounds) {
  auto p = no_jitter();
  std::mt19937_64 rng(1);
  FeedState s;
  s.url = "u";
  std::vector<int64_t> times;
  for (int i = 0; i < 10; ++i) times.push_back(kNow - 1200 * i);  // every 20 minutes
  on_poll_success(s, p, kNow, times.size(), times, rng);
  EXPECT_NEAR(s.interval_s, 600, 1);  // half the gap
  EXPECT_EQ(s.next_poll, kNow + 600);

  FeedState slow;
  slow.url = "u";
  std::vector<int64_t> daily;
  for (int i = 0; i < 5; ++i) daily.push_back(kNow - 86400 * i);
  on_poll_success(slow, p, kNow, daily.size(), daily, rng);
  EXPECT_DOUBLE_EQ(slow.interval_s, p.max_interval_s);  // capped
}

TEST(Schedule, EwmaReactsToRateChange) {
  auto p = no_jitter();
  std::mt19937_64 rng(1);
  FeedState s;
  s.url = "u";
  std::vector<int64_t> times;
  for (int i = 10; i >= 1; --i) times.push_back(kNow - 3600 * i);  // hourly until an hour ago
  on_poll_success(s, p, kNow - 3600 + 1, times.size(), times, rng);
  double slow_interval = s.interval_s;
  EXPECT_NEAR(slow_interval, 1800, 1);
  // Then a burst: an item every 5 minutes.
  int64_t t = kNow - 3600;
  for (int k = 0; k < 6; ++k) {
    t += 300;
    on_poll_success(s, p, t, 1, {t}, rng);
  }
  EXPECT_LT(s.interval_s, slow_interval / 2);
  EXPECT_GE(s.interval_s, p.min_interval_s);
}

TEST(Schedule, QuietFeedStretchesInterval) {
  auto p = no_jitter();
  std::mt19937_64 rng(1);
  FeedState s;
  s.url = "u";
  std::vector<int64_t> times;
  for (int i = 0; i < 10; ++i) times.push_back(kNow - 300 * i);  // every 5 minutes
  on_poll_success(s, p, kNow, times.size(), times, rng);
  EXPECT_DOUBLE_EQ(s.interval_s, 150);
  // No new items for 40 minutes: the open gap dominates.
  on_not_modified(s, p, kNow + 2400, rng);
  EXPECT_NEAR(s.interval_s, 1200, 1);
  EXPECT_EQ(s.last_status, 304);
  EXPECT_EQ(s.polls, 2u);
  on_poll_success(s, p, kNow + 3 * 3600, 0, {}, rng);
  EXPECT_DOUBLE_EQ(s.interval_s, p.max_interval_s);
  EXPECT_EQ(s.last_new_item, kNow);
}

TEST(Schedule, NoDatesUsesDiscoveryTimeAndUnknownFeedGrowsSlowly) {
  auto p = no_jitter();
  std::mt19937_64 rng(1);
  FeedState s;
  s.url = "u";
  on_poll_success(s, p, kNow, 0, {}, rng);  // nothing ever seen
  EXPECT_DOUBLE_EQ(s.interval_s, 180);
  on_poll_success(s, p, kNow + 180, 0, {}, rng);
  EXPECT_DOUBLE_EQ(s.interval_s, 270);
  on_poll_success(s, p, kNow + 450, 3, {0, -5, kNow + 999999}, rng);  // all implausible -> discovery time
  ASSERT_EQ(s.recent_item_times.size(), 1u);
  EXPECT_EQ(s.recent_item_times[0], kNow + 450);
  EXPECT_DOUBLE_EQ(s.interval_s, p.min_interval_s);
}

TEST(Schedule, RecentTimesAreBounded) {
  auto p = no_jitter();
  std::mt19937_64 rng(1);
  FeedState s;
  s.url = "u";
  std::vector<int64_t> times;
  for (int i = 0; i < 500; ++i) times.push_back(kNow - 10 * i);
  on_poll_success(s, p, kNow, times.size(), times, rng);
  EXPECT_EQ(s.recent_item_times.size(), FeedState::kMaxRecentItems);
  EXPECT_EQ(s.recent_item_times.back(), kNow);
}

TEST(Schedule, FailureBacksOffExponentiallyAndNeverDrops) {
  auto p = no_jitter();
  std::mt19937_64 rng(1);
  FeedState s;
  s.url = "u";
  s.interval_s = 300;
  int64_t now = kNow;
  std::vector<int64_t> delays;
  for (int i = 0; i < 12; ++i) {
    on_poll_failure(s, p, now, 500, "HTTP 500", std::nullopt, rng);
    delays.push_back(s.next_poll - now);
    now = s.next_poll;
  }
  EXPECT_EQ(delays[0], 600);
  EXPECT_EQ(delays[1], 1200);
  EXPECT_EQ(delays[2], 2400);
  for (size_t i = 1; i < delays.size(); ++i) EXPECT_GE(delays[i], delays[i - 1]);
  EXPECT_EQ(delays.back(), static_cast<int64_t>(p.max_backoff_s));
  EXPECT_EQ(s.consecutive_failures, 12);
  EXPECT_EQ(s.last_status, 500);
  EXPECT_EQ(s.last_error, "HTTP 500");
  EXPECT_DOUBLE_EQ(s.interval_s, 300);  // the rate estimate survives failures
  EXPECT_GT(s.next_poll, now - 1);      // still scheduled
  // Recovery resets the failure count.
  on_poll_success(s, p, now, 0, {}, rng);
  EXPECT_EQ(s.consecutive_failures, 0);
  EXPECT_TRUE(s.last_error.empty());
}

TEST(Schedule, RetryAfterHonouredWithinCap) {
  auto p = no_jitter();
  std::mt19937_64 rng(1);
  FeedState s;
  s.url = "u";
  on_poll_failure(s, p, kNow, 429, "", 5000.0, rng);
  EXPECT_EQ(s.next_poll, kNow + 5000);
  EXPECT_EQ(s.last_error, "HTTP 429");
  FeedState t;
  t.url = "u";
  on_poll_failure(t, p, kNow, 503, "busy", 30 * 86400.0, rng);  // absurd: capped
  EXPECT_EQ(t.next_poll, kNow + static_cast<int64_t>(p.max_backoff_s));
  FeedState g;
  g.url = "u";
  on_poll_failure(g, p, kNow, 410, "gone", std::nullopt, rng);
  EXPECT_EQ(g.next_poll, kNow + static_cast<int64_t>(p.max_backoff_s));
  FeedState small;
  small.url = "u";
  on_poll_failure(small, p, kNow, 429, "", 1.0, rng);  // shorter than backoff: backoff wins
  EXPECT_EQ(small.next_poll, kNow + 240);
}

TEST(Schedule, JitterStaysWithinBoundsAndVaries) {
  PollPolicy p;  // jitter 0.2
  std::mt19937_64 rng(42);
  std::set<int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    FeedState s;
    s.url = "u";
    std::vector<int64_t> times;
    for (int k = 0; k < 10; ++k) times.push_back(kNow - 1200 * k);
    on_poll_success(s, p, kNow, times.size(), times, rng);
    int64_t d = s.next_poll - kNow;
    EXPECT_GE(d, 480);
    EXPECT_LE(d, 721);
    seen.insert(d);
    FeedState f;
    f.url = "u";
    on_poll_failure(f, p, kNow, 0, "timeout", std::nullopt, rng);
    EXPECT_GE(f.next_poll - kNow, 192);
    EXPECT_LE(f.next_poll - kNow, 289);
  }
  EXPECT_GT(seen.size(), 50u);
}

TEST(Schedule, JsonRoundTrip) {
  auto p = no_jitter();
  std::mt19937_64 rng(1);
  FeedState s;
  s.url = "https://vnexpress.net/rss/tin-moi-nhat.rss";
  s.etag = "\"abc\"";
  s.last_modified = "Wed, 21 Oct 2026 07:28:00 GMT";
  on_poll_success(s, p, kNow, 2, {kNow - 100, kNow - 50}, rng);
  on_poll_failure(s, p, kNow + 200, 503, "Service Unavailable", 60.0, rng);
  auto j = to_json(s);
  auto back = feed_state_from_json(j);
  EXPECT_EQ(back, s);
  auto reparsed = feed_state_from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(reparsed, s);
}

TEST(Schedule, JsonErrorsAreClear) {
  EXPECT_THROW(feed_state_from_json(nlohmann::json::array()), std::invalid_argument);
  EXPECT_THROW(feed_state_from_json(nlohmann::json{{"etag", "x"}}), std::invalid_argument);
  try {
    feed_state_from_json(nlohmann::json{{"url", "u"}, {"polls", "many"}});
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("FeedState"), std::string::npos);
  }
  // Minimal object: defaults; unsorted/oversized item times are repaired; bad interval reset.
  nlohmann::json j{{"url", "u"}, {"interval_s", -5}, {"recent_item_times", {5, 3, 3, 1}}};
  auto s = feed_state_from_json(j);
  EXPECT_EQ(s.url, "u");
  EXPECT_EQ(s.interval_s, 0);
  EXPECT_EQ(s.recent_item_times, (std::vector<int64_t>{1, 3, 5}));
}

// Jitter spreads polls out but never below min_interval_s or above max_interval_s (success), nor below
// min_interval_s or above max_backoff_s (failure).
TEST(Schedule, JitterStaysWithinTheConfiguredBounds) {
  PollPolicy p;
  p.min_interval_s = 120;
  p.max_interval_s = 600;
  p.max_backoff_s = 1800;
  p.jitter = 0.5;
  std::mt19937_64 rng(42);
  const int64_t now = 1700000000;
  for (int i = 0; i < 5000; ++i) {
    FeedState s;
    s.url = "https://a.vn/rss";
    s.interval_s = (i % 3 == 0) ? 120 : (i % 3 == 1 ? 600 : 300);
    on_not_modified(s, p, now, rng);
    ASSERT_GE(s.next_poll - now, 120) << i;
    ASSERT_LE(s.next_poll - now, 600) << i;
    FeedState f;
    f.url = s.url;
    f.consecutive_failures = i % 12;
    on_poll_failure(f, p, now, 503, "HTTP 503", std::nullopt, rng);
    ASSERT_GE(f.next_poll - now, 120) << i;
    ASSERT_LE(f.next_poll - now, 1800) << i;
  }
}
