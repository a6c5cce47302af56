#include "core/date.h"
#include "feed/feed.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

using baotin::epoch_to_iso_vn;
using baotin::iso_to_epoch;
using baotin::normalize_date;
using baotin::now_iso_vn;

namespace {

struct Case {
  const char* in;
  const char* out;
};

void expect_all(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    auto r = normalize_date(c.in);
    ASSERT_TRUE(r.has_value()) << "no date found in: " << c.in;
    EXPECT_EQ(*r, c.out) << "input: " << c.in;
  }
}

}  // namespace

TEST(NormalizeDate, VnExpressStyle) {
  expect_all({
      {"Thứ hai, 27/1/2025, 14:30 (GMT+7)", "2025-01-27T14:30:00+07:00"},
      {"Chủ nhật, 9/3/2025, 07:05 (GMT+7)", "2025-03-09T07:05:00+07:00"},
      {"Thứ Hai, 27/01/2025 - 14:30", "2025-01-27T14:30:00+07:00"},
      {"THỨ HAI, 27/01/2025 - 14:30", "2025-01-27T14:30:00+07:00"},
  });
}

// "UK" after a time is London time, GMT or BST by the date (Sky News prints "11:42, UK"); not a word inside others.
TEST(NormalizeDate, UkTimeIsGmtOrBst) {
  expect_all({
      {"Wednesday 20 November 2019 11:42, UK", "2019-11-20T11:42:00+00:00"},
      {"Monday 15 July 2019 09:00, UK", "2019-07-15T09:00:00+01:00"},
      {"Sunday 31 March 2019 00:30, UK", "2019-03-31T00:30:00+00:00"},  // the last Sunday of March: BST from 01:00
      {"Sunday 31 March 2019 03:00, UK", "2019-03-31T03:00:00+01:00"},
      {"Saturday 26 October 2019 23:00, UK", "2019-10-26T23:00:00+01:00"},
      {"Sunday 27 October 2019 12:00, UK", "2019-10-27T12:00:00+00:00"},  // the last Sunday of October: GMT
      {"Friday 1 March 2024 08:15, UK", "2024-03-01T08:15:00+00:00"},
      {"27/01/2025 14:30 ukraine", "2025-01-27T14:30:00+07:00"},
  });
}

TEST(NormalizeDate, SeparatorsBetweenDateAndTime) {
  expect_all({
      {"26/01/2025 at 6:30", "2025-01-26T06:30:00+07:00"},
      {"06/02/2025 | 13:54", "2025-02-06T13:54:00+07:00"},
      {"07/03/2026 08:47", "2026-03-07T08:47:00+07:00"},
      {"08:06 07/03/2026", "2026-03-07T08:06:00+07:00"},
      {"07/03/2026 - 08:06 (GMT+7)", "2026-03-07T08:06:00+07:00"},
      {"7-3-2026 08:06", "2026-03-07T08:06:00+07:00"},
      {"07.03.2026 08:06", "2026-03-07T08:06:00+07:00"},
      {"07/03/2026-08:06", "2026-03-07T08:06:00+07:00"},
      {"07/03/2026 – 08:06", "2026-03-07T08:06:00+07:00"},  // en dash
      {"14h30 ngày 27/1/2025", "2025-01-27T14:30:00+07:00"},
      {"07/03/2026 08:06:59", "2026-03-07T08:06:59+07:00"},
  });
}

