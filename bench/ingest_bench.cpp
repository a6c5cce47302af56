// End-to-end ingestion benchmark on loopback, on real pages: N feeds (default 5,000) with K items each; every item
// is one of the golden real article pages (tests/fixtures/sites/<template>/*.html.gz, 100-500 KB each, the outlets'
// own markup with their scripts, styles and SVG), made into a distinct article by putting the item number into its
// headline (h1, <title>, og:title) and into its canonical URL. The server is a minimal HTTP/1.1 keep-alive server in a
// child process (its memory and CPU are not the ingesting process's) that sends PRE-COMPRESSED responses
// (gzip, built before the clock starts), so the figures measure baotin, not the test server.
// baotin polls every feed once, fetches, extracts (with the page's own template: each feed names it) and stores every
// article. Prints articles stored per second, the same figure for fetch-only of the same URLs (the baseline, measured
// in the same run, same server, same fetcher settings), their ratio, and the peak RSS of the ingesting process.
// Two ceilings measured in the same run on `workers` threads, with nothing fetched or stored, bound what any
// pipeline could reach: "parse" is parse_html alone (the options extraction uses) on each page's first variant, and
// "extract" is extract_article with the page's template, as the pipeline calls it. Each is printed in pages/s and as
// a ratio to fetch-only: end-to-end / fetch-only can be no higher than extract / fetch-only. CPU time (this process's
// threads and the server child's, from /proc) is counted per page for fetch-only, each ceiling and end-to-end: on
// loopback nothing waits, so an article costs at least its fetch plus its extraction, and `cores / (fetch + extract)`
// bounds any pipeline on this machine; the rest of end-to-end's CPU per article is the store, dedup and the daemon.
//
//   ingest_bench [--feeds 5000] [--items 2] [--workers 2] [--pages DIR]
//
// DIR defaults to the repository's tests/fixtures/sites. Headlines carry a number unique to the item, so copies of the
// same page are not near-duplicates (numbers_conflict); the counts of new / duplicate / unchanged / failed articles
// are printed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "bench/gzip.h"
#include "daemon/metrics.h"
#include "daemon/pipeline.h"
#include "extract/extract.h"
#include "extract/html.h"
#include <spdlog/spdlog.h>

using namespace baotin;
namespace fs = std::filesystem;

namespace {

long peak_rss_kb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// User + system CPU seconds of a running process, all its threads (/proc/PID/stat, read as the daemon's metrics
// read their own), or -1.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::ostringstream text;
  text << in.rdbuf();
  const auto st = parse_proc_stat(text.str(), sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), 0);
  return st ? st->cpu_seconds : -1;
}

struct Page {
  std::string site;       // template name (the directory)
  std::string canonical;  // the page's own URL (golden truth's "url")
  std::string title;      // golden truth's expected "title"
  std::string origin, path;  // the canonical URL split before its path ("https://host", "/a/b.html"; path "" if none)
  std::string html;
};

std::vector<Page> load_pages(const fs::path& dir) {
  std::vector<Page> pages;
  for (const auto& d : fs::directory_iterator(dir)) {
    if (!d.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(d.path())) {
      auto name = f.path().filename().string();
      if (name.size() < 8 || name.compare(name.size() - 8, 8, ".html.gz") != 0) continue;
      fs::path truth = f.path();
      truth.replace_extension();  // .html
      truth.replace_extension(".json");
      std::ifstream gz(f.path(), std::ios::binary), tj(truth);
      if (!gz || !tj) continue;
      std::stringstream ss;
      ss << gz.rdbuf();
      Page p;
      if (!gunzip(ss.str(), p.html)) continue;
      auto j = nlohmann::json::parse(tj, nullptr, false);
      if (j.is_discarded() || !j.contains("url") || !j["url"].is_string()) continue;
      p.site = d.path().filename().string();
      p.canonical = j["url"];
      const size_t scheme = p.canonical.find("://");
      const size_t path = p.canonical.find('/', scheme == std::string::npos ? 0 : scheme + 3);
      p.origin = p.canonical.substr(0, path);
      if (path != std::string::npos) p.path = p.canonical.substr(path);
      if (j.contains("expected") && j["expected"].is_object() && j["expected"].contains("title") &&
          j["expected"]["title"].is_string())
        p.title = j["expected"]["title"];
      pages.push_back(std::move(p));
    }
  }
  std::sort(pages.begin(), pages.end(), [](const Page& a, const Page& b) { return a.canonical < b.canonical; });
  return pages;
}

