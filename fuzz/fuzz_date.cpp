// libFuzzer target: normalize_date and parse_feed_date on arbitrary text.
// Properties: no crash; normalize_date's result is either absent or strict ISO 8601 that iso_to_epoch accepts,
// and normalizing it again gives it back unchanged; parse_feed_date's result formats as a UTC date.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/date.h"
#include "feed/feed.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto iso = baotin::normalize_date(text)) {
    if (iso->size() != 25) __builtin_trap();  // "YYYY-MM-DDTHH:MM:SS+HH:MM"
    if (!baotin::iso_to_epoch(*iso)) __builtin_trap();
    auto again = baotin::normalize_date(*iso);
    if (!again || *again != *iso) __builtin_trap();
  }
  if (auto t = baotin::parse_feed_date(text)) (void)baotin::format_utc(*t);
  return 0;
}
