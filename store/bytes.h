// Big-endian integers in RocksDB keys: byte order is numeric order, so keys sort and range-scan by number.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace baotin {

// Appends the low `n` bytes of v, most significant first.
inline void put_be(std::string& s, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}
inline void put_be16(std::string& s, uint16_t v) { put_be(s, v, 2); }
inline void put_be32(std::string& s, uint32_t v) { put_be(s, v, 4); }
inline void put_be64(std::string& s, uint64_t v) { put_be(s, v, 8); }

inline std::string be32(uint32_t v) {
  std::string s;
  put_be32(s, v);
  return s;
}
inline std::string be64(uint64_t v) {
  std::string s;
  put_be64(s, v);
  return s;
}

// The big-endian number in `s` (any length up to 8 bytes).
inline uint64_t read_be(std::string_view s) {
  uint64_t v = 0;
  for (unsigned char c : s) v = (v << 8) | c;
  return v;
}

}  // namespace baotin
