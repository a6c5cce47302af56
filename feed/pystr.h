// Python str helpers the feed reader needs to behave like feedparser (UTF-8 code points, str.strip(), int(),
// str.split(), ...). Internal to feed/.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace baotin::feed_internal {

void put_utf8(std::string& out, char32_t cp);
// Decodes one code point at s[i] (input is valid UTF-8 by construction); advances i.
char32_t next_cp(std::string_view s, size_t& i);
bool py_isspace(char32_t c);
// Python str.strip(): Unicode whitespace at both ends.
std::string py_strip(std::string_view s);
std::string lower(std::string_view s);
bool starts_with(std::string_view s, std::string_view p);
bool ends_with(std::string_view s, std::string_view p);
void replace_all(std::string& s, std::string_view from, std::string_view to);
std::string xml_escape(std::string_view s, bool quote);
bool is_word_char(unsigned char c);
// Python int(): optional surrounding whitespace, optional sign, ASCII digits.
std::optional<int64_t> py_int(std::string_view s);
// int(float(s))
std::optional<int64_t> py_int_float(std::string_view s);
std::vector<std::string> py_split_ws(std::string_view s);
std::vector<std::string> py_split(std::string_view s, char sep, int maxsplit = -1);

}  // namespace baotin::feed_internal
