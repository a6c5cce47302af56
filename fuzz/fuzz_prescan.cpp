// libFuzzer target: the prescan must not change the parsed tree. Each input is parsed by parse_html with and
// without prescan_html; the two pugixml trees must be equal (with the whitespace collapse on: equal when text is
// compared by its whitespace class), except that an <svg> element is compared by its
// attributes and its text (the prescan empties icons made of whitespace and shapes, keeping the whitespace).
// Seeds: tests/fixtures/sites/*/*.html (gunzipped .html.gz too), tests/fixtures/generic/*.html, and the snippets
// of tests/test_html_prescan.cpp.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "extract/html.h"
#include "tests/html_tree.h"

namespace {

std::string tree(std::string_view html, bool prescan) { return baotin::testing::parsed_tree(html, prescan, 256); }
// with the whitespace collapse, text compared by its whitespace class (tests/html_tree.h)
std::string ws_tree(std::string_view html, bool prescan) {
  return baotin::testing::parsed_tree(html, prescan, 256, prescan, true);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view html(reinterpret_cast<const char*>(data), size);
  for (bool ws : {false, true}) {
    const std::string with = ws ? ws_tree(html, true) : tree(html, true),
                      without = ws ? ws_tree(html, false) : tree(html, false);
    if (with != without) {
      std::fprintf(stderr, "prescan changed the tree%s\n--- with:\n%s\n--- without:\n%s\n",
                   ws ? " (whitespace collapse on)" : "", with.c_str(), without.c_str());
      __builtin_trap();
    }
  }
  return 0;
}
