// Synthetic Vietnamese-like text for the benchmarks' generated articles.
#pragma once
#include <cstdint>
#include <string>

namespace baotin::bench {

// `n` syllables (onset x rhyme, ~700 distinct) drawn by an xorshift seeded with `seed`, so that unrelated
// synthetic articles share about as few shingles as real unrelated articles do.
inline std::string words(uint64_t seed, int n) {
  static const char* kOnset[] = {"", "b", "c", "ch", "d", "đ", "g", "gi", "h", "kh", "l", "m", "n", "ng",
                                 "nh", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x"};
  static const char* kRhyme[] = {"a", "à", "á", "ả", "ã", "ạ", "an", "ang", "anh", "ao", "ay", "âm", "ân", "ất",
                                 "e", "em", "en", "ê", "ên", "i", "im", "in", "inh", "o", "oa", "oan", "ong",
                                 "ô", "ông", "ơ", "ơn", "u", "um", "un", "ung", "ư", "ươ", "ương", "uy", "ưu"};
  uint64_t x = seed * 0x9E3779B97F4A7C15ull | 1;
  std::string s;
  for (int i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    if (i) s += ' ';
    s += kOnset[x % (sizeof kOnset / sizeof *kOnset)];
    s += kRhyme[(x >> 20) % (sizeof kRhyme / sizeof *kRhyme)];
  }
  return s;
}

}  // namespace baotin::bench
