#include "fetch/robots.h"

#include <algorithm>
#include <functional>
#include <cctype>
#include <cstdlib>
#include <cmath>

namespace baotin {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\f' || s.front() == '\v'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\f' || s.back() == '\v'))
    s.remove_suffix(1);
  return s;
}

constexpr size_t kMaxRobotsRules = 2000;

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// Glob match of the whole of `s` against `p` where '*' matches any sequence. With '*' as the only wildcard,
// anchoring the first literal segment at the start and the last at the end and taking every segment in
// between at its leftmost occurrence is exact, and with a linear substring search (Boyer-Moore) the match
// costs O(|p| + |s|): a hostile robots.txt ("/*aaaa...b" rules against long paths) cannot make the
// fetcher's thread backtrack (the former two-pointer matcher was O(|p| x |s|) per rule).
bool glob_full(std::string_view p, std::string_view s) {
  const size_t first = p.find('*');
  if (first == std::string_view::npos) return p == s;
  const size_t last = p.rfind('*');
  const std::string_view head = p.substr(0, first), tail = p.substr(last + 1);
  if (s.size() < head.size() + tail.size()) return false;
  if (s.substr(0, head.size()) != head || s.substr(s.size() - tail.size()) != tail) return false;
  size_t pos = head.size();
  const size_t limit = s.size() - tail.size();
  std::string_view mid = p.substr(first + 1, last - first - (last > first ? 1 : 0));
  while (!mid.empty()) {
    const size_t star = mid.find('*');
    const std::string_view seg = mid.substr(0, star);
    mid = star == std::string_view::npos ? std::string_view() : mid.substr(star + 1);
    if (seg.empty()) continue;
    const auto begin = s.begin() + static_cast<std::ptrdiff_t>(pos), end = s.begin() + static_cast<std::ptrdiff_t>(limit);
    const auto it = std::search(begin, end, std::boyer_moore_searcher(seg.begin(), seg.end()));
    if (it == end) return false;
    pos = static_cast<size_t>(it - s.begin()) + seg.size();
  }
  return pos <= limit;
}

enum class Key { kUserAgent, kAllow, kDisallow, kCrawlDelay, kOther };

Key classify(std::string_view key) {
  std::string k = lower(key);
  if (k == "user-agent" || k == "useragent" || k == "user agent") return Key::kUserAgent;
  if (k == "allow") return Key::kAllow;
  if (k == "disallow" || k == "dissallow" || k == "disalow") return Key::kDisallow;
  if (k == "crawl-delay" || k == "crawldelay") return Key::kCrawlDelay;
  return Key::kOther;
}

struct Group {
  std::vector<std::string> agents;  // lower-case
  std::vector<RobotsRule> rules;
  std::optional<double> crawl_delay;
};

}  // namespace

std::string robots_normalize(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
      out += '%';
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(s[i + 1])));
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(s[i + 2])));
      i += 2;
    } else if (c >= 0x80 || c <= 0x20 || c == 0x7f) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

bool robots_pattern_match(std::string_view pattern, std::string_view path) {
  if (!pattern.empty() && pattern.back() == '$') {
    pattern.remove_suffix(1);
    return glob_full(pattern, path);
  }
  // Unanchored: the pattern must match a prefix of the path, i.e. pattern + "*" matches the whole.
  std::string p(pattern);
  p += '*';
  return glob_full(p, path);
}

std::string robots_product_token(std::string_view user_agent) {
  user_agent = trim(user_agent);
  size_t end = 0;
  while (end < user_agent.size()) {
    char c = user_agent[end];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) break;
    ++end;
  }
  return lower(user_agent.substr(0, end));
}

RobotsRules RobotsRules::parse(std::string_view text, std::string_view agent) {
  // Strip a UTF-8 BOM.
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::string token = robots_product_token(agent);

  std::vector<Group> groups;
  bool in_agents = false;  // the previous meaningful line was a User-agent line
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t eol = text.find_first_of("\r\n", pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) {
      if (eol >= text.size()) break;
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // not a rule line; ignore
    Key key = classify(trim(line.substr(0, colon)));
    std::string_view value = trim(line.substr(colon + 1));
    switch (key) {
      case Key::kUserAgent:
        if (!in_agents) groups.emplace_back();
        groups.back().agents.push_back(lower(value));
        in_agents = true;
        break;
      case Key::kAllow:
      case Key::kDisallow:
        in_agents = false;
        if (groups.empty()) break;  // rules before any User-agent line apply to nobody
        if (value.empty()) break;   // "Disallow:" (empty) means nothing is disallowed
        {
          std::string pat = robots_normalize(value);
          if (pat.front() != '/' && pat.front() != '*') pat.insert(pat.begin(), '/');
          // Bounded work per request: rules past kMaxRobotsRules in one group are ignored (real files have
          // tens to a few hundred; the 500 KiB cap alone would allow ~40,000).
          if (groups.back().rules.size() < kMaxRobotsRules)
            groups.back().rules.push_back({std::move(pat), key == Key::kAllow});
        }
        break;
      case Key::kCrawlDelay:
        in_agents = false;
        if (!groups.empty()) {
          double d = 0;
          std::string v(value);
          char* end = nullptr;
          d = std::strtod(v.c_str(), &end);
          if (end != v.c_str() && std::isfinite(d) && d >= 0) groups.back().crawl_delay = d;
        }
        break;
      case Key::kOther:
        // Sitemap and unknown keys do not end a run of User-agent lines' group, but they do not start rules either.
        break;
    }
  }

  auto names_us = [&](const Group& g) {
    if (token.empty()) return false;
    for (const auto& a : g.agents) {
      std::string tok = robots_product_token(a);
      if (!tok.empty() && tok == token) return true;
    }
    return false;
  };
  auto names_star = [](const Group& g) {
    for (const auto& a : g.agents)
      if (a == "*") return true;
    return false;
  };

  RobotsRules out;
  bool any_specific = std::any_of(groups.begin(), groups.end(), names_us);
  for (const auto& g : groups) {
    if (any_specific ? names_us(g) : names_star(g)) {
      out.rules_.insert(out.rules_.end(), g.rules.begin(), g.rules.end());
      if (g.crawl_delay && (!out.crawl_delay_ || *g.crawl_delay > *out.crawl_delay_)) out.crawl_delay_ = g.crawl_delay;
    }
  }
  out.specific_ = any_specific;
  return out;
}

std::optional<RobotsRule> RobotsRules::matching_rule(std::string_view path) const {
  std::string p = robots_normalize(path.empty() ? std::string_view("/") : path);
  if (p == "/robots.txt") return std::nullopt;
  const RobotsRule* best = nullptr;
  for (const auto& r : rules_) {
    if (!robots_pattern_match(r.pattern, p)) continue;
    if (!best || r.pattern.size() > best->pattern.size() ||
        (r.pattern.size() == best->pattern.size() && r.allow && !best->allow))
      best = &r;
  }
  if (!best) return std::nullopt;
  return *best;
}

bool RobotsRules::allowed(std::string_view path) const {
  auto r = matching_rule(path);
  return !r || r->allow;
}

}  // namespace baotin
