// Resident memory of a process that holds the store open like the daemon, as the archive grows (issue 12 item 2):
// the store's options before issue 12 (pre12: index/filter blocks in the table readers, 64 MiB memtables per
// family, every table file open) against today's budget (store/options.h StoreMemory), measured in the same run
// on the same store.
//
//   rss_bench [--stages 10000,100000,1000000] [--dir DIR] [--cache-mb 128] [--pre12-cache-mb 64] [--ops 20000]
//             [--fill-minutes 60] [--max-gb 30] [--put-percent 10] [--fill api|bulk|auto] [--fill-threads N]
//             [--verify] [--keep]
//
// Fill: synthetic articles through the real Store, sync off, in one of two ways (--fill):
//  * api: put_article from two threads (duplicate look-ups, JSON, zstd of the page, URL map, change log, all
//    families as the daemon writes them). ~980 articles/s to 10k on this 2-core machine, but it slows as the
//    store grows (77-85 articles/s measured on an earlier 1M attempt: ~3.5 h).
//  * bulk: Store::bulk_put_new from --fill-threads threads (default: the number of cores, at least 2), chunks of
//    500 articles per WriteBatch: the same records in the same key/value formats as put_article writes for a new
//    article that is no copy (record, version 1, zstd page in the raw family's blob files, URL keys, "new" change
//    event, last_seq, duplicate index entries in bulk-load mode as the index rebuild writes them), without the
//    duplicate look-ups (the synthetic texts are all distinct, so put_article finds no copy among them either:
//    3,000 articles filled both ways gave byte-identical families, change events equal but for time and order).
//    ~650 articles/s on this loaded machine, 1M in ~23 min (~20.5 GB with the pages).
//  * auto (default): api for stages below 200,000 articles, bulk from there on.
// The store written either way is what measure() opens; each child checks that Store::open needs no duplicate
// index rebuild ("rebuild_pending" in its JSON). --verify runs Store::verify() after each fill and prints its
// problems (slow: ~minutes per 100k articles). Each record is ~3 KB of
// Vietnamese-like text (title, lead, 8 paragraphs, tags, images); each raw page is a real page of
// ../shared/corpus/vn/html cut or repeated to 30-100 KB with the article's text inside (so every page differs),
// stored zstd-compressed as the daemon does. After each stage the store is closed and its compactions are left
// to finish (a raw RocksDB open with the store's options, polled until no compaction is pending or running).
//
// Measure: for each stage, one child process per variant (fork + exec of this binary, so each starts from an
// empty heap) opens the store as `serve` does (Store::open, fsync per write, defer_dedup_rebuild) and runs a
// mix: 10% put_article of new articles (--put-percent; with their duplicate look-ups; 1 in 5 of them a copy of a
// stored article under a new URL), 40% id_for_url + get of a random stored article, 15% raw_html of one, 15%
// versions of one, 20% id_for_url of an unknown URL; then an export-like scan: scan_changes over the last
// 200,000 events (all of them below that) reading version_json of each. It reports VmRSS after the open, the
// largest VmRSS sampled every 500 operations, VmHWM at the end, and the store's memory_usage().
//
// Stops filling at --fill-minutes or when the store reaches --max-gb (the whole store, pages included: ~2 GB
// per 100k articles), and says so. The store is deleted at
// exit unless --keep.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/options.h"
#include "store/store.h"
#include "bench/words.h"

using namespace baotin;
namespace fs = std::filesystem;

