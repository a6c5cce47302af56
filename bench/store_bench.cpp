// Store throughput: put_article / get for N synthetic articles, against raw RocksDB Put/Get of the
// same bytes (article JSON + raw HTML) measured in the same run, plus peak RSS.
//
//   store_bench [N=5000] [--sync] [--dir DIR]
//
// --sync fsyncs the WAL on every write for both the store and the baseline (the daemon's setting);
// without it both run with sync off, which isolates the store's own overhead (JSON, hashing, dedup,
// URL map, change log, zstd).
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <sys/resource.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "store/store.h"

using namespace baotin;
namespace fs = std::filesystem;

namespace {

// Syllables from onset x rhyme (~700 distinct), so that synthetic articles share about as few
// shingles as real unrelated articles do.
std::string words(uint64_t seed, int n) {
  static const char* kOnset[] = {"", "b", "c", "ch", "d", "đ", "g", "gi", "h", "kh", "l", "m", "n", "ng",
                                 "nh", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x"};
  static const char* kRhyme[] = {"a", "à", "á", "ả", "ã", "ạ", "an", "ang", "anh", "ao", "ay", "âm", "ân", "ất",
                                 "e", "em", "en", "ê", "ên", "i", "im", "in", "inh", "o", "oa", "oan", "ong",
                                 "ô", "ông", "ơ", "ơn", "u", "um", "un", "ung", "ư", "ươ", "ương", "uy", "ưu"};
  uint64_t x = seed * 0x9E3779B97F4A7C15ull | 1;
  std::string s;
  for (int i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    if (i) s += ' ';
    s += kOnset[x % (sizeof kOnset / sizeof *kOnset)];
    s += kRhyme[(x >> 20) % (sizeof kRhyme / sizeof *kRhyme)];
  }
  return s;
}

struct Item {
  Article a;
  std::string raw;
};

Item make(int n) {
  Item it;
  Article& a = it.a;
  a.url = a.canonical_url = "https://bench.vn/thoi-su/bai-" + std::to_string(n) + ".html";
  a.site = "bench";
  a.title = words(n * 5 + 1, 12);
  a.lead = words(n * 5 + 2, 35);
  for (int p = 0; p < 8; ++p) a.body.push_back(words(n * 97 + p, 60));
  a.authors = {"Phóng viên"};
  a.published = "2026-03-07T08:00:00+07:00";
  a.fetched_at = "2026-03-07T08:05:00+07:00";
  it.raw = "<!doctype html><html><head><title>" + a.title + "</title></head><body><nav>menu menu menu</nav>";
  for (const auto& p : a.body) it.raw += "<p class=\"Normal\">" + p + "</p>\n";
  for (int k = 0; k < 40; ++k) it.raw += "<div class=\"box-related\"><a href=\"/bai-" + std::to_string(k) + "\">" +
                                         words(k, 10) + "</a></div>\n";
  it.raw += "</body></html>";
  return it;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU seconds of this process (all threads, including RocksDB's background threads): on a shared,
// loaded machine this is a steadier basis for the ratios than wall time.
double cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct Span {
  double wall = 0, cpu = 0;
};
struct Timer {
  double w0 = now_s(), c0 = cpu_s();
  Span stop() const { return {now_s() - w0, cpu_s() - c0}; }
};

long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 5000;
  bool sync = false;
  std::string base = (fs::temp_directory_path() / ("baotin-store-bench-" + std::to_string(getpid()))).string();
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--sync")) sync = true;
    else if (!std::strcmp(argv[i], "--dir") && i + 1 < argc) base = argv[++i];
    else if (std::atoi(argv[i]) > 0) n = std::atoi(argv[i]);
    else {
      std::fprintf(stderr, "usage: %s [N] [--sync] [--dir DIR]\n", argv[0]);
      return 2;
    }
  }
  fs::remove_all(base);
  fs::create_directories(base);

  std::printf("generating %d synthetic articles...\n", n);
  std::vector<Item> items;
  items.reserve(n);
  size_t json_bytes = 0, raw_bytes = 0;
  for (int i = 0; i < n; ++i) {
    items.push_back(make(i));
    json_bytes += to_json(items.back().a).dump().size();
    raw_bytes += items.back().raw.size();
  }
  std::printf("avg article JSON %.1f KiB, raw HTML %.1f KiB, sync=%s\n", json_bytes / 1024.0 / n,
              raw_bytes / 1024.0 / n, sync ? "on" : "off");
  std::mt19937 rng(42);
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);

  // --- Baseline: raw RocksDB, same bytes (JSON + raw HTML), one WriteBatch per article.
  Span raw_put, raw_get;
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    auto s = rocksdb::DB::Open(o, base + "/raw", &db);
    if (!s.ok()) {
      std::fprintf(stderr, "raw rocksdb open: %s\n", s.ToString().c_str());
      return 1;
    }
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    std::vector<std::string> keys(n), values(n);
    for (int i = 0; i < n; ++i) {
      const auto& a = items[i].a;
      char buf[17];
      std::snprintf(buf, sizeof buf, "%016llx",
                    static_cast<unsigned long long>(XXH3_64bits(a.canonical_url.data(), a.canonical_url.size())));
      keys[i] = buf;
      values[i] = to_json(a).dump();
    }
    Timer t;
    for (int i = 0; i < n; ++i) {
      rocksdb::WriteBatch b;
      b.Put(keys[i], values[i]);
      b.Put(keys[i] + "/raw", items[i].raw);
      auto st = db->Write(wo, &b);
      if (!st.ok()) {
        std::fprintf(stderr, "raw put: %s\n", st.ToString().c_str());
        return 1;
      }
    }
    raw_put = t.stop();
    std::string v;
    size_t found = 0;
    t = Timer();
    for (int i : order) found += db->Get(rocksdb::ReadOptions(), keys[i], &v).ok();
    raw_get = t.stop();
    if (found != static_cast<size_t>(n)) std::fprintf(stderr, "raw get: only %zu found\n", found);
    delete db;
  }

