// The parsed tree of a page as one string, for comparing trees parsed with and without the prescan
// (tests/test_html_prescan.cpp, fuzz/fuzz_prescan.cpp).
#pragma once
#include <pugixml.hpp>

#include <string>
#include <string_view>

#include "extract/html.h"

namespace baotin::testing {

inline void tree_text(pugi::xml_node n, std::string& out) {
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out += c.value();
    else if (c.type() == pugi::node_element) tree_text(c, out);
  }
}

// Elements with their attributes and text nodes in order; an <svg> element stands for its attributes and its text
// (the prescan empties icons made of whitespace and shapes, keeping the whitespace).
inline void canonical_tree(pugi::xml_node n, std::string& out) {
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
      tree_text(c, t);
      out += "svg-text\"" + t + '"';
    } else {
      canonical_tree(c, out);
    }
    out += "</>";
  }
}

// `html` parsed with or without the prescan, as a string; the depth limit and truncation are part of it.
inline std::string parsed_tree(std::string_view html, bool prescan, size_t max_depth) {
  HtmlParseOptions o;
  o.prescan = prescan;
  o.max_depth = max_depth;
  auto d = parse_html(html, o);
  std::string s = d->depth_limited ? "[depth-limited]" : "";
  s += d->truncated ? "[truncated]" : "";
  canonical_tree(d->doc, s);
  return s;
}

}  // namespace baotin::testing
