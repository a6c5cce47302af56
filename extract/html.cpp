#include "extract/html.h"

#include <gumbo.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/text.h"

namespace baotin {

namespace {

const char* element_name(const GumboElement& el, std::string& scratch) {
  if (el.tag != GUMBO_TAG_UNKNOWN) return gumbo_normalized_tagname(el.tag);
  GumboStringPiece piece = el.original_tag;
  gumbo_tag_from_original_text(&piece);
  scratch.assign(piece.data, piece.length);
  for (auto& c : scratch) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    // Keep names usable as XML names in XPath; odd characters become '-'.
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == ':')) c = '-';
  }
  if (scratch.empty() || !((scratch[0] >= 'a' && scratch[0] <= 'z') || scratch[0] == '_')) scratch.insert(0, "x");
  return scratch.c_str();
}

bool is_jsonld(const GumboElement& el) {
  const GumboAttribute* type = gumbo_get_attribute(&el.attributes, "type");
  return type && strcasecmp(type->value, "application/ld+json") == 0;
}

struct Frame {
  const GumboNode* node;
  pugi::xml_node parent;
  size_t depth;
};

bool is_void_element(std::string_view n) {
  static const char* const kVoid[] = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                                      "param", "source", "track", "wbr", "basefont", "bgsound", "frame", "keygen"};
  for (const char* v : kVoid)
    if (n == v) return true;
  return false;
}

// Gumbo's tree construction is quadratic in nesting depth (scope checks walk the stack of open
// elements): 100,000 nested <div>s take minutes. A cheap scan estimates the depth; past `limit`, start
// tags (and their end tags) are dropped from the input, keeping all text. Returns false when the input
// needs no change.
bool cap_nesting(std::string_view in, size_t limit, std::string& out) {
  auto lower = [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); };
  auto is_alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  for (int pass = 0; pass < 2; ++pass) {
    size_t depth = 0, max_depth = 0, skipped = 0, emitted = 0;
    size_t i = 0;
    while (i < in.size()) {
      size_t lt = in.find('<', i);
      if (lt == std::string_view::npos || lt + 1 >= in.size()) break;
      if (in.compare(lt, 4, "<!--") == 0) {
        size_t end = in.find("-->", lt + 4);
        i = end == std::string_view::npos ? in.size() : end + 3;
        continue;
      }
      bool closing = in[lt + 1] == '/';
      size_t name_start = lt + (closing ? 2 : 1);
      if (name_start >= in.size() || !is_alpha(in[name_start])) {
        i = lt + 1;
        continue;
      }
      size_t name_end = name_start;
      while (name_end < in.size() && !std::strchr(" \t\r\n\f/>", in[name_end])) ++name_end;
      std::string name;
      for (size_t k = name_start; k < name_end; ++k) name += lower(in[k]);
      // End of the tag, honouring quoted attribute values.
      size_t j = name_end;
      char quote = 0;
      for (; j < in.size(); ++j) {
        char c = in[j];
        if (quote) {
          if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
          quote = c;
        } else if (c == '>') {
          break;
        }
      }
      size_t tag_end = j < in.size() ? j + 1 : in.size();
      bool self_closing = j > 0 && j < in.size() && in[j - 1] == '/';
      bool drop = false;
      if (closing) {
        if (!is_void_element(name)) {
          if (skipped > 0) {
            --skipped;
            drop = true;
          } else if (depth > 0) {
            --depth;
          }
        }
      } else if (!is_void_element(name) && !self_closing) {
        if (depth >= limit) {
          ++skipped;
          drop = true;
        } else {
          max_depth = std::max(max_depth, ++depth);
        }
      }
      if (pass == 1) {
        out.append(in.substr(emitted, lt - emitted));
        if (!drop) out.append(in.substr(lt, tag_end - lt));
        emitted = tag_end;
      }
      // Raw-text elements: skip to their end tag.
      if (!closing && (name == "script" || name == "style" || name == "textarea" || name == "title" || name == "xmp")) {
        std::string close = "</" + name;
        size_t k = tag_end;
        size_t found = std::string_view::npos;
        while (k < in.size()) {
          size_t c = in.find("</", k);
          if (c == std::string_view::npos) break;
          bool match = true;
          for (size_t q = 0; q < close.size() && match; ++q) match = c + q < in.size() && lower(in[c + q]) == close[q];
          if (match) {
            found = c;
            break;
          }
          k = c + 2;
        }
        size_t next = found == std::string_view::npos ? in.size() : found;
        if (pass == 1) {
          out.append(in.substr(emitted, next - emitted));
          emitted = next;
        }
        i = next;
        continue;
      }
      i = tag_end;
    }
    if (pass == 0 && max_depth < limit && skipped == 0) return false;
    if (pass == 1) out.append(in.substr(std::min(emitted, in.size())));
    else out.reserve(in.size());
  }
  return true;
}

}  // namespace

