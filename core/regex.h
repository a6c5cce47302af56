// Linear-time regular expressions (RE2) for every pattern that sees remote input.
//
// libstdc++'s regex engine recurses once per input character and overflows the stack on a few tens of KB of
// feed-controlled text; RE2 runs in time linear in the input, without backtracking, and its memory is bounded.
// RE2 syntax has no lookaround and no backreferences. Patterns here are compiled in Latin-1 mode: text is
// matched byte by byte, as the old libstdc++ engine did (raw UTF-8 or invalid bytes in a URL behave alike).
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace baotin {

class Regex {
 public:
  // Never throws: an invalid pattern gives ok() == false and error(); such a Regex matches nothing.
  explicit Regex(std::string_view pattern, bool case_insensitive = false);
  // Copies share the compiled program (RE2 is safe to use from several threads at once).

  bool ok() const;
  const std::string& error() const { return error_; }
  const std::string& pattern() const { return pattern_; }
  int groups() const;  // number of capturing groups

  // Unanchored search of `text` starting at byte `start` ('^' still means the start of `text`). On success
  // `m[0]` is the whole match and m[i] group i; an unmatched group has data() == nullptr.
  bool search(std::string_view text, size_t start, std::vector<std::string_view>& m) const;
  // The match must begin at `start`.
  bool match_at(std::string_view text, size_t start, std::vector<std::string_view>& m) const;
  // Is there a match anywhere? (fastest: no submatch extraction)
  bool contains(std::string_view text) const;

 private:
  bool run(std::string_view text, size_t start, bool anchored, std::vector<std::string_view>& m) const;
  std::string pattern_, error_;
  std::shared_ptr<const re2::RE2> re_;
};

// Offset of a (matched) submatch in `text`.
inline size_t offset_in(std::string_view text, std::string_view sub) {
  return static_cast<size_t>(sub.data() - text.data());
}

}  // namespace baotin
