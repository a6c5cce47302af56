#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/service.h"
#include "store/store.h"
#include "test_util.h"

using namespace baotin;

namespace {
std::string write_tmp(const std::string& name, const std::string& text) {
  auto p = std::filesystem::temp_directory_path() / name;
  std::ofstream(p) << text;
  return p.string();
}
}  // namespace

TEST(Config, ShippedExampleIsValid) {
  Config cfg;
  std::vector<TemplateError> errs;
  ASSERT_TRUE(load_config(std::string(BAOTIN_SOURCE_DIR) + "/systemd/baotin.toml", cfg, errs))
      << (errs.empty() ? "" : errs[0].str());
  EXPECT_TRUE(std::filesystem::exists(cfg.templates_dir)) << cfg.templates_dir;
  TemplateRegistry reg;
  reg.load_dir(cfg.templates_dir, errs);
  EXPECT_TRUE(errs.empty());
  EXPECT_FALSE(effective_feeds(cfg, reg).empty());
  EXPECT_EQ(cfg.memory_budget_mb(), 256u);
  EXPECT_EQ(cfg.store_memory_mb(), 128u);
}

TEST(Config, BlockCache) {
  Config cfg;
  std::vector<TemplateError> errs;
  ASSERT_TRUE(load_config(write_tmp("baotin_cfg_cache.toml", "[daemon]\nblock_cache_mb = 512\n"), cfg, errs));
  EXPECT_EQ(cfg.block_cache_mb, 512u);
  Config bad;
  EXPECT_FALSE(load_config(write_tmp("baotin_cfg_cache_bad.toml", "[daemon]\nblock_cache_mb = -5\n"), bad, errs));
  ASSERT_FALSE(errs.empty());
  EXPECT_NE(errs.back().message.find("block_cache_mb"), std::string::npos) << errs.back().message;
}

// daemon.memory_mb: the budget, range-checked with file:line; the store gets half of it (or the deprecated
// block_cache_mb), which must leave the rest of the daemon 64 MiB; what reaches Store::open is that share.
TEST(Config, MemoryBudget) {
  Config def;
  std::vector<TemplateError> errs;
  ASSERT_TRUE(load_config(write_tmp("baotin_cfg_mem0.toml", "# nothing\n"), def, errs));
  EXPECT_EQ(def.memory_budget_mb(), 256u);
  EXPECT_EQ(def.store_memory_mb(), 128u);

  Config cfg;
  ASSERT_TRUE(load_config(write_tmp("baotin_cfg_mem.toml", "[daemon]\nmemory_mb = 96\n"), cfg, errs));
  EXPECT_EQ(cfg.memory_budget_mb(), 96u);
  EXPECT_EQ(cfg.store_memory_mb(), 48u);
  {
    baotin::testing::TempDir d("baotin-cfg-mem-store");
    std::string err;
    auto st = Store::open({.path = (d.path / "db").string(), .sync_writes = false, .block_cache_mb = cfg.store_memory_mb()}, &err);  // as serve and backfill
    ASSERT_TRUE(st) << err;
    EXPECT_EQ(st->memory_usage().cache_capacity, size_t{48} << 20);
  }

  Config old;  // a config of before memory_mb: its cache stays, the rest gets the default 128 MiB
  ASSERT_TRUE(load_config(write_tmp("baotin_cfg_mem_old.toml", "[daemon]\nblock_cache_mb = 512\n"), old, errs));
  EXPECT_EQ(old.store_memory_mb(), 512u);
  EXPECT_EQ(old.memory_budget_mb(), 640u);

  Config both;
  ASSERT_TRUE(load_config(write_tmp("baotin_cfg_mem_both.toml", "[daemon]\nmemory_mb = 1024\nblock_cache_mb = 700\n"),
                          both, errs));
  EXPECT_EQ(both.store_memory_mb(), 700u);
  EXPECT_EQ(both.memory_budget_mb(), 1024u);

  struct Bad {
    const char* toml;
    int line;
    const char* says;
  };
  for (const Bad& b : {Bad{"[daemon]\n\nmemory_mb = 32\n", 3, "daemon.memory_mb: 32 is out of range [64, 1048576]"},
                       Bad{"[daemon]\nmemory_mb = 2000000\n", 2, "daemon.memory_mb: 2000000 is out of range"},
                       Bad{"[daemon]\nmemory_mb = \"1G\"\n", 2, "daemon.memory_mb: expected an integer"},
                       Bad{"[daemon]\nmemory_mb = 256\nblock_cache_mb = 200\n", 3,
                           "daemon.block_cache_mb: 200 MiB for the store leaves 56 MiB of daemon.memory_mb = 256"}}) {
    Config c;
    errs.clear();
    EXPECT_FALSE(load_config(write_tmp("baotin_cfg_mem_bad.toml", b.toml), c, errs)) << b.toml;
    ASSERT_EQ(errs.size(), 1u) << b.toml;
    EXPECT_EQ(errs[0].line, b.line) << b.toml;
    EXPECT_NE(errs[0].message.find(b.says), std::string::npos) << errs[0].message;
  }
}