namespace {

const char* kFamilies[] = {"default", "articles", "versions", "urls", "feeds", "raw", "changes", "dedup", "meta"};

using baotin::bench::words;

std::vector<std::string> g_pages;  // real pages of the corpus

std::string url_of(uint64_t n) { return "https://vnexpress.net/thoi-su/bai-viet-" + std::to_string(n) + ".html"; }

Article make_article(uint64_t n, uint64_t content_seed) {
  Article a;
  a.url = a.canonical_url = url_of(n);
  a.site = "vnexpress";
  a.feed = "https://vnexpress.net/rss/thoi-su.rss";
  a.title = words(content_seed * 7 + 1, 14);
  a.lead = words(content_seed * 7 + 2, 40);
  for (int p = 0; p < 8; ++p) a.body.push_back(words(content_seed * 97 + p, 45));
  a.authors = {"Nguyễn Văn An"};
  a.published = "2026-03-07T08:00:00+07:00";
  a.fetched_at = "2026-03-07T08:05:00+07:00";
  a.category = "Thời sự";
  a.tags = {words(content_seed + 11, 2), words(content_seed + 12, 3)};
  a.images = {{"https://i1-vnexpress.vnecdn.net/2026/03/07/anh-" + std::to_string(n) + ".jpg", words(content_seed + 13, 12)}};
  a.template_name = "vnexpress@3";
  a.extractor = "template";
  a.fields = {"title", "lead", "body", "authors", "published", "category", "tags", "images"};
  return a;
}

// A real page cut or repeated to 30-100 KB, with the article's own text in the middle.
std::string make_page(uint64_t n, const Article& a) {
  const std::string& p = g_pages[n % g_pages.size()];
  const size_t target = 30 * 1024 + (n * 2654435761u) % (70 * 1024);
  std::string out;
  out.reserve(target + 4096);
  size_t half = target / 2;
  while (out.size() < half) out.append(p, 0, std::min(p.size(), half - out.size()));
  out += "<h1 class=\"title-detail\">" + a.title + "</h1><p class=\"description\">" + a.lead + "</p>";
  for (const auto& b : a.body) out += "<p class=\"Normal\">" + b + "</p>\n";
  size_t off = p.size() / 3;
  while (out.size() < target) {
    out.append(p, off, std::min(p.size() - off, target - out.size()));
    off = 0;
  }
  return out;
}

uint64_t dir_bytes(const std::string& d) {
  uint64_t t = 0;
  std::error_code ec;
  for (auto& e : fs::recursive_directory_iterator(d, ec))
    if (e.is_regular_file(ec)) t += e.file_size(ec);
  return t;
}

long status_kib(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(key);
  while (std::getline(f, line))
    if (line.compare(0, n, key) == 0) return std::atol(line.c_str() + n + 1);
  return -1;
}

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Lets the store's pending compactions finish (a raw open with the store's options).
void settle(const std::string& dir) {
  auto mem = StoreMemory::make(128);
  rocksdb::DBOptions dbo;
  dbo.max_background_jobs = 2;
  apply_store_memory(dbo, *mem);
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const char* f : kFamilies) descs.emplace_back(f, store_family_options(f, *mem));
  std::vector<rocksdb::ColumnFamilyHandle*> hs;
  rocksdb::DB* db = nullptr;
  auto s = rocksdb::DB::Open(dbo, dir, descs, &hs, &db);
  if (!s.ok()) {
    std::fprintf(stderr, "settle: %s\n", s.ToString().c_str());
    return;
  }
  for (;;) {
    uint64_t pending = 0, running = 0;
    db->GetIntProperty("rocksdb.num-running-compactions", &running);
    for (auto* h : hs) {
      uint64_t p = 0;
      db->GetIntProperty(h, "rocksdb.compaction-pending", &p);
      pending += p;
    }
    if (!pending && !running) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  for (auto* h : hs) db->DestroyColumnFamilyHandle(h);
  delete db;
}

// ---- child: open like the daemon, run the mix, report -------------------------------------------------------

int g_put_percent = 10;  // --put-percent: share of put_article in the mix (the rest split as documented)

