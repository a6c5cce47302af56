// Vietnamese legacy 8-bit charsets that ICU does not ship: TCVN3 (TCVN 5712:1993, "ABC") and VISCII.
#pragma once
#include <string>
#include <string_view>

namespace baotin {

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
