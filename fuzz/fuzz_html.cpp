// libFuzzer target: raw bytes -> charset decoding -> gumbo/pugixml -> generic extraction.
// The first byte picks a Content-Type hint so that the declared-charset paths are exercised too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bench/aeb_metric.h"
#include "core/charset.h"
#include "core/text.h"
#include "extract/generic.h"
#include "extract/html.h"
#include "extract/jsonld.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kTypes[] = {"", "text/html; charset=utf-8", "text/html; charset=windows-1258",
                                       "text/html; charset=iso-8859-1", "text/html; charset=bogus"};
  std::string_view ct;
  if (size > 0) {
    ct = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
    ++data;
    --size;
  }
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string utf8 = baotin::decode_to_utf8(bytes, ct);
  baotin::HtmlParseOptions opts;
  opts.max_depth = 256;
  auto doc = baotin::parse_html(utf8, opts);
  baotin::Article a = baotin::extract_generic(doc->doc, "https://fuzz.example.vn/a/b.html?x=1");
  if (!baotin::is_valid_utf8(a.title)) __builtin_trap();
  for (const auto& p : a.body)
    if (!baotin::is_valid_utf8(p)) __builtin_trap();
  (void)baotin::aeb_shingle_match(utf8, baotin::body_text(a));
  return 0;
}
