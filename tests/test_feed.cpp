// Unit tests for feed/feed.* and core/charset.* (fixtures in tests/fixtures/feeds).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/charset.h"
#include "core/limits.h"
#include "core/text.h"
#include "extract/html.h"
#include "feed/feed.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace baotin;
using baotin::testing::read_file;

namespace {

std::string fixture(const std::string& name) {
  fs::path p = fs::path(BAOTIN_FIXTURES) / "feeds" / name;
  EXPECT_TRUE(fs::exists(p)) << p;
  return read_file(p);
}

std::string utc(std::string_view s) {
  auto t = parse_feed_date(s);
  return t ? format_utc(*t) : std::string("null");
}

}  // namespace

TEST(FeedParse, Rss20Vietnamese) {
  ParsedFeed f = parse_feed(fixture("rss20_vi.xml"));
  EXPECT_FALSE(f.bozo) << f.bozo_exception;
  EXPECT_EQ(f.format, "rss20");
  EXPECT_EQ(f.encoding, "utf-8");
  EXPECT_EQ(f.title, "Tin mới nhất - Báo Thử Nghiệm");  // not the <image><title>
  EXPECT_EQ(f.link, "https://baothu.example.vn/");
  EXPECT_EQ(f.language, "vi-VN");
  EXPECT_EQ(f.updated, "2025-02-06T13:50:00Z");
  ASSERT_EQ(f.items.size(), 3u);

  const FeedItem& a = f.items[0];
  EXPECT_EQ(a.title, "Hà Nội đón đợt không khí lạnh mạnh nhất mùa đông");
  EXPECT_EQ(a.title_type, "text/plain");
  EXPECT_EQ(a.link, "https://baothu.example.vn/thoi-su/ha-noi-don-dot-khong-khi-lanh-4845123.html");
  EXPECT_EQ(a.id, "baothu-4845123");  // isPermaLink="false": neither resolved nor used as link
  EXPECT_EQ(a.published, "2025-02-06T13:45:46Z");
  EXPECT_EQ(a.published_raw, "Thu, 06 Feb 2025 20:45:46 +0700");
  EXPECT_EQ(a.author, "Nguyễn Văn Ấn");
  EXPECT_EQ(a.categories, (std::vector<std::string>{"Thời sự", "Thời tiết"}));
  EXPECT_NE(a.summary.find("Nhiệt độ ở Hà Nội xuống dưới 10 độ C."), std::string::npos);
  EXPECT_EQ(a.summary_type, "text/html");
  EXPECT_EQ(a.content, "<p>Nhiệt độ ở Hà Nội xuống dưới <b>10 độ C</b> vào đêm nay.</p>");
  EXPECT_EQ(a.content_type, "text/html");
  ASSERT_EQ(a.enclosures.size(), 1u);
  EXPECT_EQ(a.enclosures[0].href, "https://i.example.vn/anh.jpg");
  EXPECT_EQ(a.enclosures[0].type, "image/jpeg");
  EXPECT_EQ(a.enclosures[0].length, "12345");
  EXPECT_EQ(a.media_thumbnails, (std::vector<std::string>{"https://i.example.vn/anh_thumb.jpg"}));

  const FeedItem& b = f.items[1];
  EXPECT_EQ(b.title, "Giá vàng & USD cùng tăng");
  EXPECT_EQ(b.published, "2025-02-06T13:00:00Z");
  EXPECT_TRUE(b.has_guidislink);
  EXPECT_FALSE(b.guidislink);  // an explicit <link> came first

  const FeedItem& c = f.items[2];  // permalink guid stands in for the missing <link>
  EXPECT_EQ(c.link, "https://baothu.example.vn/doi-song/chi-co-guid-4845125.html");
  EXPECT_EQ(c.id, c.link);
  EXPECT_TRUE(c.guidislink);
  EXPECT_EQ(c.published, "2025-02-06T01:00:00Z");
}

