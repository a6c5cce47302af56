#include "bench/aeb_metric.h"

#include <algorithm>
#include <unordered_map>

#include "core/text.h"

namespace baotin {
namespace {

std::unordered_map<std::string, int> aeb_shingles(std::string_view text, size_t k = 4) {
  std::vector<std::string> t = aeb_tokenize(text);
  std::unordered_map<std::string, int> out;
  size_t count = std::max<size_t>(1, t.size() >= k ? t.size() - k + 1 : 0);
  for (size_t i = 0; i < count; ++i) {
    std::string key;
    for (size_t j = i; j < std::min(t.size(), i + k); ++j) {
      if (j > i) key += '\x1f';
      key += t[j];
    }
    if (!key.empty()) ++out[key];
  }
  return out;
}

}  // namespace

std::vector<std::string> aeb_tokenize(std::string_view text) { return word_tokens(text); }

ShingleScore aeb_shingle_match(std::string_view truth, std::string_view predicted) {
  auto ts = aeb_shingles(truth), ps = aeb_shingles(predicted);
  ShingleScore r;
  for (const auto& [k, tc] : ts) {
    auto it = ps.find(k);
    int pc = it == ps.end() ? 0 : it->second;
    r.tp += std::min(tc, pc);
    r.fn += std::max(0, tc - pc);
    r.fp += std::max(0, pc - tc);
  }
  for (const auto& [k, pc] : ps)
    if (!ts.count(k)) r.fp += pc;
  double sum = r.tp + r.fp + r.fn;
  if (sum > 0) r.tp /= sum, r.fp /= sum, r.fn /= sum;
  return r;
}

double ShingleScore::precision() const {
  if (fp == 0 && fn == 0) return 1.0;
  if (tp == 0 && fp == 0) return 0.0;
  return tp / (tp + fp);
}

double ShingleScore::recall() const {
  if (fp == 0 && fn == 0) return 1.0;
  if (tp == 0 && fn == 0) return 0.0;
  return tp / (tp + fn);
}

}  // namespace baotin
