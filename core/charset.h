// Charset decoding: page bytes to UTF-8 (BOM, Content-Type, <meta>, sniffing) and the Vietnamese legacy
// 8-bit charsets that ICU does not ship: TCVN3 (TCVN 5712:1993, "ABC") and VISCII.
#pragma once
#include <string>
#include <string_view>

namespace baotin {

// Decodes raw page bytes to UTF-8. Order: BOM, HTTP Content-Type charset, <meta charset> /
// http-equiv / XML declaration in the first 4 KiB, then sniffing (valid UTF-8, else ICU's detector,
// else windows-1258). A declared single-byte charset is overridden when the bytes are valid UTF-8
// with multi-byte sequences (a common server misconfiguration). Invalid sequences become U+FFFD.
// `charset_out` (optional) receives the charset that was used, lower-case.
std::string decode_to_utf8(std::string_view bytes, std::string_view content_type = {},
                           std::string* charset_out = nullptr);

// Converts `bytes` in `charset` to UTF-8 with ICU. Returns false if ICU does not know the charset.
bool convert_charset(std::string_view bytes, std::string_view charset, std::string& out);

// Charset named in a Content-Type value ("text/html; charset=UTF-8" -> "utf-8"), or "".
std::string charset_from_content_type(std::string_view content_type);

enum class LegacyCharset { kNone, kTcvn3, kViscii };

// Maps a charset label ("tcvn", "TCVN-5712", "tcvn5712-1", "x-viet-tcvn3", "viscii", "csVISCII", ...)
// to a legacy charset, or kNone. Case and '-', '_', ' ' are ignored.
LegacyCharset legacy_charset_from_label(std::string_view label);

// Decodes `bytes` to UTF-8 (NFC: TCVN3 encodes some tones as combining marks). Every byte value is
// mapped, so decoding never fails for a known charset; returns false only for kNone.
bool decode_legacy_charset(std::string_view bytes, LegacyCharset cs, std::string& out);

// Encodes UTF-8 text (NFC or not) into the legacy charset; characters that have no mapping become '?'.
// Used by tests and tools to build fixtures. Returns false for kNone.
bool encode_legacy_charset(std::string_view utf8, LegacyCharset cs, std::string& out);

}  // namespace baotin