TEST(NormalizeDate, Iso8601) {
  expect_all({
      {"2026-03-07T08:52:11.000 +07:00", "2026-03-07T08:52:11+07:00"},
      {"2026-03-07T08:52:11+07:00", "2026-03-07T08:52:11+07:00"},
      {"2026-03-07T08:52:11.123456+0700", "2026-03-07T08:52:11+07:00"},
      {"2026-03-07T01:52:11Z", "2026-03-07T01:52:11+00:00"},
      {"2026-03-07T01:52:11.5z", "2026-03-07T01:52:11+00:00"},
      {"2026-03-07T08:52:11", "2026-03-07T08:52:11+07:00"},
      {"2026-03-07T08:52", "2026-03-07T08:52:00+07:00"},
      {"2026-03-07T08:52:11-05:00", "2026-03-07T08:52:11-05:00"},
      {"2026-03-07T08:52:11+05:30", "2026-03-07T08:52:11+05:30"},
      {"2026-03-07 08:07", "2026-03-07T08:07:00+07:00"},
      {"2026/03/07 08:07", "2026-03-07T08:07:00+07:00"},
      {"2026-03-07", "2026-03-07T00:00:00+07:00"},
      {"2026-3-7", "2026-03-07T00:00:00+07:00"},
      {"  2026-03-07T08:52:11+07:00\n", "2026-03-07T08:52:11+07:00"},
  });
}

TEST(NormalizeDate, Rfc822) {
  expect_all({
      {"Thu, 06 Feb 2025 20:45:46 +0700", "2025-02-06T20:45:46+07:00"},
      {"Thu, 06 Feb 2025 13:45:46 GMT", "2025-02-06T13:45:46+00:00"},
      {"Thu, 6 Feb 2025 13:45:46 UT", "2025-02-06T13:45:46+00:00"},
      {"Thu, 06 Feb 2025 08:45:46 EST", "2025-02-06T08:45:46-05:00"},
      {"Sat, 07 Mar 2026 08:06:00 -0000", "2026-03-07T08:06:00+00:00"},
      {"06 Feb 2025 20:45 +0700", "2025-02-06T20:45:00+07:00"},
  });
}

TEST(NormalizeDate, FastPathsAgreeWithGeneralParser) {
  // The same instants written so that the fast paths (exact ISO / RFC 822) do not apply.
  EXPECT_EQ(normalize_date("2026-03-07T08:52:11+07:00"), normalize_date("published 2026-03-07T08:52:11+07:00"));
  EXPECT_EQ(normalize_date("2026-03-07 08:52"), normalize_date("(2026-03-07 08:52)"));
  EXPECT_EQ(normalize_date("Thu, 06 Feb 2025 20:45:46 +0700"), normalize_date("pubDate: Thu, 06 Feb 2025 20:45:46 +0700"));
  EXPECT_EQ(normalize_date("Thu, 06 Feb 2025 20:45:46 GMT"), normalize_date("Thursday, 06 February 2025 20:45:46 GMT"));
  EXPECT_EQ(normalize_date("6 Feb 2025 20:45 +0700").value_or(""), "2025-02-06T20:45:00+07:00");
}

TEST(NormalizeDate, FeedFormsFromTheWild) {
  expect_all({
      {"Sun Jan  4 16:29:06 2004", "2004-01-04T16:29:06+07:00"},               // asctime, no zone
      {"Sun Jul 15 01:16:00 +0000 2012", "2012-07-15T01:16:00+00:00"},         // Twitter
      {"Thu, 01 Jan 04 19:48:21 GMT", "2004-01-01T19:48:21+00:00"},            // two-digit year
      {"Thu, 01 Jan 99 19:48:21 GMT", "1999-01-01T19:48:21+00:00"},
      {"Thu, 30 Apr 2015 08:57:00 MET", "2015-04-30T08:57:00+01:00"},
      {"Thu, 30 Apr 2015 08:57:00 MEST", "2015-04-30T08:57:00+02:00"},
      {"Mon, 26 January 2004 16:31:00 ET", "2004-01-26T16:31:00-05:00"},
      {"Mon, 26 January 2004 16:31:00 PT", "2004-01-26T16:31:00-08:00"},
      {"Sat, 07 Mar 2026 10:06:00 JST", "2026-03-07T10:06:00+09:00"},
  });
}

