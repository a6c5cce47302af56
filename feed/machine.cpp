#include "feed/machine.h"

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/charset.h"
#include "core/limits.h"
#include "core/text.h"

namespace baotin::feed_internal {

// HTML 4 named entities (Python's html.entities.name2codepoint; feedparser's loose parser and
// looks_like_html use exactly this set).
const std::unordered_map<std::string_view, char32_t>& html4_entities() {
  static const std::unordered_map<std::string_view, char32_t> m = {
      {"AElig", 198}, {"Aacute", 193}, {"Acirc", 194}, {"Agrave", 192}, {"Alpha", 913}, {"Aring", 197},
      {"Atilde", 195}, {"Auml", 196}, {"Beta", 914}, {"Ccedil", 199}, {"Chi", 935}, {"Dagger", 8225},
      {"Delta", 916}, {"ETH", 208}, {"Eacute", 201}, {"Ecirc", 202}, {"Egrave", 200}, {"Epsilon", 917},
      {"Eta", 919}, {"Euml", 203}, {"Gamma", 915}, {"Iacute", 205}, {"Icirc", 206}, {"Igrave", 204}, {"Iota", 921},
      {"Iuml", 207}, {"Kappa", 922}, {"Lambda", 923}, {"Mu", 924}, {"Ntilde", 209}, {"Nu", 925}, {"OElig", 338},
      {"Oacute", 211}, {"Ocirc", 212}, {"Ograve", 210}, {"Omega", 937}, {"Omicron", 927}, {"Oslash", 216},
      {"Otilde", 213}, {"Ouml", 214}, {"Phi", 934}, {"Pi", 928}, {"Prime", 8243}, {"Psi", 936}, {"Rho", 929},
      {"Scaron", 352}, {"Sigma", 931}, {"THORN", 222}, {"Tau", 932}, {"Theta", 920}, {"Uacute", 218},
      {"Ucirc", 219}, {"Ugrave", 217}, {"Upsilon", 933}, {"Uuml", 220}, {"Xi", 926}, {"Yacute", 221},
      {"Yuml", 376}, {"Zeta", 918}, {"aacute", 225}, {"acirc", 226}, {"acute", 180}, {"aelig", 230},
      {"agrave", 224}, {"alefsym", 8501}, {"alpha", 945}, {"amp", 38}, {"and", 8743}, {"ang", 8736},
      {"aring", 229}, {"asymp", 8776}, {"atilde", 227}, {"auml", 228}, {"bdquo", 8222}, {"beta", 946},
      {"brvbar", 166}, {"bull", 8226}, {"cap", 8745}, {"ccedil", 231}, {"cedil", 184}, {"cent", 162}, {"chi", 967},
      {"circ", 710}, {"clubs", 9827}, {"cong", 8773}, {"copy", 169}, {"crarr", 8629}, {"cup", 8746},
      {"curren", 164}, {"dArr", 8659}, {"dagger", 8224}, {"darr", 8595}, {"deg", 176}, {"delta", 948},
      {"diams", 9830}, {"divide", 247}, {"eacute", 233}, {"ecirc", 234}, {"egrave", 232}, {"empty", 8709},
      {"emsp", 8195}, {"ensp", 8194}, {"epsilon", 949}, {"equiv", 8801}, {"eta", 951}, {"eth", 240}, {"euml", 235},
      {"euro", 8364}, {"exist", 8707}, {"fnof", 402}, {"forall", 8704}, {"frac12", 189}, {"frac14", 188},
      {"frac34", 190}, {"frasl", 8260}, {"gamma", 947}, {"ge", 8805}, {"gt", 62}, {"hArr", 8660}, {"harr", 8596},
      {"hearts", 9829}, {"hellip", 8230}, {"iacute", 237}, {"icirc", 238}, {"iexcl", 161}, {"igrave", 236},
      {"image", 8465}, {"infin", 8734}, {"int", 8747}, {"iota", 953}, {"iquest", 191}, {"isin", 8712},
      {"iuml", 239}, {"kappa", 954}, {"lArr", 8656}, {"lambda", 955}, {"lang", 9001}, {"laquo", 171},
      {"larr", 8592}, {"lceil", 8968}, {"ldquo", 8220}, {"le", 8804}, {"lfloor", 8970}, {"lowast", 8727},
      {"loz", 9674}, {"lrm", 8206}, {"lsaquo", 8249}, {"lsquo", 8216}, {"lt", 60}, {"macr", 175}, {"mdash", 8212},
      {"micro", 181}, {"middot", 183}, {"minus", 8722}, {"mu", 956}, {"nabla", 8711}, {"nbsp", 160},
      {"ndash", 8211}, {"ne", 8800}, {"ni", 8715}, {"not", 172}, {"notin", 8713}, {"nsub", 8836}, {"ntilde", 241},
      {"nu", 957}, {"oacute", 243}, {"ocirc", 244}, {"oelig", 339}, {"ograve", 242}, {"oline", 8254},
      {"omega", 969}, {"omicron", 959}, {"oplus", 8853}, {"or", 8744}, {"ordf", 170}, {"ordm", 186},
      {"oslash", 248}, {"otilde", 245}, {"otimes", 8855}, {"ouml", 246}, {"para", 182}, {"part", 8706},
      {"permil", 8240}, {"perp", 8869}, {"phi", 966}, {"pi", 960}, {"piv", 982}, {"plusmn", 177}, {"pound", 163},
      {"prime", 8242}, {"prod", 8719}, {"prop", 8733}, {"psi", 968}, {"quot", 34}, {"rArr", 8658}, {"radic", 8730},
      {"rang", 9002}, {"raquo", 187}, {"rarr", 8594}, {"rceil", 8969}, {"rdquo", 8221}, {"real", 8476},
      {"reg", 174}, {"rfloor", 8971}, {"rho", 961}, {"rlm", 8207}, {"rsaquo", 8250}, {"rsquo", 8217},
      {"sbquo", 8218}, {"scaron", 353}, {"sdot", 8901}, {"sect", 167}, {"shy", 173}, {"sigma", 963},
      {"sigmaf", 962}, {"sim", 8764}, {"spades", 9824}, {"sub", 8834}, {"sube", 8838}, {"sum", 8721},
      {"sup", 8835}, {"sup1", 185}, {"sup2", 178}, {"sup3", 179}, {"supe", 8839}, {"szlig", 223}, {"tau", 964},
      {"there4", 8756}, {"theta", 952}, {"thetasym", 977}, {"thinsp", 8201}, {"thorn", 254}, {"tilde", 732},
      {"times", 215}, {"trade", 8482}, {"uArr", 8657}, {"uacute", 250}, {"uarr", 8593}, {"ucirc", 251},
      {"ugrave", 249}, {"uml", 168}, {"upsih", 978}, {"upsilon", 965}, {"uuml", 252}, {"weierp", 8472},
      {"xi", 958}, {"yacute", 253}, {"yen", 165}, {"yuml", 255}, {"zeta", 950}, {"zwj", 8205}, {"zwnj", 8204},
  };
  return m;
}

// feedparser's _HTMLSanitizer.acceptable_elements (used by looks_like_html).
const std::unordered_set<std::string_view>& acceptable_html_elements() {
  static const std::unordered_set<std::string_view> s = {
      "a", "abbr", "acronym", "address", "area", "article", "aside", "audio", "b", "big", "blockquote", "br",
      "button", "canvas", "caption", "center", "cite", "code", "col", "colgroup", "command", "datagrid",
      "datalist", "dd", "del", "details", "dfn", "dialog", "dir", "div", "dl", "dt", "em", "event-source",
      "fieldset", "figcaption", "figure", "font", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
      "hr", "i", "img", "input", "ins", "kbd", "keygen", "label", "legend", "li", "m", "map", "menu", "meter",
      "multicol", "nav", "nextid", "noscript", "ol", "optgroup", "option", "output", "p", "pre", "progress", "q",
      "s", "samp", "section", "select", "small", "sound", "source", "spacer", "span", "strike", "strong", "sub",
      "sup", "table", "tbody", "td", "textarea", "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var",
      "video",
  };
  return s;
}

namespace {

// Name comparison for the dispatch chains: inlined (length first, then the bytes).
[[gnu::always_inline]] inline bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

// windows-1252 meanings of U+0080..U+009F (feedparser maps these C1 controls in every value).
char32_t cp1252_fix(char32_t c) {
  static const char32_t t[32] = {0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,   0x017D, 0x8F,
                                 0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};
  if (c >= 0x80 && c <= 0x9F) return t[c - 0x80];
  return c;
}

// Whether the Latin-1 bytes of `s` (its code points, all below U+0100) can be valid UTF-8, decided code point by code
// point (the sequences is_valid_utf8 accepts), so that real Latin-1 text is turned down at its first accented letter
// before anything is built.
bool latin1_bytes_may_be_utf8(std::string_view s) {
  int need = 0;  // continuation bytes still expected
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the next one
  for (size_t i = 0; i < s.size();) {
    const char32_t b = next_cp(s, i);
    if (need > 0) {
      if (b < lo || b > hi) return false;
      lo = 0x80;
      hi = 0xBF;
      --need;
    } else if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      need = 2;
      if (b == 0xE0) lo = 0xA0;  // overlong
      if (b == 0xED) hi = 0x9F;  // surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3;
      if (b == 0xF0) lo = 0x90;  // overlong
      if (b == 0xF4) hi = 0x8F;  // past U+10FFFF
    } else if (b >= 0x80) {
      return false;
    }
  }
  return need == 0;
}

}  // namespace

