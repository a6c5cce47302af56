// feed_conformance: parses every feed of a conformance manifest with baotin::parse_feed and writes
// one oracle-shaped JSON per feed, so that /work/shared/corpus/feeds/score.py can compare them.
//
//   feed_conformance --manifest corpus/manifest.tsv --root corpus --out /tmp/out [--repeat N]
//
// The manifest is a TSV with a header; the columns used are `file` (relative to --root) and the
// optional `http_headers` (a JSON object of simulated response headers; as the oracle does, a
// Content-type of application/xml is assumed when headers are given without one).
// Prints the parse throughput (feeds/s and MB/s, parsing only, best of --repeat runs).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "feed/feed.h"
#include "bench/tsv.h"

namespace fs = std::filesystem;

namespace {

struct Row {
  std::string file;
  baotin::FeedHttpHeaders headers;
  std::string bytes;
};

using baotin::bench::split_tab;

void usage() {
  std::cerr << "usage: feed_conformance --manifest M.tsv --root DIR --out OUTDIR [--repeat N]\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string manifest, root, out;
  int repeat = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--manifest") manifest = next();
    else if (a == "--root") root = next();
    else if (a == "--out") out = next();
    else if (a == "--repeat") repeat = std::max(1, std::atoi(next().c_str()));
    else if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else {
      std::cerr << "unknown argument: " << a << "\n";
      usage();
      return 2;
    }
  }
  if (manifest.empty() || root.empty() || out.empty()) {
    usage();
    return 2;
  }
  std::ifstream mf(manifest);
  if (!mf) {
    std::cerr << "cannot read manifest " << manifest << "\n";
    return 1;
  }
  std::string line;
  std::getline(mf, line);
  std::vector<std::string> keys = split_tab(line);
  int col_file = -1, col_hdr = -1;
  for (size_t k = 0; k < keys.size(); ++k) {
    if (keys[k] == "file") col_file = static_cast<int>(k);
    if (keys[k] == "http_headers") col_hdr = static_cast<int>(k);
  }
  if (col_file < 0) {
    std::cerr << "manifest has no `file` column\n";
    return 1;
  }
  std::vector<Row> rows;
  size_t total_bytes = 0;
  while (std::getline(mf, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto cols = split_tab(line);
    if (static_cast<int>(cols.size()) <= col_file || cols[col_file].empty()) continue;
    Row r;
    r.file = cols[col_file];
    if (col_hdr >= 0 && static_cast<int>(cols.size()) > col_hdr && !cols[col_hdr].empty() && cols[col_hdr][0] == '{') {
      try {
        r.headers = baotin::feed_headers_from_json(cols[col_hdr]);
      } catch (const std::exception& e) {
        std::cerr << r.file << ": " << e.what() << "\n";
      }
    }
    std::ifstream in(fs::path(root) / r.file, std::ios::binary);
    if (!in) {
      std::cerr << "cannot read " << r.file << "\n";
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    r.bytes = ss.str();
    total_bytes += r.bytes.size();
    rows.push_back(std::move(r));
  }
  double best = 1e100;
  std::vector<baotin::ParsedFeed> results(rows.size());
  for (int rep = 0; rep < repeat; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < rows.size(); ++i) results[i] = baotin::parse_feed(rows[i].bytes, rows[i].headers);
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, dt);
  }
  size_t items = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    items += results[i].items.size();
    fs::path dst = fs::path(out) / fs::path(rows[i].file).replace_extension(".json");
    fs::create_directories(dst.parent_path());
    std::ofstream o(dst, std::ios::binary);
    o << baotin::feed_to_oracle_json(results[i]).dump(1) << "\n";
  }
  std::cout << rows.size() << " feeds, " << items << " items, " << total_bytes / 1024 << " KiB parsed in "
            << best * 1000 << " ms (best of " << repeat << "): " << rows.size() / best << " feeds/s, "
            << total_bytes / best / 1e6 << " MB/s\n";
  return 0;
}