TEST(NormalizeDate, MalformedTimesAreRejected) {
  const char* bad[] = {"2013-01-28T09:xx:00Z", "Sun, 16 Dec 2012 1:2:3:4 GMT", "Sun, 16 Dec 2012 11:47:32 +zz:00",
                       "07/03/2026 8:6"};
  for (const char* b : bad) EXPECT_FALSE(normalize_date(b).has_value()) << b;
  // Colons that are not times are fine.
  EXPECT_EQ(normalize_date("Cập nhật: 07/03/2026").value_or(""), "2026-03-07T00:00:00+07:00");
  EXPECT_EQ(normalize_date("Tin 24h: 07/03/2026 08:06").value_or(""), "2026-03-07T08:06:00+07:00");
}

TEST(NormalizeDate, EnglishMonthNames) {
  expect_all({
      {"March 7, 2026 08:06", "2026-03-07T08:06:00+07:00"},
      {"Mar 07, 2026 | 08:06 PM", "2026-03-07T20:06:00+07:00"},
      {"Published: Feb. 6, 2025", "2025-02-06T00:00:00+07:00"},
      {"6th March 2026", "2026-03-06T00:00:00+07:00"},
  });
}

TEST(NormalizeDate, VietnameseWords) {
  expect_all({
      {"Ngày 07 tháng 03 năm 2026", "2026-03-07T00:00:00+07:00"},
      {"07 tháng 3, 2026 08:06", "2026-03-07T08:06:00+07:00"},
      {"Thứ Bảy, ngày 7 tháng 3 năm 2026, 14 giờ 30", "2026-03-07T14:30:00+07:00"},
      {"Cập nhật: 07/03/2026 08:06", "2026-03-07T08:06:00+07:00"},
      {"Cập nhật lúc 08:06 ngày 07/03/2026 (GMT+7)", "2026-03-07T08:06:00+07:00"},
      {"Thứ bảy, ngày 07/03/2026 08:06 AM", "2026-03-07T08:06:00+07:00"},
      {"Thứ bảy, ngày 07/03/2026 08:06 PM", "2026-03-07T20:06:00+07:00"},
      {"Thứ bảy, ngày 07/03/2026 12:06 AM", "2026-03-07T00:06:00+07:00"},
      {"Thứ bảy, ngày 07/03/2026 12:06 PM", "2026-03-07T12:06:00+07:00"},
      {"07/03/2026 8:06 SA", "2026-03-07T08:06:00+07:00"},
      {"07/03/2026 8:06 CH", "2026-03-07T20:06:00+07:00"},
      {"3 giờ chiều ngày 07/03/2026", "2026-03-07T15:00:00+07:00"},
      {"Lúc 14 giờ ngày 7/3/2026", "2026-03-07T14:00:00+07:00"},
      {"9h sáng 07/03/2026", "2026-03-07T09:00:00+07:00"},
      {"9h ngày 07/03/2026", "2026-03-07T09:00:00+07:00"},
      {"11 giờ đêm 07/03/2026", "2026-03-07T23:00:00+07:00"},
      {"Tin 24h 07/03/2026", "2026-03-07T00:00:00+07:00"},       // "24h" is not a time
      {"24 giờ qua, ngày 07/03/2026", "2026-03-07T00:00:00+07:00"},  // impossible hour ignored
      {"07/03/2026 14 giờ 05", "2026-03-07T14:05:00+07:00"},
      {"07/03/2026 3:15 chiều", "2026-03-07T15:15:00+07:00"},
      {"07/03/2026 9:15 sáng", "2026-03-07T09:15:00+07:00"},
  });
}

TEST(NormalizeDate, NfdDiacriticsAndNbsp) {
  // "Thứ hai" and "tháng" with combining marks (NFD), NBSP and narrow NBSP separators.
  expect_all({
      {"Thu\xCC\x9B\xCC\x81 hai,\xC2\xA0" "27/1/2025,\xC2\xA0" "14:30\xC2\xA0(GMT+7)", "2025-01-27T14:30:00+07:00"},
      {"Nga\xCC\x80y 07 tha\xCC\x81ng 03 na\xCC\x86m 2026", "2026-03-07T00:00:00+07:00"},
      {"NGA\xCC\x80Y 07 THA\xCC\x81NG 03 NA\xCC\x86M 2026", "2026-03-07T00:00:00+07:00"},
      {"07/03/2026\xE2\x80\xAF" "08:06", "2026-03-07T08:06:00+07:00"},
      {"\xE2\x80\x8B" "07/03/2026 08:06\xEF\xBB\xBF", "2026-03-07T08:06:00+07:00"},
  });
}

