// libFuzzer target: canonicalize_url / resolve_url / choose_canonical on arbitrary text.
// Properties: no crash; canonicalisation is idempotent, c(c(x)) == c(x); a canonical URL parses and is http(s).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/canonical.h"
#include "core/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto check = [](std::string_view in) {
    std::string c = baotin::canonicalize_url(in);
    if (c.empty()) return;
    auto u = baotin::parse_url(c);
    if (!u || (u->scheme != "http" && u->scheme != "https")) __builtin_trap();
    std::string again = baotin::canonicalize_url(c);
    if (again != c) __builtin_trap();
  };
  check(text);
  // The input as a path relative to a base, as feed links and <link rel=canonical> are resolved.
  check(baotin::resolve_url("https://vnexpress.net/thoi-su/a-1.html", text));
  (void)baotin::choose_canonical("https://vnexpress.net/thoi-su/a-1.html", text, "");
  return 0;
}
