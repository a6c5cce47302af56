// Tab-separated manifest lines of the shared corpora (corpus/feeds/*/manifest.tsv).
#pragma once
#include <string>
#include <vector>

namespace baotin::bench {

// The fields of one line, split at tabs; CRs are dropped (CRLF manifests). An empty line is one empty field.
inline std::vector<std::string> split_tab(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == '\t') {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

}  // namespace baotin::bench
