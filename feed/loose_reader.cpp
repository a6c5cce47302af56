#include "feed/machine.h"

namespace baotin::feed_internal {

// ---------------------------------------------------------------------------------------------
// Loose reader: sgmllib-style tokenizer (feedparser's _LooseFeedParser) for documents that are
// not well-formed. Flat event stream: every start tag and end tag is reported as written.
// ---------------------------------------------------------------------------------------------

namespace {

class LooseReader {
 public:
  explicit LooseReader(FeedMachine& m) : m_(m) {}

  void run(std::string data) {
    data = preprocess(std::move(data));
    const std::string& s = data;
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
      size_t j = s.find_first_of("&<", i);
      if (j == std::string::npos) j = n;
      if (i < j) m_.handle_data(s.substr(i, j - i));
      i = j;
      if (i == n) break;
      if (s[i] == '<') {
        if (i + 1 < n && (std::isalpha(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '>')) {
          long k = parse_starttag(s, i);
          if (k < 0) break;
          i = static_cast<size_t>(k);
          continue;
        }
        if (s.compare(i, 2, "</") == 0) {
          long k = parse_endtag(s, i);
          if (k < 0) break;
          i = static_cast<size_t>(k);
          continue;
        }
        if (s.compare(i, 4, "<!--") == 0) {
          size_t e = s.find("-->", i + 4);
          if (e == std::string::npos) break;
          i = e + 3;
          continue;
        }
        if (s.compare(i, 2, "<?") == 0) {
          size_t e = s.find('>', i + 2);
          if (e == std::string::npos) break;
          i = e + 1;
          continue;
        }
        if (s.compare(i, 2, "<!") == 0) {
          if (s.compare(i, 9, "<![CDATA[") == 0) {
            size_t e = s.find("]]>", i);
            if (e == std::string::npos) {
              i = n;  // unterminated CDATA: the rest is dropped
              continue;
            }
            m_.handle_data(xml_escape(s.substr(i + 9, e - i - 9), false), false);
            i = e + 3;
            continue;
          }
          size_t e = s.find('>', i);
          if (e == std::string::npos) break;
          i = e + 1;
          continue;
        }
      } else {  // '&'
        // charref: &#123; or &#x1F;
        if (i + 2 < n && s[i + 1] == '#') {
          size_t k = i + 2;
          bool hex = k < n && (s[k] == 'x' || s[k] == 'X');
          size_t d0 = hex ? k + 1 : k;
          size_t e = d0;
          while (e < n && (hex ? std::isxdigit(static_cast<unsigned char>(s[e])) : std::isdigit(static_cast<unsigned char>(s[e])))) ++e;
          if (e > d0 && e < n && s[e] == ';') {
            m_.handle_charref(s.substr(i + 2, e - i - 2));
            i = e + 1;
            continue;
          }
        }
        // entityref: &name followed by a non-alphanumeric character
        if (i + 1 < n && std::isalpha(static_cast<unsigned char>(s[i + 1]))) {
          size_t e = i + 2;
          while (e < n && (std::isalnum(static_cast<unsigned char>(s[e])) || s[e] == '-' || s[e] == '.')) ++e;
          if (e < n) {
            m_.handle_entityref(s.substr(i + 1, e - i - 1));
            i = s[e] == ';' ? e + 1 : e;
            continue;
          }
        }
      }
      // incomplete: '&' or '<' that starts nothing
      size_t j2 = incomplete_end(s, i);
      if (j2 == i) {
        m_.handle_data(s.substr(i, 1));
        ++i;
        continue;
      }
      if (j2 == n) break;
      m_.handle_data(s.substr(i, j2 - i));
      i = j2;
    }
    if (i < n) m_.handle_data(s.substr(i));
  }

 private:
  FeedMachine& m_;
  std::string lasttag_;

  static bool no_end_tag(const std::string& t) {
    static const std::set<std::string> s = {"area", "base", "basefont", "br", "col", "command", "embed",
                                            "frame", "hr", "img", "input", "isindex", "keygen", "link",
                                            "meta", "param", "source", "track", "wbr"};
    return s.count(t) > 0;
  }

