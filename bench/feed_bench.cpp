// feed_bench: baotin::parse_feed against a pugixml baseline on the same feed bytes, per feed class.
//
//   feed_bench [--shared DIR] [--seconds S] [--only ours|pugixml] [--class small|large|corpus]
//
// Feeds: the real-world captures of DIR/corpus/feeds/realworld (manifest.tsv) and the VN RSS files of
// DIR/corpus/vn/rss, split into "small" (< 16 KiB) and "large" (>= 16 KiB), plus "corpus": the 870 mostly tiny
// feedparser conformance files of DIR/corpus/feeds/corpus. DIR defaults to ../shared next to the source tree.
//
// The baseline is what any feed reader must at least do: pugi::xml_document::load_buffer of the same bytes
// (default flags, it copies the buffer as parse_feed does) plus a walk of every <item>/<entry> reading the
// text of its children. Both run in the same process, alternating per class, for --seconds each (best of
// rounds); the figures are bytes/s and the ratio ours/pugixml (the issue-12 target is >= 0.25).
//
// For instruction counts (independent of machine load), run one side of one class under callgrind (a warm-up
// pass, then one collected pass):
//   valgrind --tool=callgrind --toggle-collect='*feed_bench_run*' build/bench/feed_bench --only ours --class small
// and the same with --only pugixml; the ratio of the two "Collected" totals is the instruction ratio.
#include <pugixml.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "feed/feed.h"
#include "bench/tsv.h"

namespace fs = std::filesystem;

namespace {

struct Feed {
  std::string name, bytes;
  baotin::FeedHttpHeaders headers;
};

struct Class {
  std::string name;
  std::vector<Feed> feeds;
  size_t bytes = 0;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

using baotin::bench::split_tab;

// Files of a conformance manifest (with their simulated HTTP headers, as tests/test_feed_conformance does).
std::vector<Feed> read_manifest(const fs::path& root) {
  std::vector<Feed> out;
  std::ifstream mf(root / "manifest.tsv");
  std::string line;
  if (!std::getline(mf, line)) return out;
  auto keys = split_tab(line);
  int col_file = -1, col_hdr = -1;
  for (size_t k = 0; k < keys.size(); ++k) {
    if (keys[k] == "file") col_file = static_cast<int>(k);
    if (keys[k] == "http_headers") col_hdr = static_cast<int>(k);
  }
  while (std::getline(mf, line)) {
    auto c = split_tab(line);
    if (col_file < 0 || static_cast<int>(c.size()) <= col_file || c[col_file].empty()) continue;
    Feed f;
    f.name = c[col_file];
    f.bytes = slurp(root / f.name);
    if (f.bytes.empty()) continue;
    if (col_hdr >= 0 && static_cast<int>(c.size()) > col_hdr && !c[col_hdr].empty() && c[col_hdr][0] == '{') {
      try {
        f.headers = baotin::feed_headers_from_json(c[col_hdr]);
      } catch (const std::exception&) {
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

// --- the two sides (noinline and named *feed_bench_run* for callgrind's --toggle-collect)

__attribute__((noinline)) size_t feed_bench_run_ours(const Class& c) {
  size_t items = 0;
  for (const Feed& f : c.feeds) items += baotin::parse_feed(f.bytes, f.headers).items.size();
  return items;
}

__attribute__((noinline)) size_t feed_bench_run_pugixml(const Class& c) {
  size_t n = 0;
  for (const Feed& f : c.feeds) {
    pugi::xml_document doc;
    doc.load_buffer(f.bytes.data(), f.bytes.size());
    // every <item> (RSS 0.9x/2.0, RDF) or <entry> (Atom) anywhere, each child's text read
    struct Walker : pugi::xml_tree_walker {
      size_t* n;
      bool for_each(pugi::xml_node& node) override {
        const char* name = node.name();
        const char* colon = std::strrchr(name, ':');
        const char* local = colon ? colon + 1 : name;
        if (std::strcmp(local, "item") == 0 || std::strcmp(local, "entry") == 0) {
          ++*n;
          for (pugi::xml_node ch : node.children()) {
            *n += std::strlen(ch.child_value()) > 0;
            for (pugi::xml_attribute a : ch.attributes()) *n += a.value()[0] != 0;
          }
        }
        return true;
      }
    } w;
    w.n = &n;
    doc.traverse(w);
  }
  return n;
}

double time_best(const Class& c, bool ours, double seconds, size_t& sink) {
  double best = 1e100, spent = 0;
  int rounds = 0;
  while (rounds < 3 || spent < seconds) {
    auto t0 = std::chrono::steady_clock::now();
    sink += ours ? feed_bench_run_ours(c) : feed_bench_run_pugixml(c);
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, dt);
    spent += dt;
    ++rounds;
  }
  return best;
}

void usage() {
  std::cerr << "usage: feed_bench [--shared DIR] [--seconds S] [--only ours|pugixml] [--class small|large|corpus]\n";
}

}  // namespace

int main(int argc, char** argv) {
  fs::path shared = BAOTIN_SHARED_DEFAULT;
  double seconds = 2.0;
  std::string only, cls;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--shared") shared = next();
    else if (a == "--seconds") seconds = std::atof(next().c_str());
    else if (a == "--only") only = next();
    else if (a == "--class") cls = next();
    else if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else {
      std::cerr << "unknown argument: " << a << "\n";
      usage();
      return 2;
    }
  }
  if (!only.empty() && only != "ours" && only != "pugixml") {
    usage();
    return 2;
  }
  const fs::path feeds = shared / "corpus" / "feeds";
  if (!fs::exists(feeds / "realworld" / "manifest.tsv")) {
    std::cerr << "feed corpus not found under " << shared << " (use --shared DIR)\n";
    return 1;
  }
  std::vector<Class> classes = {{"small", {}, 0}, {"large", {}, 0}, {"corpus", {}, 0}};
  constexpr size_t kLarge = 16 * 1024;
  auto add_real = [&](Feed f) {
    Class& c = f.bytes.size() < kLarge ? classes[0] : classes[1];
    c.bytes += f.bytes.size();
    c.feeds.push_back(std::move(f));
  };
  for (Feed& f : read_manifest(feeds / "realworld")) add_real(std::move(f));
  if (fs::exists(shared / "corpus" / "vn" / "rss")) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(shared / "corpus" / "vn" / "rss"))
      if (e.path().extension() == ".xml") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& p : files) add_real({"vn/rss/" + p.filename().string(), slurp(p), {}});
  }
  for (Feed& f : read_manifest(feeds / "corpus")) {
    classes[2].bytes += f.bytes.size();
    classes[2].feeds.push_back(std::move(f));
  }