// The fetch and poll defaults are declared once (FetcherConfig, PollPolicy) and are what an empty config gives:
// the daemon's documented defaults (README "Configuration").
TEST(Config, DefaultsComeFromTheFetcherAndTheSchedule) {
  auto path = write_tmp("baotin-defaults.toml", "[daemon]\ndata_dir = \"/tmp/x\"\n");
  Config cfg;
  std::vector<TemplateError> errs;
  ASSERT_TRUE(load_config(path, cfg, errs));
  EXPECT_EQ(cfg.fetch.user_agent, "baotin/0.1 (Vietnamese news ingestion; +https://example.invalid/baotin)");
  EXPECT_EQ(cfg.fetch.max_in_flight, 32);
  EXPECT_EQ(cfg.fetch.per_host_concurrency, 2);
  EXPECT_EQ(cfg.fetch.max_body_bytes, size_t{16} << 20);
  EXPECT_EQ(cfg.fetch.user_agent, FetcherConfig{}.user_agent);
  EXPECT_EQ(cfg.fetch.max_in_flight, FetcherConfig{}.max_in_flight);
  EXPECT_DOUBLE_EQ(cfg.poll.min_interval_s, 120);
  EXPECT_DOUBLE_EQ(cfg.poll.max_interval_s, 3600);
  EXPECT_DOUBLE_EQ(cfg.poll.max_backoff_s, 6 * 3600);
  EXPECT_DOUBLE_EQ(cfg.poll.jitter, PollPolicy{}.jitter);
  std::filesystem::remove(path);
}

TEST(Config, ErrorsWithLines) {
  Config cfg;
  std::vector<TemplateError> errs;
  auto p = write_tmp("baotin-cfg-bad.toml",
                     "[daemon]\nworkers = \"two\"\nlog_level = \"loud\"\n[fetch]\nbogus = 1\n[[feeds]]\nurl = \"ftp://x\"\n");
  EXPECT_FALSE(load_config(p, cfg, errs));
  auto has = [&](int line, const std::string& part) {
    return std::any_of(errs.begin(), errs.end(), [&](const TemplateError& e) {
      return e.line == line && e.message.find(part) != std::string::npos;
    });
  };
  EXPECT_TRUE(has(2, "expected an integer"));
  EXPECT_TRUE(has(5, "unknown key 'fetch.bogus'"));
  EXPECT_TRUE(has(6, "must be an http(s) URL"));
  EXPECT_TRUE(std::any_of(errs.begin(), errs.end(), [](auto& e) { return e.message.find("log_level") != std::string::npos; }));
}

TEST(Config, EffectiveFeedsMergeAndDeduplicate) {
  Config cfg;
  std::vector<TemplateError> errs;
  auto p = write_tmp("baotin-cfg-feeds.toml",
                     "[sites]\nenabled = [\"a\"]\n[[feeds]]\nurl = \"https://a.vn/rss\"\n[[feeds]]\nurl = \"https://z.vn/rss\"\n");
  ASSERT_TRUE(load_config(p, cfg, errs));
  TemplateRegistry reg;
  reg.add(parse_template("name=\"a\"\nrevision=1\nhosts=[\"a.vn\"]\nfeeds=[\"https://a.vn/rss\",\"https://a.vn/rss2\"]\n[fields]\ntitle=\"//h1\"\nbody=\"//p\"\n", "a.toml", errs));
  reg.add(parse_template("name=\"b\"\nrevision=1\nhosts=[\"b.vn\"]\nfeeds=[\"https://b.vn/rss\"]\n[fields]\ntitle=\"//h1\"\nbody=\"//p\"\n", "b.toml", errs));
  auto feeds = effective_feeds(cfg, reg);
  ASSERT_EQ(feeds.size(), 3u);
  EXPECT_EQ(feeds[0].url, "https://a.vn/rss");
  EXPECT_EQ(feeds[1].url, "https://z.vn/rss");
  EXPECT_EQ(feeds[2].url, "https://a.vn/rss2");
  EXPECT_EQ(feeds[2].site, "a");
}