// feedparser post-processing of every value: (1) text that is entirely Latin-1 and whose Latin-1
// bytes form valid multi-byte UTF-8 is re-decoded as UTF-8 (mojibake repair); (2) C1 controls ->
// windows-1252 characters.
std::string fix_value(std::string s) {
  // One byte scan decides both steps for the usual text: in valid UTF-8 (which the readers produce) a code
  // point above U+00FF starts with a byte >= 0xC4, and a C1 control is the pair C2 80..C2 9F.
  bool all_ascii = true, latin_ok = true;
  size_t i = 0;
#if defined(__SSE2__)
  // sixteen bytes at a time: a byte >= 0x80, then a byte >= 0xC4 (0x44 and up once the top bit is flipped, signed)
  const __m128i top = _mm_set1_epi8(static_cast<char>(0x80)), below_c4 = _mm_set1_epi8(0x43);
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    if (_mm_movemask_epi8(x) == 0) continue;
    all_ascii = false;
    if (_mm_movemask_epi8(_mm_cmpgt_epi8(_mm_xor_si128(x, top), below_c4)) != 0) {
      latin_ok = false;
      break;
    }
  }
#endif
  for (; latin_ok && i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) continue;
    all_ascii = false;
    if (c >= 0xC4) latin_ok = false;
  }
  if (all_ascii) return s;
  auto has_c1 = [](const std::string& t) {
    for (size_t i = t.find('\xC2'); i != std::string::npos && i + 1 < t.size(); i = t.find('\xC2', i + 1)) {
      unsigned char n = static_cast<unsigned char>(t[i + 1]);
      if (n >= 0x80 && n <= 0x9F) return true;
    }
    return false;
  };
  if (latin_ok && latin1_bytes_may_be_utf8(s)) {
    std::string latin;
    latin.reserve(s.size());
    for (size_t i = 0; i < s.size();) latin += static_cast<char>(next_cp(s, i));
    if (is_valid_utf8(latin)) s = std::move(latin);
  }
  if (!has_c1(s)) return s;
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) put_utf8(out, cp1252_fix(next_cp(s, i)));
  return out;
}

const std::map<std::string, std::string>& FeedMachine::known_namespaces() {
  static const std::map<std::string, std::string> m = [] {
    std::map<std::string, std::string> r;
    const char* pairs[][2] = {
        {"", ""},
        {"http://backend.userland.com/rss", ""},
        {"http://blogs.law.harvard.edu/tech/rss", ""},
        {"http://purl.org/rss/1.0/", ""},
        {"http://my.netscape.com/rdf/simple/0.9/", ""},
        {"http://example.com/newformat#", ""},
        {"http://example.com/necho", ""},
        {"http://purl.org/echo/", ""},
        {"uri/of/echo/namespace#", ""},
        {"http://purl.org/pie/", ""},
        {"http://purl.org/atom/ns#", ""},
        {"http://www.w3.org/2005/Atom", ""},
        {"http://purl.org/rss/1.0/modules/rss091#", ""},
        {"http://webns.net/mvcb/", "admin"},
        {"http://purl.org/rss/1.0/modules/aggregation/", "ag"},
        {"http://purl.org/rss/1.0/modules/annotate/", "annotate"},
        {"http://media.tangent.org/rss/1.0/", "audio"},
        {"http://backend.userland.com/blogChannelModule", "blogChannel"},
        {"http://creativecommons.org/ns#license", "cc"},
        {"http://web.resource.org/cc/", "cc"},
        {"http://cyber.law.harvard.edu/rss/creativeCommonsRssModule.html", "creativeCommons"},
        {"http://backend.userland.com/creativeCommonsRssModule", "creativeCommons"},
        {"http://purl.org/rss/1.0/modules/company", "co"},
        {"http://purl.org/rss/1.0/modules/content/", "content"},
        {"http://my.theinfo.org/changed/1.0/rss/", "cp"},
        {"http://purl.org/dc/elements/1.1/", "dc"},
        {"http://purl.org/dc/terms/", "dcterms"},
        {"http://purl.org/rss/1.0/modules/email/", "email"},
        {"http://purl.org/rss/1.0/modules/event/", "ev"},
        {"http://rssnamespace.org/feedburner/ext/1.0", "feedburner"},
        {"http://freshmeat.net/rss/fm/", "fm"},
        {"http://xmlns.com/foaf/0.1/", "foaf"},
        {"http://www.w3.org/2003/01/geo/wgs84_pos#", "geo"},
        {"http://www.georss.org/georss", "georss"},
        {"http://www.opengis.net/gml", "gml"},
        {"http://postneo.com/icbm/", "icbm"},
        {"http://purl.org/rss/1.0/modules/image/", "image"},
        {"http://www.itunes.com/DTDs/PodCast-1.0.dtd", "itunes"},
        {"http://example.com/DTDs/PodCast-1.0.dtd", "itunes"},
        {"http://purl.org/rss/1.0/modules/link/", "l"},
        {"http://search.yahoo.com/mrss", "media"},
        {"http://search.yahoo.com/mrss/", "media"},
        {"http://madskills.com/public/xml/rss/module/pingback/", "pingback"},
        {"http://prismstandard.org/namespaces/1.2/basic/", "prism"},
        {"http://www.w3.org/1999/02/22-rdf-syntax-ns#", "rdf"},
        {"http://www.w3.org/2000/01/rdf-schema#", "rdfs"},
        {"http://purl.org/rss/1.0/modules/reference/", "ref"},
        {"http://purl.org/rss/1.0/modules/richequiv/", "reqv"},
        {"http://purl.org/rss/1.0/modules/search/", "search"},
        {"http://purl.org/rss/1.0/modules/slash/", "slash"},
        {"http://schemas.xmlsoap.org/soap/envelope/", "soap"},
        {"http://purl.org/rss/1.0/modules/servicestatus/", "ss"},
        {"http://hacks.benhammersley.com/rss/streaming/", "str"},
        {"http://purl.org/rss/1.0/modules/subscription/", "sub"},
        {"http://purl.org/rss/1.0/modules/syndication/", "sy"},
        {"http://schemas.pocketsoap.com/rss/myDescModule/", "szf"},
        {"http://purl.org/rss/1.0/modules/taxonomy/", "taxo"},
        {"http://purl.org/rss/1.0/modules/threading/", "thr"},
        {"http://purl.org/rss/1.0/modules/textinput/", "ti"},
        {"http://madskills.com/public/xml/rss/module/trackback/", "trackback"},
        {"http://wellformedweb.org/commentAPI/", "wfw"},
        {"http://purl.org/rss/1.0/modules/wiki/", "wiki"},
        {"http://www.w3.org/1999/xhtml", "xhtml"},
        {"http://www.w3.org/1999/xlink", "xlink"},
        {"http://www.w3.org/XML/1998/namespace", "xml"},
        {"http://podlove.org/simple-chapters", "psc"},
    };
    for (auto& p : pairs) r[lower(p[0])] = p[1];
    return r;
  }();
  return m;
}

