// The metric of the article-extraction-benchmark (scrapinghub/article-extraction-benchmark, evaluate.py),
// used by bench/eval_extract, `baotin eval` (the golden-page quality report) and the tests.
// Tokens are Python `\w+` matches (Unicode letters and digits plus '_', case kept), shingles are 4-token
// n-grams (a shorter text is one shingle) counted as a multiset; TP/FP/FN are normalised to sum to 1.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace baotin {

struct ShingleScore {
  double tp = 0, fp = 0, fn = 0;
  double precision() const;  // 1 when both texts are empty of tokens; 0 when nothing was predicted
  double recall() const;
};
// The metric's tokenizer. Today it is core/text's word_tokens (the same `\w+` rule); the product never
// calls this one, so the metric can be redefined without changing extraction.
std::vector<std::string> aeb_tokenize(std::string_view text);
ShingleScore aeb_shingle_match(std::string_view truth, std::string_view predicted);

}  // namespace baotin
