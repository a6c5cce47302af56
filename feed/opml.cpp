#include "feed/opml.h"

#include <pugixml.hpp>

#include <algorithm>
#include <sstream>
#include <utility>

#include "core/limits.h"
#include "core/text.h"
#include "feed/machine.h"
#include "feed/pystr.h"

namespace baotin {
namespace {

// 1-based line of byte `offset`, from the offsets of the line starts.
int line_at(const std::vector<size_t>& starts, ptrdiff_t offset) {
  if (offset < 0) return 0;
  auto it = std::upper_bound(starts.begin(), starts.end(), static_cast<size_t>(offset));
  return static_cast<int>(it - starts.begin());
}

// An attribute by name, ASCII case ignored (xmlUrl, xmlurl and XMLURL all occur in exported files).
pugi::xml_attribute attr_nocase(pugi::xml_node n, std::string_view name) {
  for (pugi::xml_attribute a : n.attributes())
    if (ascii_lower(a.name()) == ascii_lower(name)) return a;
  return {};
}

// Titles in the wild carry HTML entities that XML does not define (&nbsp;, &eacute;: pugixml leaves unknown
// references as written) or were escaped twice (&amp;amp;): decode the HTML 4 named and numeric references that
// remain after XML decoding, then clean the text (NFC, NBSP and control characters, whitespace).
std::string decode_title(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '&') {
      size_t semi = s.find(';', i + 1);
      if (semi != std::string_view::npos && semi - i <= 32) {
        std::string_view name = s.substr(i + 1, semi - i - 1);
        char32_t cp = 0;
        if (name.size() > 1 && name[0] == '#') {
          bool hex = name[1] == 'x' || name[1] == 'X';
          std::string digits(name.substr(hex ? 2 : 1));
          if (!digits.empty() && digits.size() <= 8 &&
              digits.find_first_not_of(hex ? "0123456789abcdefABCDEF" : "0123456789") == std::string::npos)
            cp = static_cast<char32_t>(std::stoul(digits, nullptr, hex ? 16 : 10));
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
        } else if (name == "amp") {
          cp = '&';
        } else if (name == "lt") {
          cp = '<';
        } else if (name == "gt") {
          cp = '>';
        } else if (name == "quot") {
          cp = '"';
        } else if (name == "apos") {
          cp = '\'';
        } else {
          auto& table = feed_internal::html4_entities();
          if (auto it = table.find(name); it != table.end()) cp = it->second;
        }
        if (cp) {
          feed_internal::put_utf8(out, cp);
          i = semi + 1;
          continue;
        }
      }
    }
    out += s[i++];
  }
  if (!is_valid_utf8(out)) return {};
  std::string t = clean_text(out);
  if (t.size() > limits::kMaxTitleBytes) {
    size_t cut = limits::kMaxTitleBytes;
    while (cut > 0 && (static_cast<unsigned char>(t[cut]) & 0xC0) == 0x80) --cut;
    t.resize(cut);
  }
  return t;
}

struct Walker {
  const std::vector<size_t>& starts;
  const OpmlLimits& limits;
  OpmlParseResult& res;

