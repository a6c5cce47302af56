#include "feed/machine.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <unordered_map>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/text.h"

namespace baotin::feed_internal {

// ---------------------------------------------------------------------------------------------
// Strict reader: pugixml tree -> namespace-aware SAX-like events (as expat + xml.sax would give)
// ---------------------------------------------------------------------------------------------

namespace {

struct StrictError {
  std::string message;
};

class StrictReader {
 public:
  StrictReader(FeedMachine& m, const std::map<std::string, std::string>& entities, EntityBudget& budget)
      : m_(m), entities_(entities), budget_(budget) {}

  // Returns "" on success or the SAX-style error message.
  std::string run(std::string& text, bool chars_ok) {
    if (!chars_ok && !scan_text(text).xml_chars) return "not well-formed (invalid token)";
    pugi::xml_document doc;
    unsigned flags = pugi::parse_cdata | pugi::parse_wconv_attribute | pugi::parse_eol | pugi::parse_ws_pcdata |
                     pugi::parse_declaration;
    pugi::xml_parse_result r = doc.load_buffer_inplace(text.data(), text.size(), flags, pugi::encoding_utf8);
    if (!r) {
      switch (r.status) {
        case pugi::status_end_element_mismatch:
          return r.offset >= static_cast<ptrdiff_t>(text.size()) ? "no element found" : "mismatched tag";
        case pugi::status_unrecognized_tag:
        case pugi::status_bad_start_element:
        case pugi::status_bad_attribute:
        case pugi::status_bad_end_element:
          return r.offset >= static_cast<ptrdiff_t>(text.size()) - 1 ? "unclosed token" : "not well-formed (invalid token)";
        case pugi::status_no_document_element:
          return "no element found";
        default:
          return std::string("not well-formed (") + r.description() + ")";
      }
    }
    // document-level checks expat makes
    int elements = 0;
    for (pugi::xml_node n : doc.children()) {
      if (n.type() == pugi::node_element) ++elements;
      else if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) {
        if (!py_strip(n.value()).empty()) return elements ? "junk after document element" : "syntax error";
      } else if (n.type() == pugi::node_declaration && n != doc.first_child()) {
        return "XML or text declaration not at start of entity";
      }
    }
    if (elements == 0) return "no element found";
    if (elements > 1) return "junk after document element";
    // one pass: events and the checks expat makes (see emit)
    scopes_.clear();
    return emit(doc.document_element());
  }

 private:
  FeedMachine& m_;
  const std::map<std::string, std::string>& entities_;
  EntityBudget& budget_;
  using Scope = std::map<std::string, std::string, std::less<>>;  // prefix ("" = default) -> uri
  std::vector<Scope> scopes_;
  // The standard prefix of each namespace URI seen (FeedMachine::match_namespace of the lowered URI, after the
  // userland fix-up): computed once per URI, not once per element.
  struct NsInfo {
    std::string ns;                     // the URI (userland variants replaced)
    std::optional<std::string> prefix;  // lowered standard prefix, or none when the namespace is unknown
  };
  std::unordered_map<std::string, NsInfo> ns_cache_;

  const NsInfo& ns_info(const std::string& uri) {
    auto it = ns_cache_.find(uri);
    if (it != ns_cache_.end()) return it->second;
    NsInfo info;
    info.ns = uri;
    std::string lowerns = lower(uri);
    if (lowerns.find("backend.userland.com/rss") != std::string::npos) {
      info.ns = "http://backend.userland.com/rss";
      lowerns = info.ns;
    }
    info.prefix = m_.match_namespace(lowerns);
    if (info.prefix) *info.prefix = lower(*info.prefix);
    return ns_cache_.emplace(uri, std::move(info)).first->second;
  }


