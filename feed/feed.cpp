#include "feed/feed.h"

#include <pugixml.hpp>
#include <unicode/ucnv.h>
#include <unicode/ucnv_err.h>
#include <unicode/ucsdet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <stdexcept>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/charset.h"
#include "core/limits.h"
#include "core/regex.h"
#include "core/text.h"

namespace baotin {
namespace {

// ---------------------------------------------------------------------------------------------
// Small string helpers (UTF-8)
// ---------------------------------------------------------------------------------------------

void put_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes one code point at s[i] (input is valid UTF-8 by construction); advances i.
char32_t next_cp(std::string_view s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80 || i + 1 >= s.size()) { ++i; return c; }
  int n = (c >= 0xF0) ? 3 : (c >= 0xE0) ? 2 : (c >= 0xC0) ? 1 : 0;
  if (n == 0 || i + n >= s.size()) { ++i; return c; }
  char32_t cp = c & (0x3F >> n);
  for (int k = 1; k <= n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n + 1;
  return cp;
}

bool py_isspace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Python str.strip(): Unicode whitespace at both ends.
std::string py_strip(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e) {
    size_t j = b;
    char32_t c = next_cp(s, j);
    if (!py_isspace(c)) break;
    b = j;
  }
  while (e > b) {
    size_t k = e - 1;
    while (k > b && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
    size_t j = k;
    char32_t c = next_cp(s, j);
    if (!py_isspace(c)) break;
    e = k;
  }
  return std::string(s.substr(b, e - b));
}

std::string lower(std::string_view s) { return ascii_lower(s); }

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

std::string xml_escape(std::string_view s, bool quote) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': if (quote) { out += "&quot;"; break; } [[fallthrough]];
      default: out += c;
    }
  }
  return out;
}

bool is_word_char(unsigned char c) { return std::isalnum(c) || c == '_' || c >= 0x80; }

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

// windows-1252 meanings of U+0080..U+009F (feedparser maps these C1 controls in every value).
char32_t cp1252_fix(char32_t c) {
  static const char32_t t[32] = {0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,   0x017D, 0x8F,
                                 0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};
  if (c >= 0x80 && c <= 0x9F) return t[c - 0x80];
  return c;
}

// feedparser post-processing of every value: (1) text that is entirely Latin-1 and whose Latin-1
// bytes form valid multi-byte UTF-8 is re-decoded as UTF-8 (mojibake repair); (2) C1 controls ->
// windows-1252 characters.
std::string fix_value(const std::string& s) {
  bool all_ascii = true;
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) { all_ascii = false; break; }
  if (all_ascii) return s;
  std::string latin;
  bool latin_ok = true;
  for (size_t i = 0; i < s.size();) {
    char32_t c = next_cp(s, i);
    if (c > 0xFF) { latin_ok = false; break; }
    latin += static_cast<char>(c);
  }
  const std::string* src = &s;
  if (latin_ok && is_valid_utf8(latin)) src = &latin;
  std::string out;
  out.reserve(src->size());
  bool changed = false;
  for (size_t i = 0; i < src->size();) {
    char32_t c = next_cp(*src, i);
    char32_t f = cp1252_fix(c);
    if (f != c) changed = true;
    put_utf8(out, f);
  }
  if (!changed) return *src;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Dates: a port of feedparser's date dispatcher (datetimes/*.py), results in UTC epoch seconds.
// ---------------------------------------------------------------------------------------------

int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in_month(int64_t y, int m) {
  static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

// datetime.datetime(...) validation followed by subtracting the zone offset.
std::optional<int64_t> checked_stamp(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s,
                                     int64_t tz_minutes) {
  if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, static_cast<int>(mo)) || h < 0 ||
      h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59)
    return std::nullopt;
  int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - tz_minutes * 60;
  // utctimetuple() must stay within years 1..9999
  if (t < days_from_civil(1, 1, 1) * 86400 || t >= days_from_civil(10000, 1, 1) * 86400) return std::nullopt;
  return t;
}

// mktime()-style normalisation (fields may overflow), in UTC.
int64_t normalised_stamp(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s) {
  int64_t m0 = mo - 1;
  int64_t yy = y + (m0 >= 0 ? m0 / 12 : -((11 - m0) / 12));
  int64_t mm = m0 - (yy - y) * 12 + 1;
  return (days_from_civil(yy, mm, 1) + d - 1) * 86400 + h * 3600 + mi * 60 + s;
}

// Python int(): optional surrounding whitespace, optional sign, ASCII digits.
std::optional<int64_t> py_int(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 12) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return neg ? -v : v;
}

// int(float(s))
std::optional<int64_t> py_int_float(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  std::string t(s);
  for (char c : t)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-' || c == 'e' || c == 'E'))
      return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (!end || *end) return std::nullopt;
  if (!(v > -1e12 && v < 1e12)) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::vector<std::string> py_split_ws(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t b = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > b) out.emplace_back(s.substr(b, i - b));
  }
  return out;
}

std::vector<std::string> py_split(std::string_view s, char sep, int maxsplit = -1) {
  std::vector<std::string> out;
  size_t b = 0;
  while (true) {
    if (maxsplit >= 0 && static_cast<int>(out.size()) == maxsplit) break;
    size_t p = s.find(sep, b);
    if (p == std::string_view::npos) break;
    out.emplace_back(s.substr(b, p - b));
    b = p + 1;
  }
  out.emplace_back(s.substr(b));
  return out;
}

int zone_hours(const std::string& z, bool rfc822) {
  static const std::map<std::string, int> names = {
      {"ut", 0},   {"gmt", 0},  {"z", 0},    {"adt", -3}, {"ast", -4}, {"at", -4}, {"edt", -4},
      {"est", -5}, {"et", -5},  {"cdt", -5}, {"cst", -6}, {"ct", -6},  {"mdt", -6}, {"mst", -7},
      {"mt", -7},  {"pdt", -7}, {"pst", -8}, {"pt", -8},  {"a", -1},   {"n", 1},    {"m", -12},
      {"y", 12}};
  if (auto it = names.find(z); it != names.end()) return it->second;
  if (rfc822) {
    if (z == "met") return 1;
    if (z == "mest") return 2;
  }
  return 0;
}

std::optional<int64_t> date_w3dtf(std::string_view in) {
  if (trim(in).empty()) return std::nullopt;
  std::string low = lower(in);
  std::vector<std::string> parts = py_split(low, 't');
  if (parts.size() == 1) {
    parts = py_split_ws(parts[0]);
    if (parts.size() == 1) parts.push_back("00:00:00z");
    if (parts.empty()) return std::nullopt;
  } else if (parts.size() > 2) {
    return std::nullopt;
  }
  std::vector<std::string> date = py_split(parts[0], '-', 2);
  if (date.empty() || date[0].size() != 4) return std::nullopt;
  while (date.size() < 3) date.push_back("1");
  auto y = py_int(date[0]), mo = py_int(date[1]), d = py_int(date[2]);
  if (!y || !mo || !d) return std::nullopt;
  if (parts.size() < 2) return std::nullopt;
  if (ends_with(parts[1], "z")) {
    parts[1].pop_back();
    parts.push_back("z");
  }
  size_t loc;
  if (auto p = parts[1].find('-'); p != std::string::npos) loc = p;
  else if (auto q = parts[1].find('+'); q != std::string::npos) loc = q;
  else loc = parts[1].size();
  parts.push_back(parts[1].substr(loc));
  parts[1] = parts[1].substr(0, loc);
  std::vector<std::string> tm = py_split(parts[1], ':', 2);
  while (tm.size() < 3) tm.push_back("0");
  int64_t tzmin_total = 0;
  const std::string& z = parts[2];
  if (!z.empty() && (z[0] == '-' || z[0] == '+')) {
    auto th = py_int(z.substr(1, 2));
    auto tmn = py_int(z.size() > 4 ? z.substr(4) : std::string());
    if (!th || !tmn) return std::nullopt;
    tzmin_total = *th * 60 + *tmn;
    if (z[0] == '-') tzmin_total = -tzmin_total;
  } else {
    tzmin_total = zone_hours(z, false) * 60;
  }
  auto h = py_int_float(tm[0]), mi = py_int_float(tm[1]), s = py_int_float(tm[2]);
  if (!h || !mi || !s) return std::nullopt;
  return checked_stamp(*y, *mo, *d, *h, *mi, *s, tzmin_total);
}

std::optional<int64_t> date_rfc822(std::string_view in) {
  static const std::map<std::string, int> months = {{"jan", 1}, {"feb", 2}, {"mar", 3}, {"apr", 4},
                                                    {"may", 5}, {"jun", 6}, {"jul", 7}, {"aug", 8},
                                                    {"sep", 9}, {"oct", 10}, {"nov", 11}, {"dec", 12}};
  static const std::set<std::string> days = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  auto month_of = [&](const std::string& s) -> int {
    auto it = months.find(s.substr(0, 3));
    return it == months.end() ? 0 : it->second;
  };
  std::vector<std::string> parts = py_split_ws(lower(in));
  if (parts.size() < 5) {
    parts.push_back("00:00:00");
    parts.push_back("0000");
  }
  if (days.count(parts[0].substr(0, 3))) parts.erase(parts.begin());
  if (parts.size() < 5) return std::nullopt;
  int month = month_of(parts[1]);
  int64_t day;
  if (auto d = py_int(parts[0])) {
    day = *d;
  } else if (month_of(parts[0])) {
    auto d2 = py_int(parts[1]);
    if (!d2) return std::nullopt;
    day = *d2;
    month = month_of(parts[0]);
  } else {
    return std::nullopt;
  }
  if (!month) return std::nullopt;
  auto year = py_int(parts[2]);
  if (!year) return std::nullopt;
  if (parts[2].size() <= 2) *year += *year < 90 ? 2000 : 1900;
  std::vector<std::string> tp = py_split(parts[3], ':');
  while (tp.size() < 3) tp.push_back("0");
  if (tp.size() != 3) return std::nullopt;
  auto h = py_int(tp[0]), mi = py_int(tp[1]), s = py_int(tp[2]);
  if (!h || !mi || !s) return std::nullopt;
  std::string z = parts[4];
  if (starts_with(z, "etc/")) z = z.substr(4);
  if (starts_with(z, "gmt")) {
    std::string rest;
    for (char c : z.substr(3))
      if (c != ':') rest += c;
    z = rest.empty() ? "gmt" : rest;
  }
  int64_t tzm = 0;
  if (!z.empty() && (z[0] == '-' || z[0] == '+')) {
    std::optional<int64_t> th, tmn;
    th = py_int(z.substr(1, 2));
    if (z.find(':') != std::string::npos) tmn = py_int(z.size() > 4 ? z.substr(4) : "");
    else tmn = py_int(z.size() > 3 ? z.substr(3) : "");
    if (!th || !tmn) return std::nullopt;
    tzm = *th * 60 + *tmn;
    if (z[0] == '-') tzm = -tzm;
  } else {
    tzm = zone_hours(z, true) * 60;
  }
  return checked_stamp(*year, month, day, *h, *mi, *s, tzm);
}

// std::smatch-like view of Regex submatches: m[i].str() is "" for an unmatched group.
struct Groups {
  const std::vector<std::string_view>& v;
  struct G {
    std::string_view s;
    std::string str() const { return std::string(s); }
  };
  G operator[](size_t i) const { return {i < v.size() ? v[i] : std::string_view()}; }
};

struct IsoPattern {
  Regex re;
  std::vector<std::string> names;  // capture group index -> name ("" for unnamed)
};