bool FeedMachine::looks_like_html(const std::string& s) {
  // must have a close tag or an entity reference to qualify
  bool has_close = false, has_ref = false;
  for (size_t i = 0; i + 1 < s.size() && !(has_close && has_ref); ++i) {
    if (s[i] == '<' && s[i + 1] == '/') {
      size_t j = i + 2;
      while (j < s.size() && is_word_char(static_cast<unsigned char>(s[j]))) ++j;
      if (j > i + 2 && j < s.size() && s[j] == '>') has_close = true;
    } else if (s[i] == '&') {
      size_t j = i + 1;
      if (j < s.size() && s[j] == '#') ++j;
      size_t k = j;
      while (k < s.size() && is_word_char(static_cast<unsigned char>(s[k]))) ++k;
      if (k > j && k < s.size() && s[k] == ';') has_ref = true;
    }
  }
  if (!has_close && !has_ref) return false;
  const auto& ok = acceptable_html_elements();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '<') continue;
    size_t j = i + 1;
    if (j < s.size() && s[j] == '/') ++j;
    size_t k = j;
    while (k < s.size() && is_word_char(static_cast<unsigned char>(s[k]))) ++k;
    if (k > j && !ok.count(lower(s.substr(j, k - j)))) return false;
  }
  const auto& ents = html4_entities();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') continue;
    size_t k = i + 1;
    while (k < s.size() && is_word_char(static_cast<unsigned char>(s[k]))) ++k;
    if (k > i + 1 && k < s.size() && s[k] == ';' && !ents.count(std::string_view(s).substr(i + 1, k - i - 1)))
      return false;
  }
  return true;
}

std::string FeedMachine::decode_entities(std::string d) const {
  if (d.find('&') == std::string::npos) return d;
  static const std::pair<const char*, const char*> first[] = {
      {"&#60;", "&lt;"},   {"&#x3c;", "&lt;"},  {"&#x3C;", "&lt;"},   {"&#62;", "&gt;"},
      {"&#x3e;", "&gt;"},  {"&#x3E;", "&gt;"},  {"&#38;", "&amp;"},   {"&#x26;", "&amp;"},
      {"&#34;", "&quot;"}, {"&#x22;", "&quot;"}, {"&#39;", "&apos;"}, {"&#x27;", "&apos;"}};
  for (auto& p : first) replace_all(d, p.first, p.second);
  if (!ctype_endswith_xml()) {
    static const std::pair<const char*, const char*> second[] = {{"&lt;", "<"},    {"&gt;", ">"},   {"&amp;", "&"},
                                                                 {"&quot;", "\""}, {"&apos;", "'"}, {"&#x2f;", "/"},
                                                                 {"&#x2F;", "/"}};
    for (auto& p : second) replace_all(d, p.first, p.second);
  }
  return d;
}

void FeedMachine::handle_charref(std::string ref) {
  if (stack_.empty()) return;
  ref = lower(ref);
  static const std::set<std::string> keep = {"34", "38", "39", "60", "62", "x22", "x26", "x27", "x3c", "x3e"};
  if (keep.count(ref)) {
    stack_.back().pieces.push_back("&#" + ref + ";");
    return;
  }
  char32_t c = 0;
  if (ref.empty()) return;
  if (ref[0] == 'x') {
    if (ref.size() > 9) return;
    c = static_cast<char32_t>(std::strtoul(ref.c_str() + 1, nullptr, 16));
  } else {
    if (ref.size() > 8) return;
    c = static_cast<char32_t>(std::strtoul(ref.c_str(), nullptr, 10));
  }
  if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return;
  std::string t;
  put_utf8(t, c);
  stack_.back().pieces.push_back(t);
}

void FeedMachine::handle_entityref(const std::string& ref) {
  if (stack_.empty()) return;
  std::string text;
  if (ref == "lt"sv || ref == "gt"sv || ref == "quot"sv || ref == "amp"sv || ref == "apos"sv) {
    text = "&" + ref + ";";
  } else if (auto it = entities_.find(ref); it != entities_.end()) {
    if (!budget_.take(it->second.size())) return;
    text = it->second;
    if (starts_with(text, "&#") && ends_with(text, ";")) {
      text = "&" + text + ";";  // feedparser re-enters handle_entityref with the whole reference
    }
  } else if (auto h = html4_entities().find(ref); h != html4_entities().end()) {
    put_utf8(text, h->second);
  } else {
    text = "&" + ref + ";";
  }
  stack_.back().pieces.push_back(text);
}

namespace {

std::string b64_decode_lenient(const std::string& in, bool& ok) {
  static const std::string alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string clean;
  size_t pad = 0;
  for (char c : in) {
    if (c == '=') { ++pad; continue; }
    if (alpha.find(c) != std::string::npos) {
      if (pad) { ok = false; return {}; }
      clean += c;
    }
  }
  if (clean.size() % 4 == 1) { ok = false; return {}; }
  if (clean.size() % 4 != 0 && pad < (4 - clean.size() % 4)) { ok = false; return {}; }
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : clean) {
    buf = (buf << 6) | static_cast<uint32_t>(alpha.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xFF);
    }
  }
  ok = true;
  return out;
}

