#include "core/regex.h"

#include <re2/re2.h>

namespace baotin {

Regex::Regex(std::string_view pattern, bool case_insensitive) : pattern_(pattern) {
  RE2::Options o;
  o.set_encoding(RE2::Options::EncodingLatin1);
  o.set_log_errors(false);
  o.set_case_sensitive(!case_insensitive);
  re_ = std::make_shared<const re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), o);
  if (!re_->ok()) error_ = re_->error();
}

bool Regex::ok() const { return re_ && re_->ok(); }
int Regex::groups() const { return ok() ? re_->NumberOfCapturingGroups() : 0; }

bool Regex::run(std::string_view text, size_t start, bool anchored, std::vector<std::string_view>& m) const {
  if (!ok() || start > text.size()) return false;
  const int n = 1 + re_->NumberOfCapturingGroups();
  std::vector<re2::StringPiece> sub(static_cast<size_t>(n));
  // A non-null text, so that an empty submatch can be told from an unmatched one.
  static const char kEmpty[1] = {0};
  re2::StringPiece t(text.data() ? text.data() : kEmpty, text.size());
  if (!re_->Match(t, start, t.size(), anchored ? RE2::ANCHOR_START : RE2::UNANCHORED, sub.data(), n)) return false;
  m.assign(static_cast<size_t>(n), std::string_view());
  for (int i = 0; i < n; ++i)
    if (sub[static_cast<size_t>(i)].data()) m[static_cast<size_t>(i)] = std::string_view(sub[static_cast<size_t>(i)].data(), sub[static_cast<size_t>(i)].size());
  return true;
}

bool Regex::search(std::string_view text, size_t start, std::vector<std::string_view>& m) const {
  return run(text, start, false, m);
}

bool Regex::match_at(std::string_view text, size_t start, std::vector<std::string_view>& m) const {
  return run(text, start, true, m);
}

bool Regex::contains(std::string_view text) const {
  if (!ok()) return false;
  return re_->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), RE2::UNANCHORED, nullptr, 0);
}

}  // namespace baotin
