// End-to-end ingestion benchmark on loopback: N feeds (default 5,000) with K items each, served by a
// cpp-httplib server in a child process; baotin polls every feed once, fetches, extracts and stores
// every article. Prints articles stored per second, the same figure for fetch-only (the baseline,
// measured in the same run), their ratio, and the peak RSS of the ingesting process.
//
//   ingest_bench [--feeds 5000] [--items 2] [--workers 2]
#include <httplib.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "daemon/pipeline.h"
#include "tests/e2e_server.h"

using namespace baotin;

static long peak_rss_kb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

int main(int argc, char** argv) {
  int feeds = 5000, items = 2, workers = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--feeds") feeds = std::atoi(argv[i + 1]);
    else if (a == "--items") items = std::atoi(argv[i + 1]);
    else if (a == "--workers") workers = std::atoi(argv[i + 1]);
  }
  // Server in a child process so that its memory is not counted.
  int pipefd[2];
  if (pipe(pipefd) != 0) return 1;
  pid_t child = fork();
  if (child == 0) {
    close(pipefd[0]);
    auto stories = baotin::testing::default_stories();
    httplib::Server svr;
    int port = 0;
    svr.Get(R"(/feed/(\d+)\.xml)", [&](const httplib::Request& req, httplib::Response& res) {
      std::string n = req.matches[1];
      std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>Feed " + n + "</title>";
      for (int i = 0; i < items; ++i)
        x += "<item><title>Bài " + n + "-" + std::to_string(i) + "</title><link>http://127.0.0.1:" + std::to_string(port) +
             "/bai/bai-" + n + "-" + std::to_string(i) + "-" + n + std::to_string(i) +
             ".html</link><pubDate>Mon, 27 Jan 2025 14:30:00 +0700</pubDate></item>";
      x += "</channel></rss>";
      res.set_content(x, "application/rss+xml");
    });
    svr.Get(R"(/bai/(.+)\.html)", [&](const httplib::Request& req, httplib::Response& res) {
      std::string slug = req.matches[1];
      auto s = stories[std::hash<std::string>{}(slug) % stories.size()];
      s.slug = slug;
      s.title += " " + slug;  // distinct stories: no dedup short-cut
      s.paragraphs.push_back("Mã bài " + slug + " được dùng để phân biệt các bài viết trong phép đo.");
      res.set_content(baotin::testing::article_html(s, "http://127.0.0.1:" + std::to_string(port)), "text/html; charset=utf-8");
    });
    svr.Get("/robots.txt", [](const httplib::Request&, httplib::Response& res) { res.set_content("User-agent: *\nAllow: /\n", "text/plain"); });
    svr.new_task_queue = [] { return new httplib::ThreadPool(64); };
    port = svr.bind_to_any_port("127.0.0.1");
    if (write(pipefd[1], &port, sizeof port) != sizeof port) _exit(1);
    svr.listen_after_bind();
    _exit(0);
  }
  close(pipefd[1]);
  int port = 0;
  if (read(pipefd[0], &port, sizeof port) != sizeof port) return 1;
  const std::string base = "http://127.0.0.1:" + std::to_string(port);

  auto dir = std::filesystem::temp_directory_path() / ("baotin-ingest-bench-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  Config cfg;
  cfg.workers = workers;
  cfg.poll.min_interval_s = 1;
  auto templates = std::make_shared<TemplateRegistry>();
  std::vector<TemplateError> errs;
  templates->add(load_template(std::string(BAOTIN_SOURCE_DIR) + "/tests/fixtures/e2e/site.toml", errs));
  FetcherConfig fc;
  fc.per_host_min_delay_s = 0;
  fc.per_host_concurrency = 16;
  fc.max_in_flight = 32;
  fc.allow_private = {"127.0.0.1"};  // the bench servers are on loopback (network policy)

  // Baseline: fetch-only of the same number of article pages.
  const int articles = feeds * items;
  double fetch_rate;
  {
    Fetcher f(fc);
    std::atomic<int> done{0};
    double t0 = monotonic_seconds();
    for (int n = 0; n < articles; ++n) {
      FetchRequest r(base + "/bai/base-" + std::to_string(n) + "-" + std::to_string(n) + ".html");
      f.submit(std::move(r), [&](FetchResult) { ++done; });
    }
    f.shutdown(true);
    fetch_rate = done / (monotonic_seconds() - t0);
  }
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
  for (int n = 0; n < feeds; ++n) list.push_back({base + "/feed/" + std::to_string(n) + ".xml", ""});
  double t0 = monotonic_seconds();
  for (const auto& f : list) ing.poll_feed(f);
  while (!ing.wait_idle(0.5)) ing.tick();
  double secs = monotonic_seconds() - t0;
  uint64_t stored = metrics.articles_new + metrics.articles_duplicate + metrics.articles_updated;
  double rate = stored / secs;
  std::printf("feeds %d, items/feed %d, workers %d\n", feeds, items, workers);
  std::printf("end-to-end: %llu articles stored in %.1fs = %.0f articles/s (failed %llu)\n", (unsigned long long)stored,
              secs, rate, (unsigned long long)metrics.articles_failed.load());
  std::printf("baseline fetch-only: %.0f pages/s; end-to-end / fetch-only = %.2f\n", fetch_rate, rate / fetch_rate);
  std::printf("peak RSS: %.1f MB (%.1f MB before the store and %d feeds were loaded)\n", peak_rss_kb() / 1024.0,
              rss_before / 1024.0, feeds);
  ing.finish();
  fetcher.shutdown(false);
  store->close();
  kill(child, SIGTERM);
  waitpid(child, nullptr, 0);
  std::filesystem::remove_all(dir);
  return 0;
}
