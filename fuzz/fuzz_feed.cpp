// libFuzzer target: bytes -> parse_feed (charset, DOCTYPE/entities, strict and forgiving readers, dates).
// Properties: no crash; the parser's size limits hold (core/limits.h); text fields are valid UTF-8; the
// oracle JSON serialises. The first byte picks a Content-Type hint.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/limits.h"
#include "core/text.h"
#include "feed/feed.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kTypes[] = {"", "application/rss+xml", "text/xml", "application/atom+xml; charset=utf-8",
                                       "text/xml; charset=windows-1258", "application/xml; charset=bogus"};
  std::string_view ct;
  if (size > 0) {
    ct = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
    ++data;
    --size;
  }
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  baotin::ParsedFeed f = baotin::parse_feed(bytes, ct, "https://fuzz.example.vn/rss/home.rss");
  if (f.link.size() > baotin::limits::kMaxUrlBytes || f.title.size() > baotin::limits::kMaxTitleBytes)
    __builtin_trap();
  for (const auto& it : f.items) {
    if (it.link.size() > baotin::limits::kMaxUrlBytes) __builtin_trap();
    if (it.title.size() > baotin::limits::kMaxTitleBytes) __builtin_trap();
    if (it.published_raw.size() > baotin::limits::kMaxDateBytes) __builtin_trap();
    if (!it.published.empty() && it.published.size() != 20) __builtin_trap();  // "YYYY-MM-DDTHH:MM:SSZ"
  }
  (void)baotin::feed_to_oracle_json(f).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