TEST(NormalizeDate, OffsetsKeptAsGiven) {
  expect_all({
      {"07/03/2026 08:06 (GMT+7)", "2026-03-07T08:06:00+07:00"},
      {"07/03/2026 08:06 GMT+07:00", "2026-03-07T08:06:00+07:00"},
      {"07/03/2026 08:06 UTC+8", "2026-03-07T08:06:00+08:00"},
      {"07/03/2026 08:06 GMT", "2026-03-07T08:06:00+00:00"},
      {"07/03/2026 08:06 ICT", "2026-03-07T08:06:00+07:00"},
      {"07/03/2026 08:06 GMT-3", "2026-03-07T08:06:00-03:00"},
  });
}

TEST(NormalizeDate, Timestamps) {
  expect_all({
      {"1772845560", "2026-03-07T08:06:00+07:00"},
      {"1772845560000", "2026-03-07T08:06:00+07:00"},
      {"20260307", "2026-03-07T00:00:00+07:00"},
  });
}

TEST(NormalizeDate, TwoDigitYearWithTimeAndEvening) {
  // news.zing.vn 2012: "24/12/12 11:05 tối" (tối = evening -> 23:05).
  EXPECT_EQ(normalize_date("24/12/12 11:05 tối").value_or(""), "2012-12-24T23:05:00+07:00");
  EXPECT_EQ(normalize_date("24/12/12 08:05").value_or(""), "2012-12-24T08:05:00+07:00");
  EXPECT_FALSE(normalize_date("1/2/3"));  // no time: too ambiguous to be a date
}

TEST(NormalizeDate, LeapYears) {
  expect_all({
      {"29/02/2024", "2024-02-29T00:00:00+07:00"},
      {"2000-02-29", "2000-02-29T00:00:00+07:00"},
  });
  EXPECT_FALSE(normalize_date("29/02/2025").has_value());
  EXPECT_FALSE(normalize_date("1900-02-29").has_value());
  EXPECT_FALSE(normalize_date("31/04/2026").has_value());
}

TEST(NormalizeDate, RejectsImpossibleValues) {
  const char* bad[] = {
      "13/13/2026",          // month 13
      "32/01/2026",          // day 32
      "2026-13-01",          // month 13
      "2026-02-30T10:00:00", // 30 February
      "07/03/2026 25:00",    // hour 25
      "07/03/2026 23:60",    // minute 60
      "2026-03-07T08:06:61+07:00",
      "07/03/2026 13:06 AM",  // AM with hour 13
      "2026-03-07T08:06:00+15:00",  // no such offset
      "Ngày 07 tháng 13 năm 2026",
      "00/03/2026",
      "07/00/2026",
      "Thu, 30 Feb 2025 20:45:46 +0700",  // RFC 822 fast path
      "Thu, 06 Feb 2025 24:45:46 GMT",
      "Thu, 06 Feb 2025 20:45:46 +1500",
      "2026-03-07T08:06:00+07:60",
      "2026-03-07 23:59:60",
  };
  for (const char* b : bad) EXPECT_FALSE(normalize_date(b).has_value()) << b;
}

TEST(NormalizeDate, NoDate) {
  const char* none[] = {"", "   ", "Thứ hai", "Cập nhật", "14:30", "Tin mới nhất", "GMT+7", "12345",
                        "\xFF\xFE\x00garbage", "0000000000000000000000000000"};
  for (const char* n : none) EXPECT_FALSE(normalize_date(n).has_value()) << n;
}

TEST(NormalizeDate, FirstDateWinsWhenSeveral) {
  EXPECT_EQ(normalize_date("Đăng 07/03/2026 08:00, cập nhật 08/03/2026 09:15").value(), "2026-03-07T08:00:00+07:00");
  EXPECT_EQ(normalize_date("Bài viết 123 - 07/03/2026 08:00").value(), "2026-03-07T08:00:00+07:00");
}

