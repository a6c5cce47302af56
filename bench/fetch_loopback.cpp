// Fetcher throughput on loopback against a baseline of plain sequential curl_easy (one reused handle),
// both measured in the same run on the same servers and URLs.
//
//   fetch_loopback [pages=2000] [hosts=4] [latency_ms=5] [page_kib=20] [per_host=4]
//
// Each "host" is its own httplib server on 127.0.0.1 (distinct port = distinct politeness key). The
// server sleeps latency_ms per request to imitate network/server time. Prints requests/s, the ratio
// Fetcher / baseline, and peak RSS (getrusage) after each phase.
#include <curl/curl.h>
#include <httplib.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fetch/fetcher.h"

using Clock = std::chrono::steady_clock;

namespace {

long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;  // KiB on Linux
}

struct Server {
  httplib::Server svr;
  std::thread th;
  int port = 0;
};

size_t sink(char*, size_t size, size_t n, void* userp) {
  *static_cast<size_t*>(userp) += size * n;
  return size * n;
}

int arg(int argc, char** argv, int i, int dflt) {
  if (argc <= i) return dflt;
  char* end = nullptr;
  long v = std::strtol(argv[i], &end, 10);
  if (!end || *end || v < 0 || v > 10'000'000) {
    std::fprintf(stderr, "bad argument '%s'\n", argv[i]);
    std::exit(2);
  }
  return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) {
  const int pages = std::max(1, arg(argc, argv, 1, 2000));
  const int hosts = std::max(1, arg(argc, argv, 2, 4));
  const int latency_ms = arg(argc, argv, 3, 5);
  const int page_kib = std::max(1, arg(argc, argv, 4, 20));
  const int per_host = std::max(1, arg(argc, argv, 5, 4));

  std::string page;
  while (page.size() < static_cast<size_t>(page_kib) * 1024)
    page += "<p>Tin tức thời sự, kinh tế, thể thao Việt Nam hôm nay — bản tin số " + std::to_string(page.size()) + ".</p>\n";

  // Served pre-gzipped (as news sites do) with a type httplib does not re-compress itself, so the server's
  // own compression cost (brotli q11 per request) does not dominate what we measure.
  std::string gz;
  {
    httplib::detail::gzip_compressor c;
    c.compress(page.data(), page.size(), true, [&](const char* d, size_t n) {
      gz.append(d, n);
      return true;
    });
  }
  std::vector<std::unique_ptr<Server>> servers;
  for (int h = 0; h < hosts; ++h) {
    auto s = std::make_unique<Server>();
    s->svr.new_task_queue = [] { return new httplib::ThreadPool(16); };
    s->svr.Get(R"(/p/(\d+))", [&gz, latency_ms](const httplib::Request&, httplib::Response& res) {
      if (latency_ms) std::this_thread::sleep_for(std::chrono::milliseconds(latency_ms));
      res.set_header("Content-Encoding", "gzip");
      res.set_content(gz, "application/rss+xml");
    });
    s->port = s->svr.bind_to_any_port("127.0.0.1");
    if (s->port <= 0) {
      std::fprintf(stderr, "cannot bind 127.0.0.1\n");
      return 1;
    }
    Server* raw = s.get();
    s->th = std::thread([raw] { raw->svr.listen_after_bind(); });
    while (!s->svr.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    servers.push_back(std::move(s));
  }
  std::vector<std::string> urls;
  for (int i = 0; i < pages; ++i)
    urls.push_back("http://127.0.0.1:" + std::to_string(servers[i % hosts]->port) + "/p/" + std::to_string(i));

  std::printf("fetch_loopback: %d pages x %d KiB over %d hosts, server latency %d ms, %d per host\n", pages, page_kib,
              hosts, latency_ms, per_host);
  long rss0 = peak_rss_kib();

  // ---- baseline: sequential curl_easy, one handle reused (keep-alive), same Accept-Encoding ----
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int base_ok = 0;
  size_t base_bytes = 0;
  auto t0 = Clock::now();
  {
    CURL* h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &base_bytes);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    for (const auto& u : urls) {
      curl_easy_setopt(h, CURLOPT_URL, u.c_str());
      long code = 0;
      if (curl_easy_perform(h) == CURLE_OK && curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK &&
          code == 200)
        ++base_ok;
    }
    curl_easy_cleanup(h);
  }
  double base_s = std::chrono::duration<double>(Clock::now() - t0).count();
  long rss1 = peak_rss_kib();

  // ---- Fetcher ----
  baotin::FetcherConfig cfg;
  cfg.respect_robots = false;
  cfg.per_host_min_delay_s = 0;
  cfg.per_host_concurrency = per_host;
  cfg.max_in_flight = 64;
  cfg.allow_private = {"127.0.0.1"};  // the bench servers are on loopback (network policy)
  std::atomic<int> ok{0}, done{0};
  std::atomic<size_t> bytes{0};
  auto t1 = Clock::now();
  {
    baotin::Fetcher f(cfg);
    for (const auto& u : urls)
      f.submit({u}, [&](baotin::FetchResult r) {
        if (r.ok()) ++ok;
        bytes += r.body.size();
        ++done;
      });
    f.shutdown(true);
  }
  double fet_s = std::chrono::duration<double>(Clock::now() - t1).count();
  long rss2 = peak_rss_kib();

  double base_rps = base_ok / base_s, fet_rps = ok / fet_s;
  std::printf("baseline sequential curl_easy : %5d/%d ok in %7.3f s = %8.1f req/s (%zu body bytes)\n", base_ok, pages,
              base_s, base_rps, base_bytes);
  std::printf("Fetcher (curl multi)          : %5d/%d ok in %7.3f s = %8.1f req/s (%zu body bytes)\n", ok.load(), pages,
              fet_s, fet_rps, bytes.load());
  std::printf("ratio Fetcher/baseline        : %.2fx\n", base_rps > 0 ? fet_rps / base_rps : 0.0);
  std::printf("peak RSS (KiB)                : start %ld, after baseline %ld, after Fetcher %ld (+%ld)\n", rss0, rss1,
              rss2, rss2 - rss1);

  for (auto& s : servers) {
    s->svr.stop();
    s->th.join();
  }
  curl_global_cleanup();
  return (ok.load() == pages && base_ok == pages) ? 0 : 1;
}
