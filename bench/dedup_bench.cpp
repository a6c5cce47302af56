// Dedup index benchmark at archive density: recall of planted copies, look-up latency (as a ratio against a plain
// RocksDB Get measured interleaved in the same run) and bytes per article, for archives of 1M, 10M and 100M
// articles (by default).
//
// Density emulation. The index's candidate keys are bucketed by day (store/dedup.h, recall model): a look-up reads
// only the entries of the days within kDedupWindowDays of its own day. An archive of N articles over SPAN days
// holds N/SPAN articles a day (default SPAN = 1,000 days: 100,000 articles a day at 100M, a pessimistic rate for
// one country's news, which makes the windows denser than a real 100M archive spread over a decade). The bench
// writes every day a query can touch - the query days (3) and kDedupWindowDays on both sides - at that full
// density, and BACKGROUND further articles (default 1M) on other days so that the LSM tree has millions of
// entries in every run. So what a look-up reads is exactly what it would read in the N-article archive; what is
// not emulated is the size of the whole tree (a real 100M index is ~100M x bytes/article and does not fit the
// page cache: each seek that misses it costs an SSD read; the bench prints how many seeks a look-up makes).
// The copies, new articles and templated articles are looked up on the query days, whose windows are full on both
// sides (a backfill inside the archive: the pessimistic case); new and templated articles are also looked up on
// the newest filled day, whose window has no later days (the daemon at the archive's head).
//
// Each filled day has, besides random articles:
//  * common shingles: 32 boilerplate shingles with small hashes (so they land among the min-samples), each in 2%
//    of the articles: their buckets grow with the density and are capped;
//  * templated series: 5 templates (lottery, gold price, weather ...), each 0.1% of the daily volume: 500 shared
//    shingles + 60 own, SimHash within a few bits, the same sapo, a different number in the title;
//  * planted pairs (base, copy): the copy keeps 90% of the base's shingles, its SimHash moved by 0..6 bits, half
//    keep headline and sapo; the base is published 0..kDedupWindowDays days before or after the copy. A second
//    set is published kDedupWindowDays+1 days apart (outside the window: not found, by design).
// The column family has the store's options for its dedup family (store/options.h) and the store's default
// 64 MiB block cache (CACHE_MB).
//
//   dedup_bench [--densities 1000000,10000000,100000000] [--span-days 1000] [--background 1000000]
//               [--pairs 2000] [--queries 2000] [--cache-mb 64]
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/dedup.h"
#include "store/options.h"

using namespace baotin;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint32_t kShingles = 600;  // a ~600-syllable article
constexpr int kQueryDays = 3;
constexpr uint16_t kDay0 = 20000;     // 2024-10-04 (any day works: only differences matter)
constexpr int kCommon = 32;           // boilerplate shingles
constexpr double kCommonShare = 0.02;
constexpr int kTemplates = 5;
constexpr double kTemplateShare = 0.001;  // of the daily volume, per template

std::string hex_id(uint64_t x) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(x));
  return b;
}

struct Gen {
  std::mt19937_64 rng{20261201};
  std::vector<uint64_t> common;
  struct Template {
    std::vector<uint64_t> shingles;
    std::vector<uint32_t> title;
    uint64_t simhash, lead;
  };
  std::vector<Template> templates;
  uint64_t counter = 1;

