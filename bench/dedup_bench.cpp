// Dedup index benchmark: fills a temporary RocksDB with N synthetic articles (default 1,000,000: random sketches
// plus planted near copies) through DedupIndex::add, then measures lookup latency against a baseline measured in
// the same run on the same DB (a single Get of one existing key). The lookups run three times on the same files:
// with RocksDB's default block cache, the store's default of 64 MiB and CACHE_MB (default 512), each after a
// warm-up pass.
// The column family has the store's options for its dedup family (store/options.h: bloom filter, LZ4).
//
//   dedup_bench [N] [queries] [CACHE_MB]
#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/cache.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
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

std::string hex_id(uint64_t x) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(x));
  return b;
}

// Sketch of a random article: the smallest 128 of 600 uniform 32-bit hashes lie in about [0, 2^32*128/600].
NearSketch random_sketch(std::mt19937_64& rng) {
  NearSketch s;
  s.simhash = rng() | 1;
  s.tokens = kShingles + 2;
  s.shingles = kShingles;
  const uint64_t range = (1ULL << 32) * 128 / kShingles;
  s.bottom.resize(kSketchSize);
  for (auto& x : s.bottom) x = static_cast<uint32_t>(rng() % range);
  std::sort(s.bottom.begin(), s.bottom.end());
  s.bottom.erase(std::unique(s.bottom.begin(), s.bottom.end()), s.bottom.end());
  for (int i = 0; i < 12; ++i) s.title.push_back(static_cast<uint32_t>(rng()));
  std::sort(s.title.begin(), s.title.end());
  s.core = rng() | 1;  // headline + sapo of ~40 syllables
  s.core_tokens = 40;
  s.lead = rng() | 1;
  return s;
}

NearSketch sketch_of_set(std::vector<uint32_t> set, uint64_t simhash, const std::vector<uint32_t>& title) {
  NearSketch s;
  std::sort(set.begin(), set.end());
  set.erase(std::unique(set.begin(), set.end()), set.end());
  s.simhash = simhash;
  s.tokens = static_cast<uint32_t>(set.size() + 2);
  s.shingles = static_cast<uint32_t>(set.size());
  set.resize(std::min(set.size(), kSketchSize));
  s.bottom = std::move(set);
  s.title = title;
  s.core_tokens = 40;
  return s;
}

struct Stats {
  double mean_us = 0, p50_us = 0, p99_us = 0;
  double cpu_mean_us = 0, cpu_p99_us = 0;  // thread CPU time: robust against a busy, shared machine
};

double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

Stats time_it(size_t n, const std::function<void(size_t)>& f) {
  std::vector<double> us(n), cpu(n);
  for (size_t i = 0; i < n; ++i) {
    double c0 = thread_cpu_us();
    auto t0 = Clock::now();
    f(i);
    us[i] = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    cpu[i] = thread_cpu_us() - c0;
  }
  Stats s;
  for (double x : cpu) s.cpu_mean_us += x;
  s.cpu_mean_us /= static_cast<double>(n);
  std::sort(cpu.begin(), cpu.end());
  s.cpu_p99_us = cpu[std::min(n - 1, n * 99 / 100)];
  for (double x : us) s.mean_us += x;
  s.mean_us /= static_cast<double>(n);
  std::sort(us.begin(), us.end());
  s.p50_us = us[n / 2];
  s.p99_us = us[std::min(n - 1, n * 99 / 100)];
  return s;
}

long peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