  static std::string preprocess(std::string data) {
    // '<!' not starting DOCTYPE, a comment or a marked section is text
    std::string out;
    out.reserve(data.size() + 64);
    for (size_t i = 0; i < data.size(); ++i) {
      if (data[i] == '<' && i + 1 < data.size() && data[i + 1] == '!' && data.compare(i + 2, 7, "DOCTYPE") != 0 &&
          data.compare(i + 2, 2, "--") != 0 && data.compare(i + 2, 1, "[") != 0) {
        out += "&lt;";
        continue;
      }
      out += data[i];
    }
    // <tag/> -> <tag></tag> (or <tag /> for void elements)
    std::string o2;
    o2.reserve(out.size() + 64);
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i] == '<') {
        size_t j = i + 1;
        while (j < out.size() && out[j] != '<' && out[j] != '>' && !std::isspace(static_cast<unsigned char>(out[j])) &&
               out[j] != '/')
          ++j;
        // [^<>\s]+? then \s* then "/>"; the lazy name may itself contain '/', keep it simple
        size_t k = j;
        while (k < out.size() && std::isspace(static_cast<unsigned char>(out[k]))) ++k;
        if (j > i + 1 && k + 1 < out.size() && out[k] == '/' && out[k + 1] == '>') {
          std::string tag = out.substr(i + 1, j - i - 1);
          if (no_end_tag(tag)) o2 += "<" + tag + " />";
          else o2 += "<" + tag + "></" + tag + ">";
          i = k + 1;
          continue;
        }
      }
      o2 += out[i];
    }
    replace_all(o2, "&#39;", "'");
    replace_all(o2, "&#34;", "\"");
    return o2;
  }

  static size_t incomplete_end(const std::string& s, size_t i) {
    // &([a-zA-Z][a-zA-Z0-9]*|#[0-9]*)?|<([a-zA-Z][^<>]*|/([a-zA-Z][^<>]*)?|![^<>]*)?
    size_t n = s.size(), j = i + 1;
    if (s[i] == '&') {
      if (j < n && std::isalpha(static_cast<unsigned char>(s[j]))) {
        ++j;
        while (j < n && std::isalnum(static_cast<unsigned char>(s[j]))) ++j;
      } else if (j < n && s[j] == '#') {
        ++j;
        while (j < n && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      }
      return j;
    }
    if (j < n && std::isalpha(static_cast<unsigned char>(s[j]))) {
      while (j < n && s[j] != '<' && s[j] != '>') ++j;
    } else if (j < n && s[j] == '/') {
      ++j;
      if (j < n && std::isalpha(static_cast<unsigned char>(s[j])))
        while (j < n && s[j] != '<' && s[j] != '>') ++j;
    } else if (j < n && s[j] == '!') {
      ++j;
      while (j < n && s[j] != '<' && s[j] != '>') ++j;
    }
    return j;
  }

  // feedparser's endbracket: scan to the next '<' or '>' that is not inside a quoted value.
  static long end_bracket(const std::string& s, size_t from) {
    size_t n = s.size(), k = from;
    while (k < n) {
      char c = s[k];
      if (c == '<' || c == '>') return static_cast<long>(k);
      if (c == '"' || c == '\'') {
        size_t q = s.find(c, k + 1);
        if (q != std::string::npos) {
          size_t a = q + 1;
          // the quoted string only counts when followed by '>', '/', whitespace or name=
          bool follow = a >= n ? false
                        : (s[a] == '>' || s[a] == '/' || std::isspace(static_cast<unsigned char>(s[a])) ||
                           is_word_char(static_cast<unsigned char>(s[a])));
          if (follow) {
            k = a;
            continue;
          }
        }
      }
      ++k;
    }
    return -1;
  }

  long parse_starttag(const std::string& s, size_t i) {
    long jb = end_bracket(s, i + 1);
    if (jb < 0) return -1;
    size_t j = static_cast<size_t>(jb);
    Attrs attrs;
    std::string tag;
    size_t k;
    if (s.compare(i, 2, "<>") == 0) {
      k = j;
      tag = lasttag_;
    } else {
      k = i + 1;
      while (k < s.size() && (std::isalnum(static_cast<unsigned char>(s[k])) || s[k] == '-' || s[k] == '_' ||
                              s[k] == '.' || s[k] == ':'))
        ++k;
      tag = lower(s.substr(i + 1, k - i - 1));
      lasttag_ = tag;
    }
    while (k < j) {
      size_t p = k;
      while (p < j && std::isspace(static_cast<unsigned char>(s[p]))) ++p;
      if (p >= j || !(std::isalpha(static_cast<unsigned char>(s[p])) || s[p] == '_')) break;
      size_t ne = p + 1;
      while (ne < j && (std::isalnum(static_cast<unsigned char>(s[ne])) || s[ne] == '-' || s[ne] == ':' ||
                        s[ne] == '.' || s[ne] == '_'))
        ++ne;
      std::string name = s.substr(p, ne - p);
      size_t q = ne;
      if (q < j && s[q] == '$') ++q;
      size_t r = q;
      while (r < j && std::isspace(static_cast<unsigned char>(s[r]))) ++r;
      std::string value;
      if (r < j && s[r] == '=') {
        ++r;
        while (r < j && std::isspace(static_cast<unsigned char>(s[r]))) ++r;
        if (r < j && (s[r] == '"' || s[r] == '\'')) {
          size_t close = s.find(s[r], r + 1);
          if (close == std::string::npos || close > j) {
            // quoted value running past the bracket: take what is there
            value = s.substr(r + 1, j - r - 1);
            r = j;
          } else {
            value = s.substr(r + 1, close - r - 1);
            r = close + 1;
          }
        } else {
          size_t v0 = r;
          static const std::string ok = "][-./,:;+*%?!&$()_#=~'\"@";
          while (r < j && (std::isalnum(static_cast<unsigned char>(s[r])) || ok.find(s[r]) != std::string::npos)) ++r;
          value = s.substr(v0, r - v0);
        }
        k = r;
      } else {
        value = name;
        k = q;
      }
      attrs.emplace_back(lower(name), value);
    }
    if (j < s.size() && s[j] == '>') ++j;
    m_.unknown_starttag(tag, std::move(attrs));
    if (j > i + 2 && s.compare(j - 2, 2, "/>") == 0) m_.unknown_endtag(lasttag_);
    return static_cast<long>(j);
  }

  long parse_endtag(const std::string& s, size_t i) {
    long jb = end_bracket(s, i + 1);
    if (jb < 0) return -1;
    size_t j = static_cast<size_t>(jb);
    std::string tag = lower(std::string(trim(std::string_view(s).substr(i + 2, j - i - 2))));
    if (j < s.size() && s[j] == '>') ++j;
    m_.unknown_endtag(std::move(tag));
    return static_cast<long>(j);
  }
};

}  // namespace

void run_loose_reader(FeedMachine& m, std::string data) {
  LooseReader reader(m);
  reader.run(std::move(data));
}

}  // namespace baotin::feed_internal
