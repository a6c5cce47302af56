// Store throughput: put_article / get for N synthetic articles, against raw RocksDB Put/Get of the
// same bytes (article JSON + raw HTML) measured in the same run, plus peak RSS.
//
//   store_bench [N=5000] [--sync] [--dir DIR]
//   store_bench --writers [N=800] [--dir DIR]
//   store_bench --amp [N=4000] [--pages DIR] [--dir DIR]
//
// --sync fsyncs the WAL on every write for both the store and the baseline (the daemon's setting);
// without it both run with sync off, which isolates the store's own overhead (JSON, hashing, dedup,
// URL map, change log, zstd).
//
// --writers: put_article throughput with fsync (the daemon's setting) from 1, 2, 4 and 8 threads, N articles
// per run, with the group commit off (one fsync per write under the write lock, the former behaviour) and on,
// alternating in the same run; WAL fsyncs per acknowledged write are counted by a FileSystem wrapper that sees
// every Sync/Fsync of a WAL file.
//
// --amp: write amplification with raw pages inline in the SSTs (the former layout) and in blob files, same
// articles in the same run (sync off; real pages from --pages, default ../shared/corpus/vn/html, as raw HTML
// cycled over the articles): bytes appended to SST and blob files (flushes and compactions, counted by the
// FileSystem wrapper, after waiting for compactions) divided by the bytes appended to the WAL (the user data).
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
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
#include <atomic>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/options.h"
#include "store/store.h"
#include "bench/words.h"

using namespace baotin;
namespace fs = std::filesystem;

namespace {

using baotin::bench::words;

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

// Counts what RocksDB writes, by file kind: bytes appended to WAL (.log), SST (.sst) and blob (.blob) files, and
// WAL fsyncs (Sync/Fsync of a .log file: each is one fdatasync/fsync system call in the Posix file system).
class CountingFs : public rocksdb::FileSystemWrapper {
 public:
  explicit CountingFs(const std::shared_ptr<rocksdb::FileSystem>& base) : rocksdb::FileSystemWrapper(base) {}
  const char* Name() const override { return "CountingFs"; }
  enum Kind { kWal, kSst, kBlob, kOther, kKinds };
  std::atomic<uint64_t> bytes[kKinds] = {};
  std::atomic<uint64_t> wal_syncs{0};
  void reset() {
    for (auto& b : bytes) b = 0;
    wal_syncs = 0;
  }

  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile>&& f, CountingFs* fs, Kind k)
        : rocksdb::FSWritableFileOwnerWrapper(std::move(f)), fs_(fs), kind_(k) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o, rocksdb::IODebugContext* g) override {
      fs_->bytes[kind_] += d.size();
      return rocksdb::FSWritableFileOwnerWrapper::Append(d, o, g);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o, const rocksdb::DataVerificationInfo& v,
                             rocksdb::IODebugContext* g) override {
      fs_->bytes[kind_] += d.size();
      return rocksdb::FSWritableFileOwnerWrapper::Append(d, o, v, g);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& d, uint64_t off, const rocksdb::IOOptions& o,
                                       rocksdb::IODebugContext* g) override {
      fs_->bytes[kind_] += d.size();
      return rocksdb::FSWritableFileOwnerWrapper::PositionedAppend(d, off, o, g);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* g) override {
      if (kind_ == kWal) ++fs_->wal_syncs;
      return rocksdb::FSWritableFileOwnerWrapper::Sync(o, g);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* g) override {
      if (kind_ == kWal) ++fs_->wal_syncs;
      return rocksdb::FSWritableFileOwnerWrapper::Fsync(o, g);
    }

   private:
    CountingFs* fs_;
    Kind kind_;
  };

  static Kind kind_of(const std::string& f) {
    auto ends = [&](const char* x) {
      const size_t n = std::strlen(x);
      return f.size() >= n && f.compare(f.size() - n, n, x) == 0;
    };
    return ends(".log") ? kWal : ends(".sst") ? kSst : ends(".blob") ? kBlob : kOther;
  }
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r, rocksdb::IODebugContext* g) override {
    auto s = target()->NewWritableFile(f, o, r, g);
    if (s.ok()) r->reset(new File(std::move(*r), this, kind_of(f)));
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r, rocksdb::IODebugContext* g) override {
    auto s = target()->ReopenWritableFile(f, o, r, g);
    if (s.ok()) r->reset(new File(std::move(*r), this, kind_of(f)));
    return s;
  }
};

