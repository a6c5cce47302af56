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

// `s` with every run of ASCII whitespace as the prescan's whitespace collapse writes it: " ", "\n" or "\n\n" (no
// line break, one, two or more). The collapse keeps exactly this of a run, also where a dropped tag makes the run
// part of a longer text node (the runs then meet, and the sum keeps the same class).
inline std::string whitespace_class(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (!is_html_space(s[i])) {
      out += s[i++];
      continue;
    }
    size_t breaks = 0;
    for (; i < s.size() && is_html_space(s[i]); ++i)
      if (s[i] == '\n') ++breaks;  // gumbo turns CR and CRLF into LF in the tree
    out += breaks == 0 ? " " : breaks == 1 ? "\n" : "\n\n";
  }
  return out;
}

// Elements with their attributes and text nodes in order; an <svg> element stands for its attributes and its text
// (the prescan empties icons made of whitespace and shapes, keeping the whitespace). With `ws_class`, text is
// compared by whitespace_class (for the prescan's whitespace collapse).
inline void canonical_tree(pugi::xml_node n, std::string& out, bool ws_class = false) {
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
      out += '"';
      out += ws_class ? whitespace_class(c.value()) : std::string(c.value());
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
      out += "svg-text\"" + (ws_class ? whitespace_class(t) : t) + '"';
    } else {
      canonical_tree(c, out, ws_class);
    }
    out += "</>";
  }
}

// `html` parsed with or without the prescan, as a string; the depth limit and truncation are part of it.
// `collapse`: the prescan's whitespace collapse on; `ws_class`: text compared by whitespace_class.
inline std::string parsed_tree(std::string_view html, bool prescan, size_t max_depth, bool collapse = false,
                               bool ws_class = false) {
  HtmlParseOptions o;
  o.max_errors = -1;  // all errors recorded: gumbo's duplicate-attribute bug past the cap (html.h) stays out
  o.prescan = prescan;
  o.collapse_whitespace = collapse;
  o.max_depth = max_depth;
  auto d = parse_html(html, o);
  std::string s = d->depth_limited ? "[depth-limited]" : "";
  s += d->truncated ? "[truncated]" : "";
  canonical_tree(d->doc, s, ws_class);
  return s;
}

}  // namespace baotin::testing
