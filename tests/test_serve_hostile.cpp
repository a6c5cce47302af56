// `baotin serve` against a hostile web, all on loopback: feeds that crashed or exhausted earlier builds
// (a 50 KB DOCTYPE, an entity bomb, 30 KB dates and links, a 100,000-item feed whose articles answer
// Retry-After: 999999999 or 0), item links and redirects aimed at the daemon's own metrics endpoint and at
// other internal addresses, and non-http schemes. The daemon must keep running, keep its memory bounded,
// store the good feed's articles and nothing from anywhere else, stay answerable, and stop promptly.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "e2e_server.h"

using baotin::testing::free_port;
using baotin::testing::NewsServer;

namespace {

std::string run_out(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int st = pclose(p);
  if (status) *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

long vm_hwm_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

std::string rss_item(const std::string& link, const std::string& pub = "Mon, 27 Jan 2025 14:30:00 +0700") {
  return "<item><title>t</title><link>" + link + "</link><pubDate>" + pub + "</pubDate></item>";
}
std::string rss(const std::string& items, const std::string& prolog = "") {
  return prolog + "<rss version=\"2.0\"><channel><title>evil</title><link>http://x/</link>" + items +
         "</channel></rss>";
}

}  // namespace

TEST(ServeHostile, SurvivesEveryScenarioAndStoresOnlyTheGoodFeed) {
  NewsServer good;
  const int metrics_port = free_port();
  const std::string metrics_host = "127.0.0.2";  // loopback, on the allow list (127.0.0.0/8): never_connect guards it
  const std::string internal = "http://" + metrics_host + ":" + std::to_string(metrics_port);

  httplib::Server evil;
  evil.set_keep_alive_timeout(1);
  std::atomic<int> slow_hits{0}, zero_hits{0};
  std::map<std::string, std::string> feeds;
  feeds["/doctype.xml"] = rss("", "<!DOCTYPE rss PUBLIC \"" + std::string(50000, 'a') + "\">");
  {
    std::string ent(15000, 'x'), refs;
    for (int i = 0; i < 40000; ++i) refs += "&e;";
    feeds["/entity.xml"] = "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY e \"" + ent + "\">]>" +
                           rss("<item><title>" + refs + "</title><link>http://127.0.0.1/bai/x-1.html</link></item>");
  }
  feeds["/dates.xml"] = rss(rss_item(good.base() + "/nothing-1.html", std::string(30000, '1')) +
                            rss_item(good.base() + "/nothing-2.html", "Mon," + std::string(30000, ' ')) +
                            [] {
                              std::string s;
                              for (int i = 0; i < 10000; ++i) s += "1.";
                              return rss_item("http://127.0.0.1/bai/y-2.html", s);
                            }());
  feeds["/longlink.xml"] = rss(rss_item(good.base() + "/bai/" + std::string(30000, 'a') + "-1.html"));
  {
    std::string items;
    items.reserve(100000 * 80);
    for (int i = 0; i < 100000; ++i) items += "<item><link>/bai/slow-a-" + std::to_string(i) + ".html</link></item>";
    feeds["/huge.xml"] = rss(items);
  }
  feeds["/retry0.xml"] = rss(rss_item("/bai/zero-b-1.html") + rss_item("/bai/zero-b-2.html"));
  feeds["/ssrf.xml"] = rss(rss_item(internal + "/status") + rss_item("http://2130706434:" + std::to_string(metrics_port) + "/status") +
                           rss_item("http://[::1]:" + std::to_string(metrics_port) + "/status") +
                           rss_item("http://169.254.169.254/latest/meta-data/") + rss_item("file:///etc/passwd") +
                           rss_item("javascript:alert(1)") + rss_item("data:text/html,hello") +
                           rss_item("gopher://127.0.0.1:70/") + rss_item("/bai/redirect-1.html"));
  for (const auto& [path, body] : feeds) {
    std::string b = body;
    evil.Get(path, [b](const httplib::Request&, httplib::Response& res) { res.set_content(b, "application/rss+xml"); });
  }
  evil.Get(R"(/bai/slow-.*)", [&](const httplib::Request&, httplib::Response& res) {
    ++slow_hits;
    res.status = 503;
    res.set_header("Retry-After", "999999999");
  });
  evil.Get(R"(/bai/zero-.*)", [&](const httplib::Request&, httplib::Response& res) {
    ++zero_hits;
    res.status = 503;
    res.set_header("Retry-After", "0");
  });
  evil.Get("/bai/redirect-1.html", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", internal + "/status");
  });
  evil.Get("/robots.txt", [](const httplib::Request&, httplib::Response& res) { res.set_content("", "text/plain"); });
  int evil_port = evil.bind_to_any_port("127.0.0.1");
  std::thread evil_thread([&] { evil.listen_after_bind(); });
  const std::string evil_base = "http://127.0.0.1:" + std::to_string(evil_port);

