#include "store/diff.h"

#include <algorithm>
#include <cstdint>
#include <set>

namespace baotin {

namespace {

constexpr size_t kMaxLcsCells = 4u << 20;  // 4M cells of uint32 = 16 MiB

void scalar(std::string& out, const char* name, const std::string& a, const std::string& b) {
  if (a == b) return;
  out += name;
  out += ":\n";
  if (!a.empty()) out += "- " + a + "\n";
  if (!b.empty()) out += "+ " + b + "\n";
}

void list(std::string& out, const char* name, const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a == b) return;
  out += name;
  out += ":\n";
  const std::set<std::string> sa(a.begin(), a.end()), sb(b.begin(), b.end());
  bool any = false;
  for (const auto& x : a)
    if (!sb.count(x)) {
      out += "- " + x + "\n";
      any = true;
    }
  for (const auto& x : b)
    if (!sa.count(x)) {
      out += "+ " + x + "\n";
      any = true;
    }
  if (!any) {  // same items, different order
    out += "- " + [&] {
      std::string s;
      for (const auto& x : a) s += (s.empty() ? "" : "; ") + x;
      return s;
    }() + "\n";
    out += "+ " + [&] {
      std::string s;
      for (const auto& x : b) s += (s.empty() ? "" : "; ") + x;
      return s;
    }() + "\n";
  }
}

std::vector<std::string> image_strings(const std::vector<Image>& v) {
  std::vector<std::string> out;
  for (const auto& im : v) out.push_back(im.caption.empty() ? im.url : im.url + " | " + im.caption);
  return out;
}

}  // namespace

std::vector<DiffLine> diff_paragraphs(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<DiffLine> out;
  size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre && a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) ++suf;
  for (size_t i = 0; i < pre; ++i) out.push_back({' ', a[i]});

  const size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
  if (n == 0 || m == 0 || (n + 1) * (m + 1) > kMaxLcsCells) {
    for (size_t i = 0; i < n; ++i) out.push_back({'-', a[pre + i]});
    for (size_t j = 0; j < m; ++j) out.push_back({'+', b[pre + j]});
  } else {
    // L[i][j] = LCS length of a[pre+i..] and b[pre+j..].
    std::vector<uint32_t> L((n + 1) * (m + 1), 0);
    auto at = [&](size_t i, size_t j) -> uint32_t& { return L[i * (m + 1) + j]; };
    for (size_t i = n; i-- > 0;)
      for (size_t j = m; j-- > 0;)
        at(i, j) = a[pre + i] == b[pre + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    size_t i = 0, j = 0;
    while (i < n && j < m) {
      if (a[pre + i] == b[pre + j]) {
        out.push_back({' ', a[pre + i]});
        ++i;
        ++j;
      } else if (at(i + 1, j) >= at(i, j + 1)) {
        out.push_back({'-', a[pre + i]});
        ++i;
      } else {
        out.push_back({'+', b[pre + j]});
        ++j;
      }
    }
    for (; i < n; ++i) out.push_back({'-', a[pre + i]});
    for (; j < m; ++j) out.push_back({'+', b[pre + j]});
  }
  for (size_t k = a.size() - suf; k < a.size(); ++k) out.push_back({' ', a[k]});
  return out;
}

std::string diff_versions(const Article& a, const Article& b) {
  std::string out;
  scalar(out, "title", a.title, b.title);
  scalar(out, "lead", a.lead, b.lead);

  if (a.body != b.body) {
    const auto script = diff_paragraphs(a.body, b.body);
    // Keep changed lines plus one line of context on each side.
    std::vector<bool> keep(script.size(), false);
    for (size_t k = 0; k < script.size(); ++k) {
      if (script[k].op == ' ') continue;
      keep[k] = true;
      if (k > 0) keep[k - 1] = true;
      if (k + 1 < script.size()) keep[k + 1] = true;
    }
    out += "body:\n";
    bool skipped = false;
    for (size_t k = 0; k < script.size(); ++k) {
      if (!keep[k]) {
        skipped = true;
        continue;
      }
      if (skipped) out += "  ...\n";
      skipped = false;
      out += script[k].op;
      out += ' ';
      out += script[k].text;
      out += '\n';
    }
    if (skipped) out += "  ...\n";
  }

  list(out, "authors", a.authors, b.authors);
  scalar(out, "published", a.published, b.published);
  scalar(out, "updated", a.updated, b.updated);
  scalar(out, "category", a.category, b.category);
  list(out, "tags", a.tags, b.tags);
  list(out, "images", image_strings(a.images), image_strings(b.images));
  scalar(out, "url", a.url, b.url);
  scalar(out, "canonical_url", a.canonical_url, b.canonical_url);
  scalar(out, "partial", a.partial ? "true" : "false", b.partial ? "true" : "false");
  if (out.empty()) return out;

  std::string head = "--- " + (a.id.empty() ? std::string("a") : a.id) + " v" + std::to_string(a.version);
  if (!a.fetched_at.empty()) head += " (" + a.fetched_at + ")";
  head += "\n+++ " + (b.id.empty() ? std::string("b") : b.id) + " v" + std::to_string(b.version);
  if (!b.fetched_at.empty()) head += " (" + b.fetched_at + ")";
  head += "\n";
  return head + out;
}

}  // namespace baotin