long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

}  // namespace

// --writers: N articles stored by `threads` threads (each its own slice), fsync on, group commit on or off.
int run_writers(int n, const std::string& base) {
  std::vector<Item> items;
  items.reserve(n);
  for (int i = 0; i < n; ++i) items.push_back(make(1000000 + i));
  auto disk = std::make_shared<CountingFs>(rocksdb::FileSystem::Default());
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(disk);
  std::printf("put_article with fsync, %d articles per run, group commit off (before) and on (after), alternating\n", n);
  std::printf("%-8s %-6s %12s %14s %16s %8s\n", "writers", "group", "acks/s wall", "WAL fsyncs", "fsyncs per ack",
              "ratio");
  int run = 0;
  for (int threads : {1, 2, 4, 8}) {
    double before = 0;
    for (bool group : {false, true}) {
      const std::string dir = base + "/w" + std::to_string(run++);
      StoreOptions o;
      o.path = dir;
      o.sync_writes = true;
      o.group_commit = group;
      o.env = env.get();
      std::string err;
      auto st = Store::open(o, &err);
      if (!st) {
        std::fprintf(stderr, "%s\n", err.c_str());
        return 1;
      }
      disk->reset();
      std::atomic<size_t> acked{0};
      Timer t;
      std::vector<std::thread> ts;
      for (int k = 0; k < threads; ++k)
        ts.emplace_back([&, k] {
          for (int i = k; i < n; i += threads) {
            st->put_article(items[i].a, items[i].raw);
            ++acked;
          }
        });
      for (auto& th : ts) th.join();
      const Span sp = t.stop();
      const uint64_t syncs = disk->wal_syncs.load();
      st.reset();
      fs::remove_all(dir);
      const double rate = acked / sp.wall;
      if (!group) before = rate;
      std::printf("%-8d %-6s %12.0f %14llu %16.3f", threads, group ? "on" : "off", rate,
                  static_cast<unsigned long long>(syncs), static_cast<double>(syncs) / acked);
      if (group) std::printf(" %8.2f", rate / before);
      std::printf("\n");
      std::fflush(stdout);
    }
  }
  return 0;
}