uint64_t dir_bytes(const fs::path& p) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto& e : fs::recursive_directory_iterator(p, ec))
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const size_t queries = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 20000;
  const size_t cache_mb = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 512;
  const size_t planted = std::max<size_t>(1, n / 100);  // 1% of the articles are near copies of another
  if (n < 10 || queries < 1) {
    std::fprintf(stderr, "usage: dedup_bench [N>=10] [queries>=1]\n");
    return 2;
  }
  char tmpl[] = "/tmp/baotin_dedup_bench_XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path dir = tmpl;
  auto family = [](size_t mb) {  // as the store's dedup column family; 0 = RocksDB's default cache
    return store_family_options("dedup", mb ? rocksdb::NewLRUCache(mb << 20) : nullptr);
  };
  rocksdb::Options opts(rocksdb::DBOptions(), family(0));
  opts.create_if_missing = true;
  opts.IncreaseParallelism(2);
  // Bulk fill: append-only vector memtables (sorted once at flush instead of a skiplist insert per key), large
  // write buffers, no WAL; the tree is compacted once after the fill, before any lookup is timed.
  opts.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
  opts.allow_concurrent_memtable_write = false;
  opts.write_buffer_size = 256 << 20;
  opts.max_write_buffer_number = 4;
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::Open(opts, dir.string(), &raw);
  if (!st.ok()) {
    std::fprintf(stderr, "open: %s\n", st.ToString().c_str());
    return 1;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  DedupIndex idx(db.get(), nullptr);
  idx.set_bulk_load(true);  // fingerprints are random and unique: no read-before-write during the fill
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;

  std::mt19937_64 rng(20260117);
  std::vector<NearSketch> probe;  // sketches of planted copies (queries expected to hit)
  std::vector<std::string> probe_base, probe_fp;
  std::vector<uint64_t> ids;
  ids.reserve(n);

  auto t0 = Clock::now();
  rocksdb::WriteBatch batch;
  size_t i = 0;
  while (i < n) {
    // Every 100th article is a (base, copy) pair built from explicit shingle sets: copy = 90% of the base's
    // shingles + 10% new ones, SimHash moved by 0..6 bits.
    if (i % 100 == 0 && probe.size() < planted && i + 1 < n) {
      std::vector<uint32_t> set(kShingles);
      for (auto& x : set) x = static_cast<uint32_t>(rng());
      std::vector<uint32_t> title(12);
      for (auto& x : title) x = static_cast<uint32_t>(rng());
      std::sort(title.begin(), title.end());
      uint64_t sh = rng() | 1;
      NearSketch base = sketch_of_set(set, sh, title);
      base.core = rng() | 1;
      base.lead = rng() | 1;
      for (size_t k = 0; k < kShingles / 10; ++k) set[rng() % set.size()] = static_cast<uint32_t>(rng());
      uint64_t sh2 = sh;
      for (int b = static_cast<int>(rng() % 7); b > 0; --b) sh2 ^= 1ULL << (rng() % 64);
      NearSketch copy = sketch_of_set(set, sh2, title);
      // Half the copies keep headline and sapo (found through the core too), half have a new sapo.
      copy.core = probe.size() % 2 ? base.core : (rng() | 1);
      copy.lead = probe.size() % 2 ? base.lead : (rng() | 1);
      uint64_t bid = rng(), cid = rng();
      std::string fp = hex_id(rng()) + hex_id(rng());
      idx.add(batch, hex_id(bid), fp, base);
      idx.add(batch, hex_id(cid), hex_id(rng()) + hex_id(rng()), copy);
      ids.push_back(bid);
      ids.push_back(cid);
      probe.push_back(copy);
      probe_base.push_back(hex_id(bid));
      probe_fp.push_back(fp);
      i += 2;
    } else {
      uint64_t id = rng();
      idx.add(batch, hex_id(id), hex_id(rng()) + hex_id(rng()), random_sketch(rng));
      ids.push_back(id);
      ++i;
    }
    if (batch.Count() >= 20000) {
      st = db->Write(wo, &batch);
      if (!st.ok()) {
        std::fprintf(stderr, "write: %s\n", st.ToString().c_str());
        return 1;
      }
      batch.Clear();
    }
  }
  db->Write(wo, &batch);
  db->Flush(rocksdb::FlushOptions());
  const double fill_s = std::chrono::duration<double>(Clock::now() - t0).count();
  db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr);  // steady, fully compacted LSM tree
  for (;;) {  // let background compaction settle so that lookups see a steady LSM tree
    uint64_t pending = 0, running = 0;
    db->GetIntProperty(rocksdb::DB::Properties::kCompactionPending, &pending);
    db->GetIntProperty(rocksdb::DB::Properties::kNumRunningCompactions, &running);
    if (!pending && !running) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const double settle_s = std::chrono::duration<double>(Clock::now() - t0).count() - fill_s;

  std::printf("articles: %zu (%zu planted near-copy pairs), fill %.1f s (%.0f articles/s), compaction settle %.1f s\n",
              n, probe.size(), fill_s, n / fill_s, settle_s);
  std::printf("db size on disk: %.1f MiB (%.0f bytes/article)\n", dir_bytes(dir) / 1048576.0,
              static_cast<double>(dir_bytes(dir)) / n);

  // Queries: random existing articles (for baseline / exact / SimHash) and planted copies (find_near).
  std::vector<std::string> qid(queries);
  for (auto& q : qid) q = hex_id(ids[rng() % ids.size()]);
  std::vector<NearSketch> qsk(queries);
  for (size_t q = 0; q < queries; ++q) {
    auto s = idx.load_sketch(qid[q]);
    qsk[q] = s ? *s : NearSketch{};
  }
  const size_t checked = std::min(queries, probe.size());

  // One pass of all lookups on `d` (opened with the cache under test).
  auto measure = [&](rocksdb::DB* d, const char* label, bool print) {
    DedupIndex ix(d, nullptr);
    size_t sink = 0;
    std::string value;
    Stats base = time_it(queries, [&](size_t q) { sink += d->Get(rocksdb::ReadOptions(), "k" + qid[q], &value).ok(); });
    Stats exact = time_it(queries, [&](size_t q) { sink += ix.find_exact(probe_fp[q % probe_fp.size()]).has_value(); });
    Stats simh = time_it(queries, [&](size_t q) { sink += ix.near_candidates(qsk[q].simhash, 3).size(); });
    Stats cand = time_it(queries, [&](size_t q) { sink += ix.sketch_candidates(qsk[q]).size(); });
    size_t found = 0;
    Stats nearq = time_it(queries, [&](size_t q) {
      const NearSketch& s = probe[q % probe.size()];
      auto m = ix.find_near(s);
      for (auto& x : m) found += (x.id == probe_base[q % probe.size()]) && q < probe.size();
    });
    Stats nearr = time_it(queries, [&](size_t q) { sink += ix.find_near(qsk[q]).size(); });
    if (!print) return;
    auto row = [&](const char* name, const Stats& s) {
      std::printf("%-44s wall mean %8.2f p50 %8.2f p99 %8.2f us (%.1fx) | cpu mean %7.2f p99 %7.2f us (%.1fx)\n",
                  name, s.mean_us, s.p50_us, s.p99_us, s.mean_us / base.mean_us, s.cpu_mean_us, s.cpu_p99_us,
                  s.cpu_mean_us / base.cpu_mean_us);
    };
    std::printf("\n%s: latency over %zu queries each (after a warm-up pass):\n", label, queries);
    row("baseline: single Get of one key", base);
    row("find_exact (1 Get)", exact);
    row("near_candidates(simhash, 3) (4 scans)", simh);
    row("sketch_candidates, random article (14 scans)", cand);
    row("find_near, planted copy (scans+verify)", nearq);
    row("find_near, random article", nearr);
    std::printf("planted copies found by find_near: %zu/%zu\n", found, checked);
    if (sink == 42) std::printf(" ");
  };

  idx.set_bulk_load(false);
  db.reset();
  for (size_t mb : {size_t{0}, size_t{64}, cache_mb}) {  // 64 MiB: the store's default (block_cache_mb)
    rocksdb::Options ro = opts;
    ro.table_factory = family(mb).table_factory;
    rocksdb::DB* d = nullptr;
    st = rocksdb::DB::Open(ro, dir.string(), &d);
    if (!st.ok()) {
      std::fprintf(stderr, "reopen: %s\n", st.ToString().c_str());
      return 1;
    }
    std::unique_ptr<rocksdb::DB> guard(d);
    std::string label = mb ? "block cache " + std::to_string(mb) + " MiB" : "default block cache";
    measure(d, label.c_str(), false);  // warm-up
    measure(d, label.c_str(), true);
  }
  std::printf("\npeak RSS: %ld MiB\n", peak_rss_mib());

  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