const std::vector<IsoPattern>& iso_patterns() {
  static const std::vector<IsoPattern> pats = [] {
    const char* tmpls[] = {"YYYY-?MM-?DD", "YYYY-0MM?-?DD", "YYYY-MM", "YYYY-?OOO", "YY-?MM-?DD", "YY-?OOO",
                           "YYYY",         "-YY-?MM",       "-OOO",    "-YY",       "--MM-?DD",   "--MM",
                           "---DD",        "CC",            ""};
    std::vector<IsoPattern> v;
    for (const char* t : tmpls) {
      std::string src(t), re;
      std::vector<std::string> names{""};
      for (size_t i = 0; i < src.size();) {
        auto at = [&](const char* tok) { return src.compare(i, std::strlen(tok), tok) == 0; };
        if (at("YYYY")) { re += "(\\d{4})"; names.push_back("year"); i += 4; }
        else if (at("YY")) { re += "(\\d\\d)"; names.push_back("year"); i += 2; }
        else if (at("MM")) { re += "([01]\\d)"; names.push_back("month"); i += 2; }
        else if (at("DD")) { re += "([0123]\\d)"; names.push_back("day"); i += 2; }
        else if (at("OOO")) { re += "([0123]\\d\\d)"; names.push_back("ordinal"); i += 3; }
        else if (at("CC")) { re += "(\\d\\d$)"; names.push_back("century"); i += 2; }
        else { re += src[i]; ++i; }
      }
      re += "(T?(\\d{2}):(\\d{2})(:(\\d{2}))?(\\.(\\d+))?(([+-])(\\d{2})(:(\\d{2}))?|Z)?)?";
      for (const char* n : {"", "hour", "minute", "", "second", "", "fracsecond", "tz", "", "tzhour", "", "tzmin"})
        names.push_back(n);
      // the sign is captured separately ("" name) only to read tz[0]; tz itself keeps the full text
      v.push_back({Regex(re), names});
    }
    return v;
  }();
  return pats;
}

std::optional<int64_t> date_iso8601(std::string_view in) {
  std::string_view s = in;
  std::vector<std::string_view> m;
  const IsoPattern* hit = nullptr;
  for (const auto& p : iso_patterns()) {
    if (p.re.match_at(s, 0, m)) {
      hit = &p;
      break;
    }
  }
  if (!hit) return std::nullopt;
  if (m[0].empty()) return std::nullopt;
  std::map<std::string, std::string> g;
  std::set<std::string> present;
  for (size_t i = 1; i < hit->names.size() && i < m.size(); ++i) {
    if (hit->names[i].empty()) continue;
    present.insert(hit->names[i]);
    if (m[i].data()) g[hit->names[i]] = std::string(m[i]);
  }
  std::time_t now = std::time(nullptr);
  std::tm gm{};
  gmtime_r(&now, &gm);
  int64_t ordinal = g.count("ordinal") ? *py_int(g["ordinal"]) : 0;
  int64_t year;
  if (!g.count("year") || g["year"].empty()) year = gm.tm_year + 1900;
  else if (g["year"].size() == 2) year = 100 * ((gm.tm_year + 1900) / 100) + *py_int(g["year"]);
  else year = *py_int(g["year"]);
  int64_t month;
  if (!g.count("month") || g["month"].empty()) month = ordinal ? 1 : gm.tm_mon + 1;
  else month = *py_int(g["month"]);
  int64_t day;
  if (!g.count("day") || g["day"].empty()) {
    if (ordinal) day = ordinal;
    else if ((g.count("century") && !g["century"].empty()) || (g.count("year") && !g["year"].empty()) ||
             (g.count("month") && !g["month"].empty()))
      day = 1;
    else day = gm.tm_mday;
  } else {
    day = *py_int(g["day"]);
  }
  if (present.count("century")) {
    if (!g.count("century")) return std::nullopt;  // int(None) -> TypeError... not caught: no date
    year = (*py_int(g["century"]) - 1) * 100 + 1;
  }
  auto num = [&](const char* k) -> int64_t {
    auto it = g.find(k);
    if (it == g.end() || it->second.empty()) return 0;
    return py_int(it->second).value_or(0);
  };
  int64_t hour = num("hour"), minute = num("minute"), second = num("second");
  std::string tz = g.count("tz") ? g["tz"] : "";
  if (!tz.empty() && tz != "Z") {
    if (tz[0] == '-') { hour += num("tzhour"); minute += num("tzmin"); }
    else if (tz[0] == '+') { hour -= num("tzhour"); minute -= num("tzmin"); }
    else return std::nullopt;
  }
  return normalised_stamp(year, month, day, hour, minute, second);
}

std::optional<int64_t> date_asctime(std::string_view in) {
  std::vector<std::string> p = py_split_ws(in);
  if (p.size() == 5) p.insert(p.begin() + 4, "+0000");
  if (p.size() != 6) return std::nullopt;
  return date_rfc822(p[0] + " " + p[2] + " " + p[1] + " " + p[5] + " " + p[3] + " " + p[4]);
}

std::optional<int64_t> date_perforce(std::string_view in) {
  static const Regex re(R"((\w{0,3}), (\d{0,4})/(\d{0,2})/(\d{2}) (\d{0,2}):(\d{2}):(\d{2}) (\w{0,3}))");
  std::vector<std::string_view> mv;
  if (!re.search(in, 0, mv)) return std::nullopt;
  const Groups m{mv};
  static const char* mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto mo = py_int(m[3].str());
  if (!mo || *mo < 1 || *mo > 12) return std::nullopt;
  return date_rfc822(m[1].str() + ", " + m[4].str() + " " + mon[*mo - 1] + " " + m[2].str() + " " + m[5].str() +
                     ":" + m[6].str() + ":" + m[7].str() + " " + m[8].str());
}

std::optional<int64_t> date_hungarian(std::string_view in) {
  static const Regex re(R"(^(\d{4})-([^-]+)-(\d{0,2})T(\d{0,2}):(\d{2})([+-](\d{0,2}:\d{2})))");
  static const std::map<std::string, std::string> months = {
      {"janu\xC3\xA1r", "01"},  {"febru\xC3\xA1ri", "02"}, {"m\xC3\xA1rcius", "03"}, {"\xC3\xA1prilis", "04"},
      {"m\xC3\xA1ujus", "05"},  {"j\xC3\xBAnius", "06"},   {"j\xC3\xBAlius", "07"},  {"augusztus", "08"},
      {"szeptember", "09"},     {"okt\xC3\xB3" "ber", "10"},  {"november", "11"},      {"december", "12"}};
  std::vector<std::string_view> mv;
  if (!re.search(in, 0, mv)) return std::nullopt;
  const Groups m{mv};
  auto it = months.find(m[2].str());
  if (it == months.end()) return std::nullopt;
  std::string day = m[3].str(), hour = m[4].str();
  if (day.size() == 1) day = "0" + day;
  if (hour.size() == 1) hour = "0" + hour;
  return date_w3dtf(m[1].str() + "-" + it->second + "-" + day + "T" + hour + ":" + m[5].str() + m[6].str());
}

std::optional<int64_t> date_greek(std::string_view in) {
  static const std::map<std::string, std::string> months = {
      {"\xCE\x99\xCE\xB1\xCE\xBD", "Jan"},
      {"\xCE\xA6\xCE\xB5\xCE\xB2", "Feb"},
      {"\xCE\x9C\xCE\xAC\xCF\x8E", "Mar"},
      {"\xCE\x9C\xCE\xB1\xCF\x8E", "Mar"},
      {"\xCE\x91\xCF\x80\xCF\x81", "Apr"},
      {"\xCE\x9C\xCE\xAC\xCE\xB9", "May"},
      {"\xCE\x9C\xCE\xB1\xCF\x8A", "May"},
      {"\xCE\x9C\xCE\xB1\xCE\xB9", "May"},
      {"\xCE\x99\xCE\xBF\xCF\x8D\xCE\xBD", "Jun"},
      {"\xCE\x99\xCE\xBF\xCE\xBD", "Jun"},
      {"\xCE\x99\xCE\xBF\xCF\x8D\xCE\xBB", "Jul"},
      {"\xCE\x99\xCE\xBF\xCE\xBB", "Jul"},
      {"\xCE\x91\xCF\x8D\xCE\xB3", "Aug"},
      {"\xCE\x91\xCF\x85\xCE\xB3", "Aug"},
      {"\xCE\xA3\xCE\xB5\xCF\x80", "Sep"},
      {"\xCE\x9F\xCE\xBA\xCF\x84", "Oct"},
      {"\xCE\x9D\xCE\xBF\xCE\xAD", "Nov"},
      {"\xCE\x9D\xCE\xBF\xCE\xB5", "Nov"},
      {"\xCE\x94\xCE\xB5\xCE\xBA", "Dec"}};
  static const std::map<std::string, std::string> wdays = {
      {"\xCE\x9A\xCF\x85\xCF\x81", "Sun"},
      {"\xCE\x94\xCE\xB5\xCF\x85", "Mon"},
      {"\xCE\xA4\xCF\x81\xCE\xB9", "Tue"},
      {"\xCE\xA4\xCE\xB5\xCF\x84", "Wed"},
      {"\xCE\xA0\xCE\xB5\xCE\xBC", "Thu"},
      {"\xCE\xA0\xCE\xB1\xCF\x81", "Fri"},
      {"\xCE\xA3\xCE\xB1\xCE\xB2", "Sat"}};
  static const Regex re("^([^,]+),[ \t\n\v\f\r]+(\\d{2})[ \t\n\v\f\r]+([^ \t\n\v\f\r]+)[ \t\n\v\f\r]+(\\d{4})"
                        "[ \t\n\v\f\r]+(\\d{2}):(\\d{2}):(\\d{2})[ \t\n\v\f\r]+([^ \t\n\v\f\r]+)");
  std::vector<std::string_view> mv;
  if (!re.search(in, 0, mv)) return std::nullopt;
  const Groups m{mv};
  auto w = wdays.find(m[1].str());
  auto mo = months.find(m[3].str());
  if (w == wdays.end() || mo == months.end()) return std::nullopt;
  return date_rfc822(w->second + ", " + m[2].str() + " " + mo->second + " " + m[4].str() + " " + m[5].str() + ":" +
                     m[6].str() + ":" + m[7].str() + " " + m[8].str());
}