// "&name;" -> "&name" for every [A-Za-z0-9_]+ name (feedparser's re.sub(r'&([A-Za-z0-9_]+);', r'&\g<1>', ...)).
std::string drop_entity_semicolons(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    out.push_back(s[i]);
    if (s[i] != '&') continue;
    size_t k = i + 1;
    while (k < s.size() && (std::isalnum(static_cast<unsigned char>(s[k])) || s[k] == '_') &&
           static_cast<unsigned char>(s[k]) < 0x80)
      ++k;
    if (k > i + 1 && k < s.size() && s[k] == ';') {
      out.append(s, i + 1, k - i - 1);
      i = k;
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> FeedMachine::pop(std::string_view element, bool strip, bool keep, bool* nonempty) {
  if (stack_.empty() || stack_.back().element != element) return std::nullopt;
  StackEntry& e = stack_.pop();
  auto& pieces = e.pieces;
  if (version == "atom10"sv && (cp_type_ ? std::string_view(*cp_type_) : "text"sv) == "application/xhtml+xml"sv) {
    // remove the enclosing <div> when all the remaining content is nested under it
    auto blank = [](const std::string& p) { return py_strip(p).empty(); };
    while (pieces.size() > 1 && blank(pieces.back())) pieces.pop_back();
    while (pieces.size() > 1 && blank(pieces.front())) pieces.erase(pieces.begin());
    if (!pieces.empty() && (pieces.front() == "<div>"sv || starts_with(pieces.front(), "<div ")) &&
        pieces.back() == "</div>"sv) {
      int depth = 0;
      bool broke = false;
      for (size_t i = 0; i + 1 < pieces.size(); ++i) {
        const std::string& p = pieces[i];
        if (starts_with(p, "</")) {
          --depth;
          if (depth == 0) { broke = true; break; }
        } else if (starts_with(p, "<") && !ends_with(p, "/>")) {
          ++depth;
        }
      }
      if (!broke) pieces = std::vector<std::string>(pieces.begin() + 1, pieces.end() - 1);
    }
  }
  std::string output;
  if (pieces.size() == 1) {
    output = std::move(pieces[0]);
  } else {
    size_t total = 0;
    for (const auto& p : pieces) total += p.size();
    output.reserve(total);
    for (const auto& p : pieces) output += p;
  }
  if (strip) {
    // py_strip without a copy when the ends are ASCII (the usual case)
    auto ascii_space = [](unsigned char c) { return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20); };
    size_t b = 0, e2 = output.size();
    while (b < e2 && ascii_space(static_cast<unsigned char>(output[b]))) ++b;
    while (e2 > b && ascii_space(static_cast<unsigned char>(output[e2 - 1]))) --e2;
    if ((b < e2 && static_cast<unsigned char>(output[b]) >= 0x80) ||
        (e2 > b && static_cast<unsigned char>(output[e2 - 1]) >= 0x80)) {
      output = py_strip(output);
    } else {
      output.erase(e2);
      output.erase(0, b);
    }
  }
  if (!e.expecting_text) {
    if (nonempty) *nonempty = !output.empty();
    return output;
  }

  if (has_contentparams_ && cp_base64_) {
    bool ok = false;
    std::string dec = b64_decode_lenient(output, ok);
    if (ok && is_valid_utf8(dec)) output = dec;
  }
  auto relative = [](std::string_view e) {
    switch (e.size()) {
      case 2: return e == "id"sv;
      case 3: return e == "url"sv;
      case 4: return e == "docs"sv || e == "href"sv || e == "icon"sv || e == "link"sv || e == "logo"sv;
      case 8: return e == "comments"sv;
      case 11: return e == "wfw_comment"sv;
      case 14: return e == "wfw_commentrss"sv;
      default: return false;
    }
  };
  if (!output.empty() && relative(element)) {
    if (element != "id"sv || guidislink_) output = resolve_uri(output);
  }
  if (loose_ && !(has_contentparams_ && cp_base64_)) output = decode_entities(std::move(output));
  if (cp_type_ && *cp_type_ == "text/plain"sv && !starts_with(version, "atom")) {
    if (looks_like_html(output)) cp_type_ = "text/html";
  }
  cp_base64_ = false;
  output = fix_value(std::move(output));
  // (below, only a link is changed further, and never to or from empty)
  if (nonempty) *nonempty = !output.empty();

  if (element == "category"sv || element == "tags"sv || element == "itunes_keywords"sv) return output;
  if (element == "title"sv && -1 < title_depth_ && title_depth_ <= depth_) return output;

  if (inentry_ && !insource_ && !entries.empty()) {
    Ctx& ent = entries.back();
    if (element == "content"sv) {
      ent.content.push_back({ctype(), keep ? output : std::move(output)});
    } else if (element == "link"sv) {
      if (!inimage_) {
        replace_all(output, "&amp;", "&");
        if (output.find('&') != std::string::npos) output = drop_entity_semicolons(output);
        ent.kv["link"] = output;
        if (!output.empty() && !ent.links.empty())
          attr_set(ent.links.back(), "href", keep ? output : std::move(output));
      }
    } else {
      const std::string_view el = element == "description"sv ? "summary"sv : element;
      auto [it, added] = ent.depth.try_emplace(el, depth_);
      if (added || depth_ <= it->second) {
        it->second = depth_;
        if (keep) ent.kv[el] = output;
        else ent.kv[el] = std::move(output);
      }
      if (incontent_) ent.detail_type[el] = ctype();
    }
  } else if (infeed_ || insource_) {
    Ctx& c = context();
    const std::string_view el = element == "description"sv ? "subtitle"sv : element;
    c.kv[el] = output;
    if (el == "link"sv) {
      if (output.find('&') != std::string::npos) output = drop_entity_semicolons(output);
      c.kv[el] = output;
      if (!c.links.empty()) attr_set(c.links.back(), "href", output);
    } else if (incontent_) {
      c.detail_type[el] = ctype();
    }
  }
  return output;
}

namespace {

// The first match of feedparser's author e-mail pattern, found by a linear scan (no regex on the hot path):
//   (([a-zA-Z0-9_.+-]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9-]+\.)+))
//    ([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?
// with Python's leftmost-first semantics. The local part cannot contain '@', so a match ends its local part at
// an '@' and starts where the run of local-part characters before that '@' starts; the earliest '@' whose
// domain matches gives the leftmost match. Everything after the top-level label is optional, so the first
// (greedy) top-level label that matches ends the backtracking. Returns a null view when there is no match.
std::string_view find_email(std::string_view s) {
  auto local_char = [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '.' || c == '+' || c == '-';
  };
  auto alpha = [](unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  auto digit = [](unsigned char c) { return c >= '0' && c <= '9'; };
  auto label_char = [&](unsigned char c) { return alpha(c) || digit(c) || c == '-'; };
  const size_t n = s.size();
  auto uc = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  // ([a-zA-Z]{2,4}|[0-9]{1,3}) at p: its end, or npos
  auto tld = [&](size_t p) -> size_t {
    size_t a = p;
    while (a < n && a - p < 4 && alpha(uc(a))) ++a;
    if (a - p >= 2) return a;
    size_t d = p;
    while (d < n && d - p < 3 && digit(uc(d))) ++d;
    if (d > p) return d;
    return std::string_view::npos;
  };
  for (size_t at = s.find('@'); at != std::string_view::npos; at = s.find('@', at + 1)) {
    size_t start = at;
    while (start > 0 && static_cast<unsigned char>(s[start - 1]) < 0x80 && local_char(uc(start - 1))) --start;
    if (start == at) continue;
    size_t end = std::string_view::npos;
    size_t p = at + 1;
    if (p < n && s[p] == '[') {  // \[d{1,3}\.d{1,3}\.d{1,3}\.
      size_t q = p + 1;
      bool ok = true;
      for (int k = 0; k < 3 && ok; ++k) {
        size_t d = q;
        while (d < n && d - q < 3 && digit(uc(d))) ++d;
        ok = d > q && d < n && s[d] == '.';
        q = d + 1;
      }
      if (ok) end = tld(q);
    } else {
      // ([a-zA-Z0-9-]+\.)+ greedy: the positions after each label, tried from the last one back
      std::vector<size_t> after;
      size_t q = p;
      while (true) {
        size_t r = q;
        while (r < n && label_char(uc(r))) ++r;
        if (r == q || r >= n || s[r] != '.') break;
        q = r + 1;
        after.push_back(q);
      }
      for (auto it = after.rbegin(); it != after.rend() && end == std::string_view::npos; ++it) end = tld(*it);
    }
    if (end == std::string_view::npos) continue;
    if (end < n && s[end] == ']') ++end;
    static constexpr std::string_view subject = "?subject=";
    if (s.substr(end, subject.size()) == subject) {
      size_t r = end + subject.size();
      auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; };
      while (r < n && !space(s[r])) ++r;
      if (r > end + subject.size()) end = r;
    }
    return s.substr(start, end - start);
  }
  return {};
}

}  // namespace

void FeedMachine::sync_author_detail(const std::string& key) {
  if (key != "author"sv) return;
  Ctx& c = context();
  Dict detail = c.authors.empty() ? Dict{} : c.authors.back();
  if (!detail.empty()) {
    auto n = detail.find("name"), e = detail.find("email");
    bool hn = n != detail.end() && !n->second.empty(), he = e != detail.end() && !e->second.empty();
    if (hn && he) c.kv["author"] = n->second + " (" + e->second + ")";
    else if (hn) c.kv["author"] = n->second;
    else if (he) c.kv["author"] = e->second;
    return;
  }
  auto it = c.kv.find("author");
  if (it == c.kv.end() || it->second.empty()) return;
  std::string author = it->second, email;
  if (std::string_view m = find_email(author); m.data()) {
    email = std::string(m);
    replace_all(author, email, "");
    replace_all(author, "()", "");
    replace_all(author, "<>", "");
    replace_all(author, "&lt;&gt;", "");
    author = py_strip(author);
    if (!author.empty() && author.front() == '(') author.erase(author.begin());
    if (!author.empty() && author.back() == ')') author.pop_back();
    author = py_strip(author);
  }
  if (!author.empty()) detail["name"] = author;
  if (!email.empty()) detail["email"] = email;
  if (!author.empty() || !email.empty()) {
    if (!c.has_author_detail) {
      c.has_author_detail = true;
      c.author_detail = detail;
    }
    if (!c.authors.empty()) c.authors.back() = detail;
  }
}

void FeedMachine::cdf_common(Attrs& a) {
  if (const std::string* lm = attr_get(a, "lastmod")) {
    std::string v = *lm;
    push("updated", true);
    set_pieces(v);
    end_date("updated");
  }
  if (const std::string* href = attr_get(a, "href")) {
    std::string v = *href;
    start_link({});
    set_pieces(v);
    pop("link");
  }
}

void FeedMachine::start_item(Attrs& a) {
  entries.emplace_back();
  push("item", false);
  inentry_ = true;
  guidislink_ = false;
  title_depth_ = -1;
  std::string key = map_prefix("rdf") + ":about";
  if (const std::string* id = attr_get(a, key); id && !id->empty()) context().kv["id"] = *id;
  cdf_common(a);
}

void FeedMachine::start_link(Attrs a) {
  a.reserve(a.size() + 2);  // the two defaults below, without growing the list twice
  attr_setdefault(a, "rel", "alternate");
  if (*attr_get(a, "rel") == "self"sv) attr_setdefault(a, "type", "application/atom+xml");
  else attr_setdefault(a, "type", "text/html");
  Ctx& c = context();
  // _enforce_href
  const std::string* h = attr_get(a, "url");
  if (!h) h = attr_get(a, "uri");
  if (!h) h = attr_get(a, "href");
  if (h && !h->empty()) {
    std::string v = *h;
    attr_del(a, "url");
    attr_del(a, "uri");
    attr_set(a, "href", v);
  }
  if (const std::string* hr = attr_get(a, "href")) attr_set(a, "href", resolve_uri(*hr));
  bool expecting = infeed_ || inentry_ || insource_;
  if (const std::string* hr = attr_get(a, "href")) {
    const std::string* rel = attr_get(a, "rel");
    const std::string* type = attr_get(a, "type");
    if (rel && *rel == "alternate"sv && is_html_type(map_content_type(type ? *type : std::string()))) c.kv["link"] = *hr;
  } else {
    push("link", expecting);
  }
  if (!(inentry_ && inimage_)) c.links.push_back(std::move(a));
}

// The element names the handlers know, found by one hash lookup per element (the handler chains below
// switch on it).
namespace {
enum class El : uint8_t {
  none,
  rss,
  channel,
  feed,
  image,
  textinput,
  author,
  managingeditor,
  dc_author,
  dc_creator,
  itunes_author,
  contributor,
  dc_contributor,
  name,
  itunes_name,
  width,
  height,
  url,
  homepage,
  uri,
  email,
  itunes_email,
  subtitle,
  tagline,
  itunes_subtitle,
  rights,
  copyright,
  dc_rights,
  item,
  entry,
  language,
  dc_language,
  webmaster,
  dc_publisher,
  published,
  issued,
  pubdate,
  dcterms_issued,
  updated,
  modified,
  lastbuilddate,
  dc_date,
  dcterms_modified,
  created,
  dcterms_created,
  expirationdate,
  category,
  keywords,
  dc_subject,
  media_category,
  itunes_category,
  cloud,
  link,
  guid,
  id,
  title,
  dc_title,
  media_title,
  description,
  dc_description,
  media_description,
  abstract,
  info,
  feedburner_browserfriendly,
  generator,
  summary,
  itunes_summary,
  enclosure,
  source,
  content,
  body,
  xhtml_body,
  content_encoded,
  fullitem,
  newlocation,
  tags,
  media_group,
  media_rating,
  media_credit,
  media_restriction,
  media_license,
  media_content,
  media_thumbnail,
  media_player,
  itunes_owner,
  itunes_image,
  itunes_link,
  dcterms_valid,
  media_keywords,
  itunes_keywords,
};

El element_id(std::string_view n) {
  static const std::unordered_map<std::string_view, El> m = {
      {"rss", El::rss},
      {"channel", El::channel},
      {"feed", El::feed},
      {"image", El::image},
      {"textinput", El::textinput},
      {"author", El::author},
      {"managingeditor", El::managingeditor},
      {"dc_author", El::dc_author},
      {"dc_creator", El::dc_creator},
      {"itunes_author", El::itunes_author},
      {"contributor", El::contributor},
      {"dc_contributor", El::dc_contributor},
      {"name", El::name},
      {"itunes_name", El::itunes_name},
      {"width", El::width},
      {"height", El::height},
      {"url", El::url},
      {"homepage", El::homepage},
      {"uri", El::uri},
      {"email", El::email},
      {"itunes_email", El::itunes_email},
      {"subtitle", El::subtitle},
      {"tagline", El::tagline},
      {"itunes_subtitle", El::itunes_subtitle},
      {"rights", El::rights},
      {"copyright", El::copyright},
      {"dc_rights", El::dc_rights},
      {"item", El::item},
      {"entry", El::entry},
      {"language", El::language},
      {"dc_language", El::dc_language},
      {"webmaster", El::webmaster},
      {"dc_publisher", El::dc_publisher},
      {"published", El::published},
      {"issued", El::issued},
      {"pubdate", El::pubdate},
      {"dcterms_issued", El::dcterms_issued},
      {"updated", El::updated},
      {"modified", El::modified},
      {"lastbuilddate", El::lastbuilddate},
      {"dc_date", El::dc_date},
      {"dcterms_modified", El::dcterms_modified},
      {"created", El::created},
      {"dcterms_created", El::dcterms_created},
      {"expirationdate", El::expirationdate},
      {"category", El::category},
      {"keywords", El::keywords},
      {"dc_subject", El::dc_subject},
      {"media_category", El::media_category},
      {"itunes_category", El::itunes_category},
      {"cloud", El::cloud},
      {"link", El::link},
      {"guid", El::guid},
      {"id", El::id},
      {"title", El::title},
      {"dc_title", El::dc_title},
      {"media_title", El::media_title},
      {"description", El::description},
      {"dc_description", El::dc_description},
      {"media_description", El::media_description},
      {"abstract", El::abstract},
      {"info", El::info},
      {"feedburner_browserfriendly", El::feedburner_browserfriendly},
      {"generator", El::generator},
      {"summary", El::summary},
      {"itunes_summary", El::itunes_summary},
      {"enclosure", El::enclosure},
      {"source", El::source},
      {"content", El::content},
      {"body", El::body},
      {"xhtml_body", El::xhtml_body},
      {"content_encoded", El::content_encoded},
      {"fullitem", El::fullitem},
      {"newlocation", El::newlocation},
      {"tags", El::tags},
      {"media_group", El::media_group},
      {"media_rating", El::media_rating},
      {"media_credit", El::media_credit},
      {"media_restriction", El::media_restriction},
      {"media_license", El::media_license},
      {"media_content", El::media_content},
      {"media_thumbnail", El::media_thumbnail},
      {"media_player", El::media_player},
      {"itunes_owner", El::itunes_owner},
      {"itunes_image", El::itunes_image},
      {"itunes_link", El::itunes_link},
      {"dcterms_valid", El::dcterms_valid},
      {"media_keywords", El::media_keywords},
      {"itunes_keywords", El::itunes_keywords},
  };
  auto it = m.find(n);
  return it == m.end() ? El::none : it->second;
}
}  // namespace

bool FeedMachine::dispatch_start(const std::string& name, uint8_t id, Attrs& a) {
  const std::string_view n = name;
  switch (static_cast<El>(id)) {
    case El::rss: {
      if (version.empty() || !starts_with(version, "rss")) {
        const std::string* v = attr_get(a, "version");
        std::string av = v ? *v : "";
        if (av == "0.91"sv) version = "rss091u";
        else if (av == "0.92"sv) version = "rss092";
        else if (av == "0.93"sv) version = "rss093";
        else if (av == "0.94"sv) version = "rss094";
        else if (starts_with(av, "2.")) version = "rss20";
        else version = "rss";
      }
      break;
    }
    case El::channel: {
      infeed_ = true;
      cdf_common(a);
      break;
    }
    case El::feed: {
      infeed_ = true;
      if (version.empty()) {
        const std::string* v = attr_get(a, "version");
        std::string av = v ? *v : "";
        version = av == "0.1"sv ? "atom01" : av == "0.2"sv ? "atom02" : av == "0.3"sv ? "atom03" : "atom";
      }
      break;
    }
    case El::image: {
      if (!inentry_ && &context() == &feed_ && !feed_.image) feed_.image = std::make_unique<Ctx>();
      inimage_ = true;
      title_depth_ = -1;
      push("image", false);
      break;
    }
    case El::textinput: {
      if (!feed_.textinput) feed_.textinput = std::make_unique<Ctx>();
      intextinput_ = true;
      title_depth_ = -1;
      push("textinput", false);
      break;
    }
    case El::author: case El::managingeditor: case El::dc_author: case El::dc_creator: case El::itunes_author: {
      start_author();
      break;
    }
    case El::contributor: {
      incontributor_ = true;
      push("contributor", false);
      break;
    }
    case El::dc_contributor: {
      incontributor_ = true;
      push("name", false);
      break;
    }
    case El::name: case El::itunes_name: {
      push("name", false);
      break;
    }
    case El::width: case El::height: {
      push(name, false);
      break;
    }
    case El::url: case El::homepage: case El::uri: {
      push("href", true);
      break;
    }
    case El::email: case El::itunes_email: {
      push("email", false);
      break;
    }
    case El::subtitle: case El::tagline: case El::itunes_subtitle: {
      push_content("subtitle", a, "text/plain", true);
      break;
    }
    case El::rights: case El::copyright: case El::dc_rights: {
      push_content("rights", a, "text/plain", true);
      break;
    }
    case El::item: case El::entry: {
      start_item(a);
      break;
    }
    case El::language: case El::dc_language: {
      push("language", true);
      break;
    }
    case El::webmaster: case El::dc_publisher: {
      push("publisher", true);
      break;
    }
    case El::published: case El::issued: case El::pubdate: case El::dcterms_issued: {
      push("published", true);
      break;
    }
    case El::updated: case El::modified: case El::lastbuilddate: case El::dc_date: case El::dcterms_modified: {
      push("updated", true);
      break;
    }
    case El::created: case El::dcterms_created: {
      push("created", true);
      break;
    }
    case El::expirationdate: {
      push("expired", true);
      break;
    }
    case El::category: case El::keywords: case El::dc_subject: {
      start_category(a);
      break;
    }
    case El::media_category: {
      attr_setdefault(a, "scheme", "http://search.yahoo.com/mrss/category_schema");
      start_category(a);
      break;
    }
    case El::itunes_category: {
      const std::string* t = attr_get(a, "text");
      add_tag(t ? std::optional<std::string>(*t) : std::nullopt, std::string("http://www.itunes.com/"), std::nullopt);
      push("category", true);
      break;
    }
    case El::cloud: {
      // stored as a dict by feedparser; not part of the output
      break;
    }
    case El::link: {
      start_link(std::move(a));
      break;
    }
    case El::guid: case El::id: {
      const std::string* p = attr_get(a, "ispermalink");
      guidislink_ = !p || *p == "true"sv;
      push("id", true);
      break;
    }
    case El::title: case El::dc_title: case El::media_title: {
      start_title(a);
      break;
    }
    case El::description: case El::dc_description: case El::media_description: {
      start_description(a);
      break;
    }
    case El::abstract: {
      push_content("description", a, "text/plain", infeed_ || inentry_ || insource_);
      break;
    }
    case El::info: case El::feedburner_browserfriendly: {
      push_content("info", a, "text/plain", true);
      break;
    }
    case El::generator: {
      push("generator", true);
      break;
    }
    case El::summary: case El::itunes_summary: {
      start_summary(a);
      break;
    }
    case El::enclosure: {
      const std::string* h = attr_get(a, "url");
      if (!h) h = attr_get(a, "uri");
      if (!h) h = attr_get(a, "href");
      if (h && !h->empty()) {
        std::string v = *h;
        attr_del(a, "url");
        attr_del(a, "uri");
        attr_set(a, "href", v);
      }
      attr_set(a, "rel", "enclosure");
      context().links.push_back(std::move(a));
      break;
    }
    case El::source: {
      if (const std::string* u = attr_get(a, "url")) sourcedata_.kv["href"] = *u;
      push("source", true);
      insource_ = true;
      title_depth_ = -1;
      break;
    }
    case El::content: {
      start_content(a);
      break;
    }
    case El::body: case El::xhtml_body: {
      push_content("content", a, "application/xhtml+xml", true);
      break;
    }
    case El::content_encoded: case El::fullitem: {
      has_content_ = true;
      push_content("content", a, "text/html", true);
      break;
    }
    case El::newlocation: {
      push("newlocation", true);
      break;
    }
    case El::tags: {
      push("tags", true);
      break;
    }
    case El::media_group: {
      break;
    }
    case El::media_rating: {
      push("rating", true);
      break;
    }
    case El::media_credit: {
      push("credit", true);
      break;
    }
    case El::media_restriction: {
      push("restriction", true);
      break;
    }
    case El::media_license: {
      push("license", true);
      break;
    }
    case El::media_content: {
      context().media_content.push_back(std::move(a));
      break;
    }
    case El::media_thumbnail: {
      push("url", true);
      context().media_thumbnail.push_back(std::move(a));
      break;
    }
    case El::media_player: {
      push("media_player", false);
      break;
    }
    case El::itunes_owner: {
      inpublisher_ = true;
      push("publisher", false);
      break;
    }
    case El::itunes_image: case El::itunes_link: {
      push("itunes_image", false);
      break;
    }
    case El::dcterms_valid: {
      push("validity", true);
      break;
    }
    default:
      return false;
  }
  return true;
}

bool FeedMachine::dispatch_end(const std::string& name, uint8_t id) {
  const std::string_view n = name;
  switch (static_cast<El>(id)) {
    case El::channel: case El::feed: {
      infeed_ = false;
      break;
    }
    case El::image: {
      pop("image", true, false);
      inimage_ = false;
      break;
    }
    case El::textinput: {
      pop("textinput", true, false);
      intextinput_ = false;
      break;
    }
    case El::author: case El::managingeditor: case El::dc_author: case El::dc_creator: case El::itunes_author: {
      end_author();
      break;
    }
    case El::contributor: {
      pop("contributor", true, false);
      incontributor_ = false;
      break;
    }
    case El::name: case El::itunes_name: case El::dc_contributor: {
      auto v = pop("name");
      std::string val = v ? *v : "";
      if (inpublisher_) {
      } else if (inauthor_) {
        save_author("name", val);
      } else if (incontributor_) {
      } else if (intextinput_) {
        context().kv["name"] = val;
      }
      if (same(n, "dc_contributor"sv)) incontributor_ = false;
      break;
    }
    case El::width: case El::height: {
      pop(name, true, false);
      break;
    }
    case El::url: case El::homepage: case El::uri: {
      auto v = pop("href");
      if (inauthor_) save_author("href", v ? *v : "");
      break;
    }
    case El::email: case El::itunes_email: {
      auto v = pop("email");
      if (!inpublisher_ && inauthor_) save_author("email", v ? *v : "");
      break;
    }
    case El::subtitle: case El::tagline: case El::itunes_subtitle: {
      pop_content("subtitle", false);
      break;
    }
    case El::rights: case El::copyright: case El::dc_rights: {
      pop_content("rights", false);
      break;
    }
    case El::item: case El::entry: {
      end_item();
      break;
    }
    case El::language: case El::dc_language: {
      auto v = pop("language");
      lang_ = v ? *v : "";
      lang_null_ = !v;
      break;
    }
    case El::webmaster: case El::dc_publisher: {
      pop("publisher", true, false);
      break;
    }
    case El::published: case El::issued: case El::pubdate: case El::dcterms_issued: {
      end_date("published");
      break;
    }
    case El::updated: case El::modified: case El::lastbuilddate: case El::dc_date: case El::dcterms_modified: {
      end_date("updated");
      break;
    }
    case El::created: case El::dcterms_created: {
      pop("created", true, false);
      break;
    }
    case El::expirationdate: {
      pop("expired", true, false);
      break;
    }
    case El::category: case El::keywords: case El::dc_subject: case El::media_category: case El::itunes_category: {
      end_category();
      break;
    }
    case El::link: {
      pop("link", true, false);
      break;
    }
    case El::guid: case El::id: {
      auto v = pop("id");
      Ctx& c = context();
      if (!c.guidislink) c.guidislink = guidislink_ && !c.kv.count("link");
      if (guidislink_) save("link", v ? *v : "");
      break;
    }
    case El::title: case El::dc_title: {
      if (svg_ok_) return true;
      end_title();
      break;
    }
    case El::media_title: {
      int td = title_depth_;
      end_title();
      title_depth_ = td;
      break;
    }
    case El::description: case El::abstract: case El::dc_description: case El::media_description: {
      end_description();
      break;
    }
    case El::info: case El::feedburner_browserfriendly: {
      pop_content("info", false);
      break;
    }
    case El::generator: {
      pop("generator", true, false);
      break;
    }
    case El::summary: case El::itunes_summary: {
      end_summary();
      break;
    }
    case El::source: {
      insource_ = false;
      auto v = pop("source");
      sourcedata_ = Ctx();
      (void)v;
      break;
    }
    case El::content: case El::body: case El::xhtml_body: case El::content_encoded: case El::fullitem: {
      end_content();
      break;
    }
    case El::newlocation: {
      pop("newlocation", true, false);
      break;
    }
    case El::tags: {
      auto v = pop("tags");
      if (v)
        for (auto& t : py_split(*v, ',')) add_tag(py_strip(t), std::nullopt, std::nullopt);
      break;
    }
    case El::media_keywords: case El::itunes_keywords: {
      auto v = pop(name);
      if (v)
        for (auto& t : py_split(*v, ',')) {
          std::string s = py_strip(t);
          if (s.empty()) continue;
          if (same(n, "itunes_keywords"sv)) add_tag(s, std::string("http://www.itunes.com/"), std::nullopt);
          else add_tag(s, std::nullopt, std::nullopt);
        }
      break;
    }
    case El::media_rating: {
      pop("rating", true, false);
      break;
    }
    case El::media_credit: {
      pop("credit", true, false);
      break;
    }
    case El::media_restriction: {
      pop("restriction", true, false);
      break;
    }
    case El::media_license: {
      pop("license", true, false);
      break;
    }
    case El::media_thumbnail: {
      auto url = pop("url");
      Ctx& c = context();
      if (url && !py_strip(*url).empty() && !c.media_thumbnail.empty() && !attr_get(c.media_thumbnail.back(), "url"))
        attr_set(c.media_thumbnail.back(), "url", *url);
      break;
    }
    case El::media_player: {
      pop("media_player", true, false);
      break;
    }
    case El::itunes_owner: {
      pop("publisher", true, false);
      inpublisher_ = false;
      break;
    }
    case El::dcterms_valid: {
      pop("validity", true, false);
      break;
    }
    default:
      return false;
  }
  return true;
}

const FeedMachine::HandlerNames::value_type& FeedMachine::handler_name(const std::string& tag) {
  if (auto it = handler_names_.find(tag); it != handler_names_.end()) return *it;
  std::string prefix, suffix = tag;
  if (auto c = tag.find(':'); c != std::string::npos) {
    prefix = tag.substr(0, c);
    suffix = tag.substr(c + 1);
  }
  prefix = map_prefix(prefix);
  if (!prefix.empty()) prefix += "_";
  const bool no_prefix = prefix.empty();
  std::string name = prefix + suffix;
  const auto id = static_cast<uint8_t>(element_id(name));
  return *handler_names_.emplace(tag, HandlerName{std::move(name), no_prefix, id}).first;
}

void FeedMachine::unknown_starttag(const std::string& tag, Attrs attrs) {
  ++depth_;
  if (first_tag.empty()) first_tag = tag;
  for (auto& kv : attrs) {
    ascii_lower_in_place(kv.first);
    if (kv.first == "rel"sv || kv.first == "type"sv) ascii_lower_in_place(kv.second);
    if (loose_) replace_all(kv.second, "&amp;", "&");
  }
  // dict(attrs): the attributes themselves when no name repeats (the usual case; they are not read again
  // after the handlers, which may change them)
  const bool repeats = attr_names_may_repeat(attrs);
  Attrs dict;
  if (repeats) dict = attr_dict(attrs);
  Attrs& ad = repeats ? dict : attrs;
  // (most elements have no attribute: nothing to look up)
  const std::string* xb = ad.empty() ? nullptr : attr_get(ad, "xml:base");
  if (!xb && !ad.empty()) xb = attr_get(ad, "base");
  if (xb && !xb->empty()) {
    if (!baseuri_.empty()) {
      std::string s = make_safe_absolute_uri(baseuri_, *xb);
      if (!s.empty()) baseuri_ = s;
    } else {
      baseuri_ = fp_urljoin(baseuri_, *xb);
    }
  }
  const std::string* lg = ad.empty() ? nullptr : attr_get(ad, "xml:lang");
  if (!lg && !ad.empty()) lg = attr_get(ad, "lang");
  if (lg) {
    if (lg->empty()) {
      lang_.clear();
      lang_null_ = true;
    } else {
      lang_ = *lg;
      lang_null_ = false;
    }
  }
  if (!lang_.empty() && (same(tag, "feed"sv) || same(tag, "rss"sv))) feed_.kv["language"] = replace_us(lang_);
  if (base_n_ == basestack_.size()) basestack_.emplace_back();
  // a slot usually holds the value already (the same depth of the previous item): compared, not copied again
  if (std::string& slot = basestack_[base_n_++]; slot != baseuri_) slot.assign(baseuri_);
  if (lang_n_ == langstack_.size()) langstack_.emplace_back();
  if (lang_null_) langstack_[lang_n_++].reset();
  else if (auto& slot = langstack_[lang_n_++]) { if (*slot != lang_) slot->assign(lang_); }
  else slot.emplace(lang_);

  for (const auto& kv : attrs) {
    if (starts_with(kv.first, "xmlns:")) track_namespace(kv.first.substr(6), kv.second);
    else if (kv.first == "xmlns"sv) track_namespace(std::nullopt, kv.second);
  }

  if (incontent_ && !ctype_endswith_xml()) {
    if (same(tag, "xhtml:div"sv) || same(tag, "div"sv)) return;
    cp_type_ = "application/xhtml+xml";
  }
  if (incontent_ && ctype() == "application/xhtml+xml"sv) {
    std::string t = tag;
    if (auto c = t.find(':'); c != std::string::npos) {
      std::string prefix = t.substr(0, c);
      t = t.substr(c + 1);
      auto it = namespaces_in_use_.find(prefix);
      std::string ns = it == namespaces_in_use_.end() ? "" : it->second;
      if (t == "math"sv && ns == "http://www.w3.org/1998/Math/MathML"sv) attrs.emplace_back("xmlns", ns);
      if (t == "svg"sv && ns == "http://www.w3.org/2000/svg"sv) attrs.emplace_back("xmlns", ns);
    }
    if (t == "svg"sv) ++svg_ok_;
    std::string s = "<" + t;
    for (const auto& kv : attrs) {
      std::string v = loose_ ? kv.second : xml_escape(kv.second, true);
      if (loose_) replace_all(v, "\"", "&quot;");
      s += " " + kv.first + "=\"" + v + "\"";
    }
    s += ">";
    handle_data(s, false);
    return;
  }

  const HandlerNames::value_type& entry = handler_name(tag);
  open_tags_.push_back(&entry);
  const HandlerName& hn = entry.second;
  const std::string& name = hn.name;
  const bool no_prefix = hn.no_prefix;
  if (no_prefix && !same(tag, "title"sv) && !same(tag, "link"sv) && !same(tag, "description"sv) && !same(tag, "name"sv)) intextinput_ = false;
  if (no_prefix && !same(tag, "title"sv) && !same(tag, "link"sv) && !same(tag, "description"sv) && !same(tag, "url"sv) && !same(tag, "href"sv) &&
      !same(tag, "width"sv) && !same(tag, "height"sv))
    inimage_ = false;

  if (dispatch_start(name, hn.id, ad)) return;
  if (ad.empty()) push(name, true);
  // elements with attributes but no handler are stored as dicts by feedparser: not output
}

void FeedMachine::unknown_endtag(const std::string& tag) {
  std::string_view suffix = tag;
  if (auto c = tag.find(':'); c != std::string::npos) suffix.remove_prefix(c + 1);
  if (suffix == "svg"sv && svg_ok_) --svg_ok_;
  const HandlerNames::value_type* entry = nullptr;
  if (!open_tags_.empty() && open_tags_.back()->first == tag) {
    entry = open_tags_.back();
    open_tags_.pop_back();
  } else {
    entry = &handler_name(tag);
  }
  const HandlerName& hn = entry->second;
  const std::string& name = hn.name;
  bool handled = false;
  if (!svg_ok_) handled = dispatch_end(name, hn.id);
  if (!handled) pop(name, true, false);

  if (incontent_ && !ctype_endswith_xml()) {
    if (same(tag, "xhtml:div"sv) || same(tag, "div"sv)) return;
    cp_type_ = "application/xhtml+xml";
  }
  if (incontent_ && ctype() == "application/xhtml+xml"sv) {
    std::string t = tag.substr(tag.rfind(':') == std::string::npos ? 0 : tag.rfind(':') + 1);
    handle_data("</" + t + ">", false);
  }
  if (base_n_ > 0) {
    --base_n_;
    if (base_n_ > 0 && !basestack_[base_n_ - 1].empty() && baseuri_ != basestack_[base_n_ - 1])
      baseuri_ = basestack_[base_n_ - 1];
  }
  if (lang_n_ > 0) {
    --lang_n_;
    if (lang_n_ > 0) {
      const auto& top = langstack_[lang_n_ - 1];
      lang_null_ = !top;
      if (top) {
        if (lang_ != *top) lang_ = *top;
      } else {
        lang_.clear();
      }
    }
  }
  --depth_;
}

}  // namespace baotin::feed_internal
