// Process metrics (Prometheus text format) and per-template extraction health.
#pragma once
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "core/article.h"

namespace baotin {

// Rolling health of one template: a template whose recent pages come out empty or short is "degraded".
struct TemplateHealth {
  uint64_t pages = 0, empty_body = 0, short_body = 0, no_title = 0, generic_fallback = 0;
  std::map<std::string, uint64_t> field_hits;  // field -> pages where the template filled it
  std::deque<bool> recent_bad;                 // last kWindow pages: true = empty/short body
  bool degraded = false;
  static constexpr size_t kWindow = 20;
  static constexpr double kDegradedRatio = 0.5;
  double recent_bad_ratio() const;
  nlohmann::json to_json() const;
  static TemplateHealth from_json(const nlohmann::json& j);
};

class Metrics {
 public:
  std::atomic<uint64_t> polls{0}, polls_failed{0}, polls_not_modified{0};
  std::atomic<uint64_t> feed_items{0}, feed_parse_errors{0};
  std::atomic<uint64_t> feed_items_deferred{0};  // new items left for a later poll (per-poll / queue caps)
  std::atomic<uint64_t> poll_internal_errors{0}; // polls that threw (e.g. out of memory): recorded as failures
  std::atomic<uint64_t> fetches{0}, fetch_2xx{0}, fetch_304{0}, fetch_3xx{0}, fetch_4xx{0}, fetch_429{0}, fetch_5xx{0},
      fetch_transport_errors{0}, fetch_too_large{0}, fetch_robots_blocked{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> articles_new{0}, articles_updated{0}, articles_unchanged{0}, articles_duplicate{0},
      articles_failed{0}, articles_partial{0}, articles_skipped{0};
  std::atomic<int64_t> queue_fetch{0}, queue_work{0}, articles_in_flight{0}, feeds_total{0};
  // Template files that failed to load (at start and on each reload; a failing file on reload keeps its
  // previous version).
  std::atomic<uint64_t> template_load_errors{0};

  void count_status(long status, bool transport_error);

  // Records one extraction for template health; returns true when the template just became degraded
  // (the caller logs it once).
  bool record_extraction(const Article& a, size_t min_body_chars, bool* recovered = nullptr);
  std::map<std::string, TemplateHealth> health() const;
  void load_health(const std::map<std::string, TemplateHealth>& h);

  std::string prometheus() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, TemplateHealth> health_;
};

}  // namespace baotin
