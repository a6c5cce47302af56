// libFuzzer target: the prescan must not change the parsed tree. Each input is parsed by parse_html with and
// without prescan_html; the two pugixml trees must be equal, except that an <svg> element is compared by its
// attributes and its text (the prescan empties icons made of whitespace and shapes, keeping the whitespace).
// Seeds: tests/fixtures/sites/*/*.html (gunzipped .html.gz too), tests/fixtures/generic/*.html, and the snippets
// of tests/test_html_prescan.cpp.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "extract/html.h"

namespace {

void text_of(pugi::xml_node n, std::string& out) {
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out += c.value();
    else if (c.type() == pugi::node_element) text_of(c, out);
  }
}

void canon(pugi::xml_node n, std::string& out) {
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
      out += '"';
      out += c.value();
      out += '"';
      continue;
    }
    if (c.type() != pugi::node_element) continue;
    out += '<';
    out += c.name();
    for (pugi::xml_attribute a : c.attributes()) {
      out += ' ';
      out += a.name();
      out += "='";
      out += a.value();
      out += '\'';
    }
    out += '>';
    if (std::string_view(c.name()) == "svg") {
      std::string t;
      text_of(c, t);
      out += "svg-text\"" + t + '"';
    } else {
      canon(c, out);
    }
    out += "</>";
  }
}

std::string tree(std::string_view html, bool prescan) {
  baotin::HtmlParseOptions o;
  o.prescan = prescan;
  o.max_depth = 256;
  auto d = baotin::parse_html(html, o);
  std::string s = d->depth_limited ? "[depth-limited]" : "";
  s += d->truncated ? "[truncated]" : "";
  canon(d->doc, s);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view html(reinterpret_cast<const char*>(data), size);
  const std::string with = tree(html, true), without = tree(html, false);
  if (with != without) {
    std::fprintf(stderr, "prescan changed the tree\n--- with:\n%s\n--- without:\n%s\n", with.c_str(),
                 without.c_str());
    __builtin_trap();
  }
  return 0;
}
