// Vietnamese text handling: UTF-8 validity, NFC, whitespace cleanup, word tokens (charset decoding: core/charset.h).
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace baotin {

bool is_valid_utf8(std::string_view s);

// Unicode NFC normalisation (pages in the wild mix NFD combining marks in).
std::string nfc(std::string_view utf8);

// NFC + NBSP/zero-width/control cleanup + whitespace collapsed to single spaces + trimmed.
std::string clean_text(std::string_view utf8);
// At most `max_bytes` of `s`, cut at a character boundary (never half a UTF-8 sequence).
std::string utf8_prefix(std::string_view s, size_t max_bytes);

std::string ascii_lower(std::string_view s);
// Hash for std::unordered_map<std::string, V, StringViewHash, std::equal_to<>>: look-ups by string_view build no
// key string.
struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
// In place (inline: it runs per attribute name in the feed parser's hot path).
inline void ascii_lower_in_place(std::string& s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
}
std::string_view trim(std::string_view s);
// Value of a hexadecimal digit (either case), -1 for other characters.
inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Words as Python's `\w+` finds them in a str (Unicode letters and digits plus '_', case kept), in order.
// The product uses it to tell a date stamp line from a sentence (extract/generic.cpp `dateline`).
std::vector<std::string> word_tokens(std::string_view text);

}  // namespace baotin
