#include "parse/text.h"

#include <unicode/normalizer2.h>
#include <unicode/ucnv.h>
#include <unicode/ucsdet.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace baotin {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
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

std::string charset_from_content_type(std::string_view ct) {
  std::string lower = ascii_lower(ct);
  auto pos = lower.find("charset");
  if (pos == std::string::npos) return {};
  pos = lower.find('=', pos);
  if (pos == std::string::npos) return {};
  ++pos;
  while (pos < lower.size() && (lower[pos] == ' ' || lower[pos] == '"' || lower[pos] == '\'')) ++pos;
  size_t end = pos;
  while (end < lower.size() && lower[end] != ';' && lower[end] != '"' && lower[end] != '\'' && lower[end] != ' ' &&
         lower[end] != '>' && lower[end] != '/')
    ++end;
  return lower.substr(pos, end - pos);
}

// <meta charset=...>, <meta http-equiv content="...charset=...">, <?xml encoding="..."?> in the prefix.
static std::string declared_charset(std::string_view bytes) {
  std::string head = ascii_lower(bytes.substr(0, 4096));
  if (head.rfind("<?xml", 0) == 0) {
    auto end = head.find("?>");
    auto enc = head.find("encoding");
    if (enc != std::string::npos && enc < end) {
      auto q = head.find_first_of("\"'", enc);
      if (q != std::string::npos) {
        auto q2 = head.find(head[q], q + 1);
        if (q2 != std::string::npos) return head.substr(q + 1, q2 - q - 1);
      }
    }
  }
  size_t pos = 0;
  while ((pos = head.find("<meta", pos)) != std::string::npos) {
    auto end = head.find('>', pos);
    if (end == std::string::npos) break;
    std::string_view tag(head.data() + pos, end - pos);
    if (tag.find("charset") != std::string_view::npos) {
      std::string cs = charset_from_content_type(tag);
      if (!cs.empty()) return cs;
    }
    pos = end;
  }
  return {};
}

bool convert_charset(std::string_view bytes, std::string_view charset, std::string& out) {
  std::string cs(charset);
  UErrorCode err = U_ZERO_ERROR;
  UConverter* conv = ucnv_open(cs.c_str(), &err);
  if (U_FAILURE(err) || !conv) return false;
  std::unique_ptr<UConverter, void (*)(UConverter*)> guard(conv, ucnv_close);
  icu::UnicodeString u(bytes.data(), static_cast<int32_t>(bytes.size()), conv, err);
  if (U_FAILURE(err)) return false;
  out.clear();
  u.toUTF8String(out);
  return true;
}

static std::string normalise_charset_name(std::string cs) {
  if (cs == "utf8") return "utf-8";
  // WHATWG: these labels mean windows-1252 in browsers.
  if (cs == "iso-8859-1" || cs == "latin1" || cs == "us-ascii" || cs == "ascii") return "windows-1252";
  return cs;
}

static std::string repair_utf8(std::string_view bytes) {
  std::string out;
  convert_charset(bytes, "utf-8", out);  // ICU substitutes U+FFFD for invalid sequences
  return out;
}

std::string decode_to_utf8(std::string_view bytes, std::string_view content_type, std::string* charset_out) {
  auto set = [&](std::string cs) {
    if (charset_out) *charset_out = std::move(cs);
  };
  // BOM wins.
  if (bytes.size() >= 3 && std::memcmp(bytes.data(), "\xEF\xBB\xBF", 3) == 0) {
    set("utf-8");
    bytes.remove_prefix(3);
    return is_valid_utf8(bytes) ? std::string(bytes) : repair_utf8(bytes);
  }
  if (bytes.size() >= 2 && (std::memcmp(bytes.data(), "\xFF\xFE", 2) == 0 || std::memcmp(bytes.data(), "\xFE\xFF", 2) == 0)) {
    std::string cs = bytes[0] == '\xFF' ? "utf-16le" : "utf-16be";
    std::string out;
    if (convert_charset(bytes.substr(2), cs, out)) {
      set(cs);
      return out;
    }
  }
  const bool valid_utf8 = is_valid_utf8(bytes);
  std::string declared = charset_from_content_type(content_type);
  if (declared.empty()) declared = declared_charset(bytes);
  declared = normalise_charset_name(declared);
  if (!declared.empty()) {
    if (declared == "utf-8") {
      set("utf-8");
      return valid_utf8 ? std::string(bytes) : repair_utf8(bytes);
    }
    // A single-byte declaration over bytes that are valid multi-byte UTF-8 is a misconfigured server.
    bool single_byte = declared.rfind("windows-", 0) == 0 || declared.rfind("iso-8859", 0) == 0 ||
                       declared.rfind("cp", 0) == 0;
    if (!(single_byte && valid_utf8 && has_multibyte(bytes))) {
      std::string out;
      if (convert_charset(bytes, declared, out)) {
        set(declared);
        return out;
      }
    }
  }
  if (valid_utf8) {
    set("utf-8");
    return std::string(bytes);
  }
  // Sniff with ICU.
  UErrorCode err = U_ZERO_ERROR;
  UCharsetDetector* det = ucsdet_open(&err);
  std::string guess;
  if (U_SUCCESS(err)) {
    ucsdet_setText(det, bytes.data(), static_cast<int32_t>(std::min<size_t>(bytes.size(), 64 * 1024)), &err);
    const UCharsetMatch* m = ucsdet_detect(det, &err);
    if (U_SUCCESS(err) && m) {
      const char* name = ucsdet_getName(m, &err);
      if (U_SUCCESS(err) && name) guess = ascii_lower(name);
    }
    ucsdet_close(det);
  }
  // Vietnamese pages that are not UTF-8 are almost always windows-1258.
  if (guess.empty() || guess == "iso-8859-1" || guess == "windows-1252") guess = "windows-1258";
  std::string out;
  if (convert_charset(bytes, guess, out)) {
    set(guess);
    return out;
  }
  set("utf-8");
  return repair_utf8(bytes);
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

}  // namespace baotin