  // expand() for a document without internal entities (nearly every feed): the same results and errors, in one
  // pass and in place (predefined and character references never grow the text; `in` is in the buffer pugixml
  // parsed in place, which the reader owns and which is not read again).
  static bool expand_predefined(std::string_view in, size_t amp, std::string_view& result, std::string& err) {
    const size_t n = in.size();
    char* const base = const_cast<char*>(in.data());
    char* o = base + amp;
    size_t i = amp;
    // the length of the predefined reference at `at` (most references), or 0; its character in `c`
    auto predefined = [&](size_t at, char& c) -> size_t {
      const std::string_view r = in.substr(at + 1, 5);
      switch (r.empty() ? '\0' : r[0]) {
        case 'l': c = '<'; return r.starts_with("lt;") ? 4 : 0;
        case 'g': c = '>'; return r.starts_with("gt;") ? 4 : 0;
        case 'q': c = '"'; return r.starts_with("quot;") ? 6 : 0;
        case 'a':
          if (r.starts_with("amp;")) {
            c = '&';
            return 5;
          }
          c = '\'';
          return r.starts_with("apos;") ? 6 : 0;
        default: return 0;
      }
    };
    while (i < n) {
      // here in[i] == '&': the reference runs to the next ';' (a character that cannot be in any reference
      // before it makes the reference invalid either way)
      char c;
      size_t j;
      if (size_t len = predefined(i, c)) {
        *o++ = c;
        j = i + len - 1;
      } else if (!char_or_undefined_reference(in, i, o, j, err)) {
        return false;
      }
      i = j + 1;
      copy_to_reference(base, n, i, o);
    }
    result = std::string_view(base, static_cast<size_t>(o - base));
    return true;
  }

  // Moves the text from base[i] down to o (o <= i) up to the next '&' or the end, advancing both. Sixteen bytes at a
  // time: a block is stored whole where that cannot reach the text not yet read (the bytes past the '&' land in
  // what the output overwrites next), else only its bytes before the '&' are moved.
  static void copy_to_reference(char* base, size_t n, size_t& i, char*& o) {
#if defined(__SSE2__)
    const __m128i amp = _mm_set1_epi8('&');
    while (n - i >= 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + i));
      const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, amp)));
      const size_t k = m ? static_cast<size_t>(__builtin_ctz(m)) : 16;
      if (static_cast<size_t>(base + i - o) + k >= 16) _mm_storeu_si128(reinterpret_cast<__m128i*>(o), x);
      else std::memmove(o, base + i, k);
      o += k;
      i += k;
      if (m) return;
    }
