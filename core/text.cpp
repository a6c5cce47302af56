#include "core/text.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <climits>
#include <cstring>

namespace baotin {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  ascii_lower_in_place(out);
  return out;
}

std::string_view trim(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* e = p + s.size();
  while (p < e) {
    if (e - p >= 8) {  // ASCII runs (most of an HTML page) eight bytes at a time
      uint64_t w;
      std::memcpy(&w, p, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    unsigned char c = *p;
    if (c < 0x80) { ++p; continue; }
    int n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; if (c < 0xC2) return false; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; if (c > 0xF4) return false; }
    else return false;
    if (e - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    p += n + 1;
  }
  return true;
}

static bool has_multibyte(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

std::string nfc(std::string_view utf8) {
  // Fast path: pure ASCII is already NFC.
  if (!has_multibyte(utf8)) return std::string(utf8);
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(err);
  if (U_FAILURE(err)) return std::string(utf8);
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  if (n->isNormalized(u, err) && U_SUCCESS(err)) return std::string(utf8);
  err = U_ZERO_ERROR;
  icu::UnicodeString r = n->normalize(u, err);
  if (U_FAILURE(err)) return std::string(utf8);
  std::string out;
  r.toUTF8String(out);
  return out;
}

std::string clean_text(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  bool pending_space = false;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const auto* e = p + in.size();
  auto emit_space = [&] { pending_space = !out.empty(); };
  while (p < e) {
    unsigned char c = *p;
    if (c < 0x80) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') emit_space();
      else if (c >= 0x20 && c != 0x7F) {
        if (pending_space) out += ' ', pending_space = false;
        out += static_cast<char>(c);
      }
      ++p;
      continue;
    }
    size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (p + len > e) len = static_cast<size_t>(e - p);
    std::string_view ch(reinterpret_cast<const char*>(p), len);
    p += len;
    // Spaces: NBSP, en/em/thin spaces, ideographic space, line/paragraph separators.
    if (ch == "\xC2\xA0" || ch == "\xE2\x80\x80" || ch == "\xE2\x80\x81" || ch == "\xE2\x80\x82" ||
        ch == "\xE2\x80\x83" || ch == "\xE2\x80\x84" || ch == "\xE2\x80\x85" || ch == "\xE2\x80\x86" ||
        ch == "\xE2\x80\x87" || ch == "\xE2\x80\x88" || ch == "\xE2\x80\x89" || ch == "\xE2\x80\x8A" ||
        ch == "\xE2\x80\xA8" || ch == "\xE2\x80\xA9" || ch == "\xE2\x80\xAF" || ch == "\xE3\x80\x80" ||
        ch == "\xC2\x85") {
      emit_space();
      continue;
    }
    // Invisible: zero-width space/joiners, BOM, soft hyphen, C1 controls.
    if (ch == "\xE2\x80\x8B" || ch == "\xE2\x80\x8C" || ch == "\xE2\x80\x8D" || ch == "\xEF\xBB\xBF" ||
        ch == "\xC2\xAD" || ch == "\xE2\x81\xA0" || (len == 2 && c == 0xC2 && static_cast<unsigned char>(ch[1]) < 0xA0))
      continue;
    if (pending_space) out += ' ', pending_space = false;
    out.append(ch);
  }
  return nfc(out);
}

namespace {

// Python's `\w` for str patterns: str.isalnum() or '_'.
bool py_word_char(UChar32 c) {
  if (c == '_') return true;
  switch (u_charType(c)) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::vector<std::string> word_tokens(std::string_view s) {
  std::vector<std::string> out;
  const char* p = s.data();
  int32_t i = 0, n = static_cast<int32_t>(std::min<size_t>(s.size(), INT32_MAX));
  int32_t start = -1;
  while (i < n) {
    int32_t at = i;
    UChar32 c;
    U8_NEXT(p, i, n, c);
    bool w = c >= 0 && py_word_char(c);
    if (w && start < 0) start = at;
    if (!w && start >= 0) {
      out.emplace_back(p + start, static_cast<size_t>(at - start));
      start = -1;
    }
  }
  if (start >= 0) out.emplace_back(p + start, static_cast<size_t>(n - start));
  return out;
}

std::string utf8_prefix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // s[n] continues a sequence
  return std::string(s.substr(0, n));
}

}  // namespace baotin
