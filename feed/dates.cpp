#include "feed/machine.h"

#include "core/limits.h"
#include "core/regex.h"

namespace baotin {
using namespace feed_internal;
namespace {

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
  // Fast rejection of what is not W3DTF (an RFC 822 date such as "Thu, 06 Feb 2025 ..." comes here first):
  // when there is a 't', the year is what precedes the first 't' up to the first '-', and it must be 4 long.
  if (size_t t = in.find_first_of("tT"); t != std::string_view::npos) {
    std::string_view year = in.substr(0, t);
    year = year.substr(0, year.find('-'));
    if (year.size() != 4) return std::nullopt;
  }
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

// The two forms nearly every feed uses, read without the dispatcher's splitting (one date per item). Each
// accepts only strings for which the dispatcher's answer is known: W3DTF "YYYY-MM-DDTHH:MM:SS[.f](Z|+HH:MM)"
// is what date_w3dtf (tried first) returns, and RFC 822 "[Ddd, ]D[D] Mon YYYY HH:MM:SS (+HHMM|GMT)" is
// rejected by date_w3dtf (no four-digit year before a 't' or '-') and read by date_rfc822. A string that
// matches but is out of range goes through the dispatcher as before.
namespace {

bool digits(std::string_view s, size_t at, size_t n, int64_t& v) {
  if (at + n > s.size()) return false;
  v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  return true;
}

std::optional<int64_t> fast_w3dtf(std::string_view s) {
  int64_t y, mo, d, h, mi, sec;
  if (s.size() < 20 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec))
    return std::nullopt;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    size_t b = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == b) return std::nullopt;
  }
  int64_t tz = 0;
  if (i + 1 == s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    tz = 0;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int64_t th, tm;
    if (!digits(s, i + 1, 2, th) || !digits(s, i + 4, 2, tm)) return std::nullopt;
    tz = th * 60 + tm;
    if (s[i] == '-') tz = -tz;
  } else {
    return std::nullopt;
  }
  return checked_stamp(y, mo, d, h, mi, sec, tz);
}

int month_abbrev(std::string_view s, size_t at) {
  static constexpr std::string_view names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                               "jul", "aug", "sep", "oct", "nov", "dec"};
  if (at + 3 > s.size()) return 0;
  char m[3];
  for (int k = 0; k < 3; ++k) m[k] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[at + k])));
  for (int k = 0; k < 12; ++k)
    if (std::string_view(m, 3) == names[k]) return k + 1;
  return 0;
}

std::optional<int64_t> fast_rfc822(std::string_view s) {
  size_t i = 0;
  if (s.size() >= 5 && s[3] == ',' && s[4] == ' ') {
    static constexpr std::string_view days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    char dn[3];
    for (int k = 0; k < 3; ++k) dn[k] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[k])));
    bool ok = false;
    for (auto x : days) ok = ok || std::string_view(dn, 3) == x;
    if (!ok) return std::nullopt;
    i = 5;
  }
  int64_t d, y, h, mi, sec;
  size_t dl = i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9' ? 2 : 1;
  if (!digits(s, i, dl, d)) return std::nullopt;
  i += dl;
  if (i >= s.size() || s[i] != ' ') return std::nullopt;
  int mo = month_abbrev(s, i + 1);
  i += 4;
  if (!mo || i >= s.size() || s[i] != ' ' || !digits(s, i + 1, 4, y)) return std::nullopt;
  i += 5;
  if (i >= s.size() || s[i] != ' ' || !digits(s, i + 1, 2, h) || i + 3 >= s.size() || s[i + 3] != ':' ||
      !digits(s, i + 4, 2, mi) || i + 6 >= s.size() || s[i + 6] != ':' || !digits(s, i + 7, 2, sec))
    return std::nullopt;
  i += 9;
  if (i >= s.size() || s[i] != ' ') return std::nullopt;
  std::string_view z = s.substr(i + 1);
  int64_t tz = 0;
  if (z.size() == 5 && (z[0] == '+' || z[0] == '-')) {
    int64_t th, tm;
    if (!digits(z, 1, 2, th) || !digits(z, 3, 2, tm)) return std::nullopt;
    tz = th * 60 + tm;
    if (z[0] == '-') tz = -tz;
  } else if (z.size() == 3 && std::tolower(static_cast<unsigned char>(z[0])) == 'g' &&
             std::tolower(static_cast<unsigned char>(z[1])) == 'm' &&
             std::tolower(static_cast<unsigned char>(z[2])) == 't') {
    tz = 0;
  } else {
    return std::nullopt;
  }
  return checked_stamp(y, mo, d, h, mi, sec, tz);
}

}  // namespace

std::optional<int64_t> parse_feed_date(std::string_view s) {
  if (s.empty() || s.size() > limits::kMaxDateBytes) return std::nullopt;
  if (auto r = fast_w3dtf(s)) return r;
  if (auto r = fast_rfc822(s)) return r;
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
  if (y < 0 || y > 9999) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", static_cast<long long>(y),
                  static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(secs / 3600),
                  static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
    return buf;
  }
  // the usual case without snprintf (one call per date of every item)
  std::string out = "0000-00-00T00:00:00Z";
  auto two = [&](size_t at, int64_t v) {
    out[at] = static_cast<char>('0' + v / 10);
    out[at + 1] = static_cast<char>('0' + v % 10);
  };
  two(0, y / 100);
  two(2, y % 100);
  two(5, m);
  two(8, d);
  two(11, secs / 3600);
  two(14, secs / 60 % 60);
  two(17, secs % 60);
  return out;
}

}  // namespace baotin