TEST(FeedParse, Atom10WithXmlBase) {
  ParsedFeed f = parse_feed(fixture("atom10.xml"));
  EXPECT_FALSE(f.bozo) << f.bozo_exception;
  EXPECT_EQ(f.format, "atom10");
  EXPECT_EQ(f.title, "Atom thử nghiệm");
  EXPECT_EQ(f.link, "https://atom.example.vn/");  // href="/" against xml:base
  EXPECT_EQ(f.id, "tag:atom.example.vn,2025:feed");
  EXPECT_EQ(f.subtitle, "Tin <b>nóng</b>");
  EXPECT_EQ(f.language, "vi");
  EXPECT_EQ(f.author, "Ban biên tập (bbt@atom.example.vn)");
  ASSERT_EQ(f.items.size(), 2u);
  const FeedItem& e = f.items[0];
  EXPECT_EQ(e.title, "Đổi mới <em>giáo dục</em>");
  EXPECT_EQ(e.title_type, "text/html");
  EXPECT_EQ(e.link, "https://atom.example.vn/tin/giao-duc/doi-moi-1.html");
  EXPECT_EQ(e.id, "tag:atom.example.vn,2025:1");
  EXPECT_EQ(e.published, "2025-02-06T01:00:00Z");
  EXPECT_EQ(e.updated, "2025-02-06T02:30:00Z");
  EXPECT_EQ(e.author, "Trần Thị Bích");
  EXPECT_EQ(e.categories, std::vector<std::string>{"giao-duc"});
  EXPECT_EQ(e.summary, "Tóm tắt bài viết.");
  EXPECT_EQ(e.content, "<p>Nội dung <strong>chính</strong>.</p>");  // wrapping xhtml <div> removed
  EXPECT_EQ(e.content_type, "application/xhtml+xml");
  ASSERT_EQ(e.enclosures.size(), 1u);
  EXPECT_EQ(e.enclosures[0].href, "https://cdn.example.vn/a.mp3");
  // an entry with only an <id> gets it as its link, like feedparser
  EXPECT_EQ(f.items[1].link, "https://atom.example.vn/tin/khac-2.html");
  EXPECT_EQ(f.items[1].published, "");
  EXPECT_EQ(f.items[1].updated, "2025-02-05T23:00:00Z");
}

TEST(FeedParse, Rdf) {
  ParsedFeed f = parse_feed(fixture("rdf.xml"));
  EXPECT_FALSE(f.bozo) << f.bozo_exception;
  EXPECT_EQ(f.format, "rss10");
  EXPECT_EQ(f.title, "Kênh RDF");
  ASSERT_EQ(f.items.size(), 2u);
  EXPECT_EQ(f.items[0].id, "https://rdf.example.vn/a");  // rdf:about
  EXPECT_EQ(f.items[0].updated, "2025-01-27T07:30:00Z");  // dc:date is filed under updated
  EXPECT_EQ(f.items[0].published, "");
  EXPECT_EQ(f.items[0].author, "Lê Văn C");
  EXPECT_EQ(f.items[0].categories, std::vector<std::string>{"Xã hội"});
  EXPECT_EQ(f.items[1].updated, "2025-01-27T00:00:00Z");
}

TEST(FeedParse, RawAmpersandAndHtmlEntitiesRecover) {
  ParsedFeed f = parse_feed(fixture("raw_amp.xml"));
  EXPECT_TRUE(f.bozo);
  EXPECT_NE(f.bozo_exception.find("SAXParseException"), std::string::npos) << f.bozo_exception;
  EXPECT_EQ(f.format, "rss20");
  EXPECT_EQ(nfc(clean_text(f.title)), "Thể thao & Giải trí");
  ASSERT_EQ(f.items.size(), 1u);
  const FeedItem& it = f.items[0];
  EXPECT_EQ(it.title, "Bóng đá & quần vợt ông vua");
  EXPECT_EQ(it.link, "https://amp.example.vn/the-thao?id=1&cat=2");
  EXPECT_EQ(it.summary, "Chú thích © 2025 …");
  ASSERT_EQ(it.enclosures.size(), 1u);
  EXPECT_EQ(it.enclosures[0].href, "https://i.example.vn/a.jpg?w=180&h=108&q=100&dpr=1&fit=crop&s=abc");
  EXPECT_EQ(it.published, "2025-02-06T13:45:46Z");
}

