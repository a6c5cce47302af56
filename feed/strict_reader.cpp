#include "feed/machine.h"

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
  std::string run(const std::string& text) {
    if (auto e = check_chars(text); !e.empty()) return e;
    pugi::xml_document doc;
    unsigned flags = pugi::parse_cdata | pugi::parse_wconv_attribute | pugi::parse_eol | pugi::parse_ws_pcdata |
                     pugi::parse_declaration;
    pugi::xml_parse_result r = doc.load_buffer(text.data(), text.size(), flags, pugi::encoding_utf8);
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
    // first pass: validate everything (entities, prefixes) before emitting any event
    scopes_.clear();
    if (auto e = validate(doc.document_element()); !e.empty()) return e;
    scopes_.clear();
    budget_.restart();  // the validation pass expanded everything once already; count the emitted text only
    emit(doc.document_element());
    return {};
  }

 private:
  FeedMachine& m_;
  const std::map<std::string, std::string>& entities_;
  EntityBudget& budget_;
  std::vector<std::map<std::string, std::string>> scopes_;  // prefix ("" = default) -> uri

  static std::string check_chars(const std::string& s) {
    for (size_t i = 0; i < s.size();) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return "not well-formed (invalid token)";
      if (c == 0xEF && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xBF &&
          (static_cast<unsigned char>(s[i + 2]) == 0xBE || static_cast<unsigned char>(s[i + 2]) == 0xBF))
        return "not well-formed (invalid token)";
      ++i;
    }
    return {};
  }

  // Expands references in character data / attribute values. Returns false (with err) when the
  // text is not well-formed XML.
  bool expand(std::string_view in, std::string& out, std::string& err, bool attribute) const {
    out.clear();
    if (attribute && in.find('<') != std::string_view::npos) {
      err = "not well-formed (invalid token)";
      return false;
    }
    size_t amp = in.find('&');
    if (amp == std::string_view::npos) {
      out.assign(in);
      return true;
    }
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
      } else {
        bool name_ok = std::isalpha(static_cast<unsigned char>(ref[0])) || ref[0] == '_' || ref[0] == ':' ||
                       static_cast<unsigned char>(ref[0]) >= 0x80;
        for (char k : ref)
          if (!(std::isalnum(static_cast<unsigned char>(k)) || k == '_' || k == ':' || k == '-' || k == '.' ||
                static_cast<unsigned char>(k) >= 0x80))
            name_ok = false;
        if (!name_ok) {
          err = "not well-formed (invalid token)";
          return false;
        }
        if (ref == "lt") out += '<';
        else if (ref == "gt") out += '>';
        else if (ref == "amp") out += '&';
        else if (ref == "quot") out += '"';
        else if (ref == "apos") out += '\'';
        else if (auto it = entities_.find(std::string(ref)); it != entities_.end()) {
          if (!budget_.take(it->second.size())) {
            i = semi;
            continue;
          }
          std::string v;
          std::string e2;
          if (!expand(it->second, v, e2, false)) v = it->second;
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

  std::optional<std::string> lookup(const std::string& prefix) const {
    if (prefix == "xml") return std::string("http://www.w3.org/XML/1998/namespace");
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = it->find(prefix);
      if (f != it->end()) return f->second;
    }
    if (prefix.empty()) return std::string();
    return std::nullopt;
  }

  std::string validate(pugi::xml_node n) {
    std::map<std::string, std::string> scope;
    std::set<std::string> seen;
    for (pugi::xml_attribute a : n.attributes()) {
      std::string name = a.name();
      if (!seen.insert(name).second) return "duplicate attribute";
      std::string v, err;
      if (!expand(a.value(), v, err, true)) return err;
      if (name == "xmlns") scope[""] = v;
      else if (starts_with(name, "xmlns:")) {
        if (v.empty()) return "syntax error";
        scope[name.substr(6)] = v;
      }
    }
    scopes_.push_back(scope);
    std::string qn = n.name();
    if (auto c = qn.find(':'); c != std::string::npos) {
      if (!lookup(qn.substr(0, c))) return "unbound prefix";
    }
    for (pugi::xml_attribute a : n.attributes()) {
      std::string an = a.name();
      if (auto c = an.find(':'); c != std::string::npos && !starts_with(an, "xmlns:")) {
        if (!lookup(an.substr(0, c))) return "unbound prefix";
      }
    }
    for (pugi::xml_node ch : n.children()) {
      if (ch.type() == pugi::node_element) {
        if (auto e = validate(ch); !e.empty()) return e;
      } else if (ch.type() == pugi::node_pcdata) {
        std::string v, err;
        if (!expand(ch.value(), v, err, false)) return err;
      }
    }
    scopes_.pop_back();
    return {};
  }

  void emit(pugi::xml_node n) {
    std::map<std::string, std::string> scope;
    Attrs raw;
    for (pugi::xml_attribute a : n.attributes()) {
      std::string v, err;
      expand(a.value(), v, err, true);
      std::string name = a.name();
      if (name == "xmlns") {
        scope[""] = v;
      } else if (starts_with(name, "xmlns:")) {
        scope[name.substr(6)] = v;
      } else {
        raw.emplace_back(name, v);
      }
    }
    scopes_.push_back(scope);
    for (const auto& [p, uri] : scope) {
      if (uri.empty()) continue;
      m_.start_prefix_mapping(p.empty() ? std::nullopt : std::optional<std::string>(p), uri);
    }
    std::string tag = element_name(n.name());
    // attributes: prefixed with the standard prefix when in a known namespace, and by local name
    Attrs attrs;
    for (const auto& [qn, v] : raw) {
      std::string local = qn, ns;
      if (auto c = qn.find(':'); c != std::string::npos) {
        ns = lookup(qn.substr(0, c)).value_or("");
        local = qn.substr(c + 1);
      }
      auto pre = m_.match_namespace(lower(ns));
      std::string key = (!ns.empty() && pre && !pre->empty()) ? *pre + ":" + local : local;
      attr_set(attrs, lower(key), v);
    }
    for (const auto& [qn, v] : raw) {
      std::string local = qn;
      if (auto c = qn.find(':'); c != std::string::npos) local = qn.substr(c + 1);
      attr_set(attrs, lower(local), v);
    }
    m_.unknown_starttag(tag, attrs);
    for (pugi::xml_node ch : n.children()) {
      switch (ch.type()) {
        case pugi::node_element:
          emit(ch);
          break;
        case pugi::node_pcdata: {
          std::string v, err;
          expand(ch.value(), v, err, false);
          m_.handle_data(v);
          break;
        }
        case pugi::node_cdata:
          m_.handle_data(ch.value());
          break;
        default:
          break;
      }
    }
    m_.unknown_endtag(tag);
    scopes_.pop_back();
  }

  std::string element_name(const std::string& qn) {
    std::string local = qn, ns;
    if (auto c = qn.find(':'); c != std::string::npos) {
      ns = lookup(qn.substr(0, c)).value_or("");
      local = qn.substr(c + 1);
    } else {
      ns = lookup("").value_or("");
    }
    std::string lowerns = lower(ns);
    if (lowerns.find("backend.userland.com/rss") != std::string::npos) {
      ns = "http://backend.userland.com/rss";
      lowerns = ns;
    }
    local = lower(local);
    auto prefix = m_.match_namespace(lowerns);
    if (prefix && !prefix->empty()) return lower(*prefix) + ":" + local;
    if (!prefix && !ns.empty()) {
      for (const auto& [name, value] : m_.namespaces_in_use()) {
        if (!name.empty() && value == ns) return lower(name + ":" + local);
      }
    }
    return local;
  }
};

}  // namespace

std::string run_strict_reader(FeedMachine& m, const std::map<std::string, std::string>& entities,
                              EntityBudget& budget, const std::string& text) {
  StrictReader reader(m, entities, budget);
  return reader.run(text);
}

}  // namespace baotin::feed_internal
