// Date normalisation for Vietnamese news pages.
//
// The input is first folded to lower-case ASCII (NFD, combining marks dropped, đ -> d, NBSP and other
// spaces -> ' ', dashes -> '-'), so that "Thứ Hai", "THỨ HAI" and NFD-encoded text all look alike and
// every pattern below is plain ASCII. Then, in this order:
//   1. the date (earliest valid match of: Y-M-D, D/M/Y, "ngày D tháng M năm Y", "D Mon Y", "Mon D, Y"),
//   2. the time closest to the date ("14:30", "14h30", "8:06:11.000", with AM/PM or sáng/chiều/tối),
//   3. the UTC offset in what is left ("+07:00", "+0700", "GMT+7", "(GMT+7)", "GMT", "Z", "ICT", ...).
// Missing time -> 00:00:00; missing offset -> +07:00 (Asia/Ho_Chi_Minh has had no DST since 1975).
// Impossible values (month 13, 31 February, hour 25, offset +15:00) make the whole value invalid.
#include "core/date.h"

#include <algorithm>
#include <cctype>
#include <array>
#include <chrono>
#include <cstdio>

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include "core/limits.h"
#include "core/regex.h"

namespace baotin {
namespace {

using namespace std::chrono;

constexpr int kVnOffsetMinutes = 7 * 60;
constexpr size_t kMaxInputBytes = limits::kMaxDateTextBytes;

// Lower-case ASCII folding of a UTF-8 string (see the file comment).
std::string fold_ascii(std::string_view in) {
  if (in.size() > kMaxInputBytes) in = in.substr(0, kMaxInputBytes);
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(in.data(), static_cast<int32_t>(in.size())));
  UErrorCode st = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(st);
  if (U_SUCCESS(st)) {
    icu::UnicodeString d = nfd->normalize(u, st);
    if (U_SUCCESS(st)) u = d;
  }
  std::string out;
  out.reserve(static_cast<size_t>(u.length()));
  for (int32_t i = 0; i < u.length();) {
    UChar32 c = u.char32At(i);
    i += U16_LENGTH(c);
    if (c < 0x80) {
      char ch = static_cast<char>(c);
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
      if (ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v') ch = ' ';
      out.push_back(ch);
    } else if (c == 0x0110 || c == 0x0111) {  // Đ đ
      out.push_back('d');
    } else if (u_getCombiningClass(c) != 0 || u_charType(c) == U_NON_SPACING_MARK) {
      // diacritic: dropped
    } else if (c == 0x200B || c == 0x200C || c == 0x200D || c == 0x2060 || c == 0xFEFF || c == 0x00AD) {
      // zero-width / soft hyphen: dropped
    } else if ((c >= 0x2010 && c <= 0x2015) || c == 0x2212) {
      out.push_back('-');
    } else if (c == 0xFF1A) {  // fullwidth colon
      out.push_back(':');
    } else if (c == 0xFF0F || c == 0x2044) {
      out.push_back('/');
    } else {
      out.push_back(' ');  // NBSP, other spaces, symbols, letters of other scripts
    }
  }
  return out;
}

struct Span {
  size_t begin = 0, end = 0;
};

struct DateFound {
  int y = 0, m = 0, d = 0;
  Span span;
};

bool valid_ymd(int y, int m, int d) {
  if (y < 1900 || y > 2200) return false;
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  return year_month_day{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}}.ok();
}

int month_from_name(std::string_view s) {
  static constexpr std::array<const char*, 12> names = {"jan", "feb", "mar", "apr", "may", "jun",
                                                        "jul", "aug", "sep", "oct", "nov", "dec"};
  if (s.size() < 3) return 0;
  for (size_t i = 0; i < names.size(); ++i)
    if (s.substr(0, 3) == names[i]) return static_cast<int>(i) + 1;
  return 0;
}

int to_int(std::string_view m) {
  int v = 0;
  for (char c : m) {
    if (c < '0' || c > '9') break;
    v = v * 10 + (c - '0');
    if (v > 100000) break;
  }
  return v;
}

// Each pattern: regex + which groups hold y, m, d (m may be a month name). RE2 has no lookahead: a guard such as
// "not followed by a digit" is written as a consumed "[^0-9]|$" after an empty group `()` that marks where the
// match really ends (`end_group`); the next search starts there, so the guard character is not lost.
struct DatePattern {
  Regex re;
  int gy, gm, gd;
  bool month_name;
  size_t lead_group;  // group holding the non-digit prefix (excluded from the span), 0 if none
  int end_group;      // empty group at the logical end of the match
  bool two_digit_year = false;  // RFC 822 "01 Jan 04": 00-49 -> 20xx, 50-99 -> 19xx
};

const std::vector<DatePattern>& date_patterns() {
  static const std::vector<DatePattern> pats = [] {
    const std::string mon = "(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\\.?";
    const std::string not_digit = "()(?:[^0-9]|$)";
    std::vector<DatePattern> v;
    // 2026-03-07, 2026/03/07, 2026.3.7
    v.push_back({Regex("(^|[^0-9])(\\d{4})[-/.](\\d{1,2})[-/.](\\d{1,2})" + not_digit), 2, 3, 4, false, 1, 5});
    // 07/03/2026, 7-3-2026, 07.03.2026
    v.push_back({Regex("(^|[^0-9])(\\d{1,2})\\s*[-/.]\\s*(\\d{1,2})\\s*[-/.]\\s*(\\d{4})" + not_digit), 4, 3, 2, false,
                 1, 5});
    // ngay 07 thang 03 nam 2026, 07 thang 3, 2026
    v.push_back({Regex("(^|[^0-9])(\\d{1,2})\\s*thang\\s*(\\d{1,2})\\s*(?:nam|,|/|-)?\\s*(\\d{4})" + not_digit), 4, 3, 2,
                 false, 1, 5});
    // 06 Feb 2025, 6th March, 2026
    v.push_back({Regex("(^|[^0-9])(\\d{1,2})(?:st|nd|rd|th)?\\s+" + mon + ",?\\s+(\\d{4})" + not_digit), 4, 3, 2, true,
                 1, 5});
    // March 7, 2026 / Feb. 06 2025
    v.push_back({Regex("(^|[^a-z])" + mon + "\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})" + not_digit), 4, 2, 3, true,
                 1, 5});
    // asctime / Twitter: "Sun Jan  4 16:29:06 2004", "Sun Jul 15 01:16:00 +0000 2012" (the year follows the time;
    // only "Mon D" is the date span, the time and offset are found as usual).
    v.push_back({Regex("(^|[^a-z])" + mon +
                       "\\s+(\\d{1,2})()\\s+\\d{1,2}:\\d{2}(?::\\d{2})?\\s+(?:[+-]\\d{4}\\s+)?(\\d{4})(?:[^0-9]|$)"),
                 5, 2, 3, true, 1, 4});
    // RFC 822 with a two-digit year, only when a time follows: "Thu, 01 Jan 04 19:48:21 GMT".
    v.push_back({Regex("(^|[^0-9])(\\d{1,2})\\s+" + mon + "\\s+(\\d{2})()\\s+\\d{1,2}:\\d{2}"), 4, 3, 2, true, 1, 5,
                 true});
    // dd/mm/yy with a two-digit year, only when a time follows: "24/12/12 11:05 tối" (news.zing.vn 2012).
    v.push_back({Regex("(^|[^0-9/])(\\d{1,2})/(\\d{1,2})/(\\d{2})()\\s+\\d{1,2}:\\d{2}"), 4, 3, 2, false, 1, 5, true});
    return v;
  }();
  return pats;
}

// Calls fn(groups, logical_end) for each successive match of `re` in `s` (like an sregex_iterator, the next
// search starts where the previous match logically ended); fn returns false to stop.
template <typename Fn>
void for_each_match(const Regex& re, const std::string& s, Fn&& fn) {
  std::vector<std::string_view> m;
  size_t pos = 0;
  while (pos <= s.size() && re.search(s, pos, m)) {
    size_t end = fn(m);
    if (end == std::string::npos) return;
    pos = std::max(end, offset_in(s, m[0]) + 1);
  }
}

size_t marker(const std::string& s, const std::vector<std::string_view>& m, std::initializer_list<int> groups) {
  for (int g : groups)
    if (m[static_cast<size_t>(g)].data()) return offset_in(s, m[static_cast<size_t>(g)]);
  return offset_in(s, m[0]) + m[0].size();
}

// Earliest valid date in `s`. `invalid_seen` is set when a date-shaped token had impossible values.
std::optional<DateFound> find_date(const std::string& s, bool& invalid_seen) {
  std::optional<DateFound> best;
  // Cheap prefilters: skip patterns that cannot match.
  const bool has_sep = s.find_first_of("-/.") != std::string::npos;
  const bool has_thang = s.find("thang") != std::string::npos;
  bool has_month = false;
  for (const char* m : {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"})
    if (s.find(m) != std::string::npos) has_month = true;
  const bool wanted[] = {has_sep, has_sep, has_thang, has_month, has_month, has_month, has_month, has_sep};
  size_t index = 0;
  for (const auto& p : date_patterns()) {
    if (!wanted[index++]) continue;
    for_each_match(p.re, s, [&](const std::vector<std::string_view>& m) -> size_t {
      DateFound f;
      f.y = to_int(m[static_cast<size_t>(p.gy)]);
      if (p.two_digit_year) f.y += f.y < 50 ? 2000 : 1900;
      f.d = to_int(m[static_cast<size_t>(p.gd)]);
      f.m = p.month_name ? month_from_name(m[static_cast<size_t>(p.gm)]) : to_int(m[static_cast<size_t>(p.gm)]);
      f.span.begin = offset_in(s, m[0]) + m[p.lead_group].size();
      f.span.end = marker(s, m, {p.end_group});
      // "3/24/2024 7:12:35 AM": a day-first form whose "month" cannot be one is the US month-first order
      // (unambiguous only then: "3/4/2024" stays 3 April).
      if (!p.month_name && p.gd < p.gm && f.m > 12 && f.d >= 1 && f.d <= 12 && m[0].find('/') != std::string_view::npos)
        std::swap(f.m, f.d);
      if (!valid_ymd(f.y, f.m, f.d)) {
        invalid_seen = true;
        return f.span.end;
      }
      if (!best || f.span.begin < best->span.begin) best = f;
      return std::string::npos;  // later matches of this pattern are further right
    });
  }
  return best;
}

struct TimeFound {
  int h = 0, mi = 0, s = 0;
  Span span;
};

// Finds the time closest to the date span. Returns false if a time-shaped token is impossible.
bool find_time(const std::string& s, const Span& date, std::optional<TimeFound>& out, std::vector<Span>& all_valid) {
  // Groups: 1 lead, 2 hour, 3 minute, 4 second, 5 meridiem, 6/7 logical end (with / without a meridiem).
  // The lookaheads "(?![a-z])" after the meridiem and "(?![0-9])" at the end become consumed guards.
  static const Regex re(
      "(^|[^0-9+])(\\d{1,2})\\s*(?::|h|gio)\\s*(\\d{2})(?:\\s*:\\s*(\\d{2})(?:[.,]\\d+)?)?"
      "(?:\\s*(a\\.?m\\.?|p\\.?m\\.?|sa|ch|sang|chieu|toi|dem|trua)()(?:[^a-z0-9]|$)|()(?:[^0-9]|$))");
  bool ok = true;
  size_t prev_end = std::string::npos;
  for_each_match(re, s, [&](const std::vector<std::string_view>& m) -> size_t {
    TimeFound t;
    t.span.begin = offset_in(s, m[0]) + m[1].size();
    t.span.end = marker(s, m, {6, 7});
    // "08:52:11-05:00": a '-' right after a time introduces an offset, not another time.
    bool is_offset = m[1].size() == 1 && m[1][0] == '-' && prev_end != std::string::npos &&
                     prev_end + 1 == t.span.begin;
    prev_end = t.span.end;
    if (is_offset) return t.span.end;
    if (t.span.begin < date.end && t.span.end > date.begin) return t.span.end;  // overlaps the date
    t.h = to_int(m[2]);
    t.mi = to_int(m[3]);
    t.s = m[4].data() ? to_int(m[4]) : 0;
    bool valid = t.h <= 23 && t.mi <= 59 && t.s <= 59;
    if (m[5].data()) {
      std::string mer(m[5]);
      std::erase(mer, '.');
      if (mer == "am" || mer == "sa" || mer == "sang") {
        if (t.h > 12) valid = false;
        else if (t.h == 12) t.h = 0;
      } else if (mer == "pm" || mer == "ch" || mer == "chieu" || mer == "toi") {
        if (t.h < 12) t.h += 12;
      } else if (mer == "dem") {  // "11 giờ đêm" = 23:00, "2 giờ đêm" = 02:00
        if (t.h >= 6 && t.h < 12) t.h += 12;
        else if (t.h == 12) t.h = 0;
      } else if (mer == "trua") {  // noon: "12 giờ trưa", "1 giờ trưa"
        if (t.h < 6) t.h += 12;
      }
    }
    size_t dist = t.span.end <= date.begin ? date.begin - t.span.end : t.span.begin - date.end;
    if (!valid) {
      // Only an impossible time next to the date invalidates it (stray numbers elsewhere don't).
      if (dist <= 16) ok = false;
      return t.span.end;
    }
    all_valid.push_back(t.span);
    if (!out) {
      out = t;
    } else {
      size_t best = out->span.end <= date.begin ? date.begin - out->span.end : out->span.begin - date.end;
      if (dist < best) out = t;
    }
    return t.span.end;
  });
  return ok;
}

// Hour-only Vietnamese times, used when no HH:MM time is present: "14 giờ", "3 giờ chiều", "9h sáng",
// "9h ngày 7/3/2026". A bare "24h" (as in "Tin 24h") is not a time; impossible hours are ignored.
std::optional<TimeFound> find_hour_only(const std::string& s, const Span& date) {
  // "gio" not followed by a letter, optionally then a meridiem word; or "h" only when a meridiem word, "ngay" or
  // ',' follows. Groups: 1 lead, 2 hour, 3/6 meridiem, 4/5/7/8 logical end (the guards are consumed).
  static const std::string mer = "(sang|chieu|toi|dem|trua)";
  static const Regex re("(^|[^0-9])(\\d{1,2})\\s*(?:gio(?:\\s+" + mer + "()(?:[^a-z]|$)|()(?:[^a-z]|$))|h(?:\\s*" +
                        mer + "()(?:[^a-z]|$)|()\\s*(?:ngay|,)(?:[^a-z]|$)))");
  if (s.find("gio") == std::string::npos && s.find('h') == std::string::npos) return std::nullopt;
  std::optional<TimeFound> found;
  for_each_match(re, s, [&](const std::vector<std::string_view>& m) -> size_t {
    TimeFound t;
    t.span.begin = offset_in(s, m[0]) + m[1].size();
    t.span.end = marker(s, m, {4, 5, 7, 8});
    if (t.span.begin < date.end && t.span.end > date.begin) return t.span.end;
    t.h = to_int(m[2]);
    std::string_view mv = m[3].data() ? m[3] : m[6];
    if (mv.data()) {
      std::string mer(mv);
      if ((mer == "chieu" || mer == "toi") && t.h < 12) t.h += 12;
      else if (mer == "dem" && t.h >= 6 && t.h < 12) t.h += 12;
      else if (mer == "dem" && t.h == 12) t.h = 0;
      else if (mer == "trua" && t.h < 6) t.h += 12;
      else if (mer == "sang" && t.h == 12) t.h = 0;
    }
    if (t.h > 23) return t.span.end;
    found = t;
    return std::string::npos;
  });
  return found;
}

// Offset in minutes found in `s` (date and time already blanked out). nullopt if none;
// sets `invalid` for an impossible offset.
std::optional<int> find_offset(const std::string& s, bool& invalid) {
  // Groups: 2 zone, 3 sign, 4 hours, 5 minutes. "(?![a-z])" after the zone and "(?![0-9])" after the offset are
  // consumed guards here (only the first match is used).
  static const Regex named("(^|[^a-z])(gmt|utc|ut|z|ict|wib|est|edt|cst|cdt|mst|mdt|pst|pdt|et|ct|mt|pt|"
                           "cet|cest|met|mest|bst|jst|kst|hkt|sgt|aest|aedt)"
                           "(?:\\s*([+-])\\s*(\\d{1,2})(?:\\s*:?\\s*(\\d{2}))?(?:[^0-9]|$)|(?:[^a-z]|$))");
  static const Regex bare("([+-])(\\d{2})(?::?(\\d{2}))?(?:[^0-9]|$)");
  auto make = [&](int sign, int h, int mi) -> std::optional<int> {
    if (h > 14 || mi > 59 || (h == 14 && mi > 0)) {
      invalid = true;
      return std::nullopt;
    }
    return sign * (h * 60 + mi);
  };
  std::vector<std::string_view> m;
  if (named.search(s, 0, m)) {
    if (m[3].data()) return make(m[3][0] == '-' ? -1 : 1, to_int(m[4]), m[5].data() ? to_int(m[5]) : 0);
    std::string zone(m[2]);
    static const std::pair<const char*, int> zones[] = {{"gmt", 0},      {"utc", 0},      {"ut", 0},
                                                        {"z", 0},        {"ict", 7 * 60}, {"est", -5 * 60},
                                                        {"edt", -4 * 60}, {"cst", -6 * 60}, {"cdt", -5 * 60},
                                                        {"mst", -7 * 60}, {"mdt", -6 * 60}, {"pst", -8 * 60},
                                                        {"pdt", -7 * 60}, {"et", -5 * 60},  {"ct", -6 * 60},
                                                        {"mt", -7 * 60},  {"pt", -8 * 60},  {"cet", 60},
                                                        {"cest", 120},    {"met", 60},      {"mest", 120},
                                                        {"bst", 60},      {"jst", 9 * 60},  {"kst", 9 * 60},
                                                        {"hkt", 8 * 60},  {"sgt", 8 * 60},  {"wib", 7 * 60},
                                                        {"aest", 10 * 60}, {"aedt", 11 * 60}};
    for (const auto& [name, off] : zones)
      if (zone == name) return off;
  }
  if (bare.search(s, 0, m)) {
    return make(m[1][0] == '-' ? -1 : 1, to_int(m[2]), m[3].data() ? to_int(m[3]) : 0);
  }
  return std::nullopt;
}

// "UK" after a time (Sky News: "Wednesday 20 November 2019 11:42, UK") is London time: GMT, or BST (+01:00)
// from the last Sunday of March, 01:00 GMT, to the last Sunday of October, 01:00 GMT.
int uk_offset_minutes(int y, int mo, int d, int h) {
  auto last_sunday = [&](month m) {  // day of the month
    return static_cast<int>(unsigned(year_month_day{sys_days{year{y} / m / Sunday[last]}}.day()));
  };
  const int march = last_sunday(March), october = last_sunday(October);
  if (mo < 3 || mo > 10) return 0;
  if (mo > 3 && mo < 10) return 60;
  if (mo == 3) return d > march || (d == march && h >= 1) ? 60 : 0;   // 01:00 GMT becomes 02:00 BST
  return d < october || (d == october && h < 2) ? 60 : 0;              // 02:00 BST becomes 01:00 GMT
}

std::string format_iso(int y, int mo, int d, int h, int mi, int s, int offset_minutes) {
  char buf[40];
  char sign = offset_minutes < 0 ? '-' : '+';
  int off = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, mo, d, h, mi, s, sign, off / 60,
                off % 60);
  return buf;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Strict parse of "YYYY-MM-DDTHH:MM:SS(.fff)?(Z|+HH:MM)".
std::optional<int64_t> parse_strict_iso(std::string_view s) {
  if (s.size() < 20) return std::nullopt;
  auto num = [&](size_t pos, size_t len) -> int {
    std::string_view p = s.substr(pos, len);
    if (!all_digits(p)) return -1;
    int v = 0;
    for (char c : p) v = v * 10 + (c - '0');
    return v;
  };
  if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  int y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2), se = num(17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0) return std::nullopt;
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
  }
  int off = 0;
  std::string_view rest = s.substr(pos);
  if (rest == "Z" || rest == "z") {
    off = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = num(pos + 1, 2), om = num(pos + 4, 2);
    if (oh < 0 || om < 0 || oh > 14 || om > 59) return std::nullopt;
    off = (rest[0] == '-' ? -1 : 1) * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (!valid_ymd(y, mo, d) || h > 23 || mi > 59 || se > 59) return std::nullopt;
  sys_days days{year_month_day{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}}};
  int64_t epoch = days.time_since_epoch().count() * 86400LL + h * 3600LL + mi * 60LL + se;
  return epoch - off * 60LL;
}

std::string epoch_to_iso(int64_t epoch_seconds, int offset_minutes) {
  // Years 0001..9999 only (keeps the calendar arithmetic far from overflow).
  constexpr int64_t kMin = -62135596800LL, kMax = 253402300799LL - 14 * 3600;
  epoch_seconds = std::clamp<int64_t>(epoch_seconds, kMin + 14 * 3600, kMax);
  int64_t local = epoch_seconds + offset_minutes * 60LL;
  sys_seconds tp{seconds{local}};
  sys_days dp = floor<days>(tp);
  year_month_day ymd{dp};
  hh_mm_ss hms{tp - dp};
  return format_iso(static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
                    static_cast<int>(static_cast<unsigned>(ymd.day())), static_cast<int>(hms.hours().count()),
                    static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                    offset_minutes);
}

// Fast path for the commonest machine form (meta tags, JSON-LD, Atom): the whole text is
// "YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][ ][Z|±HH[:MM]|±HHMM]". Returns nullopt if the text has another shape
// (the general parser then takes over); an ISO-shaped text with impossible values yields an empty string.
std::optional<std::string> fast_iso(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  size_t i = 0;
  auto digits = [&](size_t min, size_t max, int& out) {
    size_t start = i;
    out = 0;
    while (i < s.size() && i - start < max && s[i] >= '0' && s[i] <= '9') out = out * 10 + (s[i++] - '0');
    return i - start >= min;
  };
  auto eat = [&](char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  int y, mo, d, h = 0, mi = 0, se = 0, off = kVnOffsetMinutes;
  if (!digits(4, 4, y) || !eat('-') || !digits(1, 2, mo) || !eat('-') || !digits(1, 2, d)) return std::nullopt;
  if (i < s.size()) {
    if (!(eat('T') || eat('t') || eat(' '))) return std::nullopt;
    if (!digits(2, 2, h) || !eat(':') || !digits(2, 2, mi)) return std::nullopt;
    if (eat(':')) {
      if (!digits(2, 2, se)) return std::nullopt;
      if (eat('.') || eat(',')) {
        int frac;
        if (!digits(1, 9, frac)) return std::nullopt;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      }
    }
    eat(' ');
    if (eat('Z') || eat('z')) {
      off = 0;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      int sign = s[i++] == '-' ? -1 : 1, oh, om = 0;
      if (!digits(2, 2, oh)) return std::nullopt;
      if (i < s.size()) {
        eat(':');
        if (!digits(2, 2, om)) return std::nullopt;
      }
      if (oh > 14 || om > 59 || (oh == 14 && om > 0)) return std::string();
      off = sign * (oh * 60 + om);
    }
    if (i != s.size()) return std::nullopt;
  }
  if (!valid_ymd(y, mo, d) || h > 23 || mi > 59 || se > 59) return std::string();
  return format_iso(y, mo, d, h, mi, se, off);
}

// Fast path for RFC 822 / RFC 1123 (RSS pubDate): "[Www,] D Mon YYYY HH:MM[:SS] (±HHMM|GMT|UT|UTC|Z)".
// Same contract as fast_iso.
std::optional<std::string> fast_rfc822(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  size_t i = 0;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  auto skip_ws = [&] {
    size_t st = i;
    while (i < s.size() && s[i] == ' ') ++i;
    return i > st;
  };
  auto word = [&] {
    size_t st = i;
    while (i < s.size() && alpha(s[i])) ++i;
    return s.substr(st, i - st);
  };
  auto digits = [&](size_t min, size_t max, int& out) {
    size_t st = i;
    out = 0;
    while (i < s.size() && i - st < max && s[i] >= '0' && s[i] <= '9') out = out * 10 + (s[i++] - '0');
    return i - st >= min && !(i < s.size() && s[i] >= '0' && s[i] <= '9');
  };
  if (i < s.size() && alpha(s[i])) {  // weekday
    if (word().size() != 3 || i >= s.size() || s[i] != ',') return std::nullopt;
    ++i;
    skip_ws();
  }
  int d, y, h, mi, se = 0;
  if (!digits(1, 2, d) || !skip_ws()) return std::nullopt;
  std::string mon(word());
  if (mon.size() != 3) return std::nullopt;
  for (auto& c : mon) c = static_cast<char>(c | 0x20);
  int mo = month_from_name(mon);
  if (mo == 0 || !skip_ws() || !digits(4, 4, y) || !skip_ws()) return std::nullopt;
  if (!digits(2, 2, h) || i >= s.size() || s[i++] != ':' || !digits(2, 2, mi)) return std::nullopt;
  if (i < s.size() && s[i] == ':') {
    ++i;
    if (!digits(2, 2, se)) return std::nullopt;
  }
  if (!skip_ws()) return std::nullopt;
  int off;
  if (s[i] == '+' || s[i] == '-') {
    int sign = s[i++] == '-' ? -1 : 1, hhmm;
    if (!digits(4, 4, hhmm)) return std::nullopt;
    if (hhmm / 100 > 14 || hhmm % 100 > 59 || hhmm > 1400) return std::string();
    off = sign * ((hhmm / 100) * 60 + hhmm % 100);
  } else {
    std::string z(word());
    if (z == "GMT" || z == "UT" || z == "UTC" || z == "Z") off = 0;
    else return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  if (!valid_ymd(y, mo, d) || h > 23 || mi > 59 || se > 59) return std::string();
  return format_iso(y, mo, d, h, mi, se, off);
}

}  // namespace

std::optional<std::string> normalize_date(std::string_view text) {
  for (auto fast : {fast_iso, fast_rfc822}) {
    if (auto f = fast(text)) {
      if (f->empty()) return std::nullopt;
      return f;
    }
  }
  std::string s = fold_ascii(text);
  // Trim.
  size_t b = s.find_first_not_of(' ');
  if (b == std::string::npos) return std::nullopt;
  size_t e = s.find_last_not_of(' ');
  std::string_view trimmed(s.data() + b, e - b + 1);

  // Unix timestamps (seconds or milliseconds) as found in data-time attributes. A bare number is one only when
  // it is written as an epoch value is: 10 or 13 digits without a leading zero (a leading 0 is the shape of a
  // Vietnamese phone number, "0912345678"), and only when its year is in the range every other form accepts
  // (1900-2200, as iso_to_epoch does): "7871245560" (year 2219) is no date.
  if (all_digits(trimmed) && (trimmed.size() == 10 || trimmed.size() == 13)) {
    if (trimmed[0] == '0') return std::nullopt;
    int64_t v = 0;
    for (char c : trimmed) v = v * 10 + (c - '0');
    if (trimmed.size() == 13) v /= 1000;
    std::string iso = epoch_to_iso_vn(v);
    if (!parse_strict_iso(iso)) return std::nullopt;
    return iso;
  }
  // Compact 20260307.
  if (all_digits(trimmed) && trimmed.size() == 8) {
    int y = std::stoi(std::string(trimmed.substr(0, 4))), mo = std::stoi(std::string(trimmed.substr(4, 2))),
        d = std::stoi(std::string(trimmed.substr(6, 2)));
    if (!valid_ymd(y, mo, d)) return std::nullopt;
    return format_iso(y, mo, d, 0, 0, 0, kVnOffsetMinutes);
  }

  bool invalid_date = false;
  auto date = find_date(s, invalid_date);
  if (!date) return std::nullopt;

  std::optional<TimeFound> time;
  std::vector<Span> times;
  if (!find_time(s, date->span, time, times)) return std::nullopt;
  if (!time) time = find_hour_only(s, date->span);

  std::string rest = s;
  auto blank = [&](const Span& sp) {
    for (size_t i = sp.begin; i < sp.end && i < rest.size(); ++i) rest[i] = ' ';
  };
  blank(date->span);
  if (time) blank(time->span);
  {
    // A colon next to a digit that is neither a recognised time nor part of a UTC offset is a malformed
    // time ("09:xx", "1:2:3:4"): reject rather than silently dropping the time.
    std::string probe = rest;
    for (const auto& sp : times)
      for (size_t i = sp.begin; i < sp.end && i < probe.size(); ++i) probe[i] = ' ';
    auto digit = [&](size_t i) { return i < probe.size() && probe[i] >= '0' && probe[i] <= '9'; };
    for (size_t c = probe.find(':'); c != std::string::npos; c = probe.find(':', c + 1)) {
      if (!(c > 0 && digit(c - 1)) && !digit(c + 1)) continue;
      size_t b = c;
      while (b > 0 && digit(b - 1)) --b;
      bool offset_like = b > 0 && (probe[b - 1] == '+' || probe[b - 1] == '-') && c - b <= 2 && c - b >= 1;
      if (!offset_like) return std::nullopt;
    }
  }
  bool invalid_offset = false;
  std::optional<int> offset = find_offset(rest, invalid_offset);
  if (invalid_offset) return std::nullopt;

  int h = time ? time->h : 0, mi = time ? time->mi : 0, se = time ? time->s : 0;
  if (!offset && time) {
    static const Regex uk("(^|[^a-z])uk($|[^a-z])");
    std::vector<std::string_view> m;
    if (uk.search(rest, 0, m)) offset = uk_offset_minutes(date->y, date->m, date->d, h);
  }
  return format_iso(date->y, date->m, date->d, h, mi, se, offset.value_or(kVnOffsetMinutes));
}

std::optional<int64_t> iso_to_epoch(std::string_view iso) {
  if (auto v = parse_strict_iso(iso)) return v;
  if (auto n = normalize_date(iso)) return parse_strict_iso(*n);
  return std::nullopt;
}

std::string epoch_to_iso_vn(int64_t epoch_seconds) { return epoch_to_iso(epoch_seconds, kVnOffsetMinutes); }

std::string now_iso_vn() {
  auto now = time_point_cast<seconds>(system_clock::now());
  return epoch_to_iso_vn(now.time_since_epoch().count());
}

bool shows_time_of_day(std::string_view t) {
  auto digit = [&](size_t i) { return i < t.size() && t[i] >= '0' && t[i] <= '9'; };
  for (size_t i = 0; i < t.size(); ++i) {
    if (!digit(i) || (i > 0 && digit(i - 1))) continue;
    size_t j = i + 1;
    if (digit(j)) ++j;
    if (digit(j)) continue;  // three digits: a year or a number, not an hour
    while (j < t.size() && t[j] == ' ') ++j;
    if (j < t.size() && t[j] == ':' && digit(j + 1)) return true;
    if (j < t.size() && (t[j] == 'h' || t[j] == 'H')) {
      const unsigned char next = j + 1 < t.size() ? static_cast<unsigned char>(t[j + 1]) : ' ';
      if (!std::isalpha(next) && next < 0x80) return true;  // "14h30", "8h sáng"; not "2 hôm", "3 hours"
    }
    if (t.compare(j, 5, "gi\xE1\xBB\x9D") == 0) return true;  // "giờ"
  }
  return false;
}

}  // namespace baotin