  Gen() {
    for (int i = 0; i < kCommon; ++i) common.push_back(rng() % (UINT64_MAX / 1000));  // below any 8th-smallest
    for (int t = 0; t < kTemplates; ++t) {
      Template tp;
      for (int i = 0; i < 500; ++i) tp.shingles.push_back(rng());
      for (int i = 0; i < 10; ++i) tp.title.push_back(static_cast<uint32_t>(rng()));
      tp.simhash = rng() | 1;
      tp.lead = rng() | 1;
      templates.push_back(std::move(tp));
    }
  }
  void add_common(std::vector<uint64_t>& set) {
    for (uint64_t c : common)
      if (std::uniform_real_distribution<double>(0, 1)(rng) < kCommonShare) set.push_back(c);
  }
  std::vector<uint32_t> title(size_t n) {
    std::vector<uint32_t> t(n);
    for (auto& x : t) x = static_cast<uint32_t>(rng());
    std::sort(t.begin(), t.end());
    return t;
  }
  // Sketch of an explicit set of 64-bit shingle hashes (the way near_sketch() derives it).
  static NearSketch of_set(std::vector<uint64_t> set, uint32_t total_shingles, uint64_t simhash,
                           std::vector<uint32_t> title, uint16_t day) {
    NearSketch s;
    std::sort(set.begin(), set.end());
    set.erase(std::unique(set.begin(), set.end()), set.end());
    s.simhash = simhash;
    s.shingles = total_shingles;
    s.tokens = total_shingles + 2;
    s.samples.assign(set.begin(), set.begin() + std::min<size_t>(kMinSamples, set.size()));
    for (uint64_t x : set) {
      uint32_t h = static_cast<uint32_t>(x >> 32);
      if (s.bottom.empty() || s.bottom.back() != h) s.bottom.push_back(h);
      if (s.bottom.size() == kSketchSize) break;
    }
    std::sort(title.begin(), title.end());
    s.title = std::move(title);
    s.core_tokens = 40;
    s.day = day;
    return s;
  }
  // A random article: only its 128 smallest shingles matter (they lie in [0, 2^64 * 128/600]).
  NearSketch random(uint16_t day) {
    std::vector<uint64_t> set(kSketchSize);
    for (auto& x : set) x = rng() % (UINT64_MAX / kShingles * kSketchSize);
    add_common(set);
    NearSketch s = of_set(std::move(set), kShingles, rng() | 1, title(12), day);
    s.core = rng() | 1;
    s.lead = rng() | 1;
    return s;
  }
  std::vector<uint64_t> full_set() {
    std::vector<uint64_t> set(kShingles);
    for (auto& x : set) x = rng();
    add_common(set);
    return set;
  }
  // (base, copy) as described at the top.
  std::pair<NearSketch, NearSketch> pair(uint16_t base_day, uint16_t copy_day, bool keep_core) {
    std::vector<uint64_t> set = full_set();
    auto t = title(12);
    uint64_t sh = rng() | 1;
    NearSketch base = of_set(set, kShingles, sh, t, base_day);
    base.core = rng() | 1;
    base.lead = rng() | 1;
    for (size_t k = 0; k < kShingles / 10; ++k) set[rng() % kShingles] = rng();
    uint64_t sh2 = sh;
    for (int b = static_cast<int>(rng() % 7); b > 0; --b) sh2 ^= 1ULL << (rng() % 64);
    NearSketch copy = of_set(set, kShingles, sh2, t, copy_day);
    copy.core = keep_core ? base.core : (rng() | 1);
    copy.lead = keep_core ? base.lead : (rng() | 1);
    return {base, copy};
  }
  NearSketch templated(int which, uint16_t day) {
    const Template& tp = templates[which];
    std::vector<uint64_t> set = tp.shingles;
    for (int i = 0; i < 60; ++i) set.push_back(rng());
    add_common(set);
    uint64_t sh = tp.simhash;
    for (int b = static_cast<int>(rng() % 4); b > 0; --b) sh ^= 1ULL << (rng() % 64);
    auto t = tp.title;
    t.push_back(static_cast<uint32_t>(rng()));
    NearSketch s = of_set(std::move(set), 560, sh, t, day);
    const uint64_t n = counter++;  // "Kết quả xổ số ngày <n>": a number that differs from the siblings'
    for (uint64_t x = n; x; x /= 10) ++s.title_digits[x % 10];
    s.core = rng() | 1;
    s.lead = tp.lead;
    return s;
  }
};

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}
double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / v.size();
}

uint64_t dir_bytes(const fs::path& p) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto& e : fs::recursive_directory_iterator(p, ec))
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  return total;
}

long peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

struct Args {
  std::vector<uint64_t> densities{1000000, 10000000, 100000000};
  uint64_t span_days = 1000, background = 1000000, pairs = 2000, queries = 2000, cache_mb = 64;
};

struct Row {
  uint64_t density = 0, per_day = 0, stored = 0;
  double bytes_per_article = 0, fill_s = 0;
  size_t recall_found = 0, recall_total = 0, outside_found = 0, outside_total = 0;
  struct Q {
    double p50 = 0, p99 = 0, mean = 0, base_p50 = 0, base_p99 = 0, base_mean = 0;
    double cpu_p50 = 0, cpu_p99 = 0;  // the look-up's thread CPU time: what load on a shared machine adds less to
    double candidates = 0, verified = 0, capped_scans = 0, verify_capped = 0;
  } copy, fresh, tmpl, fresh_head, tmpl_head;  // *_head: queries on the newest filled day (no later days)
};