int measure(const std::string& dir, const std::string& variant, uint64_t stored, size_t cache_mb, int ops,
            uint64_t new_base) {
  StoreOptions so;
  so.path = dir;
  so.sync_writes = true;
  so.block_cache_mb = cache_mb;
  so.defer_dedup_rebuild = true;
  so.pre12_memory_options = variant == "pre12";
  const long rss0 = status_kib("VmRSS:");
  std::string err;
  const double t0 = now_s();
  auto st = Store::open(so, &err);
  if (!st) {
    std::fprintf(stderr, "open: %s\n", err.c_str());
    return 1;
  }
  const double open_s = now_s() - t0;
  const long rss_open = status_kib("VmRSS:");
  const bool rebuild_pending = st->dedup_rebuild_progress().pending;
  std::mt19937_64 rng(42);
  long rss_max = rss_open;
  uint64_t puts = 0, dups = 0, hits = 0, raw_bytes = 0;
  const double t1 = now_s();
  for (int k = 0; k < ops; ++k) {
    int r = static_cast<int>(rng() % 100);
    const uint64_t i = rng() % stored;
    // Puts take the first put_percent points; the reads keep their proportions in the rest.
    const bool put = r < g_put_percent;
    if (!put) r = 10 + (r - g_put_percent) * 90 / (100 - g_put_percent);
    if (put) {
      const uint64_t n = new_base + puts;
      const bool copy = r * 5 < g_put_percent;  // 1 in 5: a copy of stored article i under a new URL
      Article a = make_article(n, copy ? i : n);
      auto res = st->put_article(a, make_page(n, a));
      ++puts;
      if (res.kind == PutKind::Duplicate) ++dups;
    } else if (r < 50) {
      if (auto id = st->id_for_url(url_of(i)))
        if (st->get(*id)) ++hits;
    } else if (r < 65) {
      if (auto id = st->id_for_url(url_of(i)))
        if (auto h = st->raw_html(*id, 1)) raw_bytes += h->size();
    } else if (r < 80) {
      if (auto id = st->id_for_url(url_of(i))) hits += st->versions(*id).size();
    } else {
      (void)st->id_for_url(url_of(stored + 10'000'000 + i));
    }
    if (k % 500 == 0) rss_max = std::max(rss_max, status_kib("VmRSS:"));
  }
  const double mix_s = now_s() - t1;
  const auto during = st->memory_usage();
  const uint64_t last = st->last_seq();
  const uint64_t from = last > 200000 ? last - 200000 : 0;
  uint64_t scanned = 0, scan_bytes = 0;
  const double t2 = now_s();
  st->scan_changes(from, [&](const ChangeEvent& e) {
    if (auto js = st->version_json(e.id, e.version)) scan_bytes += js->size();
    if (++scanned % 5000 == 0) rss_max = std::max(rss_max, status_kib("VmRSS:"));
    return true;
  });
  const double scan_s = now_s() - t2;
  rss_max = std::max(rss_max, status_kib("VmRSS:"));
  const auto u = st->memory_usage();
  nlohmann::json j = {{"variant", variant},
                      {"stored", stored},
                      {"rss_start_kib", rss0},
                      {"rss_open_kib", rss_open},
                      {"rss_max_kib", rss_max},
                      {"hwm_kib", status_kib("VmHWM:")},
                      {"open_s", open_s},
                      {"rebuild_pending", rebuild_pending},
                      {"mix_s", mix_s},
                      {"scan_s", scan_s},
                      {"puts", puts},
                      {"duplicates", dups},
                      {"hits", hits},
                      {"scanned", scanned},
                      {"cache_capacity", u.cache_capacity},
                      {"cache_usage", u.cache_usage},
                      {"cache_usage_after_mix", during.cache_usage},
                      {"cache_pinned", u.cache_pinned},
                      {"memtables", std::max(u.memtables, during.memtables)},
                      {"table_readers", u.table_readers},
                      {"wbm", during.write_buffer_manager}};
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
  st->close();
  return 0;
}

nlohmann::json run_child(const char* self, const std::string& dir, const std::string& variant, uint64_t stored,
                         size_t cache_mb, int ops, uint64_t new_base) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return nullptr;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], 1);
    close(pipefd[0]);
    close(pipefd[1]);
    std::string n = std::to_string(stored), c = std::to_string(cache_mb), o = std::to_string(ops),
                b = std::to_string(new_base);
    const std::string pp = std::to_string(g_put_percent);
    execl(self, self, "--measure", variant.c_str(), "--dir", dir.c_str(), "--stored", n.c_str(), "--cache-mb",
          c.c_str(), "--ops", o.c_str(), "--new-base", b.c_str(), "--put-percent", pp.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(pipefd[1]);
  std::string out;
  char buf[4096];
  ssize_t k;
  while ((k = read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(k));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "child %s failed (status %d)\n", variant.c_str(), status);
    return nullptr;
  }
  try {
    return nlohmann::json::parse(out);
  } catch (...) {
    return nullptr;
  }
}