TEST(NormalizeDate, LongAndHostileInputDoesNotCrash) {
  std::string big(1 << 20, '9');
  EXPECT_FALSE(normalize_date(big).has_value());
  std::string spaces(100000, ' ');
  EXPECT_FALSE(normalize_date(spaces + "07/03/2026").has_value());  // beyond the scanned prefix
  std::string junk;
  for (int i = 0; i < 5000; ++i) junk += static_cast<char>(i * 37 % 256);
  (void)normalize_date(junk);  // must not crash
  EXPECT_EQ(normalize_date(std::string("Tin: 07/03/2026 08:06") + std::string(500, 'x')).value(),
            "2026-03-07T08:06:00+07:00");
}

TEST(NormalizeDate, OutputIsIdempotent) {
  const char* inputs[] = {"Thứ hai, 27/1/2025, 14:30 (GMT+7)", "Thu, 06 Feb 2025 20:45:46 GMT",
                          "2026-03-07T08:52:11-05:00", "Ngày 07 tháng 03 năm 2026"};
  for (const char* in : inputs) {
    auto once = normalize_date(in);
    ASSERT_TRUE(once) << in;
    EXPECT_EQ(normalize_date(*once), once) << in;
  }
}

TEST(IsoToEpoch, Basics) {
  EXPECT_EQ(iso_to_epoch("1970-01-01T00:00:00+00:00"), 0);
  EXPECT_EQ(iso_to_epoch("1970-01-01T07:00:00+07:00"), 0);
  EXPECT_EQ(iso_to_epoch("2026-03-07T08:06:00+07:00"), 1772845560);
  EXPECT_EQ(iso_to_epoch("2026-03-07T01:06:00Z"), 1772845560);
  EXPECT_EQ(iso_to_epoch("2026-03-06T20:06:00-05:00"), 1772845560);
  EXPECT_EQ(iso_to_epoch("2026-03-07T08:06:00.999+07:00"), 1772845560);
  EXPECT_EQ(iso_to_epoch("1969-12-31T23:59:59+00:00"), -1);
  // Lenient: anything normalize_date accepts.
  EXPECT_EQ(iso_to_epoch("07/03/2026 08:06"), 1772845560);
  EXPECT_FALSE(iso_to_epoch("").has_value());
  EXPECT_FALSE(iso_to_epoch("2026-02-30T00:00:00+07:00").has_value());
  EXPECT_FALSE(iso_to_epoch("not a date").has_value());
}

TEST(EpochToIsoVn, Basics) {
  EXPECT_EQ(epoch_to_iso_vn(0), "1970-01-01T07:00:00+07:00");
  EXPECT_EQ(epoch_to_iso_vn(1772845560), "2026-03-07T08:06:00+07:00");
  EXPECT_EQ(epoch_to_iso_vn(-1), "1970-01-01T06:59:59+07:00");
  EXPECT_EQ(epoch_to_iso_vn(1709139600), "2024-02-29T00:00:00+07:00");
  // New year boundary in Vietnam while still the previous year in UTC.
  EXPECT_EQ(epoch_to_iso_vn(1767200400), "2026-01-01T00:00:00+07:00");
}

TEST(EpochToIsoVn, ExtremeValuesAreClamped) {
  EXPECT_EQ(epoch_to_iso_vn(INT64_MAX).substr(0, 5), "9999-");
  EXPECT_EQ(epoch_to_iso_vn(INT64_MIN).substr(0, 5), "0001-");
  EXPECT_EQ(normalize_date("99999999999999999").has_value(), false);
}

TEST(EpochToIsoVn, RoundTrip) {
  for (int64_t t = 946684800; t < 4102444800; t += 86400 * 37 + 3607) {
    std::string iso = epoch_to_iso_vn(t);
    auto back = iso_to_epoch(iso);
    ASSERT_TRUE(back) << iso;
    EXPECT_EQ(*back, t) << iso;
  }
}

