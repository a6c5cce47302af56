#include "core/charset.h"

#include <unicode/normalizer2.h>
#include <unicode/ucnv.h>
#include <unicode/ucsdet.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "core/text.h"

namespace baotin {
namespace {

// Tables: byte -> Unicode code point, as in glibc's iconv modules TCVN5712-1 and VISCII (RFC 1456).
// TCVN3 uses some C0 bytes for capital letters and 0xB0..0xB4 for combining tone marks.
static constexpr char16_t kTcvn3[256] = {
    0x0000, 0x00DA, 0x1EE4, 0x0003, 0x1EEA, 0x1EEC, 0x1EEE, 0x0007,
    0x0008, 0x0009, 0x000A, 0x000B, 0x000C, 0x000D, 0x000E, 0x000F,
    0x0010, 0x1EE8, 0x1EF0, 0x1EF2, 0x1EF6, 0x1EF8, 0x00DD, 0x1EF4,
    0x0018, 0x0019, 0x001A, 0x001B, 0x001C, 0x001D, 0x001E, 0x001F,
    0x0020, 0x0021, 0x0022, 0x0023, 0x0024, 0x0025, 0x0026, 0x0027,
    0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
    0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F,
    0x0040, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
    0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F,
    0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
    0x0058, 0x0059, 0x005A, 0x005B, 0x005C, 0x005D, 0x005E, 0x005F,
    0x0060, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
    0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F,
    0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
    0x0078, 0x0079, 0x007A, 0x007B, 0x007C, 0x007D, 0x007E, 0x007F,
    0x00C0, 0x1EA2, 0x00C3, 0x00C1, 0x1EA0, 0x1EB6, 0x1EAC, 0x00C8,
    0x1EBA, 0x1EBC, 0x00C9, 0x1EB8, 0x1EC6, 0x00CC, 0x1EC8, 0x0128,
    0x00CD, 0x1ECA, 0x00D2, 0x1ECE, 0x00D5, 0x00D3, 0x1ECC, 0x1ED8,
    0x1EDC, 0x1EDE, 0x1EE0, 0x1EDA, 0x1EE2, 0x00D9, 0x1EE6, 0x0168,
    0x00A0, 0x0102, 0x00C2, 0x00CA, 0x00D4, 0x01A0, 0x01AF, 0x0110,
    0x0103, 0x00E2, 0x00EA, 0x00F4, 0x01A1, 0x01B0, 0x0111, 0x1EB0,
    0x0300, 0x0309, 0x0303, 0x0301, 0x0323, 0x00E0, 0x1EA3, 0x00E3,
    0x00E1, 0x1EA1, 0x1EB2, 0x1EB1, 0x1EB3, 0x1EB5, 0x1EAF, 0x1EB4,
    0x1EAE, 0x1EA6, 0x1EA8, 0x1EAA, 0x1EA4, 0x1EC0, 0x1EB7, 0x1EA7,
    0x1EA9, 0x1EAB, 0x1EA5, 0x1EAD, 0x00E8, 0x1EC2, 0x1EBB, 0x1EBD,
    0x00E9, 0x1EB9, 0x1EC1, 0x1EC3, 0x1EC5, 0x1EBF, 0x1EC7, 0x00EC,
    0x1EC9, 0x1EC4, 0x1EBE, 0x1ED2, 0x0129, 0x00ED, 0x1ECB, 0x00F2,
    0x1ED4, 0x1ECF, 0x00F5, 0x00F3, 0x1ECD, 0x1ED3, 0x1ED5, 0x1ED7,
    0x1ED1, 0x1ED9, 0x1EDD, 0x1EDF, 0x1EE1, 0x1EDB, 0x1EE3, 0x00F9,
    0x1ED6, 0x1EE7, 0x0169, 0x00FA, 0x1EE5, 0x1EEB, 0x1EED, 0x1EEF,
    0x1EE9, 0x1EF1, 0x1EF3, 0x1EF7, 0x1EF9, 0x00FD, 0x1EF5, 0x1ED0,
};
static constexpr char16_t kViscii[256] = {
    0x0000, 0x0001, 0x1EB2, 0x0003, 0x0004, 0x1EB4, 0x1EAA, 0x0007,
    0x0008, 0x0009, 0x000A, 0x000B, 0x000C, 0x000D, 0x000E, 0x000F,
    0x0010, 0x0011, 0x0012, 0x0013, 0x1EF6, 0x0015, 0x0016, 0x0017,
    0x0018, 0x1EF8, 0x001A, 0x001B, 0x001C, 0x001D, 0x1EF4, 0x001F,
    0x0020, 0x0021, 0x0022, 0x0023, 0x0024, 0x0025, 0x0026, 0x0027,
    0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
    0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F,
    0x0040, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
    0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F,
    0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
    0x0058, 0x0059, 0x005A, 0x005B, 0x005C, 0x005D, 0x005E, 0x005F,
    0x0060, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
    0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F,
    0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
    0x0078, 0x0079, 0x007A, 0x007B, 0x007C, 0x007D, 0x007E, 0x007F,
    0x1EA0, 0x1EAE, 0x1EB0, 0x1EB6, 0x1EA4, 0x1EA6, 0x1EA8, 0x1EAC,
    0x1EBC, 0x1EB8, 0x1EBE, 0x1EC0, 0x1EC2, 0x1EC4, 0x1EC6, 0x1ED0,
    0x1ED2, 0x1ED4, 0x1ED6, 0x1ED8, 0x1EE2, 0x1EDA, 0x1EDC, 0x1EDE,
    0x1ECA, 0x1ECE, 0x1ECC, 0x1EC8, 0x1EE6, 0x0168, 0x1EE4, 0x1EF2,
    0x00D5, 0x1EAF, 0x1EB1, 0x1EB7, 0x1EA5, 0x1EA7, 0x1EA9, 0x1EAD,
    0x1EBD, 0x1EB9, 0x1EBF, 0x1EC1, 0x1EC3, 0x1EC5, 0x1EC7, 0x1ED1,
    0x1ED3, 0x1ED5, 0x1ED7, 0x1EE0, 0x01A0, 0x1ED9, 0x1EDD, 0x1EDF,
    0x1ECB, 0x1EF0, 0x1EE8, 0x1EEA, 0x1EEC, 0x01A1, 0x1EDB, 0x01AF,
    0x00C0, 0x00C1, 0x00C2, 0x00C3, 0x1EA2, 0x0102, 0x1EB3, 0x1EB5,
    0x00C8, 0x00C9, 0x00CA, 0x1EBA, 0x00CC, 0x00CD, 0x0128, 0x1EF3,
    0x0110, 0x1EE9, 0x00D2, 0x00D3, 0x00D4, 0x1EA1, 0x1EF7, 0x1EEB,
    0x1EED, 0x00D9, 0x00DA, 0x1EF9, 0x1EF5, 0x00DD, 0x1EE1, 0x01B0,
    0x00E0, 0x00E1, 0x00E2, 0x00E3, 0x1EA3, 0x0103, 0x1EEF, 0x1EAB,
    0x00E8, 0x00E9, 0x00EA, 0x1EBB, 0x00EC, 0x00ED, 0x0129, 0x1EC9,
    0x0111, 0x1EF1, 0x00F2, 0x00F3, 0x00F4, 0x00F5, 0x1ECF, 0x1ECD,
    0x1EE5, 0x00F9, 0x00FA, 0x0169, 0x1EE7, 0x00FD, 0x1EE3, 0x1EEE,
};

std::string norm_label(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '-' || c == '_' || c == ' ' || c == ':' || c == '.') continue;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

const char16_t* table_of(LegacyCharset cs) {
  switch (cs) {
    case LegacyCharset::kTcvn3: return kTcvn3;
    case LegacyCharset::kViscii: return kViscii;
    default: return nullptr;
  }
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

LegacyCharset legacy_charset_from_label(std::string_view label) {
  const std::string n = norm_label(label);
  if (n == "tcvn" || n == "tcvn3" || n == "tcvn5712" || n == "tcvn57121" || n == "tcvn571219931" ||
      n == "tcvn57121993" || n == "xviettcvn3" || n == "xviettcvn" || n == "vn3" || n == "abc")
    return LegacyCharset::kTcvn3;
  if (n == "viscii" || n == "csviscii" || n == "viscii11" || n == "xvietviscii") return LegacyCharset::kViscii;
  return LegacyCharset::kNone;
}

bool decode_legacy_charset(std::string_view bytes, LegacyCharset cs, std::string& out) {
  const char16_t* t = table_of(cs);
  if (!t) return false;
  std::string raw;
  raw.reserve(bytes.size() * 2);
  bool combining = false;
  for (unsigned char b : bytes) {
    char16_t cp = t[b];
    if (cp >= 0x300 && cp <= 0x36F) combining = true;
    append_utf8(raw, cp);
  }
  out = combining ? nfc(raw) : std::move(raw);
  return true;
}

bool encode_legacy_charset(std::string_view utf8, LegacyCharset cs, std::string& out) {
  const char16_t* t = table_of(cs);
  if (!t) return false;
  std::unordered_map<char32_t, unsigned char> rev;
  for (int b = 255; b >= 0; --b) rev[t[b]] = static_cast<unsigned char>(b);
  // Prefer precomposed characters; fall back to NFD (base + combining tone) for TCVN3.
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(err);
  out.clear();
  for (int32_t i = 0; i < u.length();) {
    UChar32 c = u.char32At(i);
    i += U16_LENGTH(c);
    if (auto it = rev.find(static_cast<char32_t>(c)); it != rev.end()) {
      out += static_cast<char>(it->second);
      continue;
    }
    bool done = false;
    if (U_SUCCESS(err) && nfd) {
      icu::UnicodeString d;
      if (nfd->getDecomposition(c, d) && d.length() >= 2) {
        // try: precomposed base (first code point with all but the last mark) + last mark
        UChar32 last = d.char32At(d.length() - 1);
        icu::UnicodeString base_part(d, 0, d.length() - U16_LENGTH(last));
        icu::UnicodeString base_c;
        const icu::Normalizer2* nfc_n = icu::Normalizer2::getNFCInstance(err);
        if (U_SUCCESS(err) && nfc_n) base_c = nfc_n->normalize(base_part, err);
        if (U_SUCCESS(err) && base_c.countChar32() == 1) {
          auto b1 = rev.find(static_cast<char32_t>(base_c.char32At(0)));
          auto b2 = rev.find(static_cast<char32_t>(last));
          if (b1 != rev.end() && b2 != rev.end()) {
            out += static_cast<char>(b1->second);
            out += static_cast<char>(b2->second);
            done = true;
          }
        }
      }
    }
    if (!done) out += '?';
  }
  return true;
}

// --- Page charset decoding (HTML policy; the feed reader has its own RFC 3023 policy in feed/encoding.cpp) ---

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

}  // namespace baotin