  auto dir = std::filesystem::temp_directory_path() / ("baotin-hostile-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "sites");
  std::filesystem::copy_file(std::string(BAOTIN_FIXTURES) + "/e2e/site.toml", dir / "sites" / "site.toml");
  std::string cfg = "[daemon]\ntemplates_dir = \"sites\"\nmetrics_listen = \"" + metrics_host + ":" +
                    std::to_string(metrics_port) + "\"\nlog_level = \"info\"\n"
                    "[fetch]\nper_host_min_delay_s = 0.0\nper_host_concurrency = 4\ntotal_timeout_ms = 5000\n"
                    "allow_private = [\"127.0.0.0/8\"]\n"  // even so, the metrics endpoint is never fetched

                    "[poll]\nmin_interval_s = 1\nmax_interval_s = 2\narticle_retries = 3\n"
                    "[[feeds]]\nurl = \"" + good.base() + "/rss.xml\"\n";
  for (const auto& [path, body] : feeds) cfg += "[[feeds]]\nurl = \"" + evil_base + path + "\"\n";
  std::ofstream(dir / "baotin.toml") << cfg;
  const std::string bin = BAOTIN_BINARY;
  const std::string db = (dir / "data").string();
  int check_status = -1;
  std::string check = run_out(bin + " check --config '" + (dir / "baotin.toml").string() + "' 2>&1", &check_status);
  ASSERT_EQ(check_status, 0) << check;

  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string log = (dir / "serve.log").string();
    if (!freopen(log.c_str(), "w", stderr)) _exit(127);
    execl(bin.c_str(), bin.c_str(), "serve", "--config", (dir / "baotin.toml").c_str(), "--data-dir", db.c_str(), nullptr);
    _exit(127);
  }
  httplib::Client metrics(metrics_host, metrics_port);
  metrics.set_connection_timeout(2);
  metrics.set_read_timeout(5);

  // Wait for the good feed's three articles (the hostile feeds are polled all along, every second or two).
  size_t good_records = 0;
  long hwm = 0;
  bool alive = true;
  for (int i = 0; i < 120 && good_records < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    int st = 0;
    alive = waitpid(pid, &st, WNOHANG) == 0;
    ASSERT_TRUE(alive) << "daemon died; log:\n" << run_out("tail -50 '" + (dir / "serve.log").string() + "'");
    hwm = std::max(hwm, vm_hwm_kb(pid));
    std::string out = run_out(bin + " export --db '" + db + "' --format jsonl 2>/dev/null");
    good_records = 0;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && nlohmann::json::parse(line)["url"].get<std::string>().rfind(good.base(), 0) == 0)
        ++good_records;
  }
  EXPECT_EQ(good_records, 3u);
  // Keep it under fire a little longer: several more polls of every hostile feed.
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    hwm = std::max(hwm, vm_hwm_kb(pid));
    auto r = metrics.Get("/healthz");
    ASSERT_TRUE(r) << "metrics endpoint unreachable";
  }
  auto status = metrics.Get("/status");
  ASSERT_TRUE(status);
  auto sj = nlohmann::json::parse(status->body);
  // Every feed, hostile or not, was polled and its state recorded.
  ASSERT_EQ(sj["feeds"].size(), feeds.size() + 1);
  for (const auto& f : sj["feeds"]) EXPECT_GE(f["polls"].get<int>(), 1) << f.dump();

  auto t0 = std::chrono::steady_clock::now();
  kill(pid, SIGTERM);
  int st = 0;
  pid_t w = 0;
  for (int i = 0; i < 300 && (w = waitpid(pid, &st, WNOHANG)) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (w == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    FAIL() << "daemon did not stop within 30 s of SIGTERM";
  }
  double stop_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "exit status " << st;
  EXPECT_LT(stop_s, 15.0);
  EXPECT_LT(hwm, 200 * 1024) << "peak RSS " << hwm << " kB";
  std::printf("hostile run: peak RSS %.1f MB, stop took %.1f s, /slow hits %d, /zero hits %d\n", hwm / 1024.0,
              stop_s, slow_hits.load(), zero_hits.load());

  // Nothing but the good feed's articles was stored: no /status page, no internal address, no file.
  std::string out = run_out(bin + " export --db '" + db + "' --format jsonl 2>/dev/null");
  std::istringstream in(out);
  size_t total = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    ++total;
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["url"].get<std::string>().rfind(good.base(), 0), 0u) << j["url"];
    EXPECT_EQ(line.find("\"feeds\""), std::string::npos);
  }
  EXPECT_EQ(total, 3u);
  // Retry-After: 999999999 did not pin the 100 queued URLs (100 = max_new_per_poll) for ever, and
  // Retry-After: 0 did not remove the backoff: within the run each URL was tried at most article_retries times
  // per give-up pause.
  EXPECT_LE(zero_hits.load(), 2 * 3);
  std::string log = run_out("cat '" + (dir / "serve.log").string() + "'");
  EXPECT_EQ(log.find("cancelled: fetcher shut down"), std::string::npos);  // one summary line, not one per job
  EXPECT_NE(log.find("shutdown: "), std::string::npos);
  EXPECT_NE(log.find("stopped cleanly"), std::string::npos);

  evil.stop();
  evil_thread.join();
  std::filesystem::remove_all(dir);
}