TEST(NowIsoVn, CloseToSystemClock) {
  std::string now = now_iso_vn();
  ASSERT_EQ(now.size(), 25u) << now;
  EXPECT_EQ(now.substr(19), "+07:00");
  auto e = iso_to_epoch(now);
  ASSERT_TRUE(e);
  int64_t sys = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(std::llabs(sys - *e), 5);
}

// Issue 14: hostile input. The old std::regex engine recursed once per character and overflowed the stack on
// these (SIGSEGV); the RE2 patterns run in linear time. Only the outcome is checked, never the time taken.
TEST(NormalizeDateHostile, LongInputsDoNotCrash) {
  EXPECT_FALSE(normalize_date("Mon," + std::string(30000, ' ')));
  std::string ones;
  for (int i = 0; i < 15000; ++i) ones += "1.";
  EXPECT_FALSE(normalize_date(ones));
  EXPECT_FALSE(normalize_date(std::string(30000, '1')));
  EXPECT_FALSE(normalize_date(std::string(30000, 'h')));
  std::string sp = "07/03/2026" + std::string(30000, ' ') + "08:06";
  EXPECT_EQ(normalize_date(sp).value_or(""), "2026-03-07T00:00:00+07:00");  // the time is past the 2000 bytes searched
  // A date after a long run of noise within the searched prefix is still found.
  EXPECT_EQ(normalize_date(std::string(1500, '-') + " 07/03/2026 08:06").value_or(""), "2026-03-07T08:06:00+07:00");
  std::string many;
  for (int i = 0; i < 3000; ++i) many += "99/99/9999 ";
  EXPECT_FALSE(normalize_date(many));
}

// The lookahead guards of the old patterns ("(?![0-9])") are consumed guards now; the next search restarts
// before the guard character, so adjacent tokens are still seen.
TEST(NormalizeDateHostile, GuardsDoNotSwallowTheNextToken) {
  expect_all({
      {"99/99/9999 07/03/2026", "2026-03-07T00:00:00+07:00"},         // invalid date, then a valid one right after
      {"07/03/2026, 08:06 sáng", "2026-03-07T08:06:00+07:00"},
      {"07/03/2026 8h sáng", "2026-03-07T08:00:00+07:00"},
      {"07/03/2026 8 giờ tối", "2026-03-07T20:00:00+07:00"},
      {"07/03/2026 8h, GMT+7", "2026-03-07T08:00:00+07:00"},
      {"Sun Jul 15 01:16:00 +0000 2012", "2012-07-15T01:16:00+00:00"},
      {"Thu, 01 Jan 04 19:48:21 GMT", "2004-01-01T19:48:21+00:00"},
      {"07/03/2026 08:06:11-05:00", "2026-03-07T08:06:11-05:00"},
  });
  EXPECT_FALSE(normalize_date("2026-03-071"));  // digit right after the day: no date
}

// Issue 14 property bugs.
TEST(NormalizeDateHostile, TimestampsOutsideTheAcceptedRangeAreNoDates) {
  // 7871245560 is in 2219: iso_to_epoch rejects that year, so normalize_date must not produce it.
  EXPECT_FALSE(normalize_date("7871245560"));
  EXPECT_FALSE(normalize_date("7871245560000"));
  EXPECT_FALSE(normalize_date("9999999999"));
  EXPECT_FALSE(normalize_date("2219-01-01"));
  // What normalize_date returns, iso_to_epoch accepts, and normalizing it again changes nothing.
  for (const char* s : {"1772845560", "4102444800", "7258032000", "07/03/2026 08:06 GMT-14", "2200-12-31T23:59:59-14:00"}) {
    auto iso = normalize_date(s);
    if (!iso) continue;
    EXPECT_TRUE(iso_to_epoch(*iso)) << s << " -> " << *iso;
    EXPECT_EQ(normalize_date(*iso).value_or(""), *iso) << s;
  }
}