TEST(Config, AllowPrivateFetchAndPerFeed) {
  Config cfg;
  std::vector<TemplateError> errs;
  auto p = write_tmp("baotin-cfg-allow.toml",
                     "[fetch]\nallow_private = [\"10.0.0.0/8\", \"intranet.example.vn\"]\n"
                     "[[feeds]]\nurl = \"http://127.0.0.1:8080/rss\"\nallow_private = true\n"
                     "[[feeds]]\nurl = \"https://intranet.vn/rss\"\nallow_private = true\n"
                     "[[feeds]]\nurl = \"https://b.vn/rss\"\nallow_private = [\"192.168.1.0/24\", \"[::1]:9000\"]\n"
                     "[[feeds]]\nurl = \"https://c.vn/rss\"\nallow_private = false\n"
                     "[[feeds]]\nurl = \"https://d.vn/rss\"\n");
  ASSERT_TRUE(load_config(p, cfg, errs)) << (errs.empty() ? "" : errs[0].str());
  EXPECT_EQ(cfg.fetch.allow_private, (std::vector<std::string>{"10.0.0.0/8", "intranet.example.vn"}));
  ASSERT_EQ(cfg.feeds.size(), 5u);
  EXPECT_EQ(cfg.feeds[0].allow_private, std::vector<std::string>{"127.0.0.1:8080"});  // the feed's own host:port
  EXPECT_EQ(cfg.feeds[1].allow_private, std::vector<std::string>{"intranet.vn:443"});
  EXPECT_EQ(cfg.feeds[2].allow_private, (std::vector<std::string>{"192.168.1.0/24", "[::1]:9000"}));
  EXPECT_TRUE(cfg.feeds[3].allow_private.empty());
  EXPECT_TRUE(cfg.feeds[4].allow_private.empty());

  Config bad;
  errs.clear();
  auto q = write_tmp("baotin-cfg-allow-bad.toml",
                     "[fetch]\nallow_private = [\"10.0.0.0/40\"]\n"
                     "[[feeds]]\nurl = \"https://b.vn/rss\"\nallow_private = \"yes\"\n"
                     "[[feeds]]\nurl = \"https://c.vn/rss\"\nallow_private = [\n  \"ok.vn\",\n  \"not ok\"]\n");
  EXPECT_FALSE(load_config(q, bad, errs));
  auto has = [&](int line, const std::string& part) {
    return std::any_of(errs.begin(), errs.end(), [&](const TemplateError& e) {
      return e.line == line && e.message.find(part) != std::string::npos;
    });
  };
  EXPECT_TRUE(has(2, "fetch.allow_private: allow_private entry '10.0.0.0/40'")) << errs.size();
  EXPECT_TRUE(has(5, "feeds.allow_private: expected an array"));
  EXPECT_TRUE(has(10, "allow_private entry 'not ok'"));
}

