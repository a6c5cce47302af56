// robots.txt (RFC 9309) parsing and matching.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace baotin {

struct RobotsRule {
  std::string pattern;  // normalised path pattern; may contain '*' and a trailing '$'
  bool allow = false;
};

// Rules of the one group that applies to our user agent (RFC 9309 section 2.2.1: all groups naming our
// product token are merged; otherwise the '*' groups; otherwise no rules, i.e. everything allowed).
class RobotsRules {
 public:
  RobotsRules() = default;
  // Parses `text` (any robots.txt content, possibly invalid or binary) for the product token `agent`
  // (e.g. "baotin"; matched case-insensitively against User-agent lines). Never throws.
  static RobotsRules parse(std::string_view text, std::string_view agent);
  static RobotsRules allow_all() { return RobotsRules(); }

  // `path` is the URL path plus "?query" if any (percent-encoded as sent on the wire), e.g. "/a/b?x=1".
  // Longest matching pattern wins; on a tie Allow wins. "/robots.txt" is always allowed.
  bool allowed(std::string_view path) const;
  // The rule that decided `path`, or nullopt when no rule matched (allowed).
  std::optional<RobotsRule> matching_rule(std::string_view path) const;

  const std::vector<RobotsRule>& rules() const { return rules_; }
  // Crawl-delay of the applying group, if given (seconds, >= 0).
  std::optional<double> crawl_delay() const { return crawl_delay_; }
  // True when the group applying to us was chosen by our own product token (not '*').
  bool specific_group() const { return specific_; }

 private:
  std::vector<RobotsRule> rules_;
  std::optional<double> crawl_delay_;
  bool specific_ = false;
};

// Normalises a path or pattern for comparison: bytes >= 0x80, controls and spaces are percent-encoded,
// existing %xx escapes are upper-cased. ('*' and '$' are kept.)
std::string robots_normalize(std::string_view s);
// Matches `path` against a robots pattern ('*' = any sequence, trailing '$' = end anchor).
bool robots_pattern_match(std::string_view pattern, std::string_view path);
// Product token of a User-Agent string: "baotin/0.1 (+https://...)" -> "baotin" (lower-case).
std::string robots_product_token(std::string_view user_agent);

}  // namespace baotin
