#include "daemon/metrics.h"

#include <algorithm>
#include <sstream>

namespace baotin {

double TemplateHealth::recent_bad_ratio() const {
  if (recent_bad.empty()) return 0;
  return static_cast<double>(std::count(recent_bad.begin(), recent_bad.end(), true)) / recent_bad.size();
}

nlohmann::json TemplateHealth::to_json() const {
  return {{"pages", pages},           {"empty_body", empty_body},
          {"short_body", short_body}, {"no_title", no_title},
          {"generic_fallback", generic_fallback}, {"field_hits", field_hits},
          {"recent_bad", std::vector<bool>(recent_bad.begin(), recent_bad.end())},
          {"degraded", degraded}};
}

TemplateHealth TemplateHealth::from_json(const nlohmann::json& j) {
  TemplateHealth h;
  h.pages = j.value("pages", 0ull);
  h.empty_body = j.value("empty_body", 0ull);
  h.short_body = j.value("short_body", 0ull);
  h.no_title = j.value("no_title", 0ull);
  h.generic_fallback = j.value("generic_fallback", 0ull);
  if (j.contains("field_hits") && j["field_hits"].is_object())
    for (auto& [k, v] : j["field_hits"].items())
      if (v.is_number_unsigned()) h.field_hits[k] = v.get<uint64_t>();
  if (j.contains("recent_bad") && j["recent_bad"].is_array())
    for (const auto& b : j["recent_bad"])
      if (b.is_boolean()) h.recent_bad.push_back(b.get<bool>());
  h.degraded = j.value("degraded", false);
  return h;
}

void Metrics::count_status(long status, bool transport_error) {
  ++fetches;
  if (transport_error || status == 0) ++fetch_transport_errors;
  else if (status == 304) ++fetch_304;
  else if (status == 429) ++fetch_429;
  else if (status >= 200 && status < 300) ++fetch_2xx;
  else if (status >= 300 && status < 400) ++fetch_3xx;
  else if (status >= 400 && status < 500) ++fetch_4xx;
  else if (status >= 500) ++fetch_5xx;
}

bool Metrics::record_extraction(const Article& a, size_t min_body_chars, bool* recovered) {
  if (a.template_name.empty()) return false;
  std::string name = a.template_name.substr(0, a.template_name.find('@'));
  size_t chars = 0;
  for (const auto& p : a.body) chars += p.size();
  bool template_body = std::find(a.fields.begin(), a.fields.end(), "body") != a.fields.end() && a.extractor == "template";
  std::lock_guard lk(mu_);
  TemplateHealth& h = health_[name];
  ++h.pages;
  bool empty = !template_body;
  bool shrt = template_body && chars < min_body_chars;
  if (empty) ++h.empty_body;
  if (shrt) ++h.short_body;
  if (a.title.empty()) ++h.no_title;
  if (a.extractor == "generic") ++h.generic_fallback;
  if (a.extractor == "template")
    for (const auto& f : a.fields) ++h.field_hits[f];
  h.recent_bad.push_back(empty || shrt);
  while (h.recent_bad.size() > TemplateHealth::kWindow) h.recent_bad.pop_front();
  bool was = h.degraded;
  // Judge only with enough evidence: at least 5 pages in the window.
  h.degraded = h.recent_bad.size() >= 5 && h.recent_bad_ratio() >= TemplateHealth::kDegradedRatio;
  if (recovered) *recovered = was && !h.degraded;
  return !was && h.degraded;
}

std::map<std::string, TemplateHealth> Metrics::health() const {
  std::lock_guard lk(mu_);
  return health_;
}

void Metrics::load_health(const std::map<std::string, TemplateHealth>& h) {
  std::lock_guard lk(mu_);
  health_ = h;
}

std::string Metrics::prometheus() const {
  std::ostringstream o;
  auto counter = [&](const char* name, const char* help, uint64_t v, const std::string& labels = "") {
    o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " counter\n" << name << labels << ' ' << v << '\n';
  };
  auto gauge = [&](const char* name, const char* help, int64_t v) {
    o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " gauge\n" << name << ' ' << v << '\n';
  };
  counter("baotin_polls_total", "Feed polls attempted.", polls);
  counter("baotin_polls_failed_total", "Feed polls that failed (transport, HTTP error or unparsable feed).", polls_failed);
  counter("baotin_polls_not_modified_total", "Feed polls answered 304 Not Modified.", polls_not_modified);
  counter("baotin_feed_items_total", "Items seen in parsed feeds.", feed_items);
  counter("baotin_feed_parse_errors_total", "Feeds that could not be parsed.", feed_parse_errors);
  counter("baotin_feed_items_deferred_total",
          "New feed items left for a later poll (max_new_per_poll or max_queued_articles reached, or a recent failure).",
          feed_items_deferred);
  counter("baotin_poll_internal_errors_total", "Polls that failed inside baotin (recorded as failed polls).",
          poll_internal_errors);
  o << "# HELP baotin_fetches_total HTTP fetches by status class.\n# TYPE baotin_fetches_total counter\n";
  const std::pair<const char*, uint64_t> by_status[] = {
      {"2xx", fetch_2xx}, {"304", fetch_304}, {"3xx", fetch_3xx}, {"4xx", fetch_4xx}, {"429", fetch_429},
      {"5xx", fetch_5xx}, {"error", fetch_transport_errors}};
  for (const auto& [s, v] : by_status) o << "baotin_fetches_total{status=\"" << s << "\"} " << v << '\n';
  counter("baotin_fetch_too_large_total", "Bodies over the size limit.", fetch_too_large);
  counter("baotin_fetch_robots_blocked_total", "URLs not fetched because robots.txt disallows them.", fetch_robots_blocked);
  counter("baotin_bytes_total", "Body bytes received.", bytes);
  o << "# HELP baotin_articles_total Articles stored, by outcome.\n# TYPE baotin_articles_total counter\n";
  const std::pair<const char*, uint64_t> by_kind[] = {
      {"new", articles_new}, {"updated", articles_updated}, {"unchanged", articles_unchanged},
      {"duplicate", articles_duplicate}, {"failed", articles_failed}, {"partial", articles_partial},
      {"skipped", articles_skipped}};
  for (const auto& [k, v] : by_kind) o << "baotin_articles_total{outcome=\"" << k << "\"} " << v << '\n';
  gauge("baotin_queue_fetch", "Requests queued or in flight in the fetcher.", queue_fetch);
  gauge("baotin_queue_work", "Fetched pages waiting for parse/extraction.", queue_work);
  gauge("baotin_articles_in_flight", "Article fetches in flight.", articles_in_flight);
  gauge("baotin_feeds", "Feeds configured.", feeds_total);
  counter("baotin_template_load_errors_total", "Template files that failed to load (start and reloads).",
          template_load_errors);
  std::lock_guard lk(mu_);
  o << "# HELP baotin_template_pages_total Pages extracted per template.\n# TYPE baotin_template_pages_total counter\n";
  for (const auto& [n, h] : health_) o << "baotin_template_pages_total{template=\"" << n << "\"} " << h.pages << '\n';
  o << "# HELP baotin_template_empty_total Pages where the template found no body.\n# TYPE baotin_template_empty_total counter\n";
  for (const auto& [n, h] : health_) o << "baotin_template_empty_total{template=\"" << n << "\"} " << h.empty_body << '\n';
  o << "# HELP baotin_template_short_total Pages where the template body was short.\n# TYPE baotin_template_short_total counter\n";
  for (const auto& [n, h] : health_) o << "baotin_template_short_total{template=\"" << n << "\"} " << h.short_body << '\n';
  o << "# HELP baotin_template_degraded 1 when most recent pages of the template came out empty or short.\n"
       "# TYPE baotin_template_degraded gauge\n";
  for (const auto& [n, h] : health_) o << "baotin_template_degraded{template=\"" << n << "\"} " << (h.degraded ? 1 : 0) << '\n';
  return o.str();
}

}  // namespace baotin
