// Human-readable differences between two versions of an article (a correction tracker).
#pragma once
#include <string>
#include <vector>

#include "core/article.h"

namespace baotin {

// Field-by-field diff of `a` (older) -> `b` (newer). Scalar fields print as
//   title:
//   - old value
//   + new value
// list fields (authors, tags, images) show removed/added items, and the body shows paragraph-level
// "- " / "+ " lines from an LCS over paragraphs, with one unchanged paragraph of context ("  ") around
// each change and "  ..." for skipped runs. Returns "" when no compared field differs.
// Compared: title, lead, body, authors, published, updated, category, tags, images, url,
// canonical_url, partial.
std::string diff_versions(const Article& a, const Article& b);

// One entry of a paragraph-level edit script.
struct DiffLine {
  char op;  // ' ' same, '-' only in old, '+' only in new
  std::string text;
};
// Longest-common-subsequence edit script between two paragraph lists. Inputs too large for the
// quadratic table (after trimming the common prefix/suffix) degrade to "all removed, all added".
std::vector<DiffLine> diff_paragraphs(const std::vector<std::string>& a, const std::vector<std::string>& b);

}  // namespace baotin
