#include "extract/html.h"

#include <gumbo.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
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

bool is_void_element(std::string_view n) {  // called for every tag: by length first
  switch (n.size()) {
    case 2: return n == "br" || n == "hr";
    case 3: return n == "img" || n == "col" || n == "wbr";
    case 4: return n == "meta" || n == "link" || n == "area" || n == "base";
    case 5: return n == "input" || n == "embed" || n == "param" || n == "track" || n == "frame";
    case 6: return n == "source" || n == "keygen";
    case 7: return n == "bgsound";
    case 8: return n == "basefont";
    default: return false;
  }
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
      if (in[lt + 1] == '!' && in.compare(lt, 4, "<!--") == 0) {
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
      auto delim = [](char c) {
        return is_html_space(c) || c == '/' || c == '>' || c == '\0';
      };
      while (name_end < in.size() && !delim(in[name_end])) ++name_end;
      // Only names of up to eight letters matter below (void elements, raw-text elements); longer ones are "".
      char name_buf[8];
      const size_t name_len = name_end - name_start <= sizeof name_buf ? name_end - name_start : 0;
      for (size_t k = 0; k < name_len; ++k) name_buf[k] = lower(in[name_start + k]);
      const std::string_view name(name_buf, name_len);
      // End of the tag, honouring quoted attribute values.
      size_t j = name_end;
      for (; j < in.size(); ++j) {
        const char c = in[j];
        if (c == '"' || c == '\'') {
          const void* q = std::memchr(in.data() + j + 1, c, in.size() - j - 1);
          if (!q) {
            j = in.size();
            break;
          }
          j = static_cast<size_t>(static_cast<const char*>(q) - in.data());
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
        const std::string close = "</" + std::string(name);
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

// ---- prescan: empty the bodies parse_html drops, before gumbo tokenizes them -------------------------------------

namespace {

inline bool ps_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline char ps_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
inline bool ps_tag_delim(char c) { return is_html_space(c) || c == '/' || c == '>'; }
// `s` is `lower` (lower-case) compared case-insensitively, as the tokenizer lowers names.
inline bool ps_iequals(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t k = 0; k < s.size(); ++k)
    if (ps_lower(s[k]) != lower[k]) return false;
  return true;
}

struct PsTag {
  std::string name;       // lower-case
  size_t end = 0;         // just past '>'
  bool eof = false;       // the input ended inside the tag (the tokenizer drops such a tag)
  bool self_closing = false;
  bool has_type = false;  // a type="..." attribute (the first one counts, as in the tokenizer)
  std::string_view type;  // its raw value
};

// Offsets and lengths of a start tag's attribute values that a stand-in may replace (see prescan_html): all but
// those of `type` and `encoding`, the two whose values gumbo's tree builder reads (input type=hidden,
// annotation-xml encoding).
using PsValues = std::vector<std::pair<size_t, size_t>>;

// Tokenizes the tag at in[lt] == '<' (a start tag, or an end tag when in[lt+1] == '/'), following the tag name,
// attribute name/value and self-closing states of the HTML tokenizer, so a '>' inside a quoted value does not end it.
PsTag ps_parse_tag(std::string_view in, size_t lt, PsValues* values = nullptr) {
  PsTag t;
  if (values) values->clear();
  const size_t n = in.size();
  size_t p = lt + 1;
  if (p < n && in[p] == '/') ++p;
  while (p < n && !ps_tag_delim(in[p])) t.name += ps_lower(in[p++]);
  while (true) {
    if (p >= n) {
      t.eof = true;
      return t;
    }
    char c = in[p];
    if (is_html_space(c)) {
      ++p;
      continue;
    }
    if (c == '/') {
      ++p;
      if (p < n && in[p] == '>') {
        t.self_closing = true;
        t.end = p + 1;
        return t;
      }
      continue;  // reconsumed in the before-attribute-name state
    }
    if (c == '>') {
      t.end = p + 1;
      return t;
    }
    // Attribute name: the first character is taken whatever it is ('=' and quotes included).
    size_t name_start = p++;
    while (p < n && !ps_tag_delim(in[p]) && in[p] != '=') ++p;
    std::string_view aname = in.substr(name_start, p - name_start);
    while (p < n && is_html_space(in[p])) ++p;
    if (p >= n) {
      t.eof = true;
      return t;
    }
    const bool is_type = ps_iequals(aname, "type");
    if (in[p] != '=') {
      if (is_type && !t.has_type) {
        t.has_type = true;
        t.type = {};
      }
      continue;
    }
    ++p;
    while (p < n && is_html_space(in[p])) ++p;
    if (p >= n) {
      t.eof = true;
      return t;
    }
    std::string_view value;
    bool odd = false;  // an unquoted value with '"', '\'', '<', '=' or '`': a parse error each there
    if (in[p] == '"' || in[p] == '\'') {
      size_t q = in.find(in[p], p + 1);
      if (q == std::string_view::npos) {
        t.eof = true;
        return t;
      }
      value = in.substr(p + 1, q - p - 1);
      p = q + 1;  // anything but space, '/', '>' next is reconsumed as a new attribute
    } else if (in[p] == '>') {
      // missing value: the tag ends here (handled at the top of the loop)
    } else {
      size_t v = p;
      for (; p < n && !is_html_space(in[p]) && in[p] != '>'; ++p)
        odd |= in[p] == '"' || in[p] == '\'' || in[p] == '<' || in[p] == '=' || in[p] == '`';
      value = in.substr(v, p - v);
    }
    if (is_type && !t.has_type) {
      t.has_type = true;
      t.type = value;
    }
    // No stand-in for an odd unquoted value: it would take those errors away (see HtmlParseOptions::max_errors).
    if (values && value.size() >= 4 && !odd && !is_type && !ps_iequals(aname, "encoding"))
      values->emplace_back(static_cast<size_t>(value.data() - in.data()), value.size());
  }
}

// in[p..] starts with `name` (lower-case, compared case-insensitively) followed by a tag delimiter: the
// "appropriate end tag" test of the RCDATA/RAWTEXT/script data end tag name states.
bool ps_name_at(std::string_view in, size_t p, std::string_view name) {
  if (p + name.size() >= in.size()) return false;  // EOF right after the name: no end tag, the text goes on
  return ps_iequals(in.substr(p, name.size()), name) && ps_tag_delim(in[p + name.size()]);
}

// RCDATA / RAWTEXT: the offset of the '<' of the end tag that closes the element, or in.size().
size_t ps_text_end(std::string_view in, size_t i, std::string_view name) {
  while (true) {
    size_t lt = in.find("</", i);
    if (lt == std::string_view::npos) return in.size();
    if (ps_name_at(in, lt + 2, name)) return lt;
    i = lt + 2;
  }
}

// Script data with its escaped and double-escaped states (`<!--` ... `<script>` ... `</script>` ... `-->`):
// the offset of the '<' of the `</script` that ends the element, or in.size().
size_t ps_script_end(std::string_view in, size_t i) {
  static constexpr std::string_view kScript = "script";
  enum { Data, Escaped, DoubleEscaped } st = Data;
  int dashes = 0;  // escaped states: 0 plain, 1 after '-', 2 after "--"
  const size_t n = in.size();
  while (i < n) {
    if (st == Data) {
      size_t lt = in.find('<', i);
      if (lt == std::string_view::npos || lt + 1 >= n) return n;
      i = lt + 1;
      if (in[i] == '/') {
        if (ps_name_at(in, i + 1, kScript)) return lt;
        ++i;
      } else if (in[i] == '!') {
        if (i + 2 < n && in[i + 1] == '-' && in[i + 2] == '-') {
          st = Escaped;
          dashes = 2;
          i += 3;
        } else {
          ++i;
        }
      }
      continue;
    }
    char c = in[i];
    if (c == '-') {
      dashes = dashes < 2 ? dashes + 1 : 2;
      ++i;
      continue;
    }
    if (c == '>' && dashes == 2) {
      st = Data;
      dashes = 0;
      ++i;
      continue;
    }
    dashes = 0;
    ++i;
    if (c != '<' || i >= n) continue;
    if (st == Escaped) {
      if (in[i] == '/') {
        if (ps_name_at(in, i + 1, kScript)) return i - 1;
        ++i;
      } else if (ps_alpha(in[i])) {
        size_t k = i;
        while (k < n && ps_alpha(in[k])) ++k;
        bool script = k - i == kScript.size() && ps_name_at(in, i, kScript);
        if (script) {
          st = DoubleEscaped;
          i = k + 1;  // the delimiter is consumed
        } else {
          i = k;
        }
      }
    } else if (in[i] == '/') {  // double escaped: `</script` + delimiter goes back to escaped
      size_t k = i + 1;
      while (k < n && ps_alpha(in[k])) ++k;
      if (k - (i + 1) == kScript.size() && ps_name_at(in, i + 1, kScript)) {
        st = Escaped;
        i = k + 1;
      } else {
        i = k;
      }
    }
  }
  return n;
}

// SVG element names whose start and end tags, in foreign content, only open and close an SVG element: no
// breakout into HTML (b, div, p, font, ...), no HTML integration point (foreignObject; title and desc are
// allowed empty only).
bool ps_plain_svg_name(std::string_view n) {
  static const char* const kNames[] = {
      "svg", "g", "path", "circle", "rect", "line", "polyline", "polygon", "ellipse", "defs", "use", "symbol",
      "lineargradient", "radialgradient", "stop", "clippath", "mask", "pattern", "filter", "image", "marker",
      "animate", "animatetransform", "animatemotion", "set", "mpath", "switch", "view", "title", "desc", "style",
      "feblend", "fecolormatrix", "fecomponenttransfer", "fecomposite", "feconvolvematrix", "fediffuselighting",
      "fedisplacementmap", "fedistantlight", "fedropshadow", "feflood", "fefunca", "fefuncb", "fefuncg",
      "fefuncr", "fegaussianblur", "feimage", "femerge", "femergenode", "femorphology", "feoffset",
      "fepointlight", "fespecularlighting", "fespotlight", "fetile", "feturbulence"};
  for (const char* k : kNames)
    if (n == k) return true;
  return false;
}

constexpr size_t kPsMaxSvgDepth = 16;  // deeper SVG bodies are left alone (see parse_html's depth check)

struct PsSvg {
  bool ok = false;          // a well-nested body of plain SVG elements ending in </svg>
  bool removable = false;   // ... with no text but whitespace (and CSS in <style>)
  size_t end = 0;           // the '<' of its </svg>
  std::string whitespace;   // the body's text, as the tokenizer sees it (CR LF and CR as LF)
};

// The body of an <svg> element after its start tag, tokenized as foreign content.
PsSvg ps_scan_svg(std::string_view in, size_t i) {
  PsSvg r;
  const size_t n = in.size();
  std::vector<std::string> open;  // elements open inside the svg
  bool text = false;
  while (true) {
    size_t lt = in.find('<', i);
    if (lt == std::string_view::npos) return r;  // unterminated: left alone
    const bool in_style = !open.empty() && open.back() == "style";
    const bool in_title = !open.empty() && (open.back() == "title" || open.back() == "desc");
    for (size_t k = i; k < lt; ++k) {
      char c = in[k];
      if (in_style) continue;  // <style> text is dropped by parse_html
      if (in_title || !is_html_space(c)) {
        text = true;
        continue;
      }
      if (c == '\r') {
        r.whitespace += '\n';
        if (k + 1 < lt && in[k + 1] == '\n') ++k;
      } else {
        r.whitespace += c;
      }
    }
    if (lt + 1 >= n) return r;
    char c = in[lt + 1];
    if (c == '!') {
      if (in.compare(lt, 4, "<!--") != 0) return r;  // CDATA, doctype, bogus comment: not modelled
      size_t end = lt + 4;
      // comment states: "<!-->", "<!--->", then up to "-->" or "--!>"
      if (end < n && in[end] == '>') {
        i = end + 1;
        continue;
      }
      if (end + 1 < n && in[end] == '-' && in[end + 1] == '>') {
        i = end + 2;
        continue;
      }
      size_t close = std::string_view::npos;
      for (size_t k = end; k + 2 < n; ++k) {
        if (in[k] == '-' && in[k + 1] == '-' && (in[k + 2] == '>' || (in[k + 2] == '!' && k + 3 < n && in[k + 3] == '>'))) {
          close = in[k + 2] == '>' ? k + 3 : k + 4;
          break;
        }
      }
      if (close == std::string_view::npos) return r;
      i = close;
      continue;
    }
    if (c == '/') {
      if (lt + 2 >= n || !ps_alpha(in[lt + 2])) return r;
      PsTag t = ps_parse_tag(in, lt);
      if (t.eof) return r;
      // gumbo 0.10.1 matches an end tag in foreign content by its whole text between "</" and ">"
      // (gumbo_tag_from_original_text): "</svg >" or "</g x>" closes nothing there, and the element stays open.
      if (t.end != lt + 3 + t.name.size()) return r;
      if (open.empty()) {
        if (t.name != "svg") return r;
        r.ok = true;
        r.removable = !text;
        r.end = lt;
        return r;
      }
      if (t.name != open.back()) return r;
      open.pop_back();
      i = t.end;
      continue;
    }
    if (!ps_alpha(c)) {
      if (!in_style) text = true;  // a literal '<'
      i = lt + 1;
      continue;
    }
    if (in_style || in_title) return r;  // markup inside <style> or an integration point: not modelled
    PsTag t = ps_parse_tag(in, lt);
    if (t.eof || !ps_plain_svg_name(t.name)) return r;
    if (!t.self_closing) {
      if (open.size() + 1 >= kPsMaxSvgDepth) return r;
      open.push_back(t.name);
    }
    i = t.end;
  }
}

// True when parse_html may keep the script's text: type="application/ld+json" (or a value with a character
// reference, which only gumbo decodes).
bool ps_maybe_jsonld(const PsTag& t) {
  static constexpr std::string_view kLd = "application/ld+json";
  if (!t.has_type) return false;
  if (t.type.find('&') != std::string_view::npos) return true;
  return ps_iequals(t.type, kLd);
}

// Stand-ins (see prescan_html): the k-th is one private-use character, U+F0000 + k for the first 65,534
// (plane 15 without its two noncharacters), then U+100000 + (k - 65,534) (plane 16): four bytes, one code point
// for gumbo's tokenizer.
constexpr size_t kPlane15Standins = 0xFFFFE - 0xF0000;
constexpr size_t kMaxStandins = 2 * kPlane15Standins;

void ps_standin_bytes(size_t k, char b[4]) {
  const uint32_t cp = k < kPlane15Standins ? static_cast<uint32_t>(0xF0000 + k)
                                           : static_cast<uint32_t>(0x100000 + (k - kPlane15Standins));
  b[0] = static_cast<char>(0xF0 | (cp >> 18));
  b[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  b[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  b[3] = static_cast<char>(0x80 | (cp & 0x3F));
}

// The page can carry stand-ins: no character of planes 15 and 16 (bytes F3 B0-BF, F4), written or as a numeric
// character reference (which gumbo decodes), so that every such character after the parse is a stand-in.
bool ps_standins_safe(std::string_view in) {
  const size_t n = in.size();
  if (in.find('\xF4') != std::string_view::npos) return false;
  for (size_t k = in.find('\xF3'); k != std::string_view::npos; k = in.find('\xF3', k + 1))
    if (k + 1 < n && static_cast<unsigned char>(in[k + 1]) >= 0xB0) return false;
  for (size_t k = in.find("&#"); k != std::string_view::npos; k = in.find("&#", k + 2)) {
    size_t p = k + 2;
    const bool hex = p < n && (in[p] == 'x' || in[p] == 'X');
    if (hex) ++p;
    uint32_t v = 0;
    for (; p < n; ++p) {
      const char c = in[p];
      int d = c >= '0' && c <= '9' ? c - '0' : -1;
      if (hex && d < 0) d = c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) break;
      v = std::min<uint32_t>(v * (hex ? 16 : 10) + static_cast<uint32_t>(d), 0x1000000);
    }
    if (v >= 0xF0000 && v <= 0x10FFFF) return false;  // larger ones become U+FFFD
  }
  return true;
}

// Gumbo would hand `s` (valid UTF-8) over exactly as written: no character reference ('&'), no '\r' (input
// preprocessing makes it '\n'), no NUL, and none of the code points its decoder replaces by U+FFFD (C0 controls
// but tab, line feed and form feed, DEL, C1 controls, noncharacters).
bool ps_verbatim(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* e = p + s.size();
  while (p < e) {
    if (e - p >= 8) {
      // Eight bytes at a time when none of them can start what is checked below: a byte < 0x20, '&', DEL, the
      // lead bytes C2 (C1 controls) and EF (U+FDD0-U+FFFF), or one >= F0 (four-byte sequences). Vietnamese
      // letters (C3/C4/C6/CC/E1 leads and continuation bytes) pass. p is at a character's start, and a
      // sequence whose lead byte is among the eight is skipped whole with it or checked from its lead.
      uint64_t w;
      std::memcpy(&w, p, 8);
      constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
      auto has = [&](uint8_t c) {
        const uint64_t v = w ^ (kOnes * c);
        return (v - kOnes) & ~v;
      };
      const uint64_t flagged = ((w - kOnes * 0x20) & ~w) | has('&') | has(0x7F) | has(0xC2) | has(0xEF) |
                               (w & (w << 1) & (w << 2) & (w << 3));
      if ((flagged & kHigh) == 0) {
        p += 8;
        // The last of the eight may be a lead byte whose sequence goes on past them: step over its rest.
        while (p < e && (*p & 0xC0) == 0x80) ++p;
        continue;
      }
    }
    const unsigned char c = *p;
    if (c < 0x80) {
      if (c < 0x20 ? !(c == '\t' || c == '\n' || c == '\f') : (c == '&' || c == 0x7F)) return false;
      ++p;
    } else if (c < 0xE0) {
      if (e - p < 2 || (c == 0xC2 && p[1] < 0xA0)) return false;  // U+0080-U+009F
      p += 2;
    } else if (c < 0xF0) {
      if (e - p < 3 || (c == 0xEF && ((p[1] == 0xB7 && p[2] >= 0x90 && p[2] <= 0xAF) || (p[1] == 0xBF && p[2] >= 0xBE))))
        return false;  // U+FDD0-U+FDEF, U+FFFE, U+FFFF
      p += 3;
    } else {
      if (e - p < 4 || ((p[1] & 0x0F) == 0x0F && p[2] == 0xBF && p[3] >= 0xBE)) return false;  // U+nFFFE, U+nFFFF
      p += 4;
    }
  }
  return true;
}

// Elements whose attribute values gumbo's tree builder compares (the "Noah's Ark" clause of the list of active
// formatting elements: three open elements with the same name and attributes; <a> is not among them, since a new
// <a> always closes the open one first), and those it treats as foreign or rewrites.
bool ps_values_compared(std::string_view name) {
  switch (name.size()) {
    case 1: return name[0] == 'b' || name[0] == 'i' || name[0] == 's' || name[0] == 'u';
    case 2: return name == "em" || name == "tt";
    case 3: return name == "big" || name == "svg";
    case 4: return name == "code" || name == "font" || name == "nobr" || name == "math";
    case 5: return name == "small";
    case 6: return name == "strike" || name == "strong";
    case 7: return name == "isindex";
    default: return false;
  }
}

}  // namespace

bool prescan_html(std::string_view in, std::string& out, PrescanStats* stats, bool collapse_whitespace,
                  std::vector<std::string_view>* standins) {
  PrescanStats st;
  const size_t n = in.size();
  size_t emitted = 0;  // in[emitted..] not yet copied to out
  bool changed = false;
  auto cut = [&](size_t from, size_t to, std::string_view replacement) {
    if (!changed) {
      out.clear();
      out.reserve(n);
      changed = true;
    }
    out.append(in.substr(emitted, from - emitted));
    out.append(replacement);
    st.removed_bytes += (to - from) - replacement.size();
    emitted = to;
  };
  // A select element makes the tree builder ignore <svg>, <style>, <title>, <xmp>, <iframe>... start tags, so their
  // content is tokenized differently; it is open from <select> to </select> (closing earlier, on <input> or a
  // table tag, only makes this scan more careful than needed).
  bool in_select = false;
  size_t i = 0;
  auto stop = [&](size_t at) {
    st.stopped = true;
    st.stopped_at = at;
  };
  // Whitespace-only text between two tokens of markup (indentation: a sixth of what gumbo still sees, and one
  // token per character for it) becomes one character that keeps what text handling can tell apart: whether
  // there was a line break, and whether there were two (" ", "\n" or "\n\n"). Not inside <pre>/<listing>
  // (their text is kept as written); not after a '<' that was text (the run is part of a longer text node).
  size_t pre_depth = 0;
  bool after_markup = false;  // in[i] follows a token of markup (a tag, comment, doctype...), not text
  auto markup_at = [&](size_t lt) {  // in[lt] == '<' starts a tag, an end tag, a comment or a doctype
    if (lt + 1 >= n) return false;
    const char k = in[lt + 1];
    return ps_alpha(k) || k == '!' || (k == '/' && lt + 2 < n && ps_alpha(in[lt + 2]));
  };
  auto collapse_run = [&](size_t from, size_t to) {
    size_t breaks = 0;
    for (size_t k = from; k < to; ++k) {
      const char w = in[k];
      if (w == '\n' || (w == '\r' && (k + 1 >= to || in[k + 1] != '\n'))) ++breaks;
      else if (!is_html_space(w)) return;  // not whitespace only
    }
    const std::string_view repl = breaks == 0 ? " " : breaks == 1 ? "\n" : "\n\n";
    if (in.substr(from, to - from) == repl) return;
    cut(from, to, repl);
    ++st.whitespace_runs;
  };
  if (standins) {
    standins->clear();
    if (!ps_standins_safe(in)) standins = nullptr;
  }
  char standin[4];
  auto put_standin = [&](size_t from, size_t to) {
    ps_standin_bytes(standins->size(), standin);
    standins->push_back(in.substr(from, to - from));
    cut(from, to, std::string_view(standin, 4));
    ++st.standins;
  };
  // Text of the data state: each stretch between character references gets a stand-in, from its first
  // non-whitespace character on (leading whitespace stays: before the first other character, the tree builder
  // puts whitespace elsewhere in some insertion modes). A reference `&[#]name;` stays as written; after any other
  // '&' the rest of the text does.
  auto standin_text = [&](size_t from, size_t to) {
    size_t p = from;
    while (p < to && standins->size() < kMaxStandins) {
      const void* a = std::memchr(in.data() + p, '&', to - p);
      const size_t amp = a ? static_cast<size_t>(static_cast<const char*>(a) - in.data()) : to;
      size_t core = p;
      while (core < amp && is_html_space(in[core])) ++core;
      if (amp - core >= 4 && ps_verbatim(in.substr(core, amp - core))) put_standin(core, amp);
      if (amp == to) break;
      size_t q = amp + 1;
      if (q < to && in[q] == '#') ++q;
      size_t d = q;
      while (d < to && d - q < 40 && (ps_alpha(in[d]) || (in[d] >= '0' && in[d] <= '9'))) ++d;
      if (d == q || d >= to || in[d] != ';') break;
      p = d + 1;
    }
  };
  PsValues values;
  bool text_tail = false;  // the loop ended in the data state: in[i..] is text
  while (i < n) {
    size_t lt = in.find('<', i);
    if (lt == std::string_view::npos || lt + 1 >= n) {
      text_tail = true;
      break;
    }
    if (collapse_whitespace && after_markup && pre_depth == 0 && lt - i >= 2 && markup_at(lt)) collapse_run(i, lt);
    if (standins && lt > i) standin_text(i, lt);
    after_markup = true;
    const char c = in[lt + 1];
    if (c == '!') {
      if (in.compare(lt, 4, "<!--") == 0) {
        // comment start, comment start dash, comment, comment end (dash), comment end bang states
        size_t k = lt + 4;
        size_t end = n;
        if (k < n && in[k] == '>') end = k + 1;
        else if (k + 1 < n && in[k] == '-' && in[k + 1] == '>') end = k + 2;
        else {
          for (; k + 2 < n; ++k) {
            if (in[k] != '-' || in[k + 1] != '-') continue;
            if (in[k + 2] == '>') {
              end = k + 3;
              break;
            }
            if (in[k + 2] == '!' && k + 3 < n && in[k + 3] == '>') {
              end = k + 4;
              break;
            }
          }
        }
        if (end - lt > 7) {
          cut(lt, end, "<!---->");
          ++st.comments;
        }
        i = end;
        continue;
      }
      // DOCTYPE or bogus comment: up to the next '>' (in every DOCTYPE state '>' ends the token)
      size_t gt = in.find('>', lt + 2);
      i = gt == std::string_view::npos ? n : gt + 1;
      continue;
    }
    if (c == '?') {
      size_t gt = in.find('>', lt + 2);
      i = gt == std::string_view::npos ? n : gt + 1;
      continue;
    }
    if (c == '/') {
      if (lt + 2 >= n) break;
      if (in[lt + 2] == '>') {  // "</>" is dropped: the text on either side is one text node
        after_markup = false;
        i = lt + 3;
        continue;
      }
      if (!ps_alpha(in[lt + 2])) {  // bogus comment
        size_t gt = in.find('>', lt + 2);
        i = gt == std::string_view::npos ? n : gt + 1;
        continue;
      }
      PsTag t = ps_parse_tag(in, lt);
      if (t.eof) break;
      if (t.name == "select") in_select = false;
      if ((t.name == "pre" || t.name == "listing") && pre_depth > 0) --pre_depth;
      i = t.end;
      continue;
    }
    if (!ps_alpha(c)) {  // a '<' that is text
      after_markup = false;
      i = lt + 1;
      continue;
    }
    PsTag t = ps_parse_tag(in, lt, standins ? &values : nullptr);
    if (t.eof) break;  // the tokenizer drops a tag cut by EOF; nothing follows
    i = t.end;
    const std::string& name = t.name;
    if (standins && !values.empty() && !ps_values_compared(name))
      for (auto [at, len] : values)
        if (standins->size() < kMaxStandins && ps_verbatim(in.substr(at, len))) put_standin(at, at + len);
    // Only these names matter below: script style svg select title textarea xmp iframe noembed noframes pre
    // plaintext math frameset listing.
    if (name.size() < 3 || name.size() > 9 || !std::strchr("stxinpmfl", name[0])) continue;
    if (name == "script") {
      size_t end = ps_script_end(in, t.end);
      if (end > t.end && !ps_maybe_jsonld(t)) {
        cut(t.end, end, {});
        ++st.scripts;
      }
      i = end;
    } else if (name == "style") {
      if (in_select) {  // ignored there: its content is parsed as markup
        stop(lt);
        break;
      }
      size_t end = ps_text_end(in, t.end, name);
      if (end > t.end) {
        cut(t.end, end, {});
        ++st.styles;
      }
      i = end;
    } else if (name == "title" || name == "xmp" || name == "iframe" || name == "noembed" || name == "noframes") {
      if (in_select) {
        stop(lt);
        break;
      }
      i = ps_text_end(in, t.end, name);
    } else if (name == "textarea") {
      in_select = false;
      i = ps_text_end(in, t.end, name);
    } else if (name == "svg") {
      if (in_select) {
        stop(lt);
        break;
      }
      if (t.self_closing) continue;
      PsSvg s = ps_scan_svg(in, t.end);
      if (!s.ok) {
        stop(lt);
        break;
      }
      if (s.removable && s.end - t.end > s.whitespace.size()) {
        cut(t.end, s.end, s.whitespace);
        ++st.svgs;
      }
      i = s.end;
    } else if (name == "select") {
      in_select = true;
    } else if (name == "pre" || name == "listing") {
      ++pre_depth;
    } else if (name == "plaintext" || name == "math" || name == "frameset") {
      stop(lt);  // everything after <plaintext> is text; MathML and framesets are not modelled
      break;
    }
  }
  if (standins && text_tail && i < n) {
    size_t end = in.find('<', i);
    standin_text(i, end == std::string_view::npos ? n : end);
  }
  if (changed) out.append(in.substr(emitted));
  if (stats) *stats = st;
  return changed;
}

namespace {

// gumbo's allocations for one parse (GumboOptions::allocator): sizes up to kMaxSmall from 64 KiB blocks in 8-byte
// classes with a free list each, larger ones from malloc; everything is released at once when the parse is over,
// instead of by gumbo_destroy_output's walk of the tree. malloc/free were 14 % of gumbo's instructions on the
// corpus pages (bench/parse_bench); a freed slot is reused by its class, so memory stays what malloc's would be.
class GumboPool {
 public:
  GumboPool() = default;
  GumboPool(const GumboPool&) = delete;
  GumboPool& operator=(const GumboPool&) = delete;
  ~GumboPool() {
    for (char* b : blocks_) std::free(b);
    while (large_) {
      Large* next = large_->next;
      std::free(large_);
      large_ = next;
    }
  }
  void install(GumboOptions& o) {
    o.allocator = &GumboPool::allocate;
    o.deallocator = &GumboPool::deallocate;
    o.userdata = this;
  }

 private:
  struct Large {  // header of a malloc'd allocation, followed by the class word (0)
    Large* prev;
    Large* next;
  };
  static constexpr size_t kGrain = 8, kMaxSmall = 512, kBlockBytes = 64 * 1024;

  static void* allocate(void* self, size_t n) { return static_cast<GumboPool*>(self)->take(n); }
  static void deallocate(void* self, void* ptr) { static_cast<GumboPool*>(self)->give(ptr); }

  void* take(size_t n) {
    const size_t cls = (std::max<size_t>(n, 1) + kGrain - 1) / kGrain;
    if (cls > kMaxSmall / kGrain) {
      auto* l = static_cast<Large*>(std::malloc(sizeof(Large) + kGrain + n));
      if (!l) return nullptr;  // as malloc would
      l->prev = nullptr;
      l->next = large_;
      if (large_) large_->prev = l;
      large_ = l;
      char* word = reinterpret_cast<char*>(l + 1);
      const size_t large = 0;
      std::memcpy(word, &large, kGrain);
      return word + kGrain;
    }
    if (void* f = free_[cls]) {
      std::memcpy(&free_[cls], f, sizeof(void*));
      return f;
    }
    const size_t slot = kGrain + cls * kGrain;
    if (static_cast<size_t>(end_ - cur_) < slot) {
      char* b = static_cast<char*>(std::malloc(kBlockBytes));
      if (!b) return nullptr;
      blocks_.push_back(b);
      cur_ = b;
      end_ = b + kBlockBytes;
    }
    char* word = cur_;
    cur_ += slot;
    std::memcpy(word, &cls, kGrain);
    return word + kGrain;
  }
  void give(void* ptr) {
    if (!ptr) return;
    char* word = static_cast<char*>(ptr) - kGrain;
    size_t cls;
    std::memcpy(&cls, word, kGrain);
    if (cls == 0) {
      Large* l = reinterpret_cast<Large*>(word) - 1;
      (l->prev ? l->prev->next : large_) = l->next;
      if (l->next) l->next->prev = l->prev;
      std::free(l);
      return;
    }
    std::memcpy(ptr, &free_[cls], sizeof(void*));
    free_[cls] = ptr;
  }

  std::array<void*, kMaxSmall / kGrain + 1> free_{};
  std::vector<char*> blocks_;
  char* cur_ = nullptr;
  char* end_ = nullptr;
  Large* large_ = nullptr;
};

// The stand-in index of the four bytes at q (valid UTF-8), or SIZE_MAX.
size_t standin_at(const unsigned char* q) {
  const uint32_t cp = (static_cast<uint32_t>(q[0] & 7) << 18) | (static_cast<uint32_t>(q[1] & 0x3F) << 12) |
                      (static_cast<uint32_t>(q[2] & 0x3F) << 6) | static_cast<uint32_t>(q[3] & 0x3F);
  if (cp >= 0xF0000 && cp < 0xF0000 + kPlane15Standins) return cp - 0xF0000;
  if (cp >= 0x100000 && cp < 0x100000 + kPlane15Standins) return kPlane15Standins + (cp - 0x100000);
  return SIZE_MAX;
}

// `s` with every stand-in (prescan_html) replaced by the text it stands for; `s` itself when it has none. The page
// had no character of planes 15 and 16 (ps_standins_safe), so each such character is a stand-in.
std::string_view expand_standins(const char* s, const std::vector<std::string_view>& standins, std::string& buf) {
  const auto* q = reinterpret_cast<const unsigned char*>(s);
  if (static_cast<unsigned char>(q[0] - 0xF3) <= 1 && q[1] && q[2] && q[3] && !q[4]) {  // one stand-in alone
    const size_t k = standin_at(q);
    if (k < standins.size()) return standins[k];
  }
  while (*q && static_cast<unsigned char>(*q - 0xF3) > 1) ++q;
  if (!*q) return {s, static_cast<size_t>(reinterpret_cast<const char*>(q) - s)};
  buf.assign(s, static_cast<size_t>(reinterpret_cast<const char*>(q) - s));
  while (*q) {
    if (static_cast<unsigned char>(*q - 0xF3) <= 1 && q[1] && q[2] && q[3]) {
      const size_t k = standin_at(q);
      if (k < standins.size()) {
        buf.append(standins[k]);
        q += 4;
        continue;
      }
    }
    buf += static_cast<char>(*q++);
  }
  return buf;
}

// gumbo -> pugixml. Returns the deepest element depth created. `standins`: what prescan_html replaced.
size_t convert(std::string_view utf8, const HtmlParseOptions& opts, HtmlDocument& out,
               const std::vector<std::string_view>* standins = nullptr) {
  GumboOptions gopts = kGumboDefaultOptions;
  gopts.max_errors = opts.max_errors;  // keep going, but don't collect unbounded error lists
  GumboPool pool;  // owns the whole tree: no gumbo_destroy_output
  pool.install(gopts);
  GumboOutput* g = gumbo_parse_with_options(&gopts, utf8.data(), utf8.size());
  if (!g) {
    out.doc.append_child("html");
    return 0;
  }

  size_t max_seen = 0;
  std::string scratch, expanded;
  auto original = [&](const char* v) {
    return standins && !standins->empty() ? expand_standins(v, *standins, expanded) : std::string_view(v);
  };
  std::vector<Frame> stack;
  stack.push_back({g->root, out.doc, 0});
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
          ++out.elements;
          for (unsigned i = 0; i < el.attributes.length; ++i) {
            const auto* a = static_cast<const GumboAttribute*>(el.attributes.data[i]);
            // Attribute names with characters XPath can't address are skipped.
            if (!a->name || !*a->name || std::strpbrk(a->name, "\"'<>=/ ")) continue;
            if (target.attribute(a->name)) continue;
            const std::string_view value = original(a->value);
            target.append_attribute(a->name).set_value(value.data(), value.size());
          }
          ++depth;
          max_seen = std::max(max_seen, depth);
        } else {
          out.depth_limited = true;
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
        const std::string_view text =
            n->type == GUMBO_NODE_WHITESPACE ? std::string_view(n->v.text.text) : original(n->v.text.text);
        pugi::xml_node last = f.parent.last_child();
        if (last && last.type() == pugi::node_pcdata) {
          // Merge adjacent text (happens when depth limiting flattens elements).
          std::string merged = last.value();
          merged += text;
          last.set_value(merged.c_str());
        } else {
          f.parent.append_child(pugi::node_pcdata).set_value(text.data(), text.size());
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
  if (!out.doc.document_element()) out.doc.append_child("html");
  return max_seen;
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
  // The prescan only empties bodies parse_html drops anyway (and shortens whitespace-only runs between tags), so
  // the tree is the same (but for those runs' lengths), with one exception it checks here: the SVG shapes it
  // removed (at most kPsMaxSvgDepth deep) could have reached max_depth. A page nested that deep is parsed again
  // as it is. The prescan reads bytes as UTF-8 text: on bytes that are not (gumbo's decoder may then take a '<'
  // into a broken sequence) it is not used (found by fuzz_prescan; extraction decodes pages to valid UTF-8 first).
  std::string scanned;
  std::vector<std::string_view> standins;  // views of utf8
  if (opts.prescan && !opts.keep_scripts && !out->depth_limited && ((opts.utf8_checked && !out->truncated) || is_valid_utf8(utf8)) &&
      prescan_html(utf8, scanned, nullptr, opts.collapse_whitespace, opts.standins ? &standins : nullptr)) {
    size_t deepest = convert(scanned, opts, *out, &standins);
    if (!out->depth_limited && deepest + kPsMaxSvgDepth < opts.max_depth) return out;
    auto again = std::make_unique<HtmlDocument>();
    again->truncated = out->truncated;
    out = std::move(again);
  }
  convert(utf8, opts, *out);
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
