#include "daemon/revisit.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "store/store.h"

namespace baotin {

namespace {
std::string be64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i) {
    s[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return s;
}
uint64_t read_be64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}
// The key just after every entry due at `now`.
std::string due_bound(int64_t now) {
  return std::string(kRevisitPrefix) + be64(static_cast<uint64_t>(std::max<int64_t>(now, -1) + 1));
}
}  // namespace

std::string revisit_key(int64_t due, std::string_view id) {
  return std::string(kRevisitPrefix) + be64(static_cast<uint64_t>(std::max<int64_t>(due, 0))) + std::string(id);
}

std::string revisit_value(const RevisitEntry& e) {
  nlohmann::json j = {{"url", e.url},   {"site", e.site}, {"feed", e.feed},         {"first_seen", e.first_seen},
                      {"step", e.step}, {"failures", e.failures}};
  if (!e.etag.empty()) j["etag"] = e.etag;
  if (!e.last_modified.empty()) j["last_modified"] = e.last_modified;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<RevisitEntry> parse_revisit(std::string_view key, std::string_view value) {
  if (key.size() <= kRevisitPrefix.size() + 8 || key.substr(0, kRevisitPrefix.size()) != kRevisitPrefix)
    return std::nullopt;
  RevisitEntry e;
  e.due = static_cast<int64_t>(read_be64(key.substr(kRevisitPrefix.size(), 8)));
  e.id = std::string(key.substr(kRevisitPrefix.size() + 8));
  try {
    auto j = nlohmann::json::parse(value);
    e.url = j.at("url").get<std::string>();
    e.site = j.value("site", "");
    e.feed = j.value("feed", "");
    e.first_seen = j.at("first_seen").get<int64_t>();
    e.step = j.at("step").get<uint32_t>();
    e.failures = j.value("failures", 0u);
    e.etag = j.value("etag", "");
    e.last_modified = j.value("last_modified", "");
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (e.url.empty()) return std::nullopt;
  return e;
}

std::optional<uint32_t> next_revisit_step(const std::vector<int64_t>& after_s, int64_t first_seen, uint32_t step,
                                          int64_t now) {
  for (size_t i = static_cast<size_t>(step) + 1; i < after_s.size(); ++i)
    if (first_seen + after_s[i] > now) return static_cast<uint32_t>(i);
  return std::nullopt;
}

void RevisitSchedule::add(const RevisitEntry& e) { store_.write_meta({{revisit_key(e.due, e.id), revisit_value(e)}}, {}); }

void RevisitSchedule::advance(const RevisitEntry& done, const std::optional<RevisitEntry>& next) {
  std::vector<std::pair<std::string, std::string>> puts;
  const std::string old_key = revisit_key(done.due, done.id);
  std::vector<std::string> dels;
  if (next) {
    const std::string k = revisit_key(next->due, next->id);
    puts.emplace_back(k, revisit_value(*next));
    if (k != old_key) dels.push_back(old_key);
  } else {
    dels.push_back(old_key);
  }
  store_.write_meta(puts, dels);
}

std::vector<RevisitEntry> RevisitSchedule::due(int64_t now, size_t limit, size_t max_scan,
                                               const std::function<bool(const RevisitEntry&)>& accept,
                                               size_t* malformed) {
  std::vector<RevisitEntry> out;
  std::vector<std::string> bad;
  if (limit == 0) return out;
  size_t scanned = 0;
  store_.scan_meta(std::string(kRevisitPrefix), due_bound(now), [&](std::string_view k, std::string_view v) {
    auto e = parse_revisit(k, v);
    if (!e) {
      bad.emplace_back(k);
    } else if (!accept || accept(*e)) {
      out.push_back(std::move(*e));
    }
    return out.size() < limit && ++scanned < max_scan;
  });
  if (!bad.empty()) {
    spdlog::error("revisit: {} malformed schedule entries in the store deleted", bad.size());
    store_.write_meta({}, bad);
    if (malformed) *malformed += bad.size();
  }
  return out;
}

size_t RevisitSchedule::count_due(int64_t now, size_t cap) const {
  size_t n = 0;
  if (cap == 0) return 0;
  store_.scan_meta(std::string(kRevisitPrefix), due_bound(now), [&](std::string_view, std::string_view) {
    return ++n < cap;
  });
  return n;
}

}  // namespace baotin