// --amp: write amplification, raw pages inline vs in blob files.
int run_amp(int n, const std::string& pages_dir, const std::string& base) {
  std::vector<std::string> pages;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(pages_dir, ec)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().size() > 1000) pages.push_back(ss.str());
  }
  std::sort(pages.begin(), pages.end());
  // Article i: synthetic record; raw HTML a real page made unique (built when stored: N pages do not fit in memory).
  auto raw_of = [&](int i, const Item& it) {
    return pages.empty() ? it.raw : pages[i % pages.size()] + "<!-- " + std::to_string(i) + " " + words(i, 30) + " -->";
  };
  size_t raw_bytes = 0;
  for (int i = 0; i < n; ++i) raw_bytes += raw_of(i, make(2000000 + i)).size();
  std::printf("write amplification: %d articles, raw HTML %.1f KiB average (%s), sync off\n", n,
              raw_bytes / 1024.0 / n, pages.empty() ? "synthetic" : (std::to_string(pages.size()) + " real pages from " + pages_dir).c_str());
  auto disk = std::make_shared<CountingFs>(rocksdb::FileSystem::Default());
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(disk);
  std::printf("%-14s %10s %10s %10s %12s %12s %10s\n", "raw pages", "WAL MiB", "SST MiB", "blob MiB", "(SST+blob)/WAL",
              "total/WAL", "puts/s");
  int run = 0;
  for (bool blobs : {false, true}) {
    const std::string dir = base + "/a" + std::to_string(run++);
    StoreOptions o;
    o.path = dir;
    o.sync_writes = false;
    o.raw_blob_files = blobs;
    o.env = env.get();
    std::string err;
    auto st = Store::open(o, &err);
    if (!st) {
      std::fprintf(stderr, "%s\n", err.c_str());
      return 1;
    }
    disk->reset();
    Timer t;
    for (int i = 0; i < n; ++i) {
      const Item it = make(2000000 + i);
      st->put_article(it.a, raw_of(i, it));
    }
    const Span sp = t.stop();
    st->close();  // flushes every memtable
    st.reset();
    // Let the compactions the flushes call for run to the end (close() does not start scheduled ones): the same
    // column family options, on the same counting file system.
    {
      rocksdb::DBOptions dbo;
      dbo.env = env.get();
      std::vector<std::string> names;
      rocksdb::DB::ListColumnFamilies(dbo, dir, &names);
      std::vector<rocksdb::ColumnFamilyDescriptor> descs;
      auto cache = rocksdb::NewLRUCache(64u << 20);
      for (const auto& nm : names) {
        descs.emplace_back(nm, store_family_options(nm, cache));
        if (nm == "raw" && blobs) descs.back().options.enable_blob_files = true;
      }
      std::vector<rocksdb::ColumnFamilyHandle*> hs;
      rocksdb::DB* db = nullptr;
      auto s = rocksdb::DB::Open(dbo, dir, descs, &hs, &db);
      if (!s.ok()) {
        std::fprintf(stderr, "reopen: %s\n", s.ToString().c_str());
        return 1;
      }
      for (;;) {
        uint64_t pending = 0, running = 0, v = 0;
        for (auto* h : hs) {
          if (db->GetIntProperty(h, "rocksdb.compaction-pending", &v)) pending += v;
          if (db->GetIntProperty(h, "rocksdb.num-running-compactions", &v)) running += v;
        }
        if (!pending && !running) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      for (auto* h : hs) db->DestroyColumnFamilyHandle(h);
      delete db;
    }
    const double wal = disk->bytes[CountingFs::kWal], sst = disk->bytes[CountingFs::kSst],
                 blob = disk->bytes[CountingFs::kBlob];
    std::printf("%-14s %10.1f %10.1f %10.1f %12.2f %12.2f %10.0f\n", blobs ? "blob files" : "inline (SST)",
                wal / 1048576, sst / 1048576, blob / 1048576, (sst + blob) / wal, (wal + sst + blob) / wal, n / sp.wall);
    std::fflush(stdout);
    fs::remove_all(dir);
  }
  return 0;
}

int main(int argc, char** argv) {
  int n = 0;
  bool sync = false, writers = false, amp = false;
  std::string pages = "../shared/corpus/vn/html";
  std::string base = (fs::temp_directory_path() / ("baotin-store-bench-" + std::to_string(getpid()))).string();
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--sync")) sync = true;
    else if (!std::strcmp(argv[i], "--writers")) writers = true;
    else if (!std::strcmp(argv[i], "--amp")) amp = true;
    else if (!std::strcmp(argv[i], "--pages") && i + 1 < argc) pages = argv[++i];
    else if (!std::strcmp(argv[i], "--dir") && i + 1 < argc) base = argv[++i];
    else if (std::atoi(argv[i]) > 0) n = std::atoi(argv[i]);
    else {
      std::fprintf(stderr, "usage: %s [N] [--sync] [--dir DIR] | --writers [N] | --amp [N] [--pages DIR]\n", argv[0]);
      return 2;
    }
  }
  fs::remove_all(base);
  fs::create_directories(base);
  if (writers || amp) {
    const int rc = writers ? run_writers(n ? n : 800, base) : run_amp(n ? n : 4000, pages, base);
    std::error_code ec;
    fs::remove_all(base, ec);
    return rc;
  }
  if (!n) n = 5000;

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