size_t replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return 0;
  size_t n = 0;
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()), ++n)
    s.replace(at, from.size(), to);
  return n;
}

// A number whose digit counts differ from every other item's in both directions, so that two items' headlines always
// disagree in their numbers (dedup's numbers_conflict needs each title to have a digit the other lacks: "15" and "51"
// agree, and so do "11" and "111"). Digit d (0-4) is repeated by decimal digit d of n, digit 5+d by 9 minus that:
// every mark has 45 digits, and two different marks each have more of some digit. Unique below 100,000.
std::string item_mark(int n) {
  std::string m = "[";
  unsigned v = static_cast<unsigned>(n);
  for (int d = 0; d < 5; ++d, v /= 10) {
    m.append(v % 10, static_cast<char>('0' + d));
    m.append(9 - v % 10, static_cast<char>('5' + d));
  }
  return m + "] ";
}

// Inserts `text` after each occurrence of `open` (and the rest of its start tag when `to_gt`).
void insert_after(std::string& s, const std::string& open, const std::string& text, bool to_gt) {
  for (size_t at = s.find(open); at != std::string::npos; at = s.find(open, at)) {
    at += open.size();
    if (to_gt) {
      at = s.find('>', at);
      if (at == std::string::npos) return;
      ++at;
    }
    s.insert(at, text);
    at += text.size();
  }
}

// Item `n` of the benchmark: its page with headline and canonical URL made unique.
std::string variant(const Page& p, int n) {
  std::string html = p.html;
  if (!p.path.empty()) replace_all(html, p.canonical, p.origin + "/b" + std::to_string(n) + p.path);
  const std::string mark = item_mark(n);
  // The headline as the page spells it, and every h1 (some pages write the headline with character references).
  bool found = replace_all(html, p.title, mark + p.title) > 0;
  insert_after(html, "<h1", mark, true);
  if (!found) {
    insert_after(html, "<title>", mark, false);
    insert_after(html, "property=\"og:title\" content=\"", mark, false);
  }
  return html;
}

// Path of item n on the bench server: /<n>/<the page's own path>, so template URL rules see the outlet's path shape.
std::string item_path(const Page& p, int n) {
  return "/" + std::to_string(n) + (p.path.empty() ? std::string("/") : p.path);
}

std::string response(const std::string& type, const std::string& body, bool gzipped) {
  std::string r = "HTTP/1.1 200 OK\r\nContent-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) +
                  "\r\n";
  if (gzipped) r += "Content-Encoding: gzip\r\n";
  r += "\r\n";
  r += body;
  return r;
}

bool send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

struct Site {
  std::vector<Page> pages;
  std::vector<std::string> articles;  // full pre-built responses, index = item number
  int feeds = 0, items = 0, port = 0;
  // All items of one feed are copies of one page, so the feed can name that page's template.
  const Page& page_of_item(int n) const { return pages[static_cast<size_t>(n / items) % pages.size()]; }
};

std::string feed_xml(const Site& s, int feed) {
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>Feed " +
                  std::to_string(feed) + "</title>";
  for (int i = 0; i < s.items; ++i) {
    int n = feed * s.items + i;
    const Page& p = s.page_of_item(n);
    x += "<item><title>Item " + std::to_string(n) + "</title><link>http://127.0.0.1:" + std::to_string(s.port) +
         item_path(p, n) + "</link><pubDate>Mon, 27 Jan 2025 14:30:00 +0700</pubDate></item>";
  }
  return x + "</channel></rss>";
}