TEST(FeedParse, CdataTitleWithEntitiesStaysHtml) {
  // Thanh Nien puts HTML entities inside CDATA titles; like feedparser we keep the text as HTML
  // (title_type text/html) and consumers decode it.
  ParsedFeed f = parse_feed(fixture("cdata_title.xml"));
  EXPECT_FALSE(f.bozo) << f.bozo_exception;
  EXPECT_EQ(f.title, "Thanh Niên");
  ASSERT_EQ(f.items.size(), 1u);
  EXPECT_EQ(f.items[0].title_type, "text/html");
  EXPECT_EQ(nfc(decode_entities(f.items[0].title)), nfc("Bố trí lại các bộ"));
  EXPECT_EQ(f.items[0].summary, "<p>Đoạn <b>một</b></p>");
}

TEST(FeedParse, TruncatedFeedKeepsItemsBeforeTheCut) {
  ParsedFeed f = parse_feed(fixture("truncated.xml"));
  EXPECT_TRUE(f.bozo);
  EXPECT_FALSE(f.bozo_exception.empty());
  EXPECT_EQ(f.title, "Bị cắt giữa chừng");
  ASSERT_GE(f.items.size(), 2u);
  EXPECT_EQ(f.items[0].title, "Bài một");
  EXPECT_EQ(f.items[0].link, "https://cut.example.vn/1");
  EXPECT_EQ(f.items[1].title, "Bài hai");
  EXPECT_EQ(f.items[1].published, "2025-02-06T04:00:00Z");
  if (f.items.size() == 3) {
    EXPECT_EQ(f.items[2].title, "Bài ba");  // the started item keeps what was read
    EXPECT_FALSE(f.items[2].has_link);
  }
}

TEST(FeedParse, Windows1258) {
  ParsedFeed f = parse_feed(fixture("windows1258.xml"));
  EXPECT_FALSE(f.bozo) << f.bozo_exception;
  EXPECT_EQ(f.encoding, "windows-1258");
  // windows-1258 spells tones as combining marks; compare in NFC
  EXPECT_EQ(nfc(f.title), "Báo Tiếng Việt");
  ASSERT_EQ(f.items.size(), 1u);
  EXPECT_EQ(nfc(f.items[0].title), "Người Việt ở nước ngoài");
  EXPECT_EQ(nfc(f.items[0].summary), "Đà Nẵng, Huế, Hội An");
}

TEST(FeedParse, Tcvn3AndViscii) {
  ParsedFeed t = parse_feed(fixture("tcvn3.xml"));
  EXPECT_FALSE(t.bozo) << t.bozo_exception;
  EXPECT_EQ(t.encoding, "tcvn");
  EXPECT_EQ(t.title, "Báo Tiếng Việt");
  ASSERT_EQ(t.items.size(), 1u);
  EXPECT_EQ(t.items[0].title, "Người Việt ở nước ngoài");
  EXPECT_EQ(t.items[0].summary, "Đà Nẵng, Huế, Hội An");

  ParsedFeed v = parse_feed(fixture("viscii.xml"));
  EXPECT_FALSE(v.bozo) << v.bozo_exception;
  EXPECT_EQ(v.encoding, "viscii");
  ASSERT_EQ(v.items.size(), 1u);
  EXPECT_EQ(v.items[0].title, "Người Việt ở nước ngoài");
}