// Times f(i) interleaved with a plain Get of an existing key; returns latency and look-up statistics.
Row::Q measure(rocksdb::DB* db, const std::vector<std::string>& get_keys, size_t n,
               const std::function<DedupIndex::LookupInfo(size_t)>& f) {
  std::vector<double> us, base, cpu;
  Row::Q q;
  auto thread_cpu_us = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
  };
  std::string v;
  size_t sink = 0;
  for (size_t i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    sink += db->Get(rocksdb::ReadOptions(), get_keys[i % get_keys.size()], &v).ok();
    auto t1 = Clock::now();
    const double c1 = thread_cpu_us();
    DedupIndex::LookupInfo info = f(i);
    cpu.push_back(thread_cpu_us() - c1);
    auto t2 = Clock::now();
    base.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
    q.candidates += info.candidates;
    q.verified += info.verified;
    q.capped_scans += info.capped_scans;
    q.verify_capped += info.verify_capped;
  }
  q.candidates /= n, q.verified /= n, q.capped_scans /= n, q.verify_capped /= n;
  q.p50 = pct(us, 0.5), q.p99 = pct(us, 0.99), q.mean = mean(us);
  q.base_p50 = pct(base, 0.5), q.base_p99 = pct(base, 0.99), q.base_mean = mean(base);
  q.cpu_p50 = pct(cpu, 0.5), q.cpu_p99 = pct(cpu, 0.99);
  if (sink == 1234567) std::printf(" ");
  return q;
}

