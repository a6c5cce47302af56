#include <gtest/gtest.h>
#include <unicode/ustring.h>

#include <random>
#include <string>

#include "core/charset.h"
#include "core/text.h"

using namespace baotin;

TEST(Text, NfcComposesCombiningMarks) {
  // "Việt" with combining dot below + circumflex (NFD) -> precomposed.
  std::string nfd = "Vie\xCC\xA3\xCC\x82t Nam";
  EXPECT_EQ(nfc(nfd), "Việt Nam");
  EXPECT_EQ(nfc("Việt Nam"), "Việt Nam");
  EXPECT_EQ(nfc("plain ascii"), "plain ascii");
}

TEST(Text, CleanTextCollapsesWhitespaceAndNbsp) {
  EXPECT_EQ(clean_text("  Hà\xC2\xA0\xC2\xA0Nội \r\n\t ngày   mới  "), "Hà Nội ngày mới");
  EXPECT_EQ(clean_text("zero\xE2\x80\x8Bwidth"), "zerowidth");
  EXPECT_EQ(clean_text("soft\xC2\xADhyphen"), "softhyphen");
  EXPECT_EQ(clean_text(""), "");
  EXPECT_EQ(clean_text(" \xC2\xA0 "), "");
}

TEST(Text, CleanTextNormalisesNfd) { EXPECT_EQ(clean_text("To\xCC\x82i"), "Tôi"); }

TEST(Text, CharsetFromContentType) {
  EXPECT_EQ(charset_from_content_type("text/html; charset=UTF-8"), "utf-8");
  EXPECT_EQ(charset_from_content_type("text/html;charset=\"windows-1258\""), "windows-1258");
  EXPECT_EQ(charset_from_content_type("text/html"), "");
}

TEST(Text, DecodeUtf8WithBom) {
  std::string cs;
  EXPECT_EQ(decode_to_utf8("\xEF\xBB\xBFXin chào", "", &cs), "Xin chào");
  EXPECT_EQ(cs, "utf-8");
}

TEST(Text, DecodeWindows1258FromMeta) {
  // "Việt" in windows-1258: V i e + 0xF2 (combining dot below) ... use a simple one: "Hà" = H 0xE0
  std::string page = "<html><head><meta charset=\"windows-1258\"></head><body>H\xE0 N\xF4i</body></html>";
  std::string cs;
  std::string out = decode_to_utf8(page, "", &cs);
  EXPECT_EQ(cs, "windows-1258");
  EXPECT_NE(out.find("Hà Nôi"), std::string::npos) << out;
}

TEST(Text, HeaderCharsetBeatsMeta) {
  std::string page = "<meta charset=utf-8>caf\xE9";
  std::string cs;
  std::string out = decode_to_utf8(page, "text/html; charset=iso-8859-1", &cs);
  EXPECT_EQ(cs, "windows-1252");
  EXPECT_NE(out.find("café"), std::string::npos);
}

TEST(Text, WrongSingleByteDeclarationOverValidUtf8IsIgnored) {
  // Server says latin-1 but sends UTF-8 Vietnamese: decoding as latin-1 would give mojibake.
  std::string page = "<html><body>Thời sự</body></html>";
  std::string cs;
  std::string out = decode_to_utf8(page, "text/html; charset=ISO-8859-1", &cs);
  EXPECT_EQ(cs, "utf-8");
  EXPECT_NE(out.find("Thời sự"), std::string::npos);
}

TEST(Text, UndeclaredNonUtf8IsSniffed) {
  std::string page = "<html><body>Ng\xE0y m\xF4i</body></html>";  // not valid UTF-8
  std::string cs;
  std::string out = decode_to_utf8(page, "", &cs);
  EXPECT_FALSE(cs.empty());
  EXPECT_TRUE(is_valid_utf8(out));
}

TEST(Text, InvalidUtf8IsRepaired) {
  std::string out = decode_to_utf8(std::string("<meta charset=utf-8>ok \xC3 bad"), "");
  EXPECT_TRUE(is_valid_utf8(out));
  EXPECT_NE(out.find("ok"), std::string::npos);
}

TEST(Text, Utf16WithBom) {
  std::string le("\xFF\xFEH\0i\0", 6);
  EXPECT_EQ(decode_to_utf8(le, ""), "Hi");
}

TEST(Text, ValidUtf8) {
  EXPECT_TRUE(is_valid_utf8("Tiếng Việt"));
  EXPECT_FALSE(is_valid_utf8("\xC0\x80"));        // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));    // surrogate
  EXPECT_FALSE(is_valid_utf8("abc\xE1\xBA"));     // truncated
}

// is_valid_utf8 (with its eight-bytes-at-a-time ASCII path) agrees with ICU's strict UTF-8 decoder on random
// mixes of ASCII runs, valid sequences and broken ones (truncated, overlong, surrogates, > U+10FFFF, stray
// continuation bytes) at every offset.
TEST(Text, ValidUtf8AgreesWithIcu) {
  std::mt19937 rng(20261201);
  const std::vector<std::string> pieces = {
      "a", "abcdefgh", "0123456789abcdef", "\xC3\xA1", "\xE1\xBA\xA1", "\xF0\x9F\x98\x80", "\xC3", "\xE1\xBA",
      "\xF0\x9F\x98", "\x80", "\xBF", "\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
      "\xF5\x80\x80\x80", "\xFF", "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF", "\xE0\xA0\x80", "\xC2\x80"};
  size_t valid = 0, invalid = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const int n = static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) s += pieces[rng() % (k % 3 == 2 ? pieces.size() : 3)];
    UErrorCode err = U_ZERO_ERROR;
    int32_t len = 0;
    u_strFromUTF8(nullptr, 0, &len, s.data(), static_cast<int32_t>(s.size()), &err);
    const bool icu_ok = err == U_BUFFER_OVERFLOW_ERROR || U_SUCCESS(err);
    ASSERT_EQ(is_valid_utf8(s), icu_ok) << i;
    (icu_ok ? valid : invalid) += 1;
  }
  EXPECT_GT(valid, 3000u);
  EXPECT_GT(invalid, 3000u);
}

// extract_article hands decode_to_utf8's output to parse_html as checked UTF-8 (HtmlParseOptions::utf8_checked):
// whatever the bytes and the declared or sniffed charset, the output is valid UTF-8.
TEST(Text, DecodedPagesAreAlwaysValidUtf8) {
  std::mt19937 rng(20261202);
  const std::vector<std::string> prefixes = {"", "\xEF\xBB\xBF", "\xFF\xFE", "\xFE\xFF", "<meta charset=utf-8>",
                                             "<meta charset=windows-1258>", "<meta charset=shift_jis>",
                                             "<?xml version='1.0' encoding='utf-16'?>"};
  const std::vector<std::string> types = {"", "text/html; charset=utf-8", "text/html; charset=iso-8859-1",
                                          "text/html; charset=tcvn3", "text/html; charset=no-such-charset"};
  for (int i = 0; i < 3000; ++i) {
    std::string bytes = prefixes[rng() % prefixes.size()];
    const int n = static_cast<int>(rng() % 64);
    for (int k = 0; k < n; ++k) bytes += static_cast<char>(rng() % 4 == 0 ? rng() % 128 : rng() % 256);
    ASSERT_TRUE(is_valid_utf8(decode_to_utf8(bytes, types[rng() % types.size()]))) << i;
  }
}
