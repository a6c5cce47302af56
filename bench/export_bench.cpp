// Export throughput against a raw RocksDB scan of the same data, measured in the same run.
//
//   export_bench [N=30000] [--dir DIR] [--rounds R=7]
//
// Builds a store of N synthetic articles (~3 KB of JSON each; kept in DIR when given, and reused when DIR already
// holds a store), opens it as `baotin export` does (a RocksDB secondary instance), then alternates, R times:
//   raw scan   an iterator over the `articles` column family (Store::scan_family, the same iterator export uses)
//              that only reads every byte of every value (a checksum);
//   export     export_records(): JSONL of every article (latest version, with "seq") written to /dev/null;
//   csv        the same as CSV;
//   lookups    the former export: the change log, then one point read (Get) per record.
// Prints records/s of each and the ratios export/raw, csv/raw and lookups/raw (best round of each), and the median
// of the per-round export/raw ratios (raw scan and export run back to back in each round, in alternating order).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "store/export.h"
#include "store/store.h"
#include "bench/words.h"

using namespace baotin;
namespace fs = std::filesystem;

namespace {

using baotin::bench::words;

Article make(int i) {
  static const char* sites[] = {"vnexpress", "tuoitre", "thanhnien", "dantri", "vietnamnet"};
  Article a;
  a.site = sites[i % 5];
  a.url = a.canonical_url = "https://" + a.site + ".vn/tin-" + std::to_string(i) + ".html";
  a.title = words(static_cast<uint64_t>(i) * 11 + 1, 14);
  a.lead = words(static_cast<uint64_t>(i) * 11 + 2, 40);
  for (int p = 0; p < 5; ++p) a.body.push_back(words(static_cast<uint64_t>(i) * 11 + 3 + static_cast<uint64_t>(p), 80));
  a.authors = {"Minh Anh"};
  a.tags = {"thời sự", "xã hội"};
  a.category = "Thời sự";
  a.language = "vi";
  a.images = {{"https://img.vn/" + std::to_string(i) + ".jpg", words(static_cast<uint64_t>(i) * 11 + 9, 12)}};
  a.published = "2026-03-07T08:00:00+07:00";
  a.fetched_at = "2026-03-07T08:05:00+07:00";
  return a;
}

double seconds(const std::function<void()>& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int n = 30000, rounds = 7;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
    else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else n = std::atoi(argv[i]);
  }
  const bool temp = dir.empty();
  if (temp) dir = (fs::temp_directory_path() / ("baotin-export-bench-" + std::to_string(::getpid()))).string();
  const std::string db = dir + "/db";
  if (!fs::exists(db + "/CURRENT")) {
    std::string err;
    auto st = Store::open({db, /*sync_writes=*/false}, &err);
    if (!st) {
      std::fprintf(stderr, "cannot open %s: %s\n", db.c_str(), err.c_str());
      return 1;
    }
    const double t = seconds([&] {
      for (int i = 0; i < n; ++i) st->put_article(make(i), "");
    });
    std::printf("built %d articles in %.1f s\n", n, t);
  }
  std::string err;
  auto st = Store::open_secondary(db, dir + "/secondary", &err);
  if (!st) {
    std::fprintf(stderr, "cannot open %s as a secondary: %s\n", db.c_str(), err.c_str());
    return 1;
  }
  const int devnull = ::open("/dev/null", O_WRONLY);
  double best_raw = 1e9, best_exp = 1e9, best_csv = 1e9, best_look = 1e9;
  std::vector<double> ratios;  // export / raw scan, per round
  uint64_t records = 0, bytes = 0;
  for (int r = 0; r < rounds; ++r) {
    uint64_t sum = 0, count = 0, vbytes = 0;
    auto raw_scan = [&] {
      st->scan_family(Store::Family::Articles, "", "", [&](std::string_view, std::string_view v) {
        uint64_t s = 0;
        for (unsigned char c : v) s += c;
        sum += s;
        vbytes += v.size();
        ++count;
        return true;
      });
    };
    FdOutBuf sink(devnull);
    std::ostream out(&sink);
    // Raw scan and export back to back, in alternating order (the machine is shared: a pair sees the same load).
    double raw = 0, exp = 0;
    if (r % 2 == 0) {
      raw = seconds(raw_scan);
      exp = seconds([&] { export_records(*st, {}, out); });
    } else {
      exp = seconds([&] { export_records(*st, {}, out); });
      sum = count = vbytes = 0;
      raw = seconds(raw_scan);
    }
    ratios.push_back(raw / exp);
    records = count;
    bytes = vbytes;
    ExportOptions none;
    none.site = "no-such-site";  // the change-log pass alone: nothing is selected, no record is read
    const double logpass = seconds([&] { export_records(*st, none, out); });
    ExportOptions csv;
    csv.format = "csv";
    const double csvt = seconds([&] { export_records(*st, csv, out); });
    uint64_t looked = 0;
    const double look = seconds([&] {
      st->scan_changes(0, [&](const ChangeEvent& e) {
        auto js = st->version_json(e.id, e.version);
        if (js) {
          out.write(js->data(), static_cast<std::streamsize>(js->size()));
          ++looked;
        }
        return true;
      });
    });
    std::printf("round %d: raw scan %.3f s (checksum %llu), export %.3f s (change-log pass %.3f s), csv %.3f s, lookups %.3f s (%llu)\n",
                r + 1, raw, (unsigned long long)(sum & 0xffff), exp, logpass, csvt, look, (unsigned long long)looked);
    best_raw = std::min(best_raw, raw);
    best_exp = std::min(best_exp, exp);
    best_csv = std::min(best_csv, csvt);
    best_look = std::min(best_look, look);
  }
  ::close(devnull);
  auto rate = [&](double s) { return static_cast<double>(records) / s; };
  std::printf("%llu records, %.1f MB of values\n", (unsigned long long)records, static_cast<double>(bytes) / 1e6);
  std::printf("raw scan  %9.0f records/s\n", rate(best_raw));
  std::sort(ratios.begin(), ratios.end());
  std::printf("export    %9.0f records/s  = %.2fx raw scan (JSONL; best rounds), per-round ratio median %.2f (min %.2f, max %.2f)\n",
              rate(best_exp), best_raw / best_exp, ratios[ratios.size() / 2], ratios.front(), ratios.back());
  std::printf("csv       %9.0f records/s  = %.2fx raw scan\n", rate(best_csv), best_raw / best_csv);
  std::printf("lookups   %9.0f records/s  = %.2fx raw scan (one Get per record, the former export)\n", rate(best_look),
              best_raw / best_look);
  st.reset();
  if (temp) fs::remove_all(dir);
  return 0;
}