  // Iterative walk (no recursion on input depth); false on the first error.
  bool walk(pugi::xml_node body) {
    struct Frame {
      pugi::xml_node next;
      std::string folder;
    };
    std::vector<Frame> stack{{body.first_child(), ""}};
    while (!stack.empty()) {
      pugi::xml_node n = stack.back().next;
      if (!n) {
        stack.pop_back();
        continue;
      }
      stack.back().next = n.next_sibling();
      if (n.type() != pugi::node_element || ascii_lower(n.name()) != "outline") continue;
      const std::string& folder = stack.back().folder;
      int line = line_at(starts, n.offset_debug());
      std::string text = decode_title(attr_nocase(n, "text").value());
      std::string title = decode_title(attr_nocase(n, "title").value());
      std::string url(trim(attr_nocase(n, "xmlUrl").value()));
      if (!url.empty()) {
        if (res.feeds.size() >= limits.max_feeds) {
          res.error = "more than " + std::to_string(limits.max_feeds) + " feeds";
          res.error_line = line;
          return false;
        }
        OpmlFeed f;
        f.xml_url = std::move(url);
        f.title = !title.empty() ? title : text;
        f.html_url = std::string(trim(attr_nocase(n, "htmlUrl").value()));
        f.folder = folder;
        f.site = std::string(trim(n.attribute("baotin:site").value()));
        f.line = line;
        res.feeds.push_back(std::move(f));
      }
      if (n.first_child()) {
        if (static_cast<int>(stack.size()) >= limits.max_depth) {
          res.error = "outlines nested deeper than " + std::to_string(limits.max_depth) + " levels";
          res.error_line = line;
          return false;
        }
        std::string name = !text.empty() ? text : title;
        stack.push_back({n.first_child(), folder.empty() ? name : name.empty() ? folder : folder + " / " + name});
      }
    }
    return true;
  }
};

}  // namespace

OpmlParseResult parse_opml(std::string_view bytes, const OpmlLimits& limits) {
  OpmlParseResult res;
  if (bytes.size() > limits.max_bytes) {
    res.error = "file is larger than " + std::to_string(limits.max_bytes) + " bytes";
    return res;
  }
  std::vector<size_t> starts{0};
  for (size_t i = 0; i < bytes.size(); ++i)
    if (bytes[i] == '\n') starts.push_back(i + 1);

  pugi::xml_document doc;
  pugi::xml_parse_result pr = doc.load_buffer(bytes.data(), bytes.size(), pugi::parse_default, pugi::encoding_auto);
  if (!pr) {
    res.error = std::string("not well-formed XML: ") + pr.description();
    res.error_line = line_at(starts, pr.offset);
    return res;
  }
  pugi::xml_node root = doc.document_element();
  if (!root || ascii_lower(root.name()) != "opml") {
    res.error = root ? "not an OPML file: the root element is <" + std::string(root.name()) + ">, not <opml>"
                     : "not an OPML file: no root element";
    res.error_line = root ? line_at(starts, root.offset_debug()) : 0;
    return res;
  }
  pugi::xml_node body;
  for (pugi::xml_node c : root.children())
    if (c.type() == pugi::node_element && ascii_lower(c.name()) == "body") body = c;
  if (!body) {
    res.error = "not an OPML file: <opml> has no <body>";
    res.error_line = line_at(starts, root.offset_debug());
    return res;
  }
  Walker w{starts, limits, res};
  if (!w.walk(body)) res.feeds.clear();
  return res;
}

std::string write_opml(const std::vector<OpmlFeed>& feeds, std::string_view title) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  auto opml = doc.append_child("opml");
  opml.append_attribute("version") = "2.0";
  opml.append_attribute("xmlns:baotin") = kOpmlBaotinNamespace;
  auto head = opml.append_child("head");
  head.append_child("title").text() = std::string(title).c_str();
  head.append_child("docs").text() = "http://opml.org/spec2.opml";
  auto body = opml.append_child("body");
  for (const auto& f : feeds) {
    auto o = body.append_child("outline");
    o.append_attribute("type") = "rss";
    o.append_attribute("text") = f.title.c_str();
    o.append_attribute("title") = f.title.c_str();
    o.append_attribute("xmlUrl") = f.xml_url.c_str();
    if (!f.html_url.empty()) o.append_attribute("htmlUrl") = f.html_url.c_str();
    if (!f.site.empty()) {
      o.append_attribute("category") = f.site.c_str();
      o.append_attribute("baotin:site") = f.site.c_str();
    }
  }
  std::ostringstream os;
  doc.save(os, "  ", pugi::format_default, pugi::encoding_utf8);
  return os.str();
}

}  // namespace baotin