std::optional<int64_t> date_korean(std::string_view in) {
  // OnBlog: "2004년 05월 28일 01:31:15" (+09:00); Nate: "2004-05-25 오후 11:23:17" (+09:00)
  static const Regex onblog(
      "^(\\d{4})\xEB\x85\x84[ \t\n\v\f\r]+(\\d{2})\xEC\x9B\x94[ \t\n\v\f\r]+(\\d{2})\xEC\x9D\xBC[ \t\n\v\f\r]+"
      "(\\d{2}):(\\d{2}):(\\d{2})");
  static const Regex nate(
      "^(\\d{4})-(\\d{2})-(\\d{2})[ \t\n\v\f\r]+(\xEC\x98\xA4\xEC\xA0\x84|\xEC\x98\xA4\xED\x9B\x84)[ \t\n\v\f\r]+"
      "(\\d{0,2}):(\\d{0,2}):(\\d{0,2})");
  std::vector<std::string_view> mv;
  if (nate.search(in, 0, mv)) {
    const Groups m{mv};
    auto h = py_int(m[5].str());
    if (!h) return std::nullopt;
    int64_t hour = *h;
    if (m[4].str() == "\xEC\x98\xA4\xED\x9B\x84") hour += 12;
    std::string hs = std::to_string(hour);
    if (hs.size() == 1) hs = "0" + hs;
    return date_w3dtf(m[1].str() + "-" + m[2].str() + "-" + m[3].str() + "T" + hs + ":" + m[6].str() + ":" +
                      m[7].str() + "+09:00");
  }
  if (onblog.search(in, 0, mv)) {
    const Groups m{mv};
    return date_w3dtf(m[1].str() + "-" + m[2].str() + "-" + m[3].str() + "T" + m[4].str() + ":" + m[5].str() + ":" +
                      m[6].str() + "+09:00");
  }
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> parse_feed_date(std::string_view s) {
  if (s.empty() || s.size() > limits::kMaxDateBytes) return std::nullopt;
  for (auto* fn : {date_w3dtf, date_rfc822, date_iso8601, date_asctime, date_perforce, date_hungarian, date_greek, date_korean}) {
    if (auto r = fn(s)) return r;
  }
  return std::nullopt;
}

std::string format_utc(int64_t t) {
  int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  int64_t secs = t - days * 86400;
  // civil_from_days
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp + (mp < 10 ? 3 : -9);
  y += m <= 2;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  return buf;
}

namespace {
// ---------------------------------------------------------------------------------------------
// Character sets (port of feedparser's convert_to_utf8: HTTP > XML declaration > BOM > sniffing)
// ---------------------------------------------------------------------------------------------

// Strict decoding: false when the charset is unknown or the bytes are not valid in it.
bool strict_decode(std::string_view bytes, const std::string& charset, std::string& out) {
  LegacyCharset legacy = legacy_charset_from_label(charset);
  if (legacy != LegacyCharset::kNone) return decode_legacy_charset(bytes, legacy, out);
  std::string cs = lower(charset);
  if (cs == "utf-8" || cs == "utf8" || cs == "utf_8" || cs == "u8") {
    if (!is_valid_utf8(bytes)) return false;
    out.assign(bytes);
    return true;
  }
  if (cs == "windows-1252" || cs == "cp1252" || cs == "windows_1252") {
    // ICU maps the five undefined bytes to C1 controls; Python (and so feedparser) rejects them.
    for (char c : bytes) {
      unsigned char b = static_cast<unsigned char>(c);
      if (b == 0x81 || b == 0x8D || b == 0x8F || b == 0x90 || b == 0x9D) return false;
    }
  }
  UErrorCode err = U_ZERO_ERROR;
  UConverter* conv = ucnv_open(cs.c_str(), &err);
  if (U_FAILURE(err) || !conv) return false;
  std::unique_ptr<UConverter, void (*)(UConverter*)> guard(conv, ucnv_close);
  ucnv_setToUCallBack(conv, UCNV_TO_U_CALLBACK_STOP, nullptr, nullptr, nullptr, &err);
  if (U_FAILURE(err)) return false;
  // bytes -> UTF-16 -> UTF-8
  std::vector<UChar> u16(bytes.size() * 2 + 16);
  const char* src = bytes.data();
  const char* src_end = src + bytes.size();
  UChar* dst = u16.data();
  ucnv_toUnicode(conv, &dst, u16.data() + u16.size(), &src, src_end, nullptr, true, &err);
  if (U_FAILURE(err)) return false;
  out.clear();
  out.reserve(static_cast<size_t>(dst - u16.data()) * 2);
  for (const UChar* p = u16.data(); p < dst; ++p) {
    char32_t c = *p;
    if (c >= 0xD800 && c <= 0xDBFF && p + 1 < dst && p[1] >= 0xDC00 && p[1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (p[1] - 0xDC00);
      ++p;
    } else if (c >= 0xD800 && c <= 0xDFFF) {
      return false;
    }
    put_utf8(out, c);
  }
  return true;
}

std::string sniff_charset(std::string_view bytes) {
  UErrorCode err = U_ZERO_ERROR;
  UCharsetDetector* det = ucsdet_open(&err);
  if (U_FAILURE(err)) return {};
  std::unique_ptr<UCharsetDetector, void (*)(UCharsetDetector*)> guard(det, ucsdet_close);
  ucsdet_setText(det, bytes.data(), static_cast<int32_t>(std::min<size_t>(bytes.size(), 65536)), &err);
  const UCharsetMatch* m = ucsdet_detect(det, &err);
  if (U_FAILURE(err) || !m) return {};
  const char* name = ucsdet_getName(m, &err);
  if (U_FAILURE(err) || !name) return {};
  return lower(name);
}

struct Decoded {
  std::string text;        // UTF-8
  std::string encoding;    // "" when nothing worked
  std::string error;       // bozo message or ""
};

std::string header_param_charset(std::string_view ct, std::string& media_type) {
  // cgi.parse_header: "type/sub; charset=x"
  auto semi = ct.find(';');
  media_type = lower(std::string(trim(ct.substr(0, semi))));
  if (semi == std::string_view::npos) return {};
  std::string_view rest = ct.substr(semi + 1);
  while (!rest.empty()) {
    auto next = rest.find(';');
    std::string_view p = trim(rest.substr(0, next));
    auto eq = p.find('=');
    if (eq != std::string_view::npos && lower(std::string(trim(p.substr(0, eq)))) == "charset") {
      std::string v(trim(p.substr(eq + 1)));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      v.erase(std::remove(v.begin(), v.end(), '\''), v.end());
      return v;
    }
    if (next == std::string_view::npos) break;
    rest = rest.substr(next + 1);
  }
  return {};
}

Decoded convert_to_utf8(std::string_view data, const FeedHttpHeaders& hdr) {
  Decoded r;
  std::string bom_encoding, xml_encoding;
  auto pre = [&](const char* p, size_t n) { return data.size() >= n && std::memcmp(data.data(), p, n) == 0; };
  if (pre("\x00\x00\xFE\xFF", 4)) { bom_encoding = "utf-32be"; data.remove_prefix(4); }
  else if (pre("\xFF\xFE\x00\x00", 4)) { bom_encoding = "utf-32le"; data.remove_prefix(4); }
  else if (pre("\xFE\xFF", 2) && !(data.size() >= 4 && data[2] == 0 && data[3] == 0)) { bom_encoding = "utf-16be"; data.remove_prefix(2); }
  else if (pre("\xFF\xFE", 2) && !(data.size() >= 4 && data[2] == 0 && data[3] == 0)) { bom_encoding = "utf-16le"; data.remove_prefix(2); }
  else if (pre("\xEF\xBB\xBF", 3)) { bom_encoding = "utf-8"; data.remove_prefix(3); }
  else if (pre("\x4C\x6F\xA7\x94", 4)) bom_encoding = "cp037";
  else if (pre("\x00\x3C\x00\x3F", 4)) bom_encoding = "utf-16be";
  else if (pre("\x3C\x00\x3F\x00", 4)) bom_encoding = "utf-16le";
  else if (pre("\x00\x00\x00\x3C", 4)) bom_encoding = "utf-32be";
  else if (pre("\x3C\x00\x00\x00", 4)) bom_encoding = "utf-32le";

  // XML declaration encoding (looked for in the data decoded with the BOM/sniffed encoding)
  std::string head;
  bool head_ok = true;
  if (!bom_encoding.empty()) head_ok = strict_decode(data.substr(0, std::min<size_t>(data.size(), 4096) & ~size_t(3)), bom_encoding, head);
  else head.assign(data.substr(0, std::min<size_t>(data.size(), 4096)));
  if (head_ok && starts_with(head, "<?")) {
    auto end = head.find("?>");
    auto nl = head.find('\n');
    if (end != std::string::npos && (nl == std::string::npos || nl > end)) {
      std::string_view decl(head.data(), end);
      auto enc = decl.rfind("encoding=");
      if (enc != std::string_view::npos && enc + 9 < decl.size() && (decl[enc + 9] == '"' || decl[enc + 9] == '\'')) {
        auto close = decl.find_first_of("\"'", enc + 10);
        if (close != std::string_view::npos) xml_encoding = lower(std::string(decl.substr(enc + 10, close - enc - 10)));
      }
    }
  }
  static const std::set<std::string> multi = {"u16", "utf-16", "utf16", "utf_16", "u32", "utf-32", "utf32", "utf_32",
                                              "iso-10646-ucs-2", "iso-10646-ucs-4", "csucs4", "csunicode", "ucs-2", "ucs-4"};
  if (!bom_encoding.empty() && multi.count(xml_encoding)) xml_encoding = bom_encoding;

  std::string media_type;
  std::string http_encoding = header_param_charset(hdr.content_type, media_type);
  bool acceptable = false;
  std::string rfc3023;
  static const std::set<std::string> app_types = {"application/xml", "application/xml-dtd",
                                                  "application/xml-external-parsed-entity"};
  if (app_types.count(media_type) || (starts_with(media_type, "application/") && ends_with(media_type, "+xml"))) {
    acceptable = true;
    rfc3023 = !http_encoding.empty() ? http_encoding : !xml_encoding.empty() ? xml_encoding : "utf-8";
  } else if (media_type == "text/xml" || media_type == "text/xml-external-parsed-entity" ||
             (starts_with(media_type, "text/") && ends_with(media_type, "+xml"))) {
    acceptable = true;
    rfc3023 = !http_encoding.empty() ? http_encoding : "us-ascii";
  } else if (starts_with(media_type, "text/")) {
    rfc3023 = !http_encoding.empty() ? http_encoding : "us-ascii";
  } else if (hdr.present && hdr.content_type.empty()) {
    rfc3023 = !xml_encoding.empty() ? xml_encoding : "iso-8859-1";
  } else {
    rfc3023 = !xml_encoding.empty() ? xml_encoding : "utf-8";
  }
  if (lower(rfc3023) == "gb2312") rfc3023 = "gb18030";
  if (xml_encoding == "gb2312") xml_encoding = "gb18030";
  if (hdr.present && !acceptable) {
    r.error = hdr.content_type.empty() ? "NonXMLContentType: no Content-type specified"
                                       : "NonXMLContentType: " + hdr.content_type + " is not an XML media type";
  }
  std::vector<std::string> tried;
  std::string used;
  bool sniffed = false;
  std::string candidates[7] = {rfc3023, xml_encoding, bom_encoding, "", "utf-8", "windows-1252", "iso-8859-2"};
  for (int i = 0; i < 7; ++i) {
    std::string p = candidates[i];
    if (i == 3 && !sniffed) {
      sniffed = true;
      // Bytes that are valid UTF-8 are UTF-8 (statistical detectors sometimes say otherwise for
      // short, mostly-ASCII text); only sniff when that fails.
      p = is_valid_utf8(data) ? "utf-8" : sniff_charset(data);
    }
    if (p.empty()) continue;
    if (std::find(tried.begin(), tried.end(), p) != tried.end()) continue;
    tried.push_back(p);
    std::string out;
    if (strict_decode(data, p, out)) {
      r.text = std::move(out);
      used = p;
      break;
    }
  }
  if (used.empty()) {
    r.error = "CharacterEncodingUnknown: document encoding unknown, I tried " + rfc3023 + ", " + xml_encoding +
              ", utf-8, windows-1252, and iso-8859-2 but nothing worked";
    r.encoding.clear();
    // still give the caller something readable
    convert_charset(data, "windows-1252", r.text);
    return r;
  }
  if (used != rfc3023) {
    r.error = "CharacterEncodingOverride: document declared as " + rfc3023 + ", but parsed as " + used;
  }
  r.encoding = used;
  // the XML declaration now lies about the encoding: replace it, as feedparser does
  if (starts_with(r.text, "<?xml")) {
    auto e = r.text.find('>');
    if (e != std::string::npos) r.text.replace(0, e + 1, "<?xml version='1.0' encoding='utf-8'?>");
  } else {
    r.text = "<?xml version='1.0' encoding='utf-8'?>\n" + r.text;
  }
  return r;
}

// DOCTYPE handling (feedparser's replace_doctype): netscape DOCTYPE -> rss091n; "safe" internal
// entity declarations are kept as a name -> replacement map; the DOCTYPE itself is removed.
struct Doctype {
  std::string version;
  std::map<std::string, std::string> entities;
};

// Removes every match of `re` from `text`, keeping its group 1; returns group 2 of each match.
std::vector<std::string> cut_matches(std::string& text, const Regex& re) {
  std::vector<std::string> found;
  std::vector<std::string_view> m;
  std::string out;
  size_t pos = 0, copied = 0;
  while (pos <= text.size() && re.search(text, pos, m)) {
    const size_t b = offset_in(text, m[0]), e = b + m[0].size();
    out.append(text, copied, b - copied);
    out.append(m[1]);
    found.emplace_back(m[2]);
    copied = e;
    pos = e > b ? e : e + 1;
  }
  if (found.empty()) return found;
  out.append(text, copied, std::string::npos);
  text = std::move(out);
  return found;
}

Doctype replace_doctype(std::string& data) {
  Doctype d;
  size_t start = std::string::npos;
  for (size_t i = 0; i + 1 < data.size(); ++i) {
    if (data[i] == '<' && is_word_char(static_cast<unsigned char>(data[i + 1]))) { start = i; break; }
  }
  if (start == std::string::npos) return d;
  std::string head = data.substr(0, start + 1), rest = data.substr(start + 1);
  if (head.find("<!") == std::string::npos) return d;
  // RE2 (linear time): a 50 KB DOCTYPE overflowed the recursion of libstdc++'s regex engine.
  static const Regex entity_re(R"((^|\n)[ \t\r\f\v]*<!ENTITY([^>]*?)>)");
  static const Regex doctype_re(R"((^|\n)[ \t\r\f\v\n]*<!DOCTYPE([^>]*?)>)");
  static const Regex safe_re("^[ \t\n\v\f\r]+(\\w+)[ \t\n\v\f\r]+\"(&#\\w+;|[^&\"]*)\"");
  std::vector<std::string> ents = cut_matches(head, entity_re);
  std::vector<std::string> doctypes = cut_matches(head, doctype_re);
  if (!doctypes.empty() && lower(doctypes[0]).find("netscape") != std::string::npos) d.version = "rss091n";
  if (doctypes.size() == 1) {
    std::vector<std::string_view> m;
    for (const auto& e : ents)
      if (safe_re.search(e, 0, m)) d.entities[std::string(m[1])] = std::string(m[2]);
  }
  data = head + rest;
  return d;
}

// ---------------------------------------------------------------------------------------------
// URL joining (Python urllib.parse.urljoin semantics, as feedparser uses them)
// ---------------------------------------------------------------------------------------------

struct SplitUrl {
  std::string scheme, netloc, path, query, fragment;
  bool has_netloc = false, has_query = false, has_fragment = false;
  bool invalid = false;
};

SplitUrl url_split(std::string_view s, std::string_view default_scheme) {
  SplitUrl u;
  u.scheme = std::string(default_scheme);
  auto colon = s.find(':');
  if (colon != std::string_view::npos && colon > 0 && std::isalpha(static_cast<unsigned char>(s[0]))) {
    bool ok = true;
    for (size_t i = 0; i < colon; ++i) {
      char c = s[i];
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.')) { ok = false; break; }
    }
    if (ok) {
      u.scheme = lower(s.substr(0, colon));
      s.remove_prefix(colon + 1);
    }
  }
  if (starts_with(s, "//")) {
    s.remove_prefix(2);
    auto e = s.find_first_of("/?#");
    u.netloc = std::string(s.substr(0, e));
    u.has_netloc = true;
    // Python raises ValueError("Invalid IPv6 URL") here; feedparser then uses ""
    if ((u.netloc.find('[') == std::string::npos) != (u.netloc.find(']') == std::string::npos)) u.invalid = true;
    s = e == std::string_view::npos ? std::string_view() : s.substr(e);
  }
  if (auto h = s.find('#'); h != std::string_view::npos) {
    u.fragment = std::string(s.substr(h + 1));
    u.has_fragment = true;
    s = s.substr(0, h);
  }
  if (auto q = s.find('?'); q != std::string_view::npos) {
    u.query = std::string(s.substr(q + 1));
    u.has_query = true;
    s = s.substr(0, q);
  }
  u.path = std::string(s);
  return u;
}

std::string url_unsplit(const SplitUrl& u) {
  std::string out;
  std::string url = u.path;
  if (!u.netloc.empty() || (!u.scheme.empty() && u.has_netloc && (url.empty() || url[0] == '/'))) {
    if (!url.empty() && url[0] != '/') url = "/" + url;
    url = "//" + u.netloc + url;
  } else if (!u.netloc.empty()) {
    url = "//" + u.netloc + url;
  }
  if (!u.scheme.empty()) out = u.scheme + ":";
  out += url;
  if (!u.query.empty()) out += "?" + u.query;
  if (!u.fragment.empty()) out += "#" + u.fragment;
  return out;
}

bool uses_relative(const std::string& s) {
  static const std::set<std::string> v = {"", "ftp", "http", "gopher", "nntp", "imap", "wais", "file", "https",
                                          "shttp", "mms", "prospero", "rtsp", "rtspu", "sftp", "svn", "svn+ssh",
                                          "ws", "wss"};
  return v.count(s) > 0;
}

std::string py_urljoin(std::string_view base, std::string_view url) {
  if (base.empty()) return std::string(url);
  if (url.empty()) return std::string(base);
  SplitUrl b = url_split(base, "");
  SplitUrl u = url_split(url, b.scheme);
  if (b.invalid || u.invalid) return {};
  if (u.scheme != b.scheme || !uses_relative(u.scheme)) return std::string(url);
  if (u.has_netloc && !u.netloc.empty()) return std::string(url);
  u.netloc = b.netloc;
  u.has_netloc = b.has_netloc;
  if (u.path.empty()) {
    u.path = b.path;
    if (!u.has_query || u.query.empty()) u.query = b.query;
    return url_unsplit(u);
  }
  std::vector<std::string> base_parts = py_split(b.path, '/');
  if (!base_parts.empty() && !base_parts.back().empty()) base_parts.pop_back();
  std::vector<std::string> segments;
  if (u.path[0] == '/') {
    segments = py_split(u.path, '/');
  } else {
    segments = base_parts;
    for (auto& p : py_split(u.path, '/')) segments.push_back(p);
    if (segments.size() > 2) {
      std::vector<std::string> mid;
      for (size_t i = 1; i + 1 < segments.size(); ++i)
        if (!segments[i].empty()) mid.push_back(segments[i]);
      std::vector<std::string> s2{segments.front()};
      s2.insert(s2.end(), mid.begin(), mid.end());
      s2.push_back(segments.back());
      segments = std::move(s2);
    }
  }
  std::vector<std::string> resolved;
  for (const auto& seg : segments) {
    if (seg == "..") {
      if (!resolved.empty()) resolved.pop_back();
    } else if (seg == ".") {
      continue;
    } else {
      resolved.push_back(seg);
    }
  }
  if (!segments.empty() && (segments.back() == "." || segments.back() == "..")) resolved.push_back("");
  std::string path;
  for (size_t i = 0; i < resolved.size(); ++i) {
    if (i) path += '/';
    path += resolved[i];
  }
  u.path = path.empty() ? "/" : path;
  return url_unsplit(u);
}

// feedparser's _urljoin: collapses extra slashes after "scheme://" first.
std::string fp_urljoin(std::string_view base, std::string_view uri) {
  std::string u(uri);
  // ^([A-Za-z][A-Za-z0-9+\-.]*://)(/*) -> $1
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  if (!u.empty() && alpha(u[0])) {
    size_t i = 1;
    while (i < u.size() && (alpha(u[i]) || (u[i] >= '0' && u[i] <= '9') || u[i] == '+' || u[i] == '-' || u[i] == '.')) ++i;
    if (u.compare(i, 3, "://") == 0) {
      size_t j = i + 3, k = j;
      while (k < u.size() && u[k] == '/') ++k;
      u.erase(j, k - j);
    }
  }
  return py_urljoin(base, u);
}

bool acceptable_scheme(std::string_view uri) {
  static const std::set<std::string> schemes = {
      "file", "ftp", "gopher", "h323", "hdl", "http", "https", "imap", "magnet", "mailto", "mms", "news", "nntp",
      "prospero", "rsync", "rtsp", "rtspu", "sftp", "shttp", "sip", "sips", "snews", "svn", "svn+ssh", "telnet",
      "wais", "aim", "callto", "cvs", "facetime", "feed", "git", "gtalk", "irc", "ircs", "irc6", "itms", "msnim",
      "skype", "ssh", "smb", "ymsg"};
  std::string s = py_strip(uri);
  return schemes.count(s.substr(0, s.find(':'))) > 0;
}

std::string make_safe_absolute_uri(std::string_view base, std::string_view rel) {
  if (base.empty()) return std::string(rel);
  if (rel.empty()) {
    SplitUrl b = url_split(base, "");
    if (b.scheme.empty() || acceptable_scheme(b.scheme + ":")) return std::string(base);
    return {};
  }
  std::string uri = fp_urljoin(base, rel);
  if (!acceptable_scheme(uri)) return {};
  return uri;
}

// ---------------------------------------------------------------------------------------------
// The feed state machine: a port of feedparser's _FeedParserMixin and its namespace handlers.
// Both the strict (pugixml) and the loose (SGML tokenizer) readers drive it with events.
// ---------------------------------------------------------------------------------------------

using Attrs = std::vector<std::pair<std::string, std::string>>;

const std::string* attr_get(const Attrs& a, std::string_view k) {
  for (auto it = a.rbegin(); it != a.rend(); ++it)
    if (it->first == k) return &it->second;
  return nullptr;
}
void attr_set(Attrs& a, const std::string& k, const std::string& v) {
  for (auto& p : a)
    if (p.first == k) { p.second = v; return; }
  a.emplace_back(k, v);
}
void attr_setdefault(Attrs& a, const std::string& k, const std::string& v) {
  if (!attr_get(a, k)) a.emplace_back(k, v);
}
void attr_del(Attrs& a, std::string_view k) {
  a.erase(std::remove_if(a.begin(), a.end(), [&](const auto& p) { return p.first == k; }), a.end());
}
Attrs attr_dict(const Attrs& in) {  // dict(attrs): last wins, first position kept
  Attrs out;
  for (const auto& p : in) attr_set(out, p.first, p.second);
  return out;
}

using Dict = std::map<std::string, std::string>;

struct TagV {
  std::optional<std::string> term, scheme, label;
  bool operator==(const TagV& o) const { return term == o.term && scheme == o.scheme && label == o.label; }
};

struct ContentV {
  std::string type, value;
};

struct Ctx {
  Dict kv;                               // plain string values by key
  std::map<std::string, int> depth;      // property_depth_map
  std::map<std::string, std::string> detail_type;  // "title" -> type of title_detail
  bool has_author_detail = false;
  Dict author_detail;
  std::vector<Dict> authors;
  bool has_tags = false;
  std::vector<TagV> tags;
  std::vector<Attrs> links;
  std::vector<ContentV> content;
  std::vector<Attrs> media_thumbnail, media_content;
  std::optional<std::optional<int64_t>> published_parsed, updated_parsed;
  std::optional<bool> guidislink;
  std::unique_ptr<Ctx> image, textinput;
};

// Bound on the text produced by internal entity references (issue 14: one 15 KB entity referenced 40,000 times
// took 1.8 GB). Each reference takes the size of its replacement; once the budget is spent, further
// references expand to nothing and the feed is bozo (see core/limits.h).
struct EntityBudget {
  size_t limit = 0, used = 0;
  bool exceeded = false;
  bool take(size_t n) {
    if (exceeded || n > limit - used) {
      exceeded = true;
      return false;
    }
    used += n;
    return true;
  }
  void restart() {
    used = 0;
    exceeded = false;
  }
};

struct StackEntry {
  std::string element;
  bool expecting_text;
  std::vector<std::string> pieces;
};

class FeedMachine {
 public:
  FeedMachine(std::string baseuri, std::string baselang, bool loose, std::map<std::string, std::string> entities,
              EntityBudget& budget)
      : baseuri_(std::move(baseuri)),
        lang_(std::move(baselang)),
        loose_(loose),
        entities_(std::move(entities)),
        budget_(budget) {
    if (!lang_.empty()) feed_.kv["language"] = replace_us(lang_);
  }

  std::string version;
  std::string first_tag;  // root element as reported (for "not a feed" errors)
  Ctx feed_;
  std::vector<Ctx> entries;
  size_t items_dropped = 0;  // items past limits::kMaxFeedItems

  // ---- events -------------------------------------------------------------------------------
  void start_prefix_mapping(const std::optional<std::string>& prefix, const std::string& uri) {
    track_namespace(prefix, uri);
  }

  void unknown_starttag(std::string tag, Attrs attrs_in);
  void unknown_endtag(std::string tag);
  void handle_data(const std::string& text, bool escape = true) {
    if (stack_.empty()) return;
    if (escape && ctype() == "application/xhtml+xml") stack_.back().pieces.push_back(xml_escape(text, false));
    else stack_.back().pieces.push_back(text);
  }
  void handle_charref(std::string ref);
  void handle_entityref(const std::string& ref);

  // strict-mode name mapping helpers
  std::optional<std::string> match_namespace(const std::string& lowernamespace) const {
    auto it = known_namespaces().find(lowernamespace);
    if (it == known_namespaces().end()) return std::nullopt;
    return it->second;
  }
  const std::map<std::string, std::string>& namespaces_in_use() const { return namespaces_in_use_; }

  static const std::map<std::string, std::string>& known_namespaces();

 private:
  // ---- state --------------------------------------------------------------------------------
  std::string baseuri_, lang_;
  bool lang_null_ = false;
  bool loose_;
  std::map<std::string, std::string> entities_;
  EntityBudget& budget_;
  std::map<std::string, std::string> namespaces_in_use_;
  std::map<std::string, std::string> namespacemap_;  // document prefix ("" for default) -> standard prefix
  bool infeed_ = false, inentry_ = false, intextinput_ = false, inimage_ = false, inauthor_ = false,
       incontributor_ = false, inpublisher_ = false, insource_ = false;
  int incontent_ = 0;
  Ctx sourcedata_;
  bool has_contentparams_ = false;
  std::optional<std::string> cp_type_;
  bool cp_base64_ = false;
  std::string summary_key_;  // "", "content", "summary"
  std::vector<StackEntry> stack_;
  std::vector<std::string> basestack_;
  std::vector<std::optional<std::string>> langstack_;
  int svg_ok_ = 0;
  int title_depth_ = -1;
  int depth_ = 0;
  bool has_content_ = false;
  bool guidislink_ = false;

  static std::string replace_us(std::string s) {
    std::replace(s.begin(), s.end(), '_', '-');
    return s;
  }
  std::string ctype() const { return cp_type_ ? *cp_type_ : std::string(); }
  bool ctype_endswith_xml() const { return !cp_type_ || ends_with(*cp_type_, "xml"); }

  static std::string map_content_type(std::string t) {
    t = lower(t);
    if (t == "text" || t == "plain") return "text/plain";
    if (t == "html") return "text/html";
    if (t == "xhtml") return "application/xhtml+xml";
    return t;
  }
  static bool is_html_type(const std::string& t) { return t == "application/xhtml+xml" || t == "text/html"; }

  void track_namespace(const std::optional<std::string>& prefix, std::string uri) {
    std::string loweruri = lower(uri);
    if (version.empty()) {
      if (!prefix && loweruri == "http://my.netscape.com/rdf/simple/0.9/") version = "rss090";
      else if (loweruri == "http://purl.org/rss/1.0/") version = "rss10";
      else if (loweruri == "http://www.w3.org/2005/atom") version = "atom10";
    }
    if (loweruri.find("backend.userland.com/rss") != std::string::npos) {
      uri = "http://backend.userland.com/rss";
      loweruri = uri;
    }
    auto m = match_namespace(loweruri);
    std::string key = prefix ? *prefix : std::string();
    if (m) {
      namespacemap_[prefix ? *prefix : std::string("\x01none")] = *m;
      namespaces_in_use_[*m] = uri;
    } else {
      namespaces_in_use_[key] = uri;
    }
  }
  std::string map_prefix(const std::string& p) const {
    // namespacemap.get(prefix, prefix); the default namespace is keyed by None, never by ''
    auto it = namespacemap_.find(p);
    return it == namespacemap_.end() ? p : it->second;
  }

  Ctx& context() {
    if (insource_) return sourcedata_;
    if (inimage_ && feed_.image) return *feed_.image;
    if (intextinput_) {
      if (!feed_.textinput) feed_.textinput = std::make_unique<Ctx>();
      return *feed_.textinput;
    }
    if (inentry_ && !entries.empty()) return entries.back();
    return feed_;
  }

  void push(const std::string& element, bool expecting_text) { stack_.push_back({element, expecting_text, {}}); }
  std::optional<std::string> pop(const std::string& element, bool strip = true);
  void push_content(const std::string& tag, const Attrs& a, const std::string& default_type, bool expecting_text) {
    ++incontent_;
    if (!lang_.empty()) lang_ = replace_us(lang_);
    const std::string* t = attr_get(a, "type");
    has_contentparams_ = true;
    cp_type_ = map_content_type(t ? *t : default_type);
    cp_base64_ = is_base64(a);
    push(tag, expecting_text);
  }
  std::optional<std::string> pop_content(const std::string& tag) {
    auto v = pop(tag);
    --incontent_;
    has_contentparams_ = false;
    cp_type_.reset();
    cp_base64_ = false;
    return v;
  }
  bool is_base64(const Attrs& a) const {
    const std::string* mode = attr_get(a, "mode");
    if (mode && *mode == "base64") return true;
    const std::string t = ctype();
    if (starts_with(t, "text/")) return false;
    if (ends_with(t, "+xml") || ends_with(t, "/xml")) return false;
    return true;
  }

  static bool looks_like_html(const std::string& s);
  std::string resolve_uri(const std::string& uri) const { return fp_urljoin(baseuri_, uri); }
  std::string decode_entities(const std::string& data) const;

  void save(const std::string& key, const std::string& value, bool overwrite = false) {
    Ctx& c = context();
    if (overwrite || !c.kv.count(key)) c.kv[key] = value;
  }
  void save_author(const std::string& key, const std::string& value, const std::string& prefix = "author") {
    Ctx& c = context();
    if (prefix == "author") {
      c.has_author_detail = true;
      c.author_detail[key] = value;
      sync_author_detail();
      if (c.authors.empty()) c.authors.emplace_back();
      c.authors.back()[key] = value;
    }
    // publisher details are not part of the output
  }
  void sync_author_detail(const std::string& key = "author");
  void add_tag(const std::optional<std::string>& term, const std::optional<std::string>& scheme,
               const std::optional<std::string>& label) {
    Ctx& c = context();
    c.has_tags = true;
    auto nonempty = [](const std::optional<std::string>& s) { return s && !s->empty(); };
    if (!nonempty(term) && !nonempty(scheme) && !nonempty(label)) return;
    TagV v{term, scheme, label};
    if (std::find(c.tags.begin(), c.tags.end(), v) == c.tags.end()) c.tags.push_back(v);
  }
  void set_pieces(const std::string& v) {
    if (!stack_.empty()) stack_.back().pieces = {v};
  }

  bool dispatch_start(const std::string& name, Attrs& a);
  bool dispatch_end(const std::string& name);

  // handlers
  void start_item(Attrs& a);
  void end_item() {
    pop("item");
    inentry_ = false;
    has_content_ = false;
    // Bounded memory: items past the limit are parsed (the document must still be read) but not kept.
    if (entries.size() > limits::kMaxFeedItems) {
      entries.pop_back();
      ++items_dropped;
    }
  }
  void cdf_common(Attrs& a);
  void start_link(Attrs a);
  void start_author() {
    inauthor_ = true;
    push("author", true);
    context().authors.emplace_back();
  }
  void end_author() {
    pop("author");
    inauthor_ = false;
    sync_author_detail();
  }
  void start_title(Attrs& a) {
    push_content("title", a, "text/plain", infeed_ || inentry_ || insource_);
  }
  void end_title() {
    auto v = pop_content("title");
    if (!v || v->empty()) return;
    title_depth_ = depth_;
  }
  void start_description(Attrs& a) {
    Ctx& c = context();
    if (c.kv.count("summary") && !has_content_) {
      summary_key_ = "content";
      start_content(a);
    } else {
      push_content("description", a, "text/html", infeed_ || inentry_ || insource_);
    }
  }
  void end_description() {
    if (summary_key_ == "content") end_content();
    else pop_content("description");
    summary_key_.clear();
  }
  void start_summary(Attrs& a) {
    Ctx& c = context();
    if (c.kv.count("summary") && !has_content_) {
      summary_key_ = "content";
      start_content(a);
    } else {
      summary_key_ = "summary";
      push_content(summary_key_, a, "text/plain", true);
    }
  }
  void end_summary() {
    if (summary_key_ == "content") end_content();
    else pop_content(summary_key_.empty() ? "summary" : summary_key_);
    summary_key_.clear();
  }
  void start_content(Attrs& a) {
    has_content_ = true;
    push_content("content", a, "text/plain", true);
    push("content", true);  // feedparser pushes twice; the inner one is what pop_content closes
  }
  void end_content() {
    bool copy = false;
    std::string t = map_content_type(ctype());
    copy = t == "text/plain" || is_html_type(t);
    auto v = pop_content("content");
    if (copy) save("summary", v ? *v : std::string());
  }
  void start_category(Attrs& a) {
    const std::string* term = attr_get(a, "term");
    const std::string* scheme = attr_get(a, "scheme");
    if (!scheme) scheme = attr_get(a, "domain");
    const std::string* label = attr_get(a, "label");
    add_tag(term ? std::optional<std::string>(*term) : std::nullopt,
            scheme ? std::optional<std::string>(*scheme) : std::nullopt,
            label ? std::optional<std::string>(*label) : std::nullopt);
    push("category", true);
  }
  void end_category() {
    auto v = pop("category");
    if (!v || v->empty()) return;
    Ctx& c = context();
    if (!c.tags.empty() && (!c.tags.back().term || c.tags.back().term->empty())) c.tags.back().term = *v;
    else add_tag(*v, std::nullopt, std::nullopt);
  }
  void end_date(const std::string& key) {
    auto v = pop(key);
    std::optional<int64_t> t;
    if (v) t = parse_feed_date(*v);
    Ctx& c = context();
    if (key == "published") c.published_parsed = t;
    else if (key == "updated") c.updated_parsed = t;
  }
};

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

std::string FeedMachine::decode_entities(const std::string& in) const {
  if (!loose_) return in;
  std::string d = in;
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
  if (ref == "lt" || ref == "gt" || ref == "quot" || ref == "amp" || ref == "apos") {
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

std::optional<std::string> FeedMachine::pop(const std::string& element, bool strip) {
  if (stack_.empty() || stack_.back().element != element) return std::nullopt;
  StackEntry e = std::move(stack_.back());
  stack_.pop_back();
  auto& pieces = e.pieces;
  if (version == "atom10" && (cp_type_ ? *cp_type_ : std::string("text")) == "application/xhtml+xml") {
    // remove the enclosing <div> when all the remaining content is nested under it
    auto blank = [](const std::string& p) { return py_strip(p).empty(); };
    while (pieces.size() > 1 && blank(pieces.back())) pieces.pop_back();
    while (pieces.size() > 1 && blank(pieces.front())) pieces.erase(pieces.begin());
    if (!pieces.empty() && (pieces.front() == "<div>" || starts_with(pieces.front(), "<div ")) &&
        pieces.back() == "</div>") {
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
  for (const auto& p : pieces) output += p;
  if (strip) output = py_strip(output);
  if (!e.expecting_text) return output;

  if (has_contentparams_ && cp_base64_) {
    bool ok = false;
    std::string dec = b64_decode_lenient(output, ok);
    if (ok && is_valid_utf8(dec)) output = dec;
  }
  static const std::set<std::string> relative = {"comments", "docs", "href", "icon", "id", "link", "logo", "url",
                                                 "wfw_comment", "wfw_commentrss"};
  if (relative.count(element) && !output.empty()) {
    if (element != "id" || guidislink_) output = resolve_uri(output);
  }
  if (!(has_contentparams_ && cp_base64_)) output = decode_entities(output);
  if (!starts_with(version, "atom") && cp_type_ && *cp_type_ == "text/plain") {
    if (looks_like_html(output)) cp_type_ = "text/html";
  }
  cp_base64_ = false;
  output = fix_value(output);

  if (element == "category" || element == "tags" || element == "itunes_keywords") return output;
  if (element == "title" && -1 < title_depth_ && title_depth_ <= depth_) return output;

  if (inentry_ && !insource_ && !entries.empty()) {
    Ctx& ent = entries.back();
    if (element == "content") {
      ent.content.push_back({ctype(), output});
    } else if (element == "link") {
      if (!inimage_) {
        replace_all(output, "&amp;", "&");
        if (output.find('&') != std::string::npos) output = drop_entity_semicolons(output);
        ent.kv["link"] = output;
        if (!output.empty() && !ent.links.empty()) attr_set(ent.links.back(), "href", output);
      }
    } else {
      std::string el = element == "description" ? "summary" : element;
      auto it = ent.depth.find(el);
      if (it == ent.depth.end() || depth_ <= it->second) {
        ent.depth[el] = depth_;
        ent.kv[el] = output;
      }
      if (incontent_) ent.detail_type[el] = ctype();
    }
  } else if (infeed_ || insource_) {
    Ctx& c = context();
    std::string el = element == "description" ? "subtitle" : element;
    c.kv[el] = output;
    if (el == "link") {
      if (output.find('&') != std::string::npos) output = drop_entity_semicolons(output);
      c.kv[el] = output;
      if (!c.links.empty()) attr_set(c.links.back(), "href", output);
    } else if (incontent_) {
      c.detail_type[el] = ctype();
    }
  }
  return output;
}

void FeedMachine::sync_author_detail(const std::string& key) {
  if (key != "author") return;
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
  static const Regex email_re(
      R"((([a-zA-Z0-9_.+-]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9-]+\.)+))([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=[^ \t\n\v\f\r]+)?)");
  std::vector<std::string_view> m;
  if (email_re.search(author, 0, m)) {
    email = std::string(m[0]);
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
  attr_setdefault(a, "rel", "alternate");
  if (*attr_get(a, "rel") == "self") attr_setdefault(a, "type", "application/atom+xml");
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
  if (!(inentry_ && inimage_)) c.links.push_back(a);
  if (const std::string* hr = attr_get(a, "href")) {
    const std::string* rel = attr_get(a, "rel");
    const std::string* type = attr_get(a, "type");
    if (rel && *rel == "alternate" && is_html_type(map_content_type(type ? *type : std::string()))) c.kv["link"] = *hr;
  } else {
    push("link", expecting);
  }
}

bool FeedMachine::dispatch_start(const std::string& n, Attrs& a) {
  auto is = [&](std::initializer_list<const char*> names) {
    for (const char* x : names)
      if (n == x) return true;
    return false;
  };
  if (n == "rss") {
    if (version.empty() || !starts_with(version, "rss")) {
      const std::string* v = attr_get(a, "version");
      std::string av = v ? *v : "";
      if (av == "0.91") version = "rss091u";
      else if (av == "0.92") version = "rss092";
      else if (av == "0.93") version = "rss093";
      else if (av == "0.94") version = "rss094";
      else if (starts_with(av, "2.")) version = "rss20";
      else version = "rss";
    }
  } else if (n == "channel") {
    infeed_ = true;
    cdf_common(a);
  } else if (n == "feed") {
    infeed_ = true;
    if (version.empty()) {
      const std::string* v = attr_get(a, "version");
      std::string av = v ? *v : "";
      version = av == "0.1" ? "atom01" : av == "0.2" ? "atom02" : av == "0.3" ? "atom03" : "atom";
    }
  } else if (n == "image") {
    if (!inentry_ && &context() == &feed_ && !feed_.image) feed_.image = std::make_unique<Ctx>();
    inimage_ = true;
    title_depth_ = -1;
    push("image", false);
  } else if (n == "textinput") {
    if (!feed_.textinput) feed_.textinput = std::make_unique<Ctx>();
    intextinput_ = true;
    title_depth_ = -1;
    push("textinput", false);
  } else if (is({"author", "managingeditor", "dc_author", "dc_creator", "itunes_author"})) {
    start_author();
  } else if (n == "contributor") {
    incontributor_ = true;
    push("contributor", false);
  } else if (n == "dc_contributor") {
    incontributor_ = true;
    push("name", false);
  } else if (is({"name", "itunes_name"})) {
    push("name", false);
  } else if (is({"width", "height"})) {
    push(n, false);
  } else if (is({"url", "homepage", "uri"})) {
    push("href", true);
  } else if (is({"email", "itunes_email"})) {
    push("email", false);
  } else if (is({"subtitle", "tagline", "itunes_subtitle"})) {
    push_content("subtitle", a, "text/plain", true);
  } else if (is({"rights", "copyright", "dc_rights"})) {
    push_content("rights", a, "text/plain", true);
  } else if (is({"item", "entry"})) {
    start_item(a);
  } else if (is({"language", "dc_language"})) {
    push("language", true);
  } else if (is({"webmaster", "dc_publisher"})) {
    push("publisher", true);
  } else if (is({"published", "issued", "pubdate", "dcterms_issued"})) {
    push("published", true);
  } else if (is({"updated", "modified", "lastbuilddate", "dc_date", "dcterms_modified"})) {
    push("updated", true);
  } else if (is({"created", "dcterms_created"})) {
    push("created", true);
  } else if (n == "expirationdate") {
    push("expired", true);
  } else if (is({"category", "keywords", "dc_subject"})) {
    start_category(a);
  } else if (n == "media_category") {
    attr_setdefault(a, "scheme", "http://search.yahoo.com/mrss/category_schema");
    start_category(a);
  } else if (n == "itunes_category") {
    const std::string* t = attr_get(a, "text");
    add_tag(t ? std::optional<std::string>(*t) : std::nullopt, std::string("http://www.itunes.com/"), std::nullopt);
    push("category", true);
  } else if (n == "cloud") {
    // stored as a dict by feedparser; not part of the output
  } else if (n == "link") {
    start_link(a);
  } else if (is({"guid", "id"})) {
    const std::string* p = attr_get(a, "ispermalink");
    guidislink_ = !p || *p == "true";
    push("id", true);
  } else if (is({"title", "dc_title", "media_title"})) {
    start_title(a);
  } else if (is({"description", "dc_description", "media_description"})) {
    start_description(a);
  } else if (n == "abstract") {
    push_content("description", a, "text/plain", infeed_ || inentry_ || insource_);
  } else if (is({"info", "feedburner_browserfriendly"})) {
    push_content("info", a, "text/plain", true);
  } else if (n == "generator") {
    push("generator", true);
  } else if (is({"summary", "itunes_summary"})) {
    start_summary(a);
  } else if (n == "enclosure") {
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
    context().links.push_back(a);
  } else if (n == "source") {
    if (const std::string* u = attr_get(a, "url")) sourcedata_.kv["href"] = *u;
    push("source", true);
    insource_ = true;
    title_depth_ = -1;
  } else if (n == "content") {
    start_content(a);
  } else if (is({"body", "xhtml_body"})) {
    push_content("content", a, "application/xhtml+xml", true);
  } else if (is({"content_encoded", "fullitem"})) {
    has_content_ = true;
    push_content("content", a, "text/html", true);
  } else if (n == "newlocation") {
    push("newlocation", true);
  } else if (n == "tags") {
    push("tags", true);
  } else if (n == "media_group") {
  } else if (n == "media_rating") {
    push("rating", true);
  } else if (n == "media_credit") {
    push("credit", true);
  } else if (n == "media_restriction") {
    push("restriction", true);
  } else if (n == "media_license") {
    push("license", true);
  } else if (n == "media_content") {
    context().media_content.push_back(a);
  } else if (n == "media_thumbnail") {
    push("url", true);
    context().media_thumbnail.push_back(a);
  } else if (n == "media_player") {
    push("media_player", false);
  } else if (n == "itunes_owner") {
    inpublisher_ = true;
    push("publisher", false);
  } else if (is({"itunes_image", "itunes_link"})) {
    push("itunes_image", false);
  } else if (n == "dcterms_valid") {
    push("validity", true);
  } else {
    return false;
  }
  return true;
}

bool FeedMachine::dispatch_end(const std::string& n) {
  auto is = [&](std::initializer_list<const char*> names) {
    for (const char* x : names)
      if (n == x) return true;
    return false;
  };
  if (is({"channel", "feed"})) {
    infeed_ = false;
  } else if (n == "image") {
    pop("image");
    inimage_ = false;
  } else if (n == "textinput") {
    pop("textinput");
    intextinput_ = false;
  } else if (is({"author", "managingeditor", "dc_author", "dc_creator", "itunes_author"})) {
    end_author();
  } else if (n == "contributor") {
    pop("contributor");
    incontributor_ = false;
  } else if (is({"name", "itunes_name", "dc_contributor"})) {
    auto v = pop("name");
    std::string val = v ? *v : "";
    if (inpublisher_) {
    } else if (inauthor_) {
      save_author("name", val);
    } else if (incontributor_) {
    } else if (intextinput_) {
      context().kv["name"] = val;
    }
    if (n == "dc_contributor") incontributor_ = false;
  } else if (is({"width", "height"})) {
    pop(n);
  } else if (is({"url", "homepage", "uri"})) {
    auto v = pop("href");
    if (inauthor_) save_author("href", v ? *v : "");
  } else if (is({"email", "itunes_email"})) {
    auto v = pop("email");
    if (!inpublisher_ && inauthor_) save_author("email", v ? *v : "");
  } else if (is({"subtitle", "tagline", "itunes_subtitle"})) {
    pop_content("subtitle");
  } else if (is({"rights", "copyright", "dc_rights"})) {
    pop_content("rights");
  } else if (is({"item", "entry"})) {
    end_item();
  } else if (is({"language", "dc_language"})) {
    auto v = pop("language");
    lang_ = v ? *v : "";
    lang_null_ = !v;
  } else if (is({"webmaster", "dc_publisher"})) {
    pop("publisher");
  } else if (is({"published", "issued", "pubdate", "dcterms_issued"})) {
    end_date("published");
  } else if (is({"updated", "modified", "lastbuilddate", "dc_date", "dcterms_modified"})) {
    end_date("updated");
  } else if (is({"created", "dcterms_created"})) {
    pop("created");
  } else if (n == "expirationdate") {
    pop("expired");
  } else if (is({"category", "keywords", "dc_subject", "media_category", "itunes_category"})) {
    end_category();
  } else if (n == "link") {
    pop("link");
  } else if (is({"guid", "id"})) {
    auto v = pop("id");
    Ctx& c = context();
    if (!c.guidislink) c.guidislink = guidislink_ && !c.kv.count("link");
    if (guidislink_) save("link", v ? *v : "");
  } else if (is({"title", "dc_title"})) {
    if (svg_ok_) return true;
    end_title();
  } else if (n == "media_title") {
    int td = title_depth_;
    end_title();
    title_depth_ = td;
  } else if (is({"description", "abstract", "dc_description", "media_description"})) {
    end_description();
  } else if (is({"info", "feedburner_browserfriendly"})) {
    pop_content("info");
  } else if (n == "generator") {
    pop("generator");
  } else if (is({"summary", "itunes_summary"})) {
    end_summary();
  } else if (n == "source") {
    insource_ = false;
    auto v = pop("source");
    sourcedata_ = Ctx();
    (void)v;
  } else if (is({"content", "body", "xhtml_body", "content_encoded", "fullitem"})) {
    end_content();
  } else if (n == "newlocation") {
    pop("newlocation");
  } else if (n == "tags") {
    auto v = pop("tags");
    if (v)
      for (auto& t : py_split(*v, ',')) add_tag(py_strip(t), std::nullopt, std::nullopt);
  } else if (n == "media_keywords" || n == "itunes_keywords") {
    auto v = pop(n);
    if (v)
      for (auto& t : py_split(*v, ',')) {
        std::string s = py_strip(t);
        if (s.empty()) continue;
        if (n == "itunes_keywords") add_tag(s, std::string("http://www.itunes.com/"), std::nullopt);
        else add_tag(s, std::nullopt, std::nullopt);
      }
  } else if (n == "media_rating") {
    pop("rating");
  } else if (n == "media_credit") {
    pop("credit");
  } else if (n == "media_restriction") {
    pop("restriction");
  } else if (n == "media_license") {
    pop("license");
  } else if (n == "media_thumbnail") {
    auto url = pop("url");
    Ctx& c = context();
    if (url && !py_strip(*url).empty() && !c.media_thumbnail.empty() && !attr_get(c.media_thumbnail.back(), "url"))
      attr_set(c.media_thumbnail.back(), "url", *url);
  } else if (n == "media_player") {
    pop("media_player");
  } else if (n == "itunes_owner") {
    pop("publisher");
    inpublisher_ = false;
  } else if (n == "dcterms_valid") {
    pop("validity");
  } else {
    return false;
  }
  return true;
}

void FeedMachine::unknown_starttag(std::string tag, Attrs attrs) {
  ++depth_;
  if (first_tag.empty()) first_tag = tag;
  for (auto& kv : attrs) {
    kv.first = lower(kv.first);
    if (kv.first == "rel" || kv.first == "type") kv.second = lower(kv.second);
    if (loose_) replace_all(kv.second, "&amp;", "&");
  }
  Attrs ad = attr_dict(attrs);
  const std::string* xb = attr_get(ad, "xml:base");
  if (!xb) xb = attr_get(ad, "base");
  if (xb && !xb->empty()) {
    if (!baseuri_.empty()) {
      std::string s = make_safe_absolute_uri(baseuri_, *xb);
      if (!s.empty()) baseuri_ = s;
    } else {
      baseuri_ = fp_urljoin(baseuri_, *xb);
    }
  }
  const std::string* lg = attr_get(ad, "xml:lang");
  if (!lg) lg = attr_get(ad, "lang");
  if (lg) {
    if (lg->empty()) {
      lang_.clear();
      lang_null_ = true;
    } else {
      lang_ = *lg;
      lang_null_ = false;
    }
  }
  if (!lang_.empty() && (tag == "feed" || tag == "rss")) feed_.kv["language"] = replace_us(lang_);
  basestack_.push_back(baseuri_);
  langstack_.push_back(lang_null_ ? std::nullopt : std::optional<std::string>(lang_));

  for (const auto& kv : attrs) {
    if (starts_with(kv.first, "xmlns:")) track_namespace(kv.first.substr(6), kv.second);
    else if (kv.first == "xmlns") track_namespace(std::nullopt, kv.second);
  }

  if (incontent_ && !ctype_endswith_xml()) {
    if (tag == "xhtml:div" || tag == "div") return;
    cp_type_ = "application/xhtml+xml";
  }
  if (incontent_ && ctype() == "application/xhtml+xml") {
    std::string t = tag;
    if (auto c = t.find(':'); c != std::string::npos) {
      std::string prefix = t.substr(0, c);
      t = t.substr(c + 1);
      auto it = namespaces_in_use_.find(prefix);
      std::string ns = it == namespaces_in_use_.end() ? "" : it->second;
      if (t == "math" && ns == "http://www.w3.org/1998/Math/MathML") attrs.emplace_back("xmlns", ns);
      if (t == "svg" && ns == "http://www.w3.org/2000/svg") attrs.emplace_back("xmlns", ns);
    }
    if (t == "svg") ++svg_ok_;
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

  std::string prefix, suffix = tag;
  if (auto c = tag.find(':'); c != std::string::npos) {
    prefix = tag.substr(0, c);
    suffix = tag.substr(c + 1);
  }
  prefix = map_prefix(prefix);
  if (!prefix.empty()) prefix += "_";
  if (prefix.empty() && tag != "title" && tag != "link" && tag != "description" && tag != "name") intextinput_ = false;
  if (prefix.empty() && tag != "title" && tag != "link" && tag != "description" && tag != "url" && tag != "href" &&
      tag != "width" && tag != "height")
    inimage_ = false;

  std::string name = prefix + suffix;
  if (dispatch_start(name, ad)) return;
  if (ad.empty()) push(name, true);
  // elements with attributes but no handler are stored as dicts by feedparser: not output
}

void FeedMachine::unknown_endtag(std::string tag) {
  std::string prefix, suffix = tag;
  if (auto c = tag.find(':'); c != std::string::npos) {
    prefix = tag.substr(0, c);
    suffix = tag.substr(c + 1);
  }
  prefix = map_prefix(prefix);
  if (!prefix.empty()) prefix += "_";
  if (suffix == "svg" && svg_ok_) --svg_ok_;
  std::string name = prefix + suffix;
  bool handled = false;
  if (!svg_ok_) handled = dispatch_end(name);
  if (!handled) pop(name);

  if (incontent_ && !ctype_endswith_xml()) {
    if (tag == "xhtml:div" || tag == "div") return;
    cp_type_ = "application/xhtml+xml";
  }
  if (incontent_ && ctype() == "application/xhtml+xml") {
    std::string t = tag.substr(tag.rfind(':') == std::string::npos ? 0 : tag.rfind(':') + 1);
    handle_data("</" + t + ">", false);
  }
  if (!basestack_.empty()) {
    basestack_.pop_back();
    if (!basestack_.empty() && !basestack_.back().empty()) baseuri_ = basestack_.back();
  }
  if (!langstack_.empty()) {
    langstack_.pop_back();
    if (!langstack_.empty()) {
      lang_null_ = !langstack_.back();
      lang_ = langstack_.back().value_or("");
    }
  }
  --depth_;
}

// ---------------------------------------------------------------------------------------------
// Strict reader: pugixml tree -> namespace-aware SAX-like events (as expat + xml.sax would give)
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Loose reader: sgmllib-style tokenizer (feedparser's _LooseFeedParser) for documents that are
// not well-formed. Flat event stream: every start tag and end tag is reported as written.
// ---------------------------------------------------------------------------------------------

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
    m_.unknown_starttag(tag, attrs);
    if (j > i + 2 && s.compare(j - 2, 2, "/>") == 0) m_.unknown_endtag(lasttag_);
    return static_cast<long>(j);
  }

  long parse_endtag(const std::string& s, size_t i) {
    long jb = end_bracket(s, i + 1);
    if (jb < 0) return -1;
    size_t j = static_cast<size_t>(jb);
    std::string tag = lower(std::string(trim(std::string_view(s).substr(i + 2, j - i - 2))));
    if (j < s.size() && s[j] == '>') ++j;
    m_.unknown_endtag(tag);
    return static_cast<long>(j);
  }
};

// ---------------------------------------------------------------------------------------------
// Result assembly
// ---------------------------------------------------------------------------------------------

std::string kv_get(const Ctx& c, const char* k, bool* has = nullptr) {
  auto it = c.kv.find(k);
  if (has) *has = it != c.kv.end();
  return it == c.kv.end() ? std::string() : it->second;
}

std::string detail_of(const Ctx& c, const char* k) {
  auto it = c.detail_type.find(k);
  return it == c.detail_type.end() ? std::string() : it->second;
}

std::vector<std::string> tag_terms(const Ctx& c) {
  std::vector<std::string> out;
  for (const auto& t : c.tags)
    if (t.term && !t.term->empty()) out.push_back(*t.term);
  return out;
}

void fill_author(const Ctx& c, std::string& author, bool& has, std::string* name, std::string* email,
                 std::vector<std::string>* authors) {
  author = kv_get(c, "author", &has);
  if (name && c.has_author_detail) {
    auto n = c.author_detail.find("name");
    if (n != c.author_detail.end()) *name = n->second;
    auto e = c.author_detail.find("email");
    if (e != c.author_detail.end() && email) *email = e->second;
  }
  if (authors) {
    std::vector<std::string> names;
    for (const auto& a : c.authors) {
      if (a.empty()) continue;
      auto n = a.find("name");
      auto e = a.find("email");
      if (n != a.end() && !n->second.empty()) names.push_back(n->second);
      else if (e != a.end() && !e->second.empty()) names.push_back(e->second);
      else names.push_back("");
    }
    if (names.size() > 1) *authors = names;
  }
}

// core/limits.h, applied to what the parser produced: over-long URLs and dates are dropped, titles cut; each
// kind of excess is named once in bozo_exception.
void apply_limits(ParsedFeed& out) {
  std::set<std::string> hits;
  auto url = [&](std::string& u, const char* what) {
    if (u.size() <= limits::kMaxUrlBytes) return;
    u.clear();
    hits.insert(std::string(what) + " longer than " + std::to_string(limits::kMaxUrlBytes) + " bytes dropped");
  };
  auto date = [&](std::string& d, const char* what) {
    if (d.size() <= limits::kMaxDateBytes) return;
    d.clear();
    hits.insert(std::string(what) + " longer than " + std::to_string(limits::kMaxDateBytes) + " bytes dropped");
  };
  auto title = [&](std::string& t) {
    if (t.size() <= limits::kMaxTitleBytes) return;
    size_t n = limits::kMaxTitleBytes;
    while (n > 0 && (static_cast<unsigned char>(t[n]) & 0xC0) == 0x80) --n;  // keep whole UTF-8 characters
    t.resize(n);
    hits.insert("title longer than " + std::to_string(limits::kMaxTitleBytes) + " bytes truncated");
  };
  url(out.link, "feed link");
  title(out.title);
  for (FeedItem& it : out.items) {
    url(it.link, "item link");
    title(it.title);
    date(it.published_raw, "item date");
    date(it.updated_raw, "item date");
    for (auto& e : it.enclosures) url(e.href, "enclosure URL");
    for (auto& m : it.media_content) url(m.url, "media URL");
    std::erase_if(it.media_thumbnails, [&](std::string& u) {
      url(u, "media URL");
      return u.empty();
    });
  }
  if (hits.empty()) return;
  std::string msg = "LimitExceeded: ";
  for (const auto& h : hits) msg += (msg.size() > 15 ? "; " : "") + h;
  out.bozo = true;
  out.bozo_exception = out.bozo_exception.empty() ? msg : out.bozo_exception + "; " + msg;
}

}  // namespace

ParsedFeed parse_feed(std::string_view bytes, const FeedHttpHeaders& headers, std::string_view base_url) {
  ParsedFeed out;
  if (bytes.empty()) {
    out.bozo = true;
    out.bozo_exception = "NotAFeed: empty document";
    return out;
  }
  Decoded dec = convert_to_utf8(bytes, headers);
  out.encoding = dec.encoding;
  if (!dec.error.empty()) {
    out.bozo = true;
    out.bozo_exception = dec.error;
  }
  std::string text = std::move(dec.text);
  Doctype dt = replace_doctype(text);

  std::string baseuri;
  std::string href(base_url);
  std::string contentloc = headers.content_location;
  baseuri = make_safe_absolute_uri(href, contentloc);
  if (baseuri.empty()) baseuri = make_safe_absolute_uri(contentloc, "");
  if (baseuri.empty()) baseuri = href;

  std::unique_ptr<FeedMachine> machine;
  bool strict_ok = false;
  EntityBudget budget;
  budget.limit = std::min(limits::kMaxEntityExpansionBytes, limits::kEntityExpansionFactor * bytes.size());
  if (!dec.encoding.empty()) {
    machine = std::make_unique<FeedMachine>(baseuri, headers.content_language, false, dt.entities, budget);
    StrictReader reader(*machine, dt.entities, budget);
    std::string err = reader.run(text);
    if (err.empty()) {
      strict_ok = true;
    } else {
      out.bozo = true;
      out.bozo_exception = "SAXParseException: " + err;
    }
  }
  if (!strict_ok) {
    budget.restart();
    machine = std::make_unique<FeedMachine>(baseuri, headers.content_language, true, dt.entities, budget);
    LooseReader reader(*machine);
    reader.run(text);
  }
  FeedMachine& m = *machine;
  if (budget.exceeded) {
    out.bozo = true;
    out.bozo_exception = "EntityExpansionLimit: internal entity references expand to more than " +
                         std::to_string(budget.limit) + " bytes (" + std::to_string(limits::kEntityExpansionFactor) +
                         "x the document, at most " + std::to_string(limits::kMaxEntityExpansionBytes >> 20) +
                         " MiB); the references past the limit were dropped";
  }
  if (m.items_dropped) {
    out.bozo = true;
    std::string why = "ItemLimit: " + std::to_string(m.items_dropped) + " items past the first " +
                      std::to_string(limits::kMaxFeedItems) + " were ignored";
    out.bozo_exception = out.bozo_exception.empty() ? why : out.bozo_exception + "; " + why;
  }
  out.format = !dt.version.empty() ? dt.version : m.version;
  if (out.format.empty() && !out.bozo) {
    // feedparser reports such documents as clean; callers need to know there was no feed in it
    out.bozo = true;
    out.bozo_exception = m.first_tag.empty() ? "NotAFeed: no element found"
                                             : "NotAFeed: root element <" + m.first_tag + "> is not RSS, RDF or Atom";
  }

  const Ctx& f = m.feed_;
  out.title = kv_get(f, "title", &out.has_title);
  out.title_type = detail_of(f, "title");
  out.link = kv_get(f, "link", &out.has_link);
  out.id = kv_get(f, "id", &out.has_id);
  out.subtitle = kv_get(f, "subtitle", &out.has_subtitle);
  if (f.published_parsed && *f.published_parsed) out.published = format_utc(**f.published_parsed);
  if (f.updated_parsed && *f.updated_parsed) out.updated = format_utc(**f.updated_parsed);
  out.language = kv_get(f, "language", &out.has_language);
  fill_author(f, out.author, out.has_author, nullptr, nullptr, nullptr);
  out.categories = tag_terms(f);

  out.items.reserve(m.entries.size());
  for (const Ctx& e : m.entries) {
    FeedItem it;
    it.title = kv_get(e, "title", &it.has_title);
    it.title_type = detail_of(e, "title");
    it.link = kv_get(e, "link", &it.has_link);
    it.id = kv_get(e, "id", &it.has_id);
    if (e.published_parsed && *e.published_parsed) it.published = format_utc(**e.published_parsed);
    if (e.updated_parsed && *e.updated_parsed) it.updated = format_utc(**e.updated_parsed);
    it.published_raw = kv_get(e, "published", &it.has_published);
    it.updated_raw = kv_get(e, "updated", &it.has_updated);
    it.summary = kv_get(e, "summary", &it.has_summary);
    it.summary_type = detail_of(e, "summary");
    if (!e.content.empty()) {
      it.has_content = true;
      it.content = e.content[0].value;
      it.content_type = e.content[0].type;
      for (const auto& c : e.content) it.contents.push_back(c.value);
      it.summary_copied_from_content = it.has_summary && it.summary == it.content;
    }
    fill_author(e, it.author, it.has_author, &it.author_name, &it.author_email, &it.authors);
    it.categories = tag_terms(e);
    for (const auto& l : e.links) {
      const std::string* rel = attr_get(l, "rel");
      if (!rel || *rel != "enclosure") continue;
      FeedEnclosure enc;
      if (auto* h = attr_get(l, "href")) enc.href = *h;
      if (auto* t = attr_get(l, "type")) enc.type = *t;
      if (auto* n = attr_get(l, "length")) enc.length = *n;
      it.enclosures.push_back(enc);
    }
    for (const auto& t : e.media_thumbnail)
      if (auto* u = attr_get(t, "url"); u && !u->empty()) it.media_thumbnails.push_back(*u);
    for (const auto& c : e.media_content) {
      FeedMediaContent mc;
      if (auto* u = attr_get(c, "url")) mc.url = *u;
      if (auto* t = attr_get(c, "type")) mc.type = *t;
      if (auto* md = attr_get(c, "medium")) mc.medium = *md;
      it.media_content.push_back(mc);
    }
    if (e.guidislink) {
      it.has_guidislink = true;
      it.guidislink = *e.guidislink;
    }
    out.items.push_back(std::move(it));
  }
  apply_limits(out);
  return out;
}

ParsedFeed parse_feed(std::string_view bytes, std::string_view content_type, std::string_view base_url) {
  FeedHttpHeaders h;
  if (!content_type.empty()) {
    h.present = true;
    h.content_type = std::string(content_type);
  }
  return parse_feed(bytes, h, base_url);
}

FeedHttpHeaders feed_headers_from_json(std::string_view json_object) {
  FeedHttpHeaders h;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_object);
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("http headers: ") + e.what());
  }
  if (!j.is_object()) throw std::invalid_argument("http headers: not a JSON object");
  h.present = true;
  h.content_type = "application/xml";
  for (auto& [k, v] : j.items()) {
    std::string lk = lower(k);
    std::string sv = v.is_string() ? v.get<std::string>() : v.dump();
    if (lk == "content-type") h.content_type = sv;
    else if (lk == "content-location") h.content_location = sv;
    else if (lk == "content-language") h.content_language = sv;
  }
  return h;
}

nlohmann::json feed_to_oracle_json(const ParsedFeed& f) {
  using nlohmann::json;
  auto opt = [](bool has, const std::string& v) { return has ? json(v) : json(nullptr); };
  auto nz = [](const std::string& v) { return v.empty() ? json(nullptr) : json(v); };
  json j;
  j["schema"] = 1;
  j["format"] = f.format;
  j["encoding"] = f.encoding;
  j["bozo"] = f.bozo;
  j["bozo_exception"] = f.bozo ? json(f.bozo_exception) : json(nullptr);
  json feed;
  feed["title"] = opt(f.has_title, f.title);
  feed["title_type"] = nz(f.title_type);
  feed["link"] = opt(f.has_link, f.link);
  feed["id"] = opt(f.has_id, f.id);
  feed["subtitle"] = opt(f.has_subtitle, f.subtitle);
  feed["published"] = nz(f.published);
  feed["updated"] = nz(f.updated);
  feed["language"] = opt(f.has_language, f.language);
  feed["author"] = opt(f.has_author, f.author);
  feed["categories"] = f.categories;
  j["feed"] = feed;
  json items = json::array();
  for (const auto& it : f.items) {
    json o;
    o["title"] = opt(it.has_title, it.title);
    o["title_type"] = nz(it.title_type);
    o["link"] = opt(it.has_link, it.link);
    o["id"] = opt(it.has_id, it.id);
    o["published"] = nz(it.published);
    o["updated"] = nz(it.updated);
    o["summary"] = opt(it.has_summary, it.summary);
    o["summary_type"] = nz(it.summary_type);
    o["content"] = opt(it.has_content, it.content);
    o["content_type"] = it.has_content ? nz(it.content_type) : json(nullptr);
    o["author"] = opt(it.has_author, it.author);
    if (!it.author_name.empty() || !it.author_email.empty()) {
      json d = json::object();
      if (!it.author_name.empty()) d["name"] = it.author_name;
      if (!it.author_email.empty()) d["email"] = it.author_email;
      o["author_detail"] = d;
    }
    if (!it.authors.empty()) o["authors"] = it.authors;
    o["categories"] = it.categories;
    json encs = json::array();
    for (const auto& e : it.enclosures) {
      json x = json::object();
      if (!e.href.empty()) x["href"] = e.href;
      if (!e.type.empty()) x["type"] = e.type;
      if (!e.length.empty()) x["length"] = e.length;
      encs.push_back(x);
    }
    o["enclosures"] = encs;
    o["media_thumbnails"] = it.media_thumbnails;
    json mcs = json::array();
    for (const auto& m : it.media_content) {
      json x = json::object();
      if (!m.url.empty()) x["url"] = m.url;
      if (!m.type.empty()) x["type"] = m.type;
      if (!m.medium.empty()) x["medium"] = m.medium;
      mcs.push_back(x);
    }
    o["media_content"] = mcs;
    json extra = json::object();
    if (it.has_published) extra["published_raw"] = it.published_raw;
    if (it.has_updated) extra["updated_raw"] = it.updated_raw;
    if (it.has_guidislink) extra["guidislink"] = it.guidislink;
    if (it.summary_copied_from_content) extra["summary_copied_from_content"] = true;
    if (it.contents.size() > 1) extra["content_all"] = it.contents;
    o["_extra"] = extra;
    items.push_back(o);
  }
  j["items"] = items;
  return j;
}

}  // namespace baotin
