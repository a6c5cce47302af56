#include <gtest/gtest.h>

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