// One keep-alive connection: GET requests only (the fetcher sends nothing else here).
void serve_connection(int fd, const Site& s) {
  std::string buf;
  char tmp[16384];
  for (;;) {
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) {
        close(fd);
        return;
      }
      buf.append(tmp, static_cast<size_t>(n));
    }
    std::string head = buf.substr(0, end);
    buf.erase(0, end + 4);
    auto sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
    std::string path = sp1 == std::string::npos ? "" : head.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string out;
    int feed = 0, item = -1;
    if (path == "/robots.txt") {
      out = response("text/plain", "User-agent: *\nAllow: /\n", false);
    } else if (std::sscanf(path.c_str(), "/feed/%d.xml", &feed) == 1 && feed >= 0 && feed < s.feeds) {
      out = response("application/rss+xml", feed_xml(s, feed), false);
    } else if (std::sscanf(path.c_str(), "/%d/", &item) == 1 && item >= 0 && item < static_cast<int>(s.articles.size())) {
      if (!send_all(fd, s.articles[static_cast<size_t>(item)])) break;
      continue;
    } else {
      out = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    }
    if (!send_all(fd, out)) break;
  }
  close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  int feeds = 5000, items = 2, workers = 2;
  fs::path pages_dir = fs::path(BAOTIN_SOURCE_DIR) / "tests/fixtures/sites";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--feeds") feeds = std::atoi(argv[i + 1]);
    else if (a == "--items") items = std::atoi(argv[i + 1]);
    else if (a == "--workers") workers = std::atoi(argv[i + 1]);
    else if (a == "--pages") pages_dir = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: ingest_bench [--feeds N] [--items K] [--workers W] [--pages DIR]\n");
      return 2;
    }
  }
  if (!getenv("BENCH_LOG")) spdlog::set_level(spdlog::level::warn);  // one info line per article would be most of the work
  Site site;
  site.pages = load_pages(pages_dir);
  if (site.pages.empty()) {
    std::fprintf(stderr, "no <template>/*.html.gz pages with .json truth under %s\n", pages_dir.c_str());
    return 1;
  }
  if (feeds < 1 || items < 1 || workers < 1 || static_cast<long>(feeds) * items > 100000) {
    std::fprintf(stderr, "need feeds, items, workers >= 1 and feeds x items <= 100,000\n");
    return 2;
  }
  site.feeds = feeds;
  site.items = items;
  const int articles = feeds * items;
  size_t page_bytes = 0;
  for (const auto& p : site.pages) page_bytes += p.html.size();

  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof addr;
  if (lfd < 0 || bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(lfd, 512) != 0 ||
      getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) {
    std::perror("listen");
    return 1;
  }
  site.port = ntohs(addr.sin_port);

  // Server in a child process so that its memory and its compression work are not counted.
  int ready[2];
  if (pipe(ready) != 0) return 1;
  pid_t child = fork();
  if (child == 0) {
    close(ready[0]);
    site.articles.resize(static_cast<size_t>(articles));
    size_t compressed = 0;
    std::vector<std::thread> builders;
    std::vector<size_t> sizes(2, 0);
    for (int t = 0; t < 2; ++t)
      builders.emplace_back([&, t] {
        for (int n = t; n < articles; n += 2) {
          const Page& p = site.page_of_item(n);
          std::string body = gzip(variant(p, n), 6);
          sizes[static_cast<size_t>(t)] += body.size();
          site.articles[static_cast<size_t>(n)] = response("text/html; charset=utf-8", body, true);
        }
      });
    for (auto& t : builders) t.join();
    compressed = sizes[0] + sizes[1];
    if (write(ready[1], &compressed, sizeof compressed) != sizeof compressed) _exit(1);
    for (;;) {
      int fd = accept(lfd, nullptr, nullptr);
      if (fd < 0) continue;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::thread(serve_connection, fd, std::cref(site)).detach();
    }
  }
  close(ready[1]);
  close(lfd);
  size_t compressed = 0;
  if (read(ready[0], &compressed, sizeof compressed) != sizeof compressed) return 1;
  const std::string base = "http://127.0.0.1:" + std::to_string(site.port);
  std::printf("pages: %zu real pages of %s (mean %.0f KB), served gzip-compressed (%.0f KB mean per response)\n",
              site.pages.size(), pages_dir.c_str(), page_bytes / 1024.0 / site.pages.size(),
              compressed / 1024.0 / std::max(articles, 1));

  auto dir = fs::temp_directory_path() / ("baotin-ingest-bench-" + std::to_string(getpid()));
  fs::remove_all(dir);
  Config cfg;
  cfg.workers = workers;
  cfg.poll.min_interval_s = 1;
  auto templates = std::make_shared<TemplateRegistry>();
  std::vector<TemplateError> errs;
  for (const auto& d : fs::directory_iterator(fs::path(BAOTIN_SOURCE_DIR) / "sites"))
    if (d.path().extension() == ".toml") templates->add(load_template(d.path().string(), errs));
  FetcherConfig fc;
  fc.per_host_min_delay_s = 0;
  fc.per_host_concurrency = 16;
  fc.max_in_flight = 32;
  fc.allow_private = {"127.0.0.1"};  // the bench server is on loopback (network policy)

  // Baseline: fetch-only of the same article URLs (same server, same responses, same fetcher settings).
  double fetch_rate;
  uint64_t fetched_bytes = 0;
  double fetch_cpu_self = 0, fetch_cpu_server = 0;  // CPU seconds per page: this process, the server child
  {
    Fetcher f(fc);
    std::atomic<int> done{0};
    std::atomic<uint64_t> bytes{0};
    const double c0 = cpu_seconds(getpid()), s0 = cpu_seconds(child);
    double t0 = monotonic_seconds();
    for (int n = 0; n < articles; ++n) {
      FetchRequest r(base + item_path(site.page_of_item(n), n));
      f.submit(std::move(r), [&](FetchResult res) {
        bytes += res.body.size();
        ++done;
      });
    }
    f.shutdown(true);
    fetch_rate = done / (monotonic_seconds() - t0);
    fetched_bytes = bytes;
    fetch_cpu_self = (cpu_seconds(getpid()) - c0) / std::max(done.load(), 1);
    fetch_cpu_server = (cpu_seconds(child) - s0) / std::max(done.load(), 1);
  }
  // Ceilings: the same pages (one variant of each, every page equally often, as the feeds have them) parsed and
  // extracted on `workers` threads, nothing fetched or stored. Fetching is not running meanwhile.
  std::vector<std::string> sample;
  for (size_t i = 0; i < site.pages.size(); ++i) {
    const int n = static_cast<int>(i) * items;  // feed i's first item: page i
    sample.push_back(variant(site.page_of_item(n), n));
  }
  const int rounds = std::max(1, std::min(articles, 2000) / static_cast<int>(sample.size()));
  struct Ceiling {
    double rate;          // pages/s
    double cpu_per_page;  // CPU seconds
  };
  auto ceiling = [&](const std::function<size_t(size_t)>& one) {
    std::atomic<size_t> next{0}, sink{0};
    const size_t total = sample.size() * static_cast<size_t>(rounds);
    const double c0 = cpu_seconds(getpid());
    double t0 = monotonic_seconds();
    std::vector<std::thread> ts;
    for (int w = 0; w < workers; ++w)
      ts.emplace_back([&] {
        for (size_t k; (k = next++) < total;) sink += one(k % sample.size());
      });
    for (auto& t : ts) t.join();
    const double secs = monotonic_seconds() - t0;
    return Ceiling{total / secs, (cpu_seconds(getpid()) - c0) / static_cast<double>(total)};
  };
  HtmlParseOptions hopts;
  hopts.utf8_checked = true;  // as extract_article calls it (decode_to_utf8's output)
  const Ceiling parse = ceiling([&](size_t i) { return parse_html(sample[i], hopts)->elements; });
  const Ceiling extract = ceiling([&](size_t i) {
    ExtractOptions eo;
    eo.templates = templates.get();
    eo.site = site.pages[i].site;
    const int n = static_cast<int>(i) * items;
    return extract_article(sample[i], base + item_path(site.pages[i], n), "text/html; charset=utf-8", eo).body.size();
  });
  sample.clear();
  sample.shrink_to_fit();
  long rss_before = peak_rss_kb();

  std::string err;
  auto store = Store::open({(dir / "db").string(), true}, &err);
  if (!store) {
    std::fprintf(stderr, "store: %s\n", err.c_str());
    return 1;
  }
  Metrics metrics;
  Fetcher fetcher(fc);
  Ingestor ing(cfg, *store, fetcher, metrics, templates);
  std::vector<FeedConfig> list;
  for (int n = 0; n < feeds; ++n)
    list.push_back({base + "/feed/" + std::to_string(n) + ".xml", site.page_of_item(n * items).site});
  const double c0 = cpu_seconds(getpid()), s0 = cpu_seconds(child);
  double t0 = monotonic_seconds();
  for (const auto& f : list) ing.poll_feed(f);
  while (!ing.wait_idle(0.5)) ing.tick();
  double secs = monotonic_seconds() - t0;
  const double e2e_cpu_self = cpu_seconds(getpid()) - c0, e2e_cpu_server = cpu_seconds(child) - s0;
  uint64_t stored = metrics.articles_new + metrics.articles_duplicate + metrics.articles_updated;
  double rate = stored / secs;
  std::printf("feeds %d, items/feed %d, workers %d\n", feeds, items, workers);
  std::printf("end-to-end: %llu articles stored in %.1fs = %.1f articles/s (new %llu, duplicate %llu, updated %llu, "
              "unchanged %llu, partial %llu, failed %llu)\n",
              (unsigned long long)stored, secs, rate, (unsigned long long)metrics.articles_new.load(),
              (unsigned long long)metrics.articles_duplicate.load(), (unsigned long long)metrics.articles_updated.load(),
              (unsigned long long)metrics.articles_unchanged.load(), (unsigned long long)metrics.articles_partial.load(),
              (unsigned long long)metrics.articles_failed.load());
  std::printf("baseline fetch-only: %.1f pages/s (%.0f KB decoded per page); end-to-end / fetch-only = %.2f\n",
              fetch_rate, fetched_bytes / 1024.0 / std::max(articles, 1), rate / fetch_rate);
  std::printf("ceilings on %d thread(s), nothing fetched or stored: parse_html %.1f pages/s = %.2f of fetch-only; "
              "extract_article %.1f pages/s = %.2f of fetch-only; end-to-end / extract = %.2f\n",
              workers, parse.rate, parse.rate / fetch_rate, extract.rate, extract.rate / fetch_rate,
              rate / extract.rate);
  // CPU per page is what bounds a pipeline on loopback, where fetching waits for nothing: each stored article costs
  // at least its fetch (client and server, as fetch-only measured it) plus its extraction, on `cores` cores.
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const double fetch_cpu = fetch_cpu_self + fetch_cpu_server;
  const double n_stored = std::max<double>(static_cast<double>(stored), 1);
  const double per_article = (e2e_cpu_self + e2e_cpu_server) / n_stored;
  const double bound = cores / (fetch_cpu + extract.cpu_per_page);
  std::printf("CPU per page in ms (this process + the server child): fetch-only %.2f (server %.2f); parse_html %.2f; "
              "extract_article %.2f; end-to-end %.2f per stored article (server %.2f), of which %.2f is neither "
              "fetching nor extracting (store, dedup, feeds, threads)\n",
              fetch_cpu * 1e3, fetch_cpu_server * 1e3, parse.cpu_per_page * 1e3, extract.cpu_per_page * 1e3,
              per_article * 1e3, e2e_cpu_server / n_stored * 1e3,
              (per_article - fetch_cpu - extract.cpu_per_page) * 1e3);
  std::printf("bound on %u core(s): fetching + extraction alone allow at most %.1f articles/s = %.2f of fetch-only; "
              "0.80 of fetch-only would need <= %.2f ms CPU per article, fetching alone takes %.2f\n",
              cores, bound, bound / fetch_rate, cores / (0.8 * fetch_rate) * 1e3, fetch_cpu * 1e3);
  std::printf("peak RSS: %.1f MB (%.1f MB before the store and %d feeds were loaded)\n", peak_rss_kb() / 1024.0,
              rss_before / 1024.0, feeds);
  ing.finish();
  fetcher.shutdown(false);
  store->close();
  kill(child, SIGTERM);
  waitpid(child, nullptr, 0);
  fs::remove_all(dir);
  return stored == static_cast<uint64_t>(articles) ? 0 : 1;
}