  size_t sink = 0;
  if (!only.empty()) {  // one pass of one side (for callgrind), after a warm-up pass that is not collected
    for (const Class& c : classes) {
      if (!cls.empty() && c.name != cls) continue;
      for (const Feed& f : c.feeds) {  // static tables, ICU converters: once per process, not per feed
        if (only == "ours") sink += baotin::parse_feed(f.bytes, f.headers).items.size();
        else sink += pugi::xml_document().load_buffer(f.bytes.data(), f.bytes.size()).offset;
      }
      sink += only == "ours" ? feed_bench_run_ours(c) : feed_bench_run_pugixml(c);
      std::printf("%s %s: %zu feeds, %zu bytes, one pass\n", only.c_str(), c.name.c_str(), c.feeds.size(), c.bytes);
    }
    return sink == static_cast<size_t>(-1);
  }
  std::printf("%-7s %6s %10s %14s %14s %8s\n", "class", "feeds", "KiB", "baotin MB/s", "pugixml MB/s", "ratio");
  for (const Class& c : classes) {
    if (!cls.empty() && c.name != cls) continue;
    if (c.feeds.empty()) continue;
    // alternate the two sides so that both see the same machine load
    double ours = 1e100, pugi = 1e100;
    for (int r = 0; r < 2; ++r) {
      ours = std::min(ours, time_best(c, true, seconds / 2, sink));
      pugi = std::min(pugi, time_best(c, false, seconds / 2, sink));
    }
    double ours_bps = c.bytes / ours, pugi_bps = c.bytes / pugi;
    std::printf("%-7s %6zu %10zu %14.1f %14.1f %8.3f\n", c.name.c_str(), c.feeds.size(), c.bytes / 1024,
                ours_bps / 1e6, pugi_bps / 1e6, ours_bps / pugi_bps);
  }
  return sink == static_cast<size_t>(-1);
}