#endif
    const void* next = i < n ? std::memchr(base + i, '&', n - i) : nullptr;
    const size_t stop = next ? static_cast<size_t>(static_cast<const char*>(next) - base) : n;
    std::memmove(o, base + i, stop - i);
    o += stop - i;
    i = stop;
  }

  // The reference at in[i] == '&' that is not a predefined one: a character reference, written at o (advanced), or
  // an error; j: the position of its ';'.
  static bool char_or_undefined_reference(std::string_view in, size_t i, char*& o, size_t& j, std::string& err) {
    const size_t n = in.size();
    auto name_char = [](unsigned char k) {
      return (k >= 'a' && k <= 'z') || (k >= 'A' && k <= 'Z') || (k >= '0' && k <= '9') || k == '_' || k == ':' ||
             k == '-' || k == '.' || k >= 0x80;
    };
    auto bad = [&](const char* msg) {
      err = msg;
      return false;
    };
    j = i + 1;
    while (j < n && in[j] != ';' && (name_char(static_cast<unsigned char>(in[j])) || in[j] == '#')) ++j;
    if (j >= n || in[j] != ';' || j == i + 1) return bad("not well-formed (invalid token)");
    std::string_view ref = in.substr(i + 1, j - i - 1);
    if (ref[0] == '#') {
      char32_t cp = 0;
      bool ok = ref.size() > 1;
      if (ok && ref[1] == 'x') {
        ok = ref.size() > 2 && ref.size() <= 10;
        for (size_t k = 2; ok && k < ref.size(); ++k) {
          char h = ref[k];
          if (h >= '0' && h <= '9') cp = cp * 16 + static_cast<char32_t>(h - '0');
          else if (h >= 'a' && h <= 'f') cp = cp * 16 + static_cast<char32_t>(h - 'a' + 10);
          else if (h >= 'A' && h <= 'F') cp = cp * 16 + static_cast<char32_t>(h - 'A' + 10);
          else ok = false;
        }
      } else {
        ok = ok && ref.size() <= 9;
        for (size_t k = 1; ok && k < ref.size(); ++k) {
          if (ref[k] < '0' || ref[k] > '9') ok = false;
          else cp = cp * 10 + static_cast<char32_t>(ref[k] - '0');
        }
      }
      if (!ok) return bad("not well-formed (invalid token)");
      bool legal = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                   (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
      if (!legal) return bad("reference to invalid character number");
      if (cp < 0x80) {
        *o++ = static_cast<char>(cp);
      } else if (cp < 0x800) {
        *o++ = static_cast<char>(0xC0 | (cp >> 6));
        *o++ = static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        *o++ = static_cast<char>(0xE0 | (cp >> 12));
        *o++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        *o++ = static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        *o++ = static_cast<char>(0xF0 | (cp >> 18));
        *o++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        *o++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        *o++ = static_cast<char>(0x80 | (cp & 0x3F));
      }
    } else {  // the predefined entities are handled by the caller
      unsigned char f = static_cast<unsigned char>(ref[0]);
      bool name_ok = (f >= 'a' && f <= 'z') || (f >= 'A' && f <= 'Z') || f == '_' || f == ':' || f >= 0x80;
      for (char k : ref) name_ok = name_ok && name_char(static_cast<unsigned char>(k));
      return bad(name_ok ? "undefined entity" : "not well-formed (invalid token)");
    }
    return true;
  }

  // Expands references in character data / attribute values. Returns false (with err) when the
  // text is not well-formed XML.
  // The result is `in` itself (no reference), `in` expanded in place (no internal entities) or `out`.
  bool expand(std::string_view in, std::string& out, std::string_view& result, std::string& err,
              bool attribute) const {
    if (attribute && in.find('<') != std::string_view::npos) {
      err = "not well-formed (invalid token)";
      return false;
    }
    size_t amp = in.find('&');
    if (amp == std::string_view::npos) {
      result = in;
      return true;
    }
    if (entities_.empty()) return expand_predefined(in, amp, result, err);
    if (!expand_entities(in, amp, out, err)) return false;
    result = out;
    return true;
  }

  // expand() with the document's internal entities (whose replacement texts are expanded in turn).
  bool expand_entities(std::string_view in, size_t amp, std::string& out, std::string& err) const {
    out.clear();
    out.reserve(in.size());
    out.append(in.substr(0, amp));
    for (size_t i = amp; i < in.size(); ++i) {
      char c = in[i];
      if (c != '&') {
        size_t next = in.find('&', i);
        if (next == std::string_view::npos) next = in.size();
        out.append(in.substr(i, next - i));
        i = next - 1;
        continue;
      }
      size_t semi = in.find(';', i + 1);
      if (semi == std::string_view::npos || semi == i + 1) {
        err = "not well-formed (invalid token)";
        return false;
      }
      std::string_view ref = in.substr(i + 1, semi - i - 1);
      if (ref[0] == '#') {
        char32_t cp = 0;
        bool ok = ref.size() > 1;
        if (ok && (ref[1] == 'x')) {
          ok = ref.size() > 2 && ref.size() <= 10;
          for (size_t k = 2; ok && k < ref.size(); ++k) {
            char h = ref[k];
            if (!std::isxdigit(static_cast<unsigned char>(h))) ok = false;
            else cp = cp * 16 + static_cast<char32_t>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
          }
        } else {
          ok = ok && ref.size() <= 9;
          for (size_t k = 1; ok && k < ref.size(); ++k) {
            if (!std::isdigit(static_cast<unsigned char>(ref[k]))) ok = false;
            else cp = cp * 10 + static_cast<char32_t>(ref[k] - '0');
          }
        }
        bool legal = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                     (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
        if (!ok) {
          err = "not well-formed (invalid token)";
          return false;
        }
        if (!legal) {
          err = "reference to invalid character number";
          return false;
        }
        put_utf8(out, cp);
      } else if (ref == "lt") {  // the predefined entities first: valid names, and most references
        out += '<';
      } else if (ref == "gt") {
        out += '>';
      } else if (ref == "amp") {
        out += '&';
      } else if (ref == "quot") {
        out += '"';
      } else if (ref == "apos") {
        out += '\'';
      } else {
        auto alpha = [](unsigned char k) { return (k >= 'a' && k <= 'z') || (k >= 'A' && k <= 'Z'); };
        bool name_ok = alpha(static_cast<unsigned char>(ref[0])) || ref[0] == '_' || ref[0] == ':' ||
                       static_cast<unsigned char>(ref[0]) >= 0x80;
        for (char k : ref)
          if (!(alpha(static_cast<unsigned char>(k)) || (k >= '0' && k <= '9') || k == '_' || k == ':' || k == '-' ||
                k == '.' || static_cast<unsigned char>(k) >= 0x80))
            name_ok = false;
        if (!name_ok) {
          err = "not well-formed (invalid token)";
          return false;
        }
        if (auto it = entities_.find(std::string(ref)); it != entities_.end()) {
          if (!budget_.take(it->second.size())) {
            i = semi;
            continue;
          }
          std::string v;
          std::string e2;
          const size_t inner_amp = it->second.find('&');
          if (inner_amp == std::string::npos || !expand_entities(it->second, inner_amp, v, e2)) v = it->second;
          out += v;
        } else {
          err = "undefined entity";
          return false;
        }
      }
      i = semi;
    }
    return true;
  }

  // The URI bound to a prefix, or nullptr when it is unbound ("" when the default namespace is not set).
  const std::string* lookup(std::string_view prefix) const {
    static const std::string xml_ns = "http://www.w3.org/XML/1998/namespace", none;
    if (prefix == "xml") return &xml_ns;
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      if (it->empty()) continue;
      auto f = it->find(prefix);
      if (f != it->end()) return &f->second;
    }
    if (prefix.empty()) return &none;
    return nullptr;
  }

  // Emits the events of element `n` and checks, in document order, what expat would reject (references,
  // duplicate attributes, unbound prefixes); returns the first error or "". On an error the caller throws the
  // machine away (the document is then read by the loose reader), so events already emitted do not matter.
  std::string emit(pugi::xml_node n) {
    // expat reports the first attribute that repeats an earlier name (found by sorting: linear-ish even for
    // a hostile element with very many attributes; the few of a feed element are sorted without an allocation)
    // (pugixml is walked with first_/next_ calls: its ranges and iterators cost a library call each)
    const pugi::xml_attribute first_attr = n.first_attribute();
    size_t n_attrs = 0, first_dup = static_cast<size_t>(-1);
    for (pugi::xml_attribute a = first_attr; a; a = a.next_attribute()) ++n_attrs;
    if (n_attrs > 1) {
      using Named = std::pair<std::string_view, size_t>;
      Named few[8];
      std::vector<Named> many(n_attrs > std::size(few) ? n_attrs : 0);
      Named* sorted = many.empty() ? few : many.data();
      size_t i = 0;
      for (pugi::xml_attribute a = first_attr; a; a = a.next_attribute()) {
        sorted[i] = {a.name(), i};
        ++i;
      }
      std::sort(sorted, sorted + n_attrs);
      for (size_t k = 1; k < n_attrs; ++k)
        if (sorted[k].first == sorted[k - 1].first) first_dup = std::min(first_dup, sorted[k].second);
    }
    Scope scope;
    Attrs raw;
    if (n_attrs) raw.reserve(n_attrs);
    size_t index = 0;
    std::string err, spill;
    for (pugi::xml_attribute a = first_attr; a; a = a.next_attribute()) {
      if (index++ == first_dup) return "duplicate attribute";
      std::string_view expanded;
      if (!expand(a.value(), spill, expanded, err, true)) return err;
      std::string v(expanded), name = a.name();
      if (name == "xmlns") {
        scope[""] = std::move(v);
      } else if (starts_with(name, "xmlns:")) {
        if (v.empty()) return "syntax error";
        scope[name.substr(6)] = std::move(v);
      } else {
        raw.emplace_back(std::move(name), std::move(v));
      }
    }
    for (const auto& [p, uri] : scope) {
      if (uri.empty()) continue;
      m_.start_prefix_mapping(p.empty() ? std::nullopt : std::optional<std::string>(p), uri);
    }
    scopes_.push_back(std::move(scope));
    if (!scopes_.back().empty()) names_.clear();  // the names below depend on the bindings in scope
    std::string_view qname = n.name();
    if (auto c = qname.find(':'); c != std::string_view::npos && !lookup(qname.substr(0, c)))
      return "unbound prefix";
    for (const auto& [qn, v] : raw)
      if (auto c = qn.find(':'); c != std::string::npos && !lookup(std::string_view(qn).substr(0, c)))
        return "unbound prefix";
    std::string tag = cached_element_name(qname);
    // attributes: prefixed with the standard prefix when in a known namespace, then set again by local name; without
    // a prefix, that is every name lowered (a name that repeats once lowered keeps its first place, its last value)
    Attrs attrs;
    if (std::none_of(raw.begin(), raw.end(), [](const auto& a) { return a.first.find(':') != std::string::npos; })) {
      for (auto& a : raw) ascii_lower_in_place(a.first);
      attrs = attr_names_may_repeat(raw) ? attr_dict(raw) : std::move(raw);
    } else {
      attrs.reserve(raw.size());
      for (const auto& [qn, v] : raw) {
        std::string local = qn, ns;
        if (auto c = qn.find(':'); c != std::string::npos) {
          if (const std::string* u = lookup(std::string_view(qn).substr(0, c))) ns = *u;
          local = qn.substr(c + 1);
        }
        std::string key = local;
        // the standard prefix of the namespace (ns_info: match_namespace of the lowered URI, itself lowered, as
        // the key is lowered below; the userland variants it rewrites have no prefix either way)
        if (!ns.empty())
          if (const NsInfo& info = ns_info(ns); info.prefix && !info.prefix->empty()) key = *info.prefix + ":" + local;
        attr_set(attrs, lower(key), v);
      }
      for (const auto& [qn, v] : raw) {
        std::string_view local = qn;
        if (auto c = qn.find(':'); c != std::string::npos) local.remove_prefix(c + 1);
        attr_set(attrs, lower(local), v);
      }
    }
    m_.unknown_starttag(tag, std::move(attrs));
    for (pugi::xml_node ch = n.first_child(); ch; ch = ch.next_sibling()) {
      switch (ch.type()) {
        case pugi::node_element:
          if (auto e = emit(ch); !e.empty()) return e;
          break;
        case pugi::node_pcdata: {
          std::string_view value = ch.value();
          // text the machine drops is still checked (and its entities counted) when it has references
          if (!m_.wants_data() && value.find('&') == std::string_view::npos) break;
          std::string_view expanded;
          if (!expand(value, spill, expanded, err, false)) return err;
          m_.handle_data(std::string(expanded));
          break;
        }
        case pugi::node_cdata:
          m_.handle_data(ch.value());
          break;
        default:
          break;
      }
    }
    m_.unknown_endtag(std::move(tag));
    if (!scopes_.back().empty()) names_.clear();
    scopes_.pop_back();
    return {};
  }

  // element_name for the namespace bindings in scope, computed once per distinct qualified name (the cache is
  // cleared whenever an element binds or unbinds a prefix; the machine's namespaces in use only change then).
  // (looked up by the name itself: no key string is made for a name already cached)
  std::unordered_map<std::string, std::string, StringViewHash, std::equal_to<>> names_;
  const std::string& cached_element_name(std::string_view qn) {
    auto it = names_.find(qn);
    if (it != names_.end()) return it->second;
    std::string v = element_name(qn);
    return names_.emplace(std::string(qn), std::move(v)).first->second;
  }

  std::string element_name(std::string_view qn) {
    std::string_view local = qn;
    const std::string* uri = nullptr;
    if (auto c = qn.find(':'); c != std::string_view::npos) {
      uri = lookup(qn.substr(0, c));
      local = qn.substr(c + 1);
    } else {
      uri = lookup("");
    }
    static const std::string none;
    const NsInfo& info = ns_info(uri ? *uri : none);
    const std::string& ns = info.ns;
    if (info.prefix && !info.prefix->empty()) return *info.prefix + ":" + lower(local);
    if (!info.prefix && !ns.empty()) {
      for (const auto& [name, value] : m_.namespaces_in_use()) {
        if (!name.empty() && value == ns) return lower(name) + ":" + lower(local);
      }
    }
    return lower(local);
  }
};

}  // namespace

std::string run_strict_reader(FeedMachine& m, const std::map<std::string, std::string>& entities,
                              EntityBudget& budget, std::string& text, bool chars_ok) {
  StrictReader reader(m, entities, budget);
  return reader.run(text, chars_ok);
}

}  // namespace baotin::feed_internal