TEST(SystemdUnit, VerifiesWithSystemdAnalyze) {
  if (!std::filesystem::exists("/usr/bin/systemd-analyze")) GTEST_SKIP() << "systemd-analyze not installed";
  std::ifstream in(std::string(BAOTIN_SOURCE_DIR) + "/systemd/baotin.service");
  std::string unit((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_NE(unit.find("Type=notify"), std::string::npos);
  ASSERT_NE(unit.find("WatchdogSec="), std::string::npos);
  ASSERT_NE(unit.find("ProtectSystem=strict"), std::string::npos);
  // Point ExecStart at the binary just built so that verify can check it exists.
  const std::string from = "/usr/local/bin/baotin";
  auto pos = unit.find(from);
  ASSERT_NE(pos, std::string::npos);
  unit.replace(pos, from.size(), BAOTIN_BINARY);
  auto dir = std::filesystem::temp_directory_path() / ("baotin-unit-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "baotin.service") << unit;
  std::string cmd = "systemd-analyze verify " + (dir / "baotin.service").string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_TRUE(p);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  int st = pclose(p);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(st, 0) << out;
  EXPECT_EQ(out.find("baotin.service:"), std::string::npos) << out;  // no warnings about our unit
}

// Every operator-given number is range-checked on its full 64-bit / floating value, with file:line.
TEST(Config, ValuesOutOfRangeAreErrorsWithLines) {
  struct Case {
    std::string toml, message;
  } cases[] = {
      {"[daemon]\nworkers = 9223372036854775807\n", "daemon.workers: 9223372036854775807 is out of range [1, 256]"},
      {"[daemon]\nworkers = 5000\n", "daemon.workers: 5000 is out of range"},
      {"[daemon]\nworkers = 0\n", "daemon.workers: 0 is out of range"},
      {"[poll]\nmin_interval_s = nan\n", "poll.min_interval_s: must be a finite number"},
      {"[poll]\nmin_interval_s = inf\n", "poll.min_interval_s: must be a finite number"},
      {"[poll]\nmax_backoff_s = -inf\n", "poll.max_backoff_s: must be a finite number"},
      {"[poll]\nmin_interval_s = 0.001\n", "poll.min_interval_s: 0.001 is out of range"},
      {"[poll]\narticle_retries = 1000\n", "poll.article_retries: 1000 is out of range"},
      {"[poll]\nmax_new_per_poll = 0\n", "poll.max_new_per_poll: 0 is out of range"},
      {"[fetch]\nmax_in_flight = -1\n", "fetch.max_in_flight: -1 is out of range"},
      {"[fetch]\nmax_body_bytes = 99999999999999\n", "fetch.max_body_bytes: 99999999999999 is out of range"},
      {"[fetch]\nconnect_timeout_ms = 0\n", "fetch.connect_timeout_ms: 0 is out of range"},
      {"[fetch]\nper_host_min_delay_s = nan\n", "fetch.per_host_min_delay_s: must be a finite number"},
      {"[fetch]\nuser_agent = \"x\\r\\nX-Injected: yes\"\n", "fetch.user_agent: contains a control character"},
      {"[fetch]\nuser_agent = \"\"\n", "fetch.user_agent: must not be empty"},
      {"[daemon]\nmetrics_listen = \"127.0.0.1:abc\"\n", "daemon.metrics_listen: port 'abc' is not a number"},
      {"[daemon]\nmetrics_listen = \"127.0.0.1:70000\"\n", "daemon.metrics_listen: port 70000 is not in 1-65535"},
      {"[daemon]\nmetrics_listen = \"127.0.0.1\"\n", "daemon.metrics_listen: '127.0.0.1': expected host:port"},
      {"[daemon]\nmetrics_listen = \"metrics.example:9464\"\n", "is not an IPv4 address"},
      {"[daemon]\nmetrics_listen = \"0.0.0.0:9464\"\n", "needs metrics_allow_remote = true"},
      {"[host_min_delay]\n\"a.vn\" = nan\n", "host_min_delay.a.vn: must be a finite number"},
      {"[host_min_delay]\n\"a.vn\" = 1e9\n", "host_min_delay.a.vn: 1e+09 is out of range"},
  };
  for (const auto& c : cases) {
    Config cfg;
    std::vector<TemplateError> errs;
    EXPECT_FALSE(load_config(write_tmp("baotin-cfg-range.toml", c.toml), cfg, errs)) << c.toml;
    ASSERT_FALSE(errs.empty()) << c.toml;
    EXPECT_EQ(errs[0].line, 2) << c.toml;
    EXPECT_NE(errs[0].message.find(c.message), std::string::npos) << c.toml << " -> " << errs[0].message;
  }
}

TEST(Config, ValidLimitsAndRemoteMetricsOptIn) {
  Config cfg;
  std::vector<TemplateError> errs;
  ASSERT_TRUE(load_config(write_tmp("baotin-cfg-ok.toml",
                                    "[daemon]\nworkers = 256\nmetrics_listen = \"0.0.0.0:9464\"\nmetrics_allow_remote = true\n"
                                    "[poll]\nmin_interval_s = 60\nmax_new_per_poll = 50\nmax_queued_articles = 1000\n"
                                    "max_retry_after_s = 30\n[fetch]\nuser_agent = \"baotin/1 (+mailto:ops@example.vn)\"\n"
                                    "[host_min_delay]\n\"a.vn\" = 2.5\n"),
                          cfg, errs))
      << (errs.empty() ? "" : errs[0].str());
  EXPECT_EQ(cfg.workers, 256);
  EXPECT_EQ(cfg.max_new_per_poll, 50);
  EXPECT_EQ(cfg.max_queued_articles, 1000);
  EXPECT_DOUBLE_EQ(cfg.max_retry_after_s, 30);
  EXPECT_DOUBLE_EQ(cfg.fetch.host_min_delay["a.vn"], 2.5);
  ASSERT_TRUE(load_config(write_tmp("baotin-cfg-ok6.toml", "[daemon]\nmetrics_listen = \"[::1]:9464\"\n"), cfg, errs));
  ASSERT_TRUE(load_config(write_tmp("baotin-cfg-okl.toml", "[daemon]\nmetrics_listen = \"localhost:9464\"\n"), cfg, errs));
}

TEST(Config, FeedUrlsAndBackoffAreChecked) {
  struct Case {
    std::string toml, message;
  } cases[] = {
      {"[[feeds]]\nurl = \"http:///rss\"\n", "feeds.url: not a valid URL"},
      {"[[feeds]]\nurl = \"http://a.vn/rss x\"\n", "feeds.url: not a valid URL"},
      {"[[feeds]]\nurl = \"http://a.vn/rss\\r\\nX: y\"\n", "feeds.url: not a valid URL"},
      {"[[feeds]]\nurl = \"http://a.vn/" + std::string(9000, 'a') + "\"\n", "feeds.url: not a valid URL"},
      {"[poll]\nmin_interval_s = 600\nmax_backoff_s = 60\n", "poll.max_backoff_s must not be below poll.min_interval_s"},
  };
  for (const auto& c : cases) {
    Config cfg;
    std::vector<TemplateError> errs;
    EXPECT_FALSE(load_config(write_tmp("baotin-cfg-feedurl.toml", c.toml), cfg, errs)) << c.toml;
    ASSERT_FALSE(errs.empty()) << c.toml;
    EXPECT_NE(errs[0].message.find(c.message), std::string::npos) << errs[0].message;
  }
}

// SIGHUP reload (issue 11, item 3): every config key is named when it changes, and exactly the ones serve cannot
// apply while running are marked as needing a restart. One key changed at a time, from a file that sets
// nothing, so a key missing from changed_settings() fails here.
TEST(Config, ChangedSettingsNameEveryKeyAndTheRestartOnes) {
  struct Case {
    const char* toml;
    const char* name;
    bool restart;
  };
  const Case cases[] = {
      {"[daemon]\ndata_dir = \"/tmp/other\"\n", "daemon.data_dir", true},
      {"[daemon]\ntemplates_dir = \"/tmp/other-sites\"\n", "daemon.templates_dir", false},
      {"[daemon]\nworkers = 7\n", "daemon.workers", true},
      {"[daemon]\nmetrics_listen = \"127.0.0.1:9999\"\n", "daemon.metrics_listen", true},
      {"[daemon]\nmetrics_allow_remote = true\n", "daemon.metrics_allow_remote", true},
      {"[daemon]\nlog_level = \"debug\"\n", "daemon.log_level", false},
      {"[daemon]\nlog_format = \"json\"\n", "daemon.log_format", false},
      {"[daemon]\nstore_raw_html = false\n", "daemon.store_raw_html", false},
      {"[daemon]\nblock_cache_mb = 256\n", "daemon.block_cache_mb", true},
      {"[daemon]\nmemory_mb = 512\n", "daemon.memory_mb", true},
      {"[fetch]\nuser_agent = \"other/1.0\"\n", "fetch.user_agent", false},
      {"[fetch]\nmax_in_flight = 5\n", "fetch.max_in_flight", false},
      {"[fetch]\nper_host_concurrency = 5\n", "fetch.per_host_concurrency", false},
      {"[fetch]\nper_host_min_delay_s = 3.5\n", "fetch.per_host_min_delay_s", false},
      {"[fetch]\nconnect_timeout_ms = 1234\n", "fetch.connect_timeout_ms", false},
      {"[fetch]\ntotal_timeout_ms = 4321\n", "fetch.total_timeout_ms", false},
      {"[fetch]\nmax_body_bytes = 4096\n", "fetch.max_body_bytes", false},
      {"[fetch]\nmax_redirects = 2\n", "fetch.max_redirects", false},
      {"[fetch]\nrespect_robots = false\n", "fetch.respect_robots", false},
      {"[fetch]\nallow_private = [\"10.0.0.0/8\"]\n", "fetch.allow_private", false},
      {"[robots_override]\n\"a.example\" = true\n", "robots_override", false},
      {"[host_min_delay]\n\"a.example\" = 4\n", "host_min_delay", false},
      {"[poll]\nmin_interval_s = 60\n", "poll.min_interval_s", false},
      {"[poll]\nmax_interval_s = 7200\n", "poll.max_interval_s", false},
      {"[poll]\nmax_backoff_s = 7200\n", "poll.max_backoff_s", false},
      {"[poll]\narticle_retries = 2\n", "poll.article_retries", false},
      {"[poll]\nmax_new_per_poll = 7\n", "poll.max_new_per_poll", false},
      {"[poll]\nmax_queued_articles = 70\n", "poll.max_queued_articles", false},
      {"[poll]\nmax_retry_after_s = 70\n", "poll.max_retry_after_s", false},
      {"[revisit]\nafter = [\"2h\"]\n", "revisit.after", false},
      {"[revisit]\nper_tick = 3\n", "revisit.per_tick", false},
      {"[revisit]\nmax_in_flight = 3\n", "revisit.max_in_flight", false},
      {"[sites]\nenabled = [\"vnexpress\"]\n", "sites.enabled", false},
      {"[sites]\ntemplate_feeds = false\n", "sites.template_feeds", false},
      {"[[feeds]]\nurl = \"https://a.example/rss\"\n", "feeds", false},
  };
  Config base;
  std::vector<TemplateError> errs;
  ASSERT_TRUE(load_config(write_tmp("baotin-changed-base.toml", "# nothing set\n"), base, errs));
  EXPECT_TRUE(changed_settings(base, base).empty());
  for (const auto& c : cases) {
    Config next;
    errs.clear();
    ASSERT_TRUE(load_config(write_tmp("baotin-changed.toml", c.toml), next, errs))
        << c.toml << (errs.empty() ? "" : errs[0].str());
    auto ch = changed_settings(base, next);
    ASSERT_EQ(ch.size(), 1u) << c.toml;
    EXPECT_EQ(ch[0].name, c.name);
    EXPECT_EQ(ch[0].needs_restart, c.restart) << c.name;
  }
  // A feed's own options count as a change of the feed list.
  Config a, b;
  ASSERT_TRUE(load_config(write_tmp("baotin-changed-a.toml", "[[feeds]]\nurl = \"http://127.0.0.1:81/rss\"\n"), a, errs));
  ASSERT_TRUE(load_config(
      write_tmp("baotin-changed-b.toml", "[[feeds]]\nurl = \"http://127.0.0.1:81/rss\"\nallow_private = true\n"), b, errs));
  auto ch = changed_settings(a, b);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].name, "feeds");
}

TEST(Config, LogFormatIsTextOrJson) {
  Config cfg;
  std::vector<TemplateError> errs;
  ASSERT_TRUE(load_config(write_tmp("baotin-logfmt.toml", "[daemon]\nlog_format = \"json\"\n"), cfg, errs));
  EXPECT_EQ(cfg.log_format, "json");
  Config bad;
  EXPECT_FALSE(load_config(write_tmp("baotin-logfmt-bad.toml", "[daemon]\n\nlog_format = \"xml\"\n"), bad, errs));
  ASSERT_FALSE(errs.empty());
  EXPECT_EQ(errs.back().line, 3);
  EXPECT_NE(errs.back().message.find("log_format"), std::string::npos) << errs.back().message;
}