std::unique_ptr<HtmlDocument> parse_html(std::string_view utf8, const HtmlParseOptions& opts) {
  auto out = std::make_unique<HtmlDocument>();
  if (utf8.size() > opts.max_bytes) {
    utf8 = utf8.substr(0, opts.max_bytes);
    out->truncated = true;
  }
  std::string capped;
  if (cap_nesting(utf8, std::max<size_t>(opts.max_depth * 8, 4096), capped)) {
    out->depth_limited = true;
    utf8 = capped;
  }
  GumboOptions gopts = kGumboDefaultOptions;
  gopts.max_errors = 1000;  // keep going, but don't collect unbounded error lists
  GumboOutput* g = gumbo_parse_with_options(&gopts, utf8.data(), utf8.size());
  if (!g) {
    out->doc.append_child("html");
    return out;
  }

  std::string scratch;
  std::vector<Frame> stack;
  stack.push_back({g->root, out->doc, 0});
  while (!stack.empty()) {
    Frame f = stack.back();
    stack.pop_back();
    const GumboNode* n = f.node;
    switch (n->type) {
      case GUMBO_NODE_DOCUMENT:
        break;
      case GUMBO_NODE_ELEMENT:
      case GUMBO_NODE_TEMPLATE: {
        const GumboElement& el = n->v.element;
        pugi::xml_node target = f.parent;
        size_t depth = f.depth;
        if (depth < opts.max_depth) {
          target = f.parent.append_child(element_name(el, scratch));
          ++out->elements;
          for (unsigned i = 0; i < el.attributes.length; ++i) {
            const auto* a = static_cast<const GumboAttribute*>(el.attributes.data[i]);
            // Attribute names with characters XPath can't address are skipped.
            if (!a->name || !*a->name || std::strpbrk(a->name, "\"'<>=/ ")) continue;
            if (target.attribute(a->name)) continue;
            target.append_attribute(a->name).set_value(a->value);
          }
          ++depth;
        } else {
          out->depth_limited = true;
        }
        bool drop_children = false;
        if (el.tag == GUMBO_TAG_SCRIPT) drop_children = !opts.keep_scripts && !is_jsonld(el);
        if (el.tag == GUMBO_TAG_STYLE || el.tag == GUMBO_TAG_NOSCRIPT) drop_children = !opts.keep_scripts;
        if (drop_children) break;
        const GumboVector& kids = el.children;
        for (unsigned i = kids.length; i-- > 0;)
          stack.push_back({static_cast<const GumboNode*>(kids.data[i]), target, depth});
        continue;
      }
      case GUMBO_NODE_TEXT:
      case GUMBO_NODE_WHITESPACE:
      case GUMBO_NODE_CDATA: {
        pugi::xml_node last = f.parent.last_child();
        if (last && last.type() == pugi::node_pcdata) {
          // Merge adjacent text (happens when depth limiting flattens elements).
          std::string merged = last.value();
          merged += n->v.text.text;
          last.set_value(merged.c_str());
        } else {
          f.parent.append_child(pugi::node_pcdata).set_value(n->v.text.text);
        }
        break;
      }
      case GUMBO_NODE_COMMENT:
        break;
    }
    if (n->type == GUMBO_NODE_DOCUMENT) {
      const GumboVector& kids = n->v.document.children;
      for (unsigned i = kids.length; i-- > 0;)
        stack.push_back({static_cast<const GumboNode*>(kids.data[i]), f.parent, 0});
    }
  }
  gumbo_destroy_output(&gopts, g);
  if (!out->doc.document_element()) out->doc.append_child("html");
  return out;
}

bool is_block_element(std::string_view n) {
  static const char* const kBlocks[] = {
      "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog", "dir", "div", "dl",
      "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
      "hgroup", "hr", "html", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table",
      "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "caption", "picture", "video", "audio", "iframe"};
  for (const char* b : kBlocks)
    if (n == b) return true;
  return false;
}

namespace {

void collect_text(pugi::xml_node root, std::string& out, bool skip_figures) {
  // Iterative pre-order walk with block separators.
  struct Item {
    pugi::xml_node node;
    bool closing;
  };
  std::vector<Item> stack{{root, false}};
  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    pugi::xml_node n = it.node;
    if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) {
      // Source line breaks inside text are plain whitespace; only structure makes a '\n'.
      for (const char* c = n.value(); *c; ++c) out += (*c == '\n' || *c == '\r') ? ' ' : *c;
      continue;
    }
    if (n.type() != pugi::node_element && n.type() != pugi::node_document) continue;
    std::string_view name = n.name();
    if (it.closing) {
      out += '\n';
      continue;
    }
    if (name == "br") {
      out += '\n';
      continue;
    }
    if (name == "script" || name == "style" || name == "noscript" || name == "template") continue;
    if (skip_figures && n != root && (name == "figure" || name == "figcaption")) continue;
    bool block = is_block_element(name);
    if (block) {
      out += '\n';
      stack.push_back({n, true});
    }
    std::vector<pugi::xml_node> kids;
    for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) kids.push_back(c);
    for (auto k = kids.rbegin(); k != kids.rend(); ++k) stack.push_back({*k, false});
  }
}

}  // namespace

std::string inner_text(pugi::xml_node node, bool skip_figures) {
  std::string out;
  if (node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata) return node.value();
  collect_text(node, out, skip_figures);
  return out;
}

std::vector<std::string> paragraphs_of(pugi::xml_node node, bool skip_figures) {
  std::string text = inner_text(node, skip_figures);
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string p = clean_text(std::string_view(text).substr(start, nl - start));
    if (!p.empty()) out.push_back(std::move(p));
    start = nl + 1;
  }
  return out;
}

std::string decode_entities(std::string_view s) {
  if (s.find('&') == std::string_view::npos) return std::string(s);
  // Let gumbo's HTML5 tokenizer decode: the content of <textarea> is RCDATA (entities decoded, no tags).
  std::string html = "<textarea>";
  html += s;
  html += "</textarea>";
  auto doc = parse_html(html);
  pugi::xml_node ta = doc->doc.select_node("//textarea").node();
  return ta ? inner_text(ta) : std::string(s);
}

}  // namespace baotin