TEST(NormalizeDateHostile, PhoneNumbersAreNotTimestamps) {
  EXPECT_FALSE(normalize_date("0912345678"));     // Vietnamese mobile number
  EXPECT_FALSE(normalize_date(" 0243 8256 789"));  // landline with spaces: no date shape at all
  EXPECT_FALSE(normalize_date("0912345678000"));
  EXPECT_EQ(normalize_date("1772845560").value_or(""), "2026-03-07T08:06:00+07:00");  // epoch values still are
}

// feedparser's date dispatcher (parse_feed_date) on the repro values of issue 14: the Greek, perforce and
// Hungarian forms ran std::regex on the raw value (SIGSEGV). Dates longer than limits::kMaxDateBytes are not
// parsed at all; shorter ones go through RE2.
TEST(FeedDateHostile, DispatcherOnLongInputs) {
  EXPECT_FALSE(baotin::parse_feed_date("Mon," + std::string(30000, ' ')));
  std::string ones;
  for (int i = 0; i < 15000; ++i) ones += "1.";
  EXPECT_FALSE(baotin::parse_feed_date(ones));
  EXPECT_FALSE(baotin::parse_feed_date(std::string(30000, '1')));
  EXPECT_FALSE(baotin::parse_feed_date("Mon," + std::string(250, ' ')));
  EXPECT_FALSE(baotin::parse_feed_date(ones.substr(0, 250)));
  EXPECT_TRUE(baotin::parse_feed_date("Thu, 06 Feb 2025 20:45:46 +0700"));
}

// The usual W3DTF and RFC 822 forms, which parse_feed_date reads without the dispatcher's splitting (issue 12),
// give the dispatcher's values (expected epochs from Python's datetime); out-of-range fields in those forms still
// reach the dispatcher: RFC 822 rejects 31 February, the ISO 8601 reader rolls hour 25 over to the next day.
TEST(FeedDate, UsualFormsReadDirectly) {
  const int64_t midnight = 1738800000;  // 2025-02-06T00:00:00Z
  EXPECT_EQ(baotin::parse_feed_date("2025-02-06T07:00:00+07:00"), midnight);
  EXPECT_EQ(baotin::parse_feed_date("2025-02-06t07:00:00.999z"), midnight + 7 * 3600);
  EXPECT_EQ(baotin::parse_feed_date("2025-02-06T07:00:00-05:30"), 1738845000);
  EXPECT_EQ(baotin::parse_feed_date("Thu, 06 Feb 2025 07:00:00 +0700"), midnight);
  EXPECT_EQ(baotin::parse_feed_date("thu, 06 feb 2025 07:00:00 gmt"), midnight + 7 * 3600);
  EXPECT_EQ(baotin::parse_feed_date("6 Feb 2025 07:00:00 GMT"), midnight + 7 * 3600);
  EXPECT_EQ(baotin::format_utc(*baotin::parse_feed_date("Thu, 06 Feb 2025 20:45:46 +0700")), "2025-02-06T13:45:46Z");
  EXPECT_FALSE(baotin::parse_feed_date("Thu, 31 Feb 2025 07:00:00 +0700"));
  EXPECT_EQ(baotin::format_utc(baotin::parse_feed_date("2025-02-06T25:00:00Z").value_or(0)), "2025-02-07T01:00:00Z");
}

// Issue 13: "3/24/2024 7:12:35 AM" (an ASP.NET page's US order) is a date; an ambiguous "3/4/2024" stays day-first.
TEST(NormalizeDate, UsMonthFirstOnlyWhenUnambiguous) {
  EXPECT_EQ(normalize_date("3/24/2024 7:12:35 AM").value_or(""), "2024-03-24T07:12:35+07:00");
  EXPECT_EQ(normalize_date("3/24/2024 7:12:35 PM").value_or(""), "2024-03-24T19:12:35+07:00");
  EXPECT_EQ(normalize_date("3/4/2024 07:12").value_or(""), "2024-04-03T07:12:00+07:00");
  EXPECT_FALSE(normalize_date("13/24/2024").has_value());
}
