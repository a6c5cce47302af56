// The live exposition of a running daemon (issue 11, item 4): `baotin serve` polls a local site, then its
// /metrics output (histograms, per-feed series, process and build info present) passes `promtool check metrics`
// and /healthz answers ok while the scheduler ticks, and 503 "scheduler stuck" while it does not. promtool comes from Debian's prometheus package, unpacked by
// scripts/setup (BAOTIN_PROMTOOL in CMake, or the BAOTIN_PROMTOOL environment variable).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/url.h"
#include "e2e_server.h"
#include "serve_process.h"
#include "test_util.h"

using baotin::testing::NewsServer;

namespace {

std::string promtool_path() {
  if (const char* e = std::getenv("BAOTIN_PROMTOOL"); e && *e) return e;
  return BAOTIN_PROMTOOL;
}

using Cmd = baotin::testing::CmdResult;
Cmd run(const std::string& cmd) {
  return baotin::testing::run_command(cmd);
}

}  // namespace

TEST(MetricsServe, LiveExpositionPassesPromtoolAndHealthzIsOk) {
  const std::string promtool = promtool_path();
  if (::access(promtool.c_str(), X_OK) != 0)
    GTEST_SKIP() << "promtool not found at " << promtool
                 << " (scripts/setup build unpacks Debian's prometheus package there; or set BAOTIN_PROMTOOL)";
  NewsServer site;
  baotin::testing::TempDir dir("baotin-metrics-serve");
  std::filesystem::create_directories(dir.path / "sites");
  std::filesystem::copy_file(std::string(BAOTIN_FIXTURES) + "/e2e/site.toml", dir.path / "sites" / "site.toml");
  const int metrics_port = baotin::testing::free_port();
  const std::string feed = site.base() + "/rss.xml?token=s3cr3t";  // the label is redacted
  std::ofstream(dir.path / "baotin.toml") << "[daemon]\ntemplates_dir = \"" + (dir.path / "sites").string() +
                                                 "\"\nmetrics_listen = \"127.0.0.1:" + std::to_string(metrics_port) +
                                                 "\"\nlog_level = \"debug\"\n"
                                                 "[fetch]\nper_host_min_delay_s = 0.0\ntotal_timeout_ms = 5000\n"
                                                 "[poll]\nmin_interval_s = 1\nmax_interval_s = 2\n"
                                                 "[[feeds]]\nurl = \"" + feed + "\"\nallow_private = true\n";
  const std::string db = (dir.path / "data").string();
  baotin::testing::ServeProcess serve((dir.path / "baotin.toml").string(), db, (dir.path / "serve.log").string());
  ASSERT_TRUE(serve.started());
  const std::string series = "baotin_feed_last_success_timestamp_seconds{feed=\"" + baotin::redact_url(feed) + "\"}";
  httplib::Client cli("127.0.0.1", metrics_port);
  cli.set_connection_timeout(2);
  cli.set_read_timeout(5);
  std::string text;
  for (int i = 0; i < 150; ++i) {  // the three stories stored and the feed polled again (304)
    auto r = cli.Get("/metrics");
    if (r && r->status == 200) {
      text = r->body;
      if (text.find("baotin_articles_total{outcome=\"new\"} 3\n") != std::string::npos &&
          text.find("baotin_polls_not_modified_total 0\n") == std::string::npos && text.find(series) != std::string::npos)
        break;
    }
    ASSERT_TRUE(serve.running()) << "daemon exited early:\n"
                                                 << baotin::testing::read_file(dir.path / "serve.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const std::string log_so_far = baotin::testing::read_file(dir.path / "serve.log");
  ASSERT_NE(text.find("baotin_articles_total{outcome=\"new\"} 3\n"), std::string::npos) << text << log_so_far;
  ASSERT_NE(text.find(series), std::string::npos) << text;
  EXPECT_EQ(text.find("s3cr3t"), std::string::npos);
  for (const char* s : {"baotin_build_info{version=\"", "process_resident_memory_bytes ", "process_open_fds ",
                        "process_cpu_seconds_total ", "process_start_time_seconds ",
                        "baotin_fetch_duration_seconds_bucket{kind=\"article\",le=\"+Inf\"} 3\n",
                        "baotin_fetch_duration_seconds_count{kind=\"feed\"} ",
                        "baotin_extract_duration_seconds_count 3\n", "baotin_publish_to_ingest_delay_seconds_count ",
                        "baotin_feed_items_dropped_total{reason=\"skip_urls\"} ", "baotin_template_pages_total{"})
    EXPECT_NE(text.find(s), std::string::npos) << s << "\n" << text;
  // The /video/ item's drop is at debug level with its rule.
  EXPECT_NE(log_so_far.find("skip_urls rule '/video/'"), std::string::npos) << log_so_far;

  const auto file = dir.path / "metrics.txt";
  std::ofstream(file) << text;
  Cmd lint = run("'" + promtool + "' check metrics < '" + file.string() + "' 2>&1");
  EXPECT_EQ(lint.status, 0) << lint.out << "\n" << text;
  EXPECT_EQ(lint.out, "") << lint.out;

  auto h = cli.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->body, "ok\n");

  EXPECT_EQ(serve.stop(), 0);
}

// The scheduler loop blocked (a SIGHUP reload opening a template that is a FIFO nobody writes: a hung mount, in
// effect) while the endpoint keeps answering: /healthz says so once the loop has missed its watchdog interval
// (2 s here, through systemd's WATCHDOG_USEC), and is ok again once the loop runs.
TEST(MetricsServe, HealthzReportsAStuckScheduler) {
  baotin::testing::TempDir dir("baotin-metrics-stuck");
  std::filesystem::create_directories(dir.path / "sites");
  const int metrics_port = baotin::testing::free_port();
  std::ofstream(dir.path / "baotin.toml") << "[daemon]\ntemplates_dir = \"" + (dir.path / "sites").string() +
                                                 "\"\nmetrics_listen = \"127.0.0.1:" + std::to_string(metrics_port) +
                                                 "\"\nlog_level = \"info\"\n";
  const std::string db = (dir.path / "data").string();
  const std::string log = (dir.path / "serve.log").string();
  // systemd's watchdog interval (no WATCHDOG_PID: sd_watchdog_enabled then applies it to any pid).
  baotin::testing::ServeProcess serve((dir.path / "baotin.toml").string(), db, log,
                                      {{"WATCHDOG_USEC", "2000000"},
                                       {"NOTIFY_SOCKET", (dir.path / "no-such.sock").string()}});  // go nowhere
  ASSERT_TRUE(serve.started());
  httplib::Client cli("127.0.0.1", metrics_port);
  cli.set_connection_timeout(2);
  cli.set_read_timeout(5);
  // Polls /healthz until `want` (at most 20 s); returns the last answer.
  auto healthz_until = [&](int want) {
    std::pair<int, std::string> last{0, ""};
    for (int i = 0; i < 100; ++i) {
      if (auto r = cli.Get("/healthz")) {
        last = {r->status, r->body};
        if (r->status == want) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return last;
  };
  auto h = healthz_until(200);
  ASSERT_EQ(h.first, 200) << h.second << baotin::testing::read_file(log);
  EXPECT_EQ(h.second, "ok\n");

  const auto fifo = dir.path / "sites" / "zz.toml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  serve.signal(SIGHUP);  // the reload blocks in opening zz.toml
  h = healthz_until(503);
  EXPECT_EQ(h.first, 503) << h.second << baotin::testing::read_file(log);
  EXPECT_EQ(h.second.rfind("scheduler stuck: last tick ", 0), 0u) << h.second;
  EXPECT_NE(h.second.find(" s ago\n"), std::string::npos) << h.second;
  auto m = cli.Get("/metrics");  // the endpoint itself still answers
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);

  {
    int w = ::open(fifo.c_str(), O_WRONLY);  // the reload reads an empty file (a template error) and goes on
    ASSERT_GE(w, 0);
    ::close(w);
  }
  h = healthz_until(200);
  EXPECT_EQ(h.first, 200) << h.second;
  EXPECT_EQ(h.second, "ok\n");

  EXPECT_EQ(serve.stop(), 0) << baotin::testing::read_file(log);
}