bool load_pages() {
  for (const char* d : {"../shared/corpus/vn/html", "/work/shared/corpus/vn/html"}) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) continue;
    for (auto& e : fs::directory_iterator(d)) {
      std::ifstream f(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << f.rdbuf();
      if (ss.str().size() > 4096) g_pages.push_back(ss.str());
    }
    std::sort(g_pages.begin(), g_pages.end());
    break;
  }
  return !g_pages.empty();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<uint64_t> stages = {10000, 100000, 1000000};
  std::string dir = (fs::temp_directory_path() / ("baotin-rss-bench-" + std::to_string(getpid()))).string();
  size_t cache_mb = 128, pre12_cache_mb = 64;
  int ops = 20000;
  double fill_minutes = 60, max_gb = 30;
  bool keep = false, verify = false;
  std::string fill_mode = "auto";
  unsigned fill_threads = std::max(2u, std::thread::hardware_concurrency());
  std::string measure_variant;
  uint64_t stored = 0, new_base = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--stages") {
      stages.clear();
      std::stringstream ss(next());
      std::string t;
      while (std::getline(ss, t, ',')) stages.push_back(std::stoull(t));
    } else if (a == "--dir") dir = next();
    else if (a == "--cache-mb") cache_mb = std::stoul(next());
    else if (a == "--pre12-cache-mb") pre12_cache_mb = std::stoul(next());
    else if (a == "--ops") ops = std::stoi(next());
    else if (a == "--fill-minutes") fill_minutes = std::stod(next());
    else if (a == "--max-gb") max_gb = std::stod(next());
    else if (a == "--keep") keep = true;
    else if (a == "--verify") verify = true;
    else if (a == "--fill") fill_mode = next();
    else if (a == "--fill-threads") fill_threads = std::max(1, std::stoi(next()));
    else if (a == "--put-percent") g_put_percent = std::clamp(std::stoi(next()), 1, 99);
    else if (a == "--measure") measure_variant = next();
    else if (a == "--stored") stored = std::stoull(next());
    else if (a == "--new-base") new_base = std::stoull(next());
    else {
      std::fprintf(stderr, "usage: %s [--stages N,N,..] [--dir DIR] [--cache-mb MB] [--pre12-cache-mb MB] [--ops N] "
                           "[--fill-minutes M] [--max-gb G] [--put-percent P] [--fill api|bulk|auto] "
                           "[--fill-threads N] [--verify] [--keep]\n", argv[0]);
      return 2;
    }
  }
  if (fill_mode != "api" && fill_mode != "bulk" && fill_mode != "auto") {
    std::fprintf(stderr, "--fill: api, bulk or auto\n");
    return 2;
  }
  if (!load_pages()) {
    std::fprintf(stderr, "no pages in ../shared/corpus/vn/html\n");
    return 2;
  }
  if (!measure_variant.empty()) return measure(dir, measure_variant, stored, cache_mb, ops, new_base);

  std::error_code ec;
  const bool existed = fs::exists(fs::path(dir) / "CURRENT", ec);
  fs::create_directories(dir, ec);
  std::printf("rss_bench: store %s%s; %zu real pages; store budget %zu MiB (pre12: %zu MiB block cache); %d ops per child\n",
              dir.c_str(), existed ? " (existing, continued)" : "", g_pages.size(), cache_mb, pre12_cache_mb, ops);
  const double deadline = now_s() + fill_minutes * 60;
  uint64_t filled = 0;
  {
    StoreOptions so;
    so.path = dir;
    std::string err;
    auto st = Store::open(so, &err);
    if (!st) {
      std::fprintf(stderr, "%s\n", err.c_str());
      return 1;
    }
    filled = st->last_seq();  // a continued store: one change per stored article
  }
  uint64_t fill_n = filled;  // next fill index (the children's articles are numbered from 100,000,000)
  uint64_t child_base = 100'000'000;
  nlohmann::json results = nlohmann::json::array();
  bool stopped = false;
  for (uint64_t stage : stages) {
    if (fill_n < stage && !stopped) {
      const bool bulk = fill_mode == "bulk" || (fill_mode == "auto" && stage >= 200000);
      StoreOptions so;
      so.path = dir;
      so.sync_writes = false;
      if (bulk) so.block_cache_mb = 512;  // larger memtables for the bulk fill (128 MiB), fewer L0 files
      std::string err;
      auto st = Store::open(so, &err);
      if (!st) {
        std::fprintf(stderr, "%s\n", err.c_str());
        return 1;
      }
      const double t0 = now_s();
      const uint64_t from = fill_n, seq0 = st->last_seq();
      std::atomic<uint64_t> next{fill_n};
      std::atomic<bool> stop{false};
      std::printf("  fill %llu -> %llu articles: %s\n", (unsigned long long)fill_n, (unsigned long long)stage,
                  bulk ? "bulk (Store::bulk_put_new)" : "api (put_article)");
      std::fflush(stdout);
      std::atomic<uint64_t> done{0};
      std::mutex print_mu;
      auto bulk_worker = [&] {
        constexpr uint64_t kChunk = 500;
        while (!stop) {
          const uint64_t b = next.fetch_add(kChunk);
          if (b >= stage) break;
          const uint64_t e = std::min<uint64_t>(stage, b + kChunk);
          std::vector<std::pair<Article, std::string>> items;
          items.reserve(e - b);
          for (uint64_t n = b; n < e; ++n) {
            Article a = make_article(n, n);
            std::string page = make_page(n, a);
            items.emplace_back(std::move(a), std::move(page));
          }
          st->bulk_put_new(std::move(items));
          const uint64_t before = done.fetch_add(e - b), after = before + (e - b);
          if (before / 50000 != after / 50000) {
            std::lock_guard pl(print_mu);
            const double gb = dir_bytes(dir) / 1e9;
            std::printf("  fill %llu articles, %.1f GB, %.0f articles/s\n", (unsigned long long)(from + after), gb,
                        after / (now_s() - t0));
            std::fflush(stdout);
            if (gb > max_gb || now_s() > deadline) stop = true;
          }
        }
      };
      auto worker = [&] {
        for (;;) {
          const uint64_t n = next.fetch_add(1);
          if (n >= stage || stop) break;
          Article a = make_article(n, n);
          st->put_article(a, make_page(n, a));
          if (n % 10000 == 0 && n > from) {
            const double gb = dir_bytes(dir) / 1e9;
            std::printf("  fill %llu articles, %.1f GB, %.0f articles/s\n", (unsigned long long)n, gb,
                        (n - from) / (now_s() - t0));
            std::fflush(stdout);
            if (gb > max_gb || now_s() > deadline) stop = true;
          }
        }
      };
      if (bulk) {
        std::vector<std::thread> ts;
        for (unsigned k = 0; k < fill_threads; ++k) ts.emplace_back(bulk_worker);
        for (auto& t : ts) t.join();
      } else {
        std::thread t1(worker), t2(worker);
        t1.join();
        t2.join();
      }
      fill_n = std::min<uint64_t>(next.load(), stage);
      filled = st->last_seq();
      st->close();
      std::printf("  filled to %llu articles in %.0f s (%.0f articles/s)\n", (unsigned long long)filled, now_s() - t0,
                  (filled - seq0) / (now_s() - t0));
      if (fill_n < stage) {
        std::printf("  STOPPED at %llu of %llu articles (%s)\n", (unsigned long long)fill_n, (unsigned long long)stage,
                    now_s() > deadline ? "--fill-minutes reached" : "--max-gb reached");
        stopped = true;
      }
      const double ts = now_s();
      settle(dir);
      std::printf("  compactions settled in %.0f s; store %.2f GB\n", now_s() - ts, dir_bytes(dir) / 1e9);
      std::fflush(stdout);
      if (verify) {
        const double tv = now_s();
        StoreOptions vo;
        vo.path = dir;
        std::string verr;
        auto vs = Store::open(vo, &verr);
        if (!vs) {
          std::printf("  verify: open failed: %s\n", verr.c_str());
        } else {
          const auto problems = vs->verify();
          std::printf("  verify: %zu problems in %.0f s (dedup rebuild pending after open: %s)\n", problems.size(),
                      now_s() - tv, vs->dedup_rebuild_progress().pending ? "YES" : "no");
          for (const auto& p : problems) std::printf("    %s\n", p.c_str());
        }
        std::fflush(stdout);
      }
    }
    if (fill_n < stage && results.size() && results.back()["fill_index"] == fill_n) break;
    for (const char* variant : {"pre12", "budget"}) {
      auto r = run_child(argv[0], dir, variant, fill_n, std::string(variant) == "pre12" ? pre12_cache_mb : cache_mb,
                         ops, child_base);
      child_base += static_cast<uint64_t>(ops);
      if (r.is_null()) continue;
      r["store_gb"] = dir_bytes(dir) / 1e9;
      r["fill_index"] = fill_n;
      r["articles"] = filled;
      std::printf("  %-6s %8llu articles: RSS open %6.1f MB, max %6.1f MB, peak (VmHWM) %6.1f MB; cache %5.1f/%5.1f MB "
                  "(pinned %.1f), memtables %.1f MB, table readers %.1f MB; open %.1f s, mix %.1f s, scan %llu in %.1f s\n",
                  variant, (unsigned long long)filled, r["rss_open_kib"].get<long>() / 1024.0,
                  r["rss_max_kib"].get<long>() / 1024.0, r["hwm_kib"].get<long>() / 1024.0,
                  r["cache_usage"].get<double>() / 1048576, r["cache_capacity"].get<double>() / 1048576,
                  r["cache_pinned"].get<double>() / 1048576, r["memtables"].get<double>() / 1048576,
                  r["table_readers"].get<double>() / 1048576, r["open_s"].get<double>(), r["mix_s"].get<double>(),
                  (unsigned long long)r["scanned"].get<uint64_t>(), r["scan_s"].get<double>());
      if (r.value("rebuild_pending", false))
        std::printf("  WARNING: %s child's Store::open found the duplicate index incomplete (rebuild pending)\n",
                    variant);
      std::fflush(stdout);
      results.push_back(r);
    }
    // The children's puts are in the store now; count them as stored.
    StoreOptions so;
    so.path = dir;
    std::string err;
    if (auto st = Store::open(so, &err)) filled = st->last_seq();
  }
  std::printf("%s\n", results.dump().c_str());
  if (!keep) fs::remove_all(dir, ec);
  return 0;
}
