// libFuzzer target: bytes -> parse_sitemap (XML and plain-text sitemaps, news extension, dates).
// Properties: no crash; every entry has a <loc>; dates are "" or "YYYY-MM-DDTHH:MM:SSZ".
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "feed/sitemap.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  baotin::ParsedSitemap s = baotin::parse_sitemap(bytes);
  for (const auto& e : s.entries) {
    if (e.loc.empty()) __builtin_trap();
    if (!e.lastmod.empty() && e.lastmod.size() != 20) __builtin_trap();
    if (!e.news_published.empty() && e.news_published.size() != 20) __builtin_trap();
  }
  return 0;
}
