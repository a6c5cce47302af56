// Generic extraction for pages without a template (or where the template yields nothing):
// JSON-LD NewsArticle, OpenGraph and meta tags for metadata; text-density / link-density
// scoring of the DOM for the body.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "parse/article.h"

namespace baotin {

// Fills every content field it can find into a fresh Article (title, lead, body, authors, published,
// updated, category, tags, images, canonical_url) and lists them in .fields. Never throws.
Article extract_generic(const pugi::xml_document& doc, std::string_view page_url);

// Only the body (paragraphs) by DOM scoring; used by extract_generic and by the benchmark.
std::vector<std::string> generic_body(const pugi::xml_document& doc);

// --- Extraction quality metric (used by bench/eval_extract and tests) -------------------------------
// The metric of the article-extraction-benchmark (scrapinghub/article-extraction-benchmark, evaluate.py):
// tokens are Python `\w+` matches (Unicode letters and digits plus '_', case kept), shingles are 4-token
// n-grams (a shorter text is one shingle) counted as a multiset; TP/FP/FN are normalised to sum to 1.
struct ShingleScore {
  double tp = 0, fp = 0, fn = 0;
  double precision() const;  // 1 when both texts are empty of tokens; 0 when nothing was predicted
  double recall() const;
};
std::vector<std::string> aeb_tokenize(std::string_view text);
ShingleScore aeb_shingle_match(std::string_view truth, std::string_view predicted);

}  // namespace baotin
