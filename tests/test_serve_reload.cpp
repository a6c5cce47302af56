// Template (re)loading for serve (issue 14, item 7): a SIGHUP where one template file has become invalid keeps
// the previous good version of that template (its outlet's feeds keep running), reports the error as
// file:line and counts it in baotin_template_load_errors_total.
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "daemon/metrics.h"
#include "daemon/service.h"
#include "e2e_server.h"
#include "serve_process.h"
#include "store/store.h"
#include "test_util.h"

using namespace baotin;

namespace {

std::string tmpl(const std::string& name, int revision, const std::string& host) {
  return "name = \"" + name + "\"\nrevision = " + std::to_string(revision) + "\nhosts = [\"" + host +
         "\"]\nfeeds = [\"https://" + host + "/rss.xml\"]\n\n[fields]\ntitle = \"//h1\"\nbody = \"//article/p\"\n";
}

void write(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

}  // namespace

TEST(ServeReload, FailingTemplateKeepsPreviousVersionAndIsReported) {
  baotin::testing::TempDir dir("baotin-reload");
  Config cfg;
  cfg.templates_dir = dir.path.string();
  write(dir.path / "alpha.toml", tmpl("alpha", 1, "alpha.test"));
  write(dir.path / "beta.toml", tmpl("beta", 1, "beta.test"));

  std::vector<TemplateError> errs;
  size_t failed = 9;
  auto first = reload_templates(cfg, TemplateRegistry(), errs, &failed);
  EXPECT_EQ(failed, 0u);
  EXPECT_TRUE(errs.empty());
  ASSERT_EQ(first->all().size(), 2u);
  auto beta1 = first->by_name("beta");
  ASSERT_TRUE(beta1);

  // alpha gets a new revision, beta becomes invalid (an edit in progress).
  write(dir.path / "alpha.toml", tmpl("alpha", 2, "alpha.test"));
  write(dir.path / "beta.toml", "name = \"beta\"\nrevision = 2\nhosts = [\"beta.test\"\n[fields\n");
  errs.clear();
  auto second = reload_templates(cfg, *first, errs, &failed);
  EXPECT_EQ(failed, 1u);
  ASSERT_FALSE(errs.empty());
  EXPECT_NE(errs[0].str().find("beta.toml:"), std::string::npos) << errs[0].str();
  EXPECT_GT(errs[0].line, 0);
  ASSERT_EQ(second->all().size(), 2u);
  EXPECT_EQ(second->by_name("alpha")->revision, 2);
  EXPECT_EQ(second->by_name("beta"), beta1);  // the previous good version, still serving beta.test
  EXPECT_EQ(second->for_url("https://beta.test/bai-1.html"), beta1);
  Config with_sites = cfg;
  with_sites.sites = {"alpha", "beta"};
  EXPECT_EQ(effective_feeds(with_sites, *second).size(), 2u);

  // Fixed again: the new version replaces the kept one. Removed: the template goes (no error).
  write(dir.path / "beta.toml", tmpl("beta", 3, "beta.test"));
  errs.clear();
  auto third = reload_templates(cfg, *second, errs, &failed);
  EXPECT_EQ(failed, 0u);
  EXPECT_EQ(third->by_name("beta")->revision, 3);
  std::filesystem::remove(dir.path / "beta.toml");
  auto fourth = reload_templates(cfg, *third, errs, &failed);
  EXPECT_EQ(failed, 0u);
  EXPECT_FALSE(fourth->by_name("beta"));

  // A template that never loaded has nothing to keep: it is reported and skipped.
  write(dir.path / "gamma.toml", "name = \n");
  auto fifth = reload_templates(cfg, *fourth, errs, &failed);
  EXPECT_EQ(failed, 1u);
  EXPECT_EQ(fifth->all().size(), 1u);
}

TEST(ServeReload, TemplateLoadErrorsAreExported) {
  Metrics m;
  m.template_load_errors += 2;
  EXPECT_NE(m.prometheus().find("baotin_template_load_errors_total 2"), std::string::npos) << m.prometheus();
}

// The daemon end to end: READY=1 is sent before the duplicate index rebuild (which runs in the background and
// continues an interrupted one), /status reports the rebuild and the store's health, /healthz is ok, and a
// SIGHUP with a broken template keeps that outlet's feeds and counts the error.
namespace {

std::string read_all(const std::filesystem::path& p) { return baotin::testing::read_file(p); }

}  // namespace

TEST(ServeReload, ReadyBeforeBackgroundRebuildAndReloadKeepsFeeds) {
  baotin::testing::TempDir dir("baotin-serve-ready");
  const std::string db = (dir.path / "data").string();
  std::filesystem::create_directories(dir.path / "sites");
  const int dead_port = baotin::testing::free_port(), metrics_port = baotin::testing::free_port();
  auto feed_tmpl = [&](const std::string& name) {
    return "name = \"" + name + "\"\nrevision = 1\nhosts = [\"" + name + ".test\"]\nfeeds = [\"http://127.0.0.1:" +
           std::to_string(dead_port) + "/" + name + ".xml\"]\n\n[fields]\ntitle = \"//h1\"\nbody = \"//article/p\"\n";
  };
  write(dir.path / "sites" / "alpha.toml", feed_tmpl("alpha"));
  write(dir.path / "sites" / "beta.toml", feed_tmpl("beta"));
  write(dir.path / "baotin.toml", "[daemon]\ntemplates_dir = \"" + (dir.path / "sites").string() +
                                      "\"\nmetrics_listen = \"127.0.0.1:" + std::to_string(metrics_port) +
                                      "\"\nlog_level = \"info\"\n[poll]\nmin_interval_s = 60\nmax_interval_s = 120\n");
  {  // a store whose index rebuild was interrupted after 10 articles
    auto st = Store::open({db}, nullptr);
    ASSERT_TRUE(st);
    for (int i = 0; i < 60; ++i) {
      Article a;
      a.url = a.canonical_url = "https://alpha.test/bai-" + std::to_string(i) + ".html";
      a.site = "alpha";
      a.title = "Bài " + std::to_string(i) + " về giá vàng và thời tiết ở thành phố";
      a.body = {"Nội dung bài số " + std::to_string(i) + " với đủ chữ để được lập chỉ mục trùng lặp ở đây nhé"};
      st->put_article(a, "");
    }
    st->begin_dedup_rebuild();
    ASSERT_FALSE(st->continue_dedup_rebuild(nullptr, 10, 5));
  }

  // systemd's notification socket.
  baotin::testing::ServeProcess serve((dir.path / "baotin.toml").string(), db, (dir.path / "serve.log").string(), {},
                                      (dir.path / "notify.sock").string());
  ASSERT_TRUE(serve.started());
  auto wait_notify = [&](const std::string& what) { return serve.wait_notify(what); };
  ASSERT_TRUE(wait_notify("READY=1")) << read_all(dir.path / "serve.log");

  httplib::Client cli("127.0.0.1", metrics_port);
  nlohmann::json sj;
  for (int i = 0; i < 100; ++i) {  // the rebuild finishes in the background
    auto r = cli.Get("/status");
    if (r && r->status == 200) {
      sj = nlohmann::json::parse(r->body);
      if (!sj["store"]["dedup_rebuild"]["pending"].get<bool>()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(sj["store"]["dedup_rebuild"]["pending"].get<bool>()) << sj.dump();
  EXPECT_EQ(sj["store"]["dedup_rebuild"]["indexed"].get<uint64_t>(), 60u) << sj.dump();
  EXPECT_TRUE(sj["store"]["healthy"].get<bool>());
  auto h = cli.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);

  // SIGHUP with beta.toml broken: beta's feed stays, the error is counted.
  write(dir.path / "sites" / "beta.toml", "name = \"beta\"\nrevision = 2\n[fields\n");
  serve.signal(SIGHUP);
  ASSERT_TRUE(wait_notify("READY=1"));  // reload done
  auto m = cli.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("baotin_feeds 2"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("baotin_template_load_errors_total 1"), std::string::npos) << m->body;

  EXPECT_EQ(serve.stop(), 0);
  const std::string log = read_all(dir.path / "serve.log");
  // READY (the "serving" line) comes before the rebuild, which continues after the 10 articles done before.
  const auto serving = log.find("serving:"), rebuilding = log.find("in the background");
  ASSERT_NE(serving, std::string::npos) << log;
  ASSERT_NE(rebuilding, std::string::npos) << log;
  EXPECT_LT(serving, rebuilding) << log;
  EXPECT_NE(log.find("continuing the interrupted duplicate index rebuild (10 articles done)"), std::string::npos) << log;
  EXPECT_NE(log.find("beta.toml:"), std::string::npos) << log;
  EXPECT_NE(log.find("keeping the previous version beta@1"), std::string::npos) << log;
  auto store = Store::open({db}, nullptr);
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->dedup_rebuild_progress().pending);
  EXPECT_TRUE(store->verify().empty());
}

// SIGHUP applies every setting it can (issue 11, item 3): log level and format, [fetch] (the user agent seen by
// the server), the feed list; settings that need a restart are named and keep their running value.
TEST(ServeReload, SighupAppliesLoggingFetchAndFeedsAndNamesRestartSettings) {
  baotin::testing::TempDir dir("baotin-reload-all");
  const std::string db = (dir.path / "data").string();
  std::filesystem::create_directories(dir.path / "sites");

  httplib::Server site;
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> seen;  // (path, user agent)
  auto feed = [&](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard lk(mu);
      seen.emplace_back(req.path, req.get_header_value("User-Agent"));
    }
    res.set_content("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title></channel></rss>",
                    "application/rss+xml");
  };
  site.Get("/a.xml", feed);
  site.Get("/b.xml", feed);
  const int port = site.bind_to_any_port("127.0.0.1");
  std::thread site_thread([&] { site.listen_after_bind(); });
  struct StopSite {
    httplib::Server& s;
    std::thread& t;
    ~StopSite() {
      s.stop();
      if (t.joinable()) t.join();
    }
  } stop_site{site, site_thread};
  auto saw = [&](const std::string& path, const std::string& ua) {
    std::lock_guard lk(mu);
    for (const auto& [p, u] : seen)
      if (p == path && u == ua) return true;
    return false;
  };
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto config = [&](const std::string& daemon_extra, const std::string& ua, bool second_feed) {
    std::string c = "[daemon]\ntemplates_dir = \"" + (dir.path / "sites").string() + "\"\nmetrics_listen = \"\"\n" +
                    daemon_extra + "[fetch]\nrespect_robots = false\nuser_agent = \"" + ua +
                    "\"\n[poll]\nmin_interval_s = 1\nmax_interval_s = 2\nmax_backoff_s = 2\n"
                    "[[feeds]]\nurl = \"" + base + "/a.xml\"\nallow_private = true\n";
    if (second_feed) c += "[[feeds]]\nurl = \"" + base + "/b.xml\"\nallow_private = true\n";
    write(dir.path / "baotin.toml", c);
  };
  config("log_level = \"info\"\nworkers = 2\n", "baotin-test/one", false);

  const std::string log_path = (dir.path / "serve.log").string();
  baotin::testing::ServeProcess serve((dir.path / "baotin.toml").string(), db, log_path, {},
                                      (dir.path / "notify.sock").string());
  ASSERT_TRUE(serve.started());
  auto wait_notify = [&](const std::string& what) { return serve.wait_notify(what); };
  auto wait_for = [&](const std::function<bool()>& pred) {
    for (int i = 0; i < 200; ++i) {  // up to 20 s
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  ASSERT_TRUE(wait_notify("READY=1")) << read_all(log_path);
  ASSERT_TRUE(wait_for([&] { return saw("/a.xml", "baotin-test/one"); })) << read_all(log_path);

  config("log_level = \"debug\"\nlog_format = \"json\"\nworkers = 5\nblock_cache_mb = 32\n", "baotin-test/two", true);
  serve.signal(SIGHUP);
  ASSERT_TRUE(wait_notify("READY=1"));
  EXPECT_TRUE(wait_for([&] { return saw("/a.xml", "baotin-test/two") && saw("/b.xml", "baotin-test/two"); }))
      << read_all(log_path);
  EXPECT_FALSE(saw("/b.xml", "baotin-test/one"));

  // A reload naming a template that does not exist is refused whole (as serve refuses to start on it): the
  // user agent stays "two".
  config("log_level = \"debug\"\nlog_format = \"json\"\n", "baotin-test/three", true);
  {
    std::ofstream(dir.path / "baotin.toml", std::ios::app) << "[sites]\nenabled = [\"khong-co\"]\n";
  }
  serve.signal(SIGHUP);
  ASSERT_TRUE(wait_notify("READY=1"));
  const size_t before = [&] { std::lock_guard lk(mu); return seen.size(); }();
  EXPECT_TRUE(wait_for([&] { std::lock_guard lk(mu); return seen.size() >= before + 2; }));
  EXPECT_FALSE(saw("/a.xml", "baotin-test/three"));

  EXPECT_EQ(serve.stop(), 0);

  // Before the reload: text lines, info and up. The startup line says what will happen and when.
  const std::string log = read_all(log_path);
  std::istringstream in(log);
  std::string line;
  bool json = false, reload_line = false, restart_line = false, debug_line = false, startup_line = false;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (!json && line[0] == '{') json = true;
    if (!json) {
      EXPECT_EQ(line.find(" debug "), std::string::npos) << line;
      if (line.find("serving: 1 feeds, 0 templates, 2 workers; first poll in ") != std::string::npos) startup_line = true;
      continue;
    }
    // After it: every line is one JSON object.
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    ASSERT_TRUE(j.contains("time") && j.contains("level") && j.contains("msg")) << line;
    const std::string msg = j["msg"], level = j["level"];
    if (level == "debug") debug_line = true;
    if (msg.find("reload: 2 feeds") != std::string::npos) {
      reload_line = true;
      for (const char* n : {"daemon.log_level", "daemon.log_format", "fetch.user_agent", "feeds"})
        EXPECT_NE(msg.find(n), std::string::npos) << n << " in " << msg;
      EXPECT_EQ(msg.find("daemon.workers"), std::string::npos) << msg;
    }
    if (level == "warning" && msg.find("daemon.workers, daemon.block_cache_mb changed but need a restart") !=
                                  std::string::npos)
      restart_line = true;
  }
  EXPECT_TRUE(startup_line) << log;
  EXPECT_TRUE(json) << log;
  EXPECT_TRUE(reload_line) << log;
  EXPECT_TRUE(restart_line) << log;
  EXPECT_TRUE(debug_line) << log;
  EXPECT_NE(log.find("khong-co"), std::string::npos) << log;
  EXPECT_NE(log.find("keeping the running config"), std::string::npos) << log;
}
