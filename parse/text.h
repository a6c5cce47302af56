// Vietnamese text handling: charset decoding, NFC, whitespace cleanup.
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

bool is_valid_utf8(std::string_view s);

// Unicode NFC normalisation (pages in the wild mix NFD combining marks in).
std::string nfc(std::string_view utf8);

// NFC + NBSP/zero-width/control cleanup + whitespace collapsed to single spaces + trimmed.
std::string clean_text(std::string_view utf8);

// Decodes HTML character references (&amp; &#225; &#xE1; and the HTML5 named set gumbo knows).
std::string decode_entities(std::string_view s);

std::string ascii_lower(std::string_view s);
std::string_view trim(std::string_view s);

}  // namespace baotin