  // --- The store.
  Span put, reput, get;
  {
    std::string err;
    auto st = Store::open({base + "/store", sync}, &err);
    if (!st) {
      std::fprintf(stderr, "%s\n", err.c_str());
      return 1;
    }
    std::vector<std::string> ids(n);
    size_t dups = 0;
    Timer t;
    for (int i = 0; i < n; ++i) {
      auto r = st->put_article(items[i].a, items[i].raw);
      ids[i] = r.id;
      dups += r.kind == PutKind::Duplicate;
    }
    put = t.stop();
    if (dups) std::fprintf(stderr, "note: %zu synthetic articles were flagged as duplicates\n", dups);
    // Re-polling unchanged pages is the daemon's most common write path.
    size_t unchanged = 0;
    t = Timer();
    for (int i : order) unchanged += st->put_article(items[i].a, items[i].raw).kind == PutKind::Unchanged;
    reput = t.stop();
    if (unchanged != static_cast<size_t>(n)) std::fprintf(stderr, "re-put: only %zu unchanged\n", unchanged);
    size_t found = 0;
    t = Timer();
    for (int i : order) found += st->get(ids[i]).has_value();
    get = t.stop();
    if (found != static_cast<size_t>(n)) std::fprintf(stderr, "get: only %zu found\n", found);
  }

  auto row = [&](const char* name, const Span& sp, const Span* base) {
    std::printf("%-22s %9.0f /s wall %9.0f /s cpu", name, n / sp.wall, n / sp.cpu);
    if (base) std::printf("   ratio vs raw: wall %.3f cpu %.3f", base->wall / sp.wall, base->cpu / sp.cpu);
    std::printf("\n");
  };
  row("raw rocksdb put", raw_put, nullptr);
  row("store put_article", put, &raw_put);
  row("store re-put (same)", reput, &raw_put);
  row("raw rocksdb get", raw_get, nullptr);
  row("store get", get, &raw_get);
  std::printf("peak RSS %.1f MiB\n", peak_rss_kib() / 1024.0);
  std::error_code ec;
  fs::remove_all(base, ec);
  return 0;
}