TEST(FeedParse, HttpCharsetOverridesDeclaration) {
  std::string body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>Ti\xea\x6e</title>"
                     "</channel></rss>";  // ISO-8859-1 bytes, declared utf-8
  ParsedFeed f = parse_feed(body, "application/rss+xml; charset=iso-8859-1");
  EXPECT_EQ(f.encoding, "iso-8859-1");
  EXPECT_EQ(f.title, "Tiên");
  // without the header, utf-8 fails and feedparser's fallback order lands on windows-1252
  ParsedFeed g = parse_feed(body);
  EXPECT_TRUE(g.bozo);
  EXPECT_NE(g.bozo_exception.find("CharacterEncodingOverride"), std::string::npos);
  EXPECT_EQ(g.title, "Tiên");
}

TEST(FeedParse, ContentLocationResolvesRelativeLinks) {
  FeedHttpHeaders h = feed_headers_from_json(R"({"Content-Location": "https://x.example.vn/rss/home.rss"})");
  EXPECT_EQ(h.content_type, "application/xml");
  ParsedFeed f = parse_feed("<rss version=\"2.0\"><channel><item><link>../tin/1.html</link></item></channel></rss>", h);
  ASSERT_EQ(f.items.size(), 1u);
  EXPECT_EQ(f.items[0].link, "https://x.example.vn/tin/1.html");
  EXPECT_THROW(feed_headers_from_json("{not json"), std::invalid_argument);
}

TEST(FeedParse, GarbageNeverCrashesAndIsBozo) {
  ParsedFeed empty = parse_feed("");
  EXPECT_TRUE(empty.bozo);
  EXPECT_EQ(empty.bozo_exception, "NotAFeed: empty document");
  EXPECT_TRUE(empty.items.empty());

  ParsedFeed html = parse_feed(fixture("html_page.xml"));
  EXPECT_TRUE(html.bozo);
  EXPECT_EQ(html.format, "");
  EXPECT_NE(html.bozo_exception.find("<html>"), std::string::npos) << html.bozo_exception;

  ParsedFeed text = parse_feed("this is not xml at all & never was < really");
  EXPECT_TRUE(text.bozo);
  EXPECT_FALSE(text.bozo_exception.empty());

  std::mt19937 rng(12345);
  std::string base = fixture("rss20_vi.xml");
  for (int round = 0; round < 300; ++round) {
    std::string s;
    if (round % 3 == 0) {
      s.resize(rng() % 2000);
      for (auto& c : s) c = static_cast<char>(rng());
    } else {
      s = base.substr(0, rng() % base.size());  // truncations
      for (int k = 0; k < round % 7; ++k) s[rng() % std::max<size_t>(1, s.size())] = static_cast<char>(rng());
    }
    ParsedFeed f = parse_feed(s);
    nlohmann::json j = feed_to_oracle_json(f);  // must serialise (valid UTF-8 everywhere)
    EXPECT_TRUE(j.contains("items"));
    EXPECT_NO_THROW(j.dump());
  }
}

TEST(FeedParse, OracleJsonShape) {
  ParsedFeed f = parse_feed(fixture("rss20_vi.xml"));
  nlohmann::json j = feed_to_oracle_json(f);
  EXPECT_EQ(j["format"], "rss20");
  EXPECT_EQ(j["bozo"], false);
  EXPECT_TRUE(j["bozo_exception"].is_null());
  EXPECT_EQ(j["feed"]["title"], "Tin mới nhất - Báo Thử Nghiệm");
  ASSERT_EQ(j["items"].size(), 3u);
  EXPECT_EQ(j["items"][0]["enclosures"][0]["href"], "https://i.example.vn/anh.jpg");
  EXPECT_EQ(j["items"][0]["_extra"]["published_raw"], "Thu, 06 Feb 2025 20:45:46 +0700");
  EXPECT_TRUE(j["items"][2]["summary"].is_null());
}

TEST(FeedDates, Forms) {
  EXPECT_EQ(utc("Thu, 06 Feb 2025 20:45:46 +0700"), "2025-02-06T13:45:46Z");
  EXPECT_EQ(utc("Mon, 21 Nov 2022 21:24 +0700"), "2022-11-21T14:24:00Z");
  EXPECT_EQ(utc("Sun, 31 Dec 06 12:00:00 EST"), "2006-12-31T17:00:00Z");  // 2-digit year, named zone
  EXPECT_EQ(utc("2025-01-27T14:30:00+07:00"), "2025-01-27T07:30:00Z");
  EXPECT_EQ(utc("2025-01-27T14:30:00.123Z"), "2025-01-27T14:30:00Z");
  EXPECT_EQ(utc("2025-01-27"), "2025-01-27T00:00:00Z");
  EXPECT_EQ(utc("20250127T14:30:00Z"), "2025-01-27T14:30:00Z");  // compact ISO 8601 date
  EXPECT_EQ(utc("20250127T143000Z"), "2025-01-27T00:00:00Z");    // feedparser ignores a colon-less time
  EXPECT_EQ(utc("Mon Jan 27 14:30:00 2025"), "2025-01-27T14:30:00Z");  // asctime
  EXPECT_EQ(utc("not a date"), "null");
  EXPECT_EQ(utc(""), "null");
  EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00Z");
}

TEST(FeedDates, FeedparserDispatcherCases) {
  fs::path p = fs::path(BAOTIN_SHARED) / "corpus/feeds/corpus/dates/feedparser_date_cases.tsv";
  if (!fs::exists(p)) GTEST_SKIP() << "shared corpus not available";
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  int n = 0, same = 0;
  std::vector<std::string> diffs;
  while (std::getline(in, line)) {
    std::vector<std::string> c;
    std::stringstream ss(line);
    std::string f;
    while (std::getline(ss, f, '\t')) c.push_back(f);
    if (c.size() < 4) continue;
    std::string got = utc(c[1]);
    ++n;
    if (got == c[3]) ++same;
    else diffs.push_back(c[0] + " '" + c[1] + "' want " + c[3] + " got " + got);
  }
  ASSERT_GT(n, 60);
  // feedparser's public dispatcher, including its rollovers of out-of-range values
  EXPECT_EQ(same, n) << ::testing::PrintToString(diffs);
}

TEST(LegacyCharset, Labels) {
  EXPECT_EQ(legacy_charset_from_label("TCVN"), LegacyCharset::kTcvn3);
  EXPECT_EQ(legacy_charset_from_label("tcvn-5712"), LegacyCharset::kTcvn3);
  EXPECT_EQ(legacy_charset_from_label("TCVN5712-1"), LegacyCharset::kTcvn3);
  EXPECT_EQ(legacy_charset_from_label("x-viet-tcvn3"), LegacyCharset::kTcvn3);
  EXPECT_EQ(legacy_charset_from_label("VISCII"), LegacyCharset::kViscii);
  EXPECT_EQ(legacy_charset_from_label("csviscii"), LegacyCharset::kViscii);
  EXPECT_EQ(legacy_charset_from_label("utf-8"), LegacyCharset::kNone);
  std::string out;
  EXPECT_FALSE(decode_legacy_charset("abc", LegacyCharset::kNone, out));
}

TEST(LegacyCharset, KnownCodePoints) {
  std::string out;
  // upstream feedparser expectations: TCVN3 0x80 = U+00C0, VISCII 0x80 = U+1EA0
  ASSERT_TRUE(decode_legacy_charset("\x80", LegacyCharset::kTcvn3, out));
  EXPECT_EQ(out, "\xC3\x80");
  ASSERT_TRUE(decode_legacy_charset("\x80", LegacyCharset::kViscii, out));
  EXPECT_EQ(out, "\xE1\xBA\xA0");
  // TCVN3 combining tone after a base letter composes (NFC): 'a' + 0xB3 (acute) -> 'á'
  ASSERT_TRUE(decode_legacy_charset("a\xB3", LegacyCharset::kTcvn3, out));
  EXPECT_EQ(out, "á");
  // ASCII is unchanged
  ASSERT_TRUE(decode_legacy_charset("Hello <b>", LegacyCharset::kViscii, out));
  EXPECT_EQ(out, "Hello <b>");
}

TEST(LegacyCharset, RoundTrip) {
  const std::string text = "Cộng hòa Xã hội Chủ nghĩa Việt Nam – Độc lập, Tự do, Hạnh phúc";
  for (auto cs : {LegacyCharset::kTcvn3, LegacyCharset::kViscii}) {
    std::string enc, dec;
    ASSERT_TRUE(encode_legacy_charset(text, cs, enc));
    ASSERT_TRUE(decode_legacy_charset(enc, cs, dec));
    // the en dash has no mapping in either charset
    EXPECT_EQ(dec, "Cộng hòa Xã hội Chủ nghĩa Việt Nam ? Độc lập, Tự do, Hạnh phúc");
  }
}

// ---- Issue 14: hostile feeds ---------------------------------------------------------------------------------
// Each of these crashed (SIGSEGV, stack overflow in the std::regex engine) or exhausted memory before the fix.

namespace {

std::string rss_with_item(const std::string& item_inner, const std::string& prolog = "") {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?>" + prolog +
         "<rss version=\"2.0\"><channel><title>t</title><link>https://a.vn/</link><item>" + item_inner +
         "</item></channel></rss>";
}

size_t text_size(const ParsedFeed& f) {
  size_t n = f.title.size() + f.subtitle.size();
  for (const auto& it : f.items) {
    n += it.title.size() + it.summary.size() + it.content.size() + it.link.size();
    for (const auto& c : it.contents) n += c.size();
  }
  return n;
}

}  // namespace

TEST(FeedHostile, HugeDoctypePublicIdParses) {
  // The repro of issue 14: baotin parse-feed d.xml -> SIGSEGV.
  std::string d = "<!DOCTYPE rss PUBLIC \"" + std::string(50000, 'a') +
                  "\"><rss version=\"2.0\"><channel><title>t</title></channel></rss>";
  ParsedFeed f = parse_feed(d);
  EXPECT_EQ(f.format, "rss20");
  EXPECT_EQ(f.title, "t");
}

TEST(FeedHostile, HugeEntityDeclarationParses) {
  std::string d = "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY big \"" + std::string(40000, 'x') +
                  "\">\n<!ENTITY " + std::string(40000, 'y') + ">\n]>\n<rss version=\"2.0\"><channel><title>t &big;"
                  "</title></channel></rss>";
  ParsedFeed f = parse_feed(d);
  EXPECT_EQ(f.format, "rss20");
  EXPECT_EQ(f.title.substr(0, 4), "t xx");
}

TEST(FeedHostile, HugeDatesAreNotParsed) {
  ParsedFeed f = parse_feed(rss_with_item("<title>a</title><link>https://a.vn/1</link><pubDate>" +
                                          std::string(30000, '1') + "</pubDate>"));
  ASSERT_EQ(f.items.size(), 1u);
  EXPECT_EQ(f.items[0].published, "");
  EXPECT_EQ(f.items[0].published_raw, "");
  EXPECT_TRUE(f.bozo);
  EXPECT_NE(f.bozo_exception.find("LimitExceeded: item date longer than 256 bytes dropped"), std::string::npos)
      << f.bozo_exception;
  // The Greek, perforce and Hungarian forms of feedparser's dispatcher ran std::regex on the raw value.
  EXPECT_EQ(utc("Mon," + std::string(30000, ' ')), "null");
  std::string ones;
  for (int i = 0; i < 15000; ++i) ones += "1.";
  EXPECT_EQ(utc(ones), "null");
  // Under the cap the forms still work, whatever the padding.
  EXPECT_EQ(utc("Mon," + std::string(200, ' ') + "06 Feb 2025 20:45:46 +0700"), "2025-02-06T13:45:46Z");
  EXPECT_EQ(utc("Thu, 06 Feb 2025 20:45:46 +0700"), "2025-02-06T13:45:46Z");
}

TEST(FeedHostile, HugeItemLinkIsDropped) {
  std::string link = "https://vnexpress.net/" + std::string(30000, 'a') + "-4567890.html";
  ParsedFeed f = parse_feed(rss_with_item("<title>a</title><link>" + link + "</link>"));
  ASSERT_EQ(f.items.size(), 1u);
  EXPECT_EQ(f.items[0].link, "");
  EXPECT_TRUE(f.bozo);
  EXPECT_NE(f.bozo_exception.find("item link longer than 8192 bytes dropped"), std::string::npos) << f.bozo_exception;
  // A long but acceptable link is kept as is.
  std::string ok = "https://vnexpress.net/" + std::string(4000, 'a') + "-4567890.html";
  ParsedFeed g = parse_feed(rss_with_item("<title>a</title><link>" + ok + "</link>"));
  ASSERT_EQ(g.items.size(), 1u);
  EXPECT_EQ(g.items[0].link, ok);
  EXPECT_FALSE(g.bozo) << g.bozo_exception;
}

TEST(FeedHostile, HugeTitleIsCutAtACharacterBoundary) {
  std::string title;
  while (title.size() < 10000) title += "Tiếng Việt ";
  ParsedFeed f = parse_feed(rss_with_item("<title>" + title + "</title><link>https://a.vn/1</link>"));
  ASSERT_EQ(f.items.size(), 1u);
  EXPECT_LE(f.items[0].title.size(), 4096u);
  EXPECT_GT(f.items[0].title.size(), 4000u);
  EXPECT_EQ(title.compare(0, f.items[0].title.size(), f.items[0].title), 0);
  // no partial UTF-8 sequence at the end
  unsigned char last = static_cast<unsigned char>(f.items[0].title.back());
  EXPECT_TRUE(last < 0x80 || (last & 0xC0) == 0x80);
  EXPECT_NE(f.bozo_exception.find("title longer than 4096 bytes truncated"), std::string::npos);
}

// Issue 14 item 3: a 135 KB feed with one 15 KB internal entity referenced 40,000 times took 1.8 GB RSS.
// The expansion is bounded by 4x the document: the feed is bozo and what was parsed stays small.
TEST(FeedHostile, EntityExpansionIsBounded) {
  const std::string prolog = "\n<!DOCTYPE rss [\n<!ENTITY e \"" + std::string(15000, 'x') + "\">\n]>\n";
  std::string refs;
  for (int i = 0; i < 40000; ++i) refs += "&e;";
  for (bool well_formed : {true, false}) {
    // the second document has a raw '&' so that the forgiving reader (another expansion path) is used
    std::string d = rss_with_item("<title>a</title><link>https://a.vn/1</link><description>" + refs +
                                      (well_formed ? "" : " & ") + "</description>",
                                  prolog);
    ParsedFeed f = parse_feed(d);
    EXPECT_TRUE(f.bozo) << well_formed;
    EXPECT_EQ(f.bozo_exception.rfind("EntityExpansionLimit: ", 0), 0u) << f.bozo_exception;
    ASSERT_EQ(f.items.size(), 1u) << well_formed;
    EXPECT_EQ(f.items[0].link, "https://a.vn/1");
    EXPECT_LE(text_size(f), 6 * d.size()) << well_formed;
    EXPECT_GT(f.items[0].summary.size(), 100000u) << well_formed;  // expanded up to the limit, not dropped whole
  }
}

TEST(FeedHostile, SmallEntitiesStillExpand) {
  std::string d = rss_with_item("<title>&brand; &brand;</title><link>https://a.vn/1</link>",
                                "\n<!DOCTYPE rss [\n<!ENTITY brand \"B\xC3\xA1o Th\xE1\xBB\xAD\">\n]>\n");
  ParsedFeed f = parse_feed(d);
  EXPECT_FALSE(f.bozo) << f.bozo_exception;
  ASSERT_EQ(f.items.size(), 1u);
  EXPECT_EQ(f.items[0].title, "B\xC3\xA1o Th\xE1\xBB\xAD B\xC3\xA1o Th\xE1\xBB\xAD");
}

// A feed with far more items than any outlet publishes: the first limits::kMaxFeedItems are kept (bounded
// memory), the rest ignored, and the feed says so.
TEST(FeedHostile, ItemsPastTheLimitAreIgnored) {
  for (const char* fmt : {"rss", "atom"}) {
    std::string x = std::string(fmt) == "rss" ? "<rss version=\"2.0\"><channel><title>t</title>"
                                              : "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>";
    const size_t n = baotin::limits::kMaxFeedItems + 2500;
    for (size_t i = 0; i < n; ++i)
      x += std::string(fmt) == "rss" ? "<item><link>http://a.vn/bai-" + std::to_string(i) + ".html</link></item>"
                                     : "<entry><link href=\"http://a.vn/bai-" + std::to_string(i) + ".html\"/></entry>";
    x += std::string(fmt) == "rss" ? "</channel></rss>" : "</feed>";
    ParsedFeed f = parse_feed(x, "application/xml", "http://a.vn/rss");
    ASSERT_EQ(f.items.size(), baotin::limits::kMaxFeedItems) << fmt;
    EXPECT_EQ(f.items.front().link, "http://a.vn/bai-0.html");
    EXPECT_EQ(f.items.back().link, "http://a.vn/bai-" + std::to_string(baotin::limits::kMaxFeedItems - 1) + ".html");
    EXPECT_TRUE(f.bozo);
    EXPECT_NE(f.bozo_exception.find("ItemLimit: 2500 items past the first"), std::string::npos) << f.bozo_exception;
  }
}

// The author e-mail is found by a scan with the leftmost-first semantics of feedparser's pattern (no regex); the
// expected values are what Python's re gives for feedparser's pattern on the same strings.
TEST(FeedAuthor, EmailSplitLikeFeedparser) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"John Doe (john.doe@example.com)", "john.doe@example.com"},
      {"me@a.b.c5x", ""},
      {"x@[10.1.2.3]", "x@[10.1.2.3]"},
      {"x@[10.1.2.34567] y@mail.vn", "x@[10.1.2.345"},
      {"a@b@c.com", "b@c.com"},
      {"T\xC3\xB2" "a so\xE1\xBA\xA1n (toasoan@vnexpress.net)", "toasoan@vnexpress.net"},
      {"q@host.c?subject=hi there", ""},
      {"bad@.com ok@x.info.vn", "ok@x.info.vn"},
      {"n@1.2.3.4", "n@1.2.3.4"},
      {"mail@ex-ample.museum", "mail@ex-ample.muse"},
      {"ban.doc@tin.vn?subject=g\xC3\xB3p-\xC3\xBD x", "ban.doc@tin.vn?subject=g\xC3\xB3p-\xC3\xBD"},
  };
  for (const auto& [author, email] : cases) {
    const std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>t</title>"
                            "<item><title>a</title><link>http://a.vn/1</link><author>" + author +
                            "</author></item></channel></rss>";
    ParsedFeed f = parse_feed(xml);
    ASSERT_EQ(f.items.size(), 1u) << author;
    EXPECT_EQ(f.items[0].author_email, email) << author;
  }
  ParsedFeed f = parse_feed(
      "<rss version=\"2.0\"><channel><item><author>John Doe (john.doe@example.com)</author></item></channel></rss>");
  ASSERT_EQ(f.items.size(), 1u);
  EXPECT_EQ(f.items[0].author_name, "John Doe");
  EXPECT_EQ(f.items[0].author, "John Doe (john.doe@example.com)");
}