bool run(const Args& args, uint64_t density, Row& row) {
  char tmpl[] = "/tmp/baotin_dedup_bench_XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    return false;
  }
  const fs::path dir = tmpl;
  struct Cleanup {
    fs::path d;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  } cleanup{dir};
  auto family = [](size_t mb) { return store_family_options("dedup", mb ? rocksdb::NewLRUCache(mb << 20) : nullptr); };
  rocksdb::Options opts(rocksdb::DBOptions(), family(args.cache_mb));
  opts.create_if_missing = true;
  opts.IncreaseParallelism(2);
  // Bulk fill: append-only vector memtables, large write buffers, no WAL; compacted once before timing.
  opts.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
  opts.allow_concurrent_memtable_write = false;
  opts.write_buffer_size = 256 << 20;
  opts.max_write_buffer_number = 4;
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::Open(opts, dir.string(), &raw);
  if (!st.ok()) {
    std::fprintf(stderr, "open: %s\n", st.ToString().c_str());
    return false;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  DedupIndex idx(db.get(), nullptr);
  idx.set_bulk_load(true);  // random unique fingerprints: no read-before-write
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  rocksdb::WriteBatch batch;
  Gen g;
  std::vector<std::string> get_keys;  // existing sketch keys for the baseline Get
  uint64_t stored = 0;
  auto put = [&](const NearSketch& s, const std::string& id) {
    idx.add(batch, id, hex_id(g.rng()) + hex_id(g.rng()), s);
    if (get_keys.size() < 100000 && g.rng() % 16 == 0) get_keys.push_back("k" + id);
    ++stored;
    if (batch.Count() >= 20000) {
      auto s2 = db->Write(wo, &batch);
      if (!s2.ok()) throw std::runtime_error("write: " + s2.ToString());
      batch.Clear();
    }
  };
  const int W = kDedupWindowDays;
  const uint64_t per_day = std::max<uint64_t>(1, density / args.span_days);
  row.density = density;
  row.per_day = per_day;
  auto t0 = Clock::now();
  // Planted pairs: copies on the query days, bases within the window; and pairs just outside it.
  struct Planted {
    NearSketch copy;
    std::string base_id, copy_id;
  };
  std::vector<Planted> inside, outside;
  for (uint64_t p = 0; p < args.pairs + args.pairs / 10; ++p) {
    const bool in = p < args.pairs;
    const uint16_t copy_day = kDay0 + static_cast<uint16_t>(g.rng() % kQueryDays);
    int off = in ? static_cast<int>(g.rng() % (2 * W + 1)) - W : ((g.rng() & 1) ? W + 1 : -(W + 1));
    auto [base, copy] = g.pair(static_cast<uint16_t>(copy_day + off), copy_day, p % 2);
    Planted pl{copy, hex_id(g.rng()), hex_id(g.rng())};
    put(base, pl.base_id);
    put(copy, pl.copy_id);
    (in ? inside : outside).push_back(std::move(pl));
  }
  // Every day a query can touch, at full density.
  const uint64_t tmpl_per_day = std::max<uint64_t>(1, static_cast<uint64_t>(per_day * kTemplateShare));
  for (int d = -W; d < kQueryDays + W; ++d) {
    const uint16_t day = static_cast<uint16_t>(kDay0 + d);
    uint64_t n = 0;
    for (int t = 0; t < kTemplates; ++t)
      for (uint64_t k = 0; k < tmpl_per_day; ++k, ++n) put(g.templated(t, day), hex_id(g.rng()));
    for (; n < per_day; ++n) put(g.random(day), hex_id(g.rng()));
  }
  const uint64_t window_articles = stored;
  // The rest of the archive (sparse: only to give the tree its size).
  for (uint64_t k = 0; k < args.background; ++k)
    put(g.random(static_cast<uint16_t>(kDay0 - W - 1 - static_cast<int>(g.rng() % 5000))), hex_id(g.rng()));
  if (batch.Count()) db->Write(wo, &batch);
  batch.Clear();
  db->Flush(rocksdb::FlushOptions());
  db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr);
  for (;;) {
    uint64_t pending = 0, running = 0;
    db->GetIntProperty(rocksdb::DB::Properties::kCompactionPending, &pending);
    db->GetIntProperty(rocksdb::DB::Properties::kNumRunningCompactions, &running);
    if (!pending && !running) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  row.fill_s = std::chrono::duration<double>(Clock::now() - t0).count();
  row.stored = stored;
  row.bytes_per_article = static_cast<double>(dir_bytes(dir)) / stored;
  std::printf("density %llu (%llu/day): %llu articles written (%llu in the %d filled days), fill+compaction %.0f s, "
              "%.0f bytes/article on disk\n",
              static_cast<unsigned long long>(density), static_cast<unsigned long long>(per_day),
              static_cast<unsigned long long>(stored), static_cast<unsigned long long>(window_articles),
              kQueryDays + 2 * W, row.fill_s, row.bytes_per_article);
  std::fflush(stdout);

  // Reopen (fresh block cache of the store's size), then a warm-up pass and a measured pass.
  db.reset();
  opts.create_if_missing = false;
  st = rocksdb::DB::Open(opts, dir.string(), &raw);
  if (!st.ok()) {
    std::fprintf(stderr, "reopen: %s\n", st.ToString().c_str());
    return false;
  }
  db.reset(raw);
  DedupIndex ix(db.get(), nullptr);
  std::shuffle(get_keys.begin(), get_keys.end(), g.rng);
  std::vector<NearSketch> fresh, tmpls, fresh_head, tmpls_head;
  for (size_t i = 0; i < args.queries; ++i) {
    const uint16_t day = kDay0 + static_cast<uint16_t>(g.rng() % kQueryDays);
    fresh.push_back(g.random(day));
    tmpls.push_back(g.templated(static_cast<int>(i % kTemplates), day));
    // The daemon's case: articles of the archive's newest day, whose window has no later days.
    const uint16_t newest = kDay0 + kQueryDays - 1 + kDedupWindowDays;
    fresh_head.push_back(g.random(newest));
    tmpls_head.push_back(g.templated(static_cast<int>(i % kTemplates), newest));
  }
  for (int pass = 0; pass < 2; ++pass) {
    size_t found = 0;
    row.copy = measure(db.get(), get_keys, inside.size(), [&](size_t i) {
      DedupIndex::LookupInfo info;
      for (auto& m : ix.find_near(inside[i].copy, inside[i].copy_id, &info)) found += m.id == inside[i].base_id;
      return info;
    });
    row.recall_found = found;
    row.recall_total = inside.size();
    // Look-ups of articles that are nobody's copy.
    auto lookups = [&](const std::vector<NearSketch>& qs) {
      return measure(db.get(), get_keys, qs.size(), [&](size_t i) {
        DedupIndex::LookupInfo info;
        ix.find_near(qs[i], {}, &info);
        return info;
      });
    };
    row.fresh = lookups(fresh);
    row.tmpl = lookups(tmpls);
    row.fresh_head = lookups(fresh_head);
    row.tmpl_head = lookups(tmpls_head);
    size_t out_found = 0;
    for (auto& p : outside)
      for (auto& m : ix.find_near(p.copy, p.copy_id)) out_found += m.id == p.base_id;
    row.outside_found = out_found;
    row.outside_total = outside.size();
  }
  auto cs = ix.cap_stats();
  std::printf("  index counters over both passes: %llu look-ups, %llu capped scans, %llu look-ups with dropped "
              "candidates\n",
              static_cast<unsigned long long>(cs.lookups), static_cast<unsigned long long>(cs.capped_scans),
              static_cast<unsigned long long>(cs.capped_lookups));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "missing value for %s\n", k.c_str());
      return 2;
    }
    std::string v = argv[++i];
    if (k == "--densities") {
      a.densities.clear();
      for (size_t p = 0; p < v.size();) {
        size_t c = v.find(',', p);
        a.densities.push_back(std::strtoull(v.substr(p, c - p).c_str(), nullptr, 10));
        p = c == std::string::npos ? v.size() : c + 1;
      }
    } else if (k == "--span-days") a.span_days = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--background") a.background = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--pairs") a.pairs = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--queries") a.queries = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--cache-mb") a.cache_mb = std::strtoull(v.c_str(), nullptr, 10);
    else {
      std::fprintf(stderr,
                   "usage: dedup_bench [--densities N,N,...] [--span-days D] [--background N] [--pairs N] "
                   "[--queries N] [--cache-mb MB]\n");
      return 2;
    }
  }
  if (a.span_days < 1 || a.pairs < 1 || a.queries < 1 || a.densities.empty()) {
    std::fprintf(stderr, "span-days, pairs, queries must be >= 1\n");
    return 2;
  }
  std::printf("window +-%d days, span %llu days, background %llu articles, %llu planted pairs, %llu queries, "
              "block cache %llu MiB\n",
              kDedupWindowDays, static_cast<unsigned long long>(a.span_days),
              static_cast<unsigned long long>(a.background), static_cast<unsigned long long>(a.pairs),
              static_cast<unsigned long long>(a.queries), static_cast<unsigned long long>(a.cache_mb));
  std::vector<Row> rows;
  for (uint64_t d : a.densities) {
    Row r;
    try {
      if (!run(a, d, r)) return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "density %llu: %s\n", static_cast<unsigned long long>(d), e.what());
      return 1;
    }
    rows.push_back(r);
  }
  std::printf("\n| density | per day | recall of planted copies | outside window found | bytes/article | "
              "copy p50 / p99 us (x Get p50 / p99) | new article p50 / p99 us (x Get) | templated p50 / p99 us "
              "(x Get) | candidates / verified (new, templated) | capped scans per look-up (new, templated) | "
              "look-ups with dropped candidates (templated) |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    auto q = [](const Row::Q& x) {
      char b[160];
      std::snprintf(b, sizeof b, "%.0f / %.0f (%.0fx / %.0fx)", x.p50, x.p99, x.p50 / x.base_p50,
                    x.p99 / x.base_p99);
      return std::string(b);
    };
    std::printf("| %lluM | %llu | %zu/%zu = %.4f | %zu/%zu | %.0f | %s | %s | %s | %.0f/%.0f, %.0f/%.0f | %.2f, %.2f | "
                "%.0f%% |\n",
                static_cast<unsigned long long>(r.density / 1000000), static_cast<unsigned long long>(r.per_day),
                r.recall_found, r.recall_total, static_cast<double>(r.recall_found) / r.recall_total, r.outside_found,
                r.outside_total, r.bytes_per_article, q(r.copy).c_str(), q(r.fresh).c_str(), q(r.tmpl).c_str(),
                r.fresh.candidates, r.fresh.verified, r.tmpl.candidates, r.tmpl.verified, r.fresh.capped_scans,
                r.tmpl.capped_scans, 100 * r.tmpl.verify_capped);
    std::printf("|   baseline Get p50 / p99 us: %.1f / %.1f (copies), %.1f / %.1f (new), %.1f / %.1f (templated) |\n",
                r.copy.base_p50, r.copy.base_p99, r.fresh.base_p50, r.fresh.base_p99, r.tmpl.base_p50,
                r.tmpl.base_p99);
    std::printf("|   look-up thread CPU time p50 / p99 us: %.0f / %.0f (copies), %.0f / %.0f (new), %.0f / %.0f "
                "(templated) |\n",
                r.copy.cpu_p50, r.copy.cpu_p99, r.fresh.cpu_p50, r.fresh.cpu_p99, r.tmpl.cpu_p50, r.tmpl.cpu_p99);
    std::printf("|   on the newest day (no later days in the window: the daemon's case) p50 / p99 us: %s (new), %s "
                "(templated); thread CPU p99 %.0f / %.0f us |\n",
                q(r.fresh_head).c_str(), q(r.tmpl_head).c_str(), r.fresh_head.cpu_p99, r.tmpl_head.cpu_p99);
  }
  std::printf("\npeak RSS: %ld MiB\n", peak_rss_mib());
  return 0;
}
