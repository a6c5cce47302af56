// The command line's conventions (issue 11, item 1), through the real binary: exit codes (0 ok, 1 failure or
// problems, 2 usage or configuration error), unknown commands with a suggestion, `help` and -V, '-' for
// stdin/stdout, --json on feeds/check/verify, `extract --url` under serve's network policy, [sites] enabled
// judged alike by check and serve, and --db on a path without a store.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "daemon/poll_schedule.h"
#include "e2e_server.h"
#include "store/store.h"
#include "test_util.h"

namespace fs = std::filesystem;
using baotin::testing::NewsServer;
using baotin::testing::TempDir;

namespace {

const std::string kBin = BAOTIN_BINARY;

struct Cmd {
  int status = -1;
  std::string out, err;
};

std::string quote(const std::string& s) { return "'" + s + "'"; }

// Runs a shell command line; stdout and stderr are captured apart.
Cmd run(const std::string& cmd) {
  TempDir errdir("baotin-conv-err");
  const std::string errfile = (errdir.path / "stderr").string();
  auto o = baotin::testing::run_command("(" + cmd + ") 2>" + quote(errfile));
  Cmd r;
  r.status = o.status;
  r.out = std::move(o.out);
  r.err = baotin::testing::read_file(errfile);
  return r;
}

Cmd baotin_cmd(const std::string& args) { return run(kBin + " " + args); }

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// A directory with sites/site.toml (the e2e fixture site's template, hosts 127.0.0.1) and a config naming it.
struct Fixture {
  TempDir dir{"baotin-conv"};
  fs::path config = dir.path / "baotin.toml";
  fs::path sites = dir.path / "sites";
  Fixture() {
    fs::create_directories(sites);
    fs::copy_file(std::string(BAOTIN_FIXTURES) + "/e2e/site.toml", sites / "site.toml");
  }
  void write_config(const std::string& extra, const std::string& metrics_listen = "") const {
    std::ofstream(config) << "[daemon]\ntemplates_dir = \"sites\"\nmetrics_listen = \"" << metrics_listen
                          << "\"\ndata_dir = \"data\"\n" << extra;
  }
};

baotin::Article article(int n) {
  baotin::Article a;
  a.url = a.canonical_url = "https://cli-conventions.test/bai-" + std::to_string(n) + ".html";
  a.site = "conv";
  a.title = "Bài số " + std::to_string(n) + " về giao thông";
  a.lead = "Tóm tắt " + std::to_string(n);
  a.body = {"Đoạn một của bài " + std::to_string(n), "Đoạn hai " + std::to_string(n)};
  a.published = "2026-03-07T08:00:00+07:00";
  return a;
}

// Serve in the background, stderr to `log`; killed at scope exit if still running.
struct Daemon {
  pid_t pid = -1;
  fs::path log;
  Daemon(const fs::path& config, const fs::path& data, fs::path log_path) : log(std::move(log_path)) {
    fflush(nullptr);
    pid = fork();
    if (pid == 0) {
      if (!freopen(log.c_str(), "w", stderr)) _exit(127);
      execl(kBin.c_str(), kBin.c_str(), "serve", "--config", config.c_str(), "--data-dir", data.c_str(), nullptr);
      _exit(127);
    }
  }
  ~Daemon() {
    if (pid > 0 && waitpid(pid, nullptr, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  // Waits (up to a minute: a loaded machine) until `ready()` or the daemon has exited (false).
  bool wait_until(const std::function<bool()>& ready) {
    for (int i = 0; i < 600; ++i) {
      if (ready()) return true;
      if (waitpid(pid, nullptr, WNOHANG) != 0) {
        pid = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  // SIGTERM, then the exit status (-1 when it did not exit normally).
  int stop() {
    if (pid <= 0) return -1;
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    pid = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
};

}  // namespace

// --- 1. Exit codes, unknown commands, help, -V.

TEST(CliConventions, UsageErrorsExitTwo) {
  Cmd none = baotin_cmd("");
  EXPECT_EQ(none.status, 2) << none.err;
  Cmd bogus_opt = baotin_cmd("export --db /nonexistent --bogus");
  EXPECT_EQ(bogus_opt.status, 2) << bogus_opt.err;
  EXPECT_TRUE(contains(bogus_opt.err, "--bogus")) << bogus_opt.err;
  Cmd missing = baotin_cmd("export");
  EXPECT_EQ(missing.status, 2) << missing.err;
  EXPECT_TRUE(contains(missing.err, "--db")) << missing.err;
  Cmd bad_format = baotin_cmd("export --db /nonexistent --format xml");
  EXPECT_EQ(bad_format.status, 2) << bad_format.err;
  Cmd top_bogus = baotin_cmd("--frobnicate");
  EXPECT_EQ(top_bogus.status, 2) << top_bogus.err;
  Cmd no_config = baotin_cmd("serve --config /nonexistent/baotin.toml");
  EXPECT_EQ(no_config.status, 2) << no_config.err;
  Cmd stdin_config = baotin_cmd("check --config -");
  EXPECT_EQ(stdin_config.status, 2) << stdin_config.err;
  EXPECT_TRUE(contains(stdin_config.err, "not stdin")) << stdin_config.err;
  Cmd extract_nothing = baotin_cmd("extract");
  EXPECT_EQ(extract_nothing.status, 2) << extract_nothing.err;
  EXPECT_TRUE(contains(extract_nothing.err, "--url")) << extract_nothing.err;
  // --allow-private is for a fetch: with a saved page, or without --url, it is a usage error.
  Cmd allow_file = baotin_cmd("extract --url https://a.vn/x --allow-private 127.0.0.1 " + quote(BAOTIN_FIXTURES "/e2e/site.toml"));
  EXPECT_EQ(allow_file.status, 2) << allow_file.err;
  Cmd allow_bad = baotin_cmd("extract --url https://a.vn/x --allow-private 'not an address!'");
  EXPECT_EQ(allow_bad.status, 2) << allow_bad.err;
  EXPECT_TRUE(contains(allow_bad.err, "not an address!")) << allow_bad.err;
}

TEST(CliConventions, UnknownCommandSuggestsTheNearest) {
  Cmd serv = baotin_cmd("serv --config x.toml");
  EXPECT_EQ(serv.status, 2);
  EXPECT_TRUE(contains(serv.err, "unknown command 'serv'; did you mean 'serve'?")) << serv.err;
  EXPECT_EQ(serv.out, "");
  Cmd exprot = baotin_cmd("exprot --db x");  // a transposition
  EXPECT_EQ(exprot.status, 2);
  EXPECT_TRUE(contains(exprot.err, "unknown command 'exprot'; did you mean 'export'?")) << exprot.err;
  Cmd parse = baotin_cmd("parsefeed x.xml");
  EXPECT_TRUE(contains(parse.err, "did you mean 'parse-feed'?")) << parse.err;
  // Nothing close: no suggestion, the list of commands.
  Cmd far = baotin_cmd("frobnicate");
  EXPECT_EQ(far.status, 2);
  EXPECT_TRUE(contains(far.err, "unknown command 'frobnicate'")) << far.err;
  EXPECT_FALSE(contains(far.err, "did you mean")) << far.err;
  EXPECT_TRUE(contains(far.err, "serve, backfill, reprocess, jobs, export")) << far.err;
  Cmd help_serv = baotin_cmd("help serv");
  EXPECT_EQ(help_serv.status, 2);
  EXPECT_TRUE(contains(help_serv.err, "did you mean 'serve'?")) << help_serv.err;
}

TEST(CliConventions, HelpAndVersionExitZero) {
  Cmd help = baotin_cmd("--help");
  EXPECT_EQ(help.status, 0);
  for (const char* c : {"serve", "backfill", "export", "extract", "check", "parse-feed", "diff", "feeds", "verify", "help"})
    EXPECT_TRUE(contains(help.out, c)) << c << "\n" << help.out;
  Cmd help_cmd = baotin_cmd("help");
  EXPECT_EQ(help_cmd.status, 0) << help_cmd.err;
  EXPECT_EQ(help_cmd.out, help.out);
  Cmd help_extract = baotin_cmd("help extract");
  EXPECT_EQ(help_extract.status, 0) << help_extract.err;
  EXPECT_TRUE(contains(help_extract.out, "baotin extract")) << help_extract.out;
  EXPECT_TRUE(contains(help_extract.out, "--allow-private")) << help_extract.out;
  EXPECT_EQ(help_extract.out, baotin_cmd("extract --help").out);
  Cmd version = baotin_cmd("--version");
  EXPECT_EQ(version.status, 0);
  EXPECT_TRUE(contains(version.out, "baotin 0.1.0")) << version.out;
  Cmd v = baotin_cmd("-V");
  EXPECT_EQ(v.status, 0);
  EXPECT_EQ(v.out, version.out);
}

// --- 2. '-' is stdin / stdout.

TEST(CliConventions, DashIsStdinAndStdout) {
  Fixture s;
  NewsServer site;
  const fs::path page = s.dir.path / "page.html";
  std::ofstream(page) << baotin::testing::article_html(baotin::testing::default_stories()[0], site.base());
  const std::string tpl = " --templates " + quote(s.sites.string()) + " --site site";
  Cmd from_file = baotin_cmd("extract" + tpl + " " + quote(page.string()));
  Cmd from_stdin = baotin_cmd("extract" + tpl + " - < " + quote(page.string()));
  EXPECT_EQ(from_stdin.status, 0) << from_stdin.err;
  EXPECT_EQ(from_stdin.out, from_file.out);
  EXPECT_EQ(nlohmann::json::parse(from_stdin.out)["title"], "Mưa lớn gây ngập nhiều tuyến phố Hà Nội");

  const fs::path feed = s.dir.path / "rss.xml";
  std::ofstream(feed) << site.feed_xml();
  Cmd feed_file = baotin_cmd("parse-feed " + quote(feed.string()));
  Cmd feed_stdin = baotin_cmd("parse-feed - < " + quote(feed.string()));
  EXPECT_EQ(feed_stdin.status, 0) << feed_stdin.err;
  EXPECT_EQ(feed_stdin.out, feed_file.out);
  EXPECT_TRUE(contains(feed_stdin.out, "Giá vàng giảm mạnh phiên đầu tuần"));

  const std::string db = (s.dir.path / "db").string();
  {
    auto st = baotin::Store::open({db}, nullptr);
    ASSERT_TRUE(st);
    for (int i = 0; i < 3; ++i) st->put_article(article(i), "");
  }
  // --out - is stdout, not a file named "-" (run from the temp dir to see).
  Cmd to_stdout = run("cd " + quote(s.dir.path.string()) + " && " + kBin + " export --db " + quote(db) + " --out -");
  EXPECT_EQ(to_stdout.status, 0) << to_stdout.err;
  EXPECT_EQ(to_stdout.out, baotin_cmd("export --db " + quote(db)).out);
  EXPECT_TRUE(contains(to_stdout.out, "Bài số 2 về giao thông"));
  EXPECT_FALSE(fs::exists(s.dir.path / "-"));
  Cmd csv = baotin_cmd("export --db " + quote(db) + " --format csv -o -");
  EXPECT_EQ(csv.status, 0);
  EXPECT_TRUE(contains(csv.out, "title"));

  // backfill --urls -: the URL list from stdin.
  s.write_config("[fetch]\nper_host_min_delay_s = 0.0\nallow_private = [\"127.0.0.1\"]\n");
  const std::string bdb = (s.dir.path / "backfill").string();
  Cmd bf = run("printf '%s\\n' " + quote(site.base() + "/bai/gia-vang-giam-1002.html") + " | " + kBin +
               " backfill --config " + quote(s.config.string()) + " --data-dir " + quote(bdb) + " --site site --urls -");
  EXPECT_EQ(bf.status, 0) << bf.err;
  EXPECT_EQ(site.requests_for("gia-vang-giam-1002"), 1);
  Cmd stored = baotin_cmd("export --db " + quote(bdb));
  EXPECT_TRUE(contains(stored.out, "Giá vàng giảm mạnh phiên đầu tuần")) << stored.out;
}

// --- 3. --json on feeds, check, verify: one document on stdout; exit codes as without it.

TEST(CliConventions, FeedsJson) {
  TempDir dir("baotin-conv-feeds");
  const std::string db = (dir.path / "db").string();
  {
    auto st = baotin::Store::open({db}, nullptr);
    ASSERT_TRUE(st);
    baotin::FeedState ok;
    ok.url = "https://a.vn/rss.xml";
    ok.next_poll = 1767225600;  // 2026-01-01T00:00:00Z
    ok.interval_s = 300;
    ok.last_success = ok.last_poll = 1767225000;
    ok.polls = 4;
    baotin::FeedState failing;
    failing.url = "https://b.vn/rss.xml?token=s3cr3t&cat=1";
    failing.consecutive_failures = 2;
    failing.last_error = "HTTP 503 from https://b.vn/rss.xml?token=s3cr3t&cat=1";
    failing.last_status = 503;
    st->put_feed_state(ok.url, baotin::to_json(ok).dump());
    st->put_feed_state(failing.url, baotin::to_json(failing).dump());
    st->put_feed_state("https://c.vn/rss.xml", "{not json");
  }
  Cmd r = baotin_cmd("feeds --json --db " + quote(db));
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);  // exactly one document
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 3u) << r.out;
  std::map<std::string, nlohmann::json> by_url;
  for (const auto& f : j) by_url[f["url"]] = f;
  const auto& ok = by_url["https://a.vn/rss.xml"];
  EXPECT_EQ(ok["state"], "ok");
  EXPECT_EQ(ok["next_poll"], 1767225600);
  EXPECT_EQ(ok["next_poll_iso"], "2026-01-01T07:00:00+07:00");
  EXPECT_EQ(ok["interval_s"], 300.0);
  EXPECT_EQ(ok["polls"], 4);
  const auto& failing = by_url["https://b.vn/rss.xml?token=REDACTED&cat=1"];
  EXPECT_EQ(failing["state"], "failing");
  EXPECT_EQ(failing["consecutive_failures"], 2);
  EXPECT_EQ(failing["last_status"], 503);
  EXPECT_FALSE(contains(r.out, "s3cr3t")) << r.out;
  const auto& bad = by_url["https://c.vn/rss.xml"];
  EXPECT_EQ(bad["state"], "unreadable");
  EXPECT_TRUE(contains(bad["last_error"].get<std::string>(), "unreadable state")) << bad;
  // The same keys for every entry (a stable shape).
  std::set<std::string> keys, bad_keys;
  for (auto& [k, v] : ok.items()) keys.insert(k);
  for (auto& [k, v] : bad.items()) bad_keys.insert(k);
  EXPECT_EQ(keys, bad_keys);
  // The text listing is unchanged.
  Cmd text = baotin_cmd("feeds --db " + quote(db));
  EXPECT_EQ(text.status, 0);
  EXPECT_TRUE(contains(text.out, "failing")) << text.out;
  EXPECT_THROW((void)nlohmann::json::parse(text.out), nlohmann::json::exception);
}

TEST(CliConventions, CheckJson) {
  Fixture s;
  s.write_config("[[feeds]]\nurl = \"https://a.vn/rss.xml\"\n");
  Cmd good = baotin_cmd("check --json --config " + quote(s.config.string()));
  EXPECT_EQ(good.status, 0) << good.out << good.err;
  auto g = nlohmann::json::parse(good.out);
  EXPECT_EQ(g["ok"], true);
  EXPECT_EQ(g["config"]["ok"], true);
  EXPECT_EQ(g["config"]["path"], s.config.string());
  EXPECT_TRUE(g["config"]["errors"].empty());
  ASSERT_EQ(g["templates"]["loaded"].size(), 1u);
  EXPECT_EQ(g["templates"]["loaded"][0]["name"], "site");
  EXPECT_EQ(g["templates"]["loaded"][0]["hosts"][0], "127.0.0.1");
  EXPECT_TRUE(g["templates"]["errors"].empty());
  EXPECT_EQ(g["feeds"], 1);
  EXPECT_TRUE(g["health"].is_null());  // no store at data_dir yet
  EXPECT_FALSE(fs::exists(s.dir.path / "data"));

  // A template that does not load: exit 1 (serve runs without it), reported with file and line.
  std::ofstream(s.sites / "broken.toml") << "name = \"broken\"\nrevision = 1\nhosts = [\"b.vn\"]\n[fields]\n"
                                            "title = \"//h1[\"\nbody = \"//p\"\n";
  Cmd broken = baotin_cmd("check --json --config " + quote(s.config.string()));
  EXPECT_EQ(broken.status, 1) << broken.out;
  auto b = nlohmann::json::parse(broken.out);
  EXPECT_EQ(b["ok"], false);
  EXPECT_EQ(b["config"]["ok"], true);
  ASSERT_EQ(b["templates"]["errors"].size(), 1u) << broken.out;
  EXPECT_EQ(b["templates"]["errors"][0]["file"], (s.sites / "broken.toml").string());
  EXPECT_EQ(b["templates"]["errors"][0]["line"], 5);
  EXPECT_EQ(baotin_cmd("check --config " + quote(s.config.string())).status, 1);
  fs::remove(s.sites / "broken.toml");

  // An invalid config: exit 2, as serve's.
  s.write_config("[poll]\nmin_interval_s = \"often\"\n");
  Cmd invalid = baotin_cmd("check --json --config " + quote(s.config.string()));
  EXPECT_EQ(invalid.status, 2) << invalid.out;
  auto i = nlohmann::json::parse(invalid.out);
  EXPECT_EQ(i["config"]["ok"], false);
  ASSERT_EQ(i["config"]["errors"].size(), 1u);
  EXPECT_EQ(i["config"]["errors"][0]["line"], 6);
  EXPECT_TRUE(contains(i["config"]["errors"][0]["message"].get<std::string>(), "poll.min_interval_s"));

  // Template health from a store.
  s.write_config("");
  const std::string db = (s.dir.path / "db").string();
  {
    auto st = baotin::Store::open({db}, nullptr);
    ASSERT_TRUE(st);
    st->put_meta("template_health", R"({"site": {"pages": 20, "empty_body": 15, "degraded": true}})");
  }
  Cmd health = baotin_cmd("check --json --config " + quote(s.config.string()) + " --db " + quote(db));
  EXPECT_EQ(health.status, 1) << health.out;
  auto h = nlohmann::json::parse(health.out);
  EXPECT_EQ(h["health"]["db"], db);
  EXPECT_EQ(h["health"]["templates"]["site"]["pages"], 20);
  EXPECT_EQ(h["degraded"], nlohmann::json::array({"site"}));
}

TEST(CliConventions, VerifyJson) {
  TempDir dir("baotin-conv-verify");
  const std::string db = (dir.path / "db").string();
  {
    auto st = baotin::Store::open({db}, nullptr);
    ASSERT_TRUE(st);
    for (int i = 0; i < 5; ++i) st->put_article(article(i), "");
  }
  Cmd r = baotin_cmd("verify --json --db " + quote(db));
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["db"], db);
  EXPECT_EQ(j["consistent"], true);
  EXPECT_TRUE(j["problems"].is_array() && j["problems"].empty());
  EXPECT_GT(j["last_seq"].get<uint64_t>(), 0u);
  EXPECT_EQ(j["salvaged_wal"], false);
  EXPECT_EQ(j["raw_pages_checked"], true);  // no daemon: a read-only open reads raw pages
  // A store that does not open (its CURRENT names a missing manifest): exit 1, the problem in the document.
  std::ofstream(fs::path(db) / "CURRENT", std::ios::trunc) << "MANIFEST-999999\n";
  Cmd broken = baotin_cmd("verify --json --db " + quote(db));
  EXPECT_EQ(broken.status, 1) << broken.out;
  auto b = nlohmann::json::parse(broken.out);
  EXPECT_EQ(b["consistent"], false);
  EXPECT_TRUE(b["last_seq"].is_null());
  ASSERT_EQ(b["problems"].size(), 1u);
  EXPECT_TRUE(contains(b["problems"][0].get<std::string>(), "cannot open")) << broken.out;
  Cmd text = baotin_cmd("verify --db " + quote(db));
  EXPECT_EQ(text.status, 1);
  EXPECT_TRUE(contains(text.out, "PROBLEMS FOUND (cannot open)")) << text.out;
}

// --- 4. extract --url fetches one page under serve's network policy.

TEST(CliConventions, ExtractUrlFetchesUnderTheNetworkPolicy) {
  Fixture s;
  auto stories = baotin::testing::default_stories();
  stories.push_back({"bai-rat-dai-1004", "Một bài rất dài", "Tóm tắt bài dài.", "2025-01-20T08:15:00+07:00",
                     {std::string(4000, 'a'), std::string(4000, 'b')}});
  NewsServer site(stories);
  const std::string url = site.base() + "/bai/mua-lon-ha-noi-1001.html";
  const std::string tpl = " --templates " + quote(s.sites.string());

  // Loopback without an opt-in: refused before any request, exit 1, a clear message.
  Cmd refused = baotin_cmd("extract" + tpl + " --url " + quote(url));
  EXPECT_EQ(refused.status, 1) << refused.err;
  EXPECT_TRUE(contains(refused.err, "not fetched")) << refused.err;
  EXPECT_TRUE(contains(refused.err, "loopback")) << refused.err;
  EXPECT_TRUE(contains(refused.err, "--allow-private")) << refused.err;
  EXPECT_EQ(refused.out, "");
  EXPECT_EQ(site.requests_for("mua-lon-ha-noi-1001"), 0);
  EXPECT_EQ(site.robots_requests.load(), 0);

  // Opted in: fetched (robots.txt first, as serve does) and extracted with the template of the URL's host.
  Cmd fetched = baotin_cmd("extract" + tpl + " --url " + quote(url) + " --allow-private 127.0.0.1");
  ASSERT_EQ(fetched.status, 0) << fetched.err;
  auto j = nlohmann::json::parse(fetched.out);
  EXPECT_EQ(j["title"], "Mưa lớn gây ngập nhiều tuyến phố Hà Nội");
  EXPECT_EQ(j["extractor"], "template");
  EXPECT_EQ(j["url"], url);
  EXPECT_EQ(site.requests_for("mua-lon-ha-noi-1001"), 1);
  EXPECT_GE(site.robots_requests.load(), 1);

  // robots.txt disallows /private/: not fetched.
  Cmd robots = baotin_cmd("extract" + tpl + " --url " + quote(site.base() + "/private/bai-1.html") +
                          " --allow-private 127.0.0.1");
  EXPECT_EQ(robots.status, 1) << robots.err;
  EXPECT_TRUE(contains(robots.err, "robots.txt")) << robots.err;

  // Not http(s): a usage error.
  Cmd scheme = baotin_cmd("extract --url file:///etc/passwd");
  EXPECT_EQ(scheme.status, 2) << scheme.err;
  EXPECT_TRUE(contains(scheme.err, "http(s)")) << scheme.err;

  // --config: its [fetch] settings (allow list, size limit) and templates_dir apply.
  s.write_config("[fetch]\nallow_private = [\"127.0.0.1\"]\nmax_body_bytes = 2048\n");
  Cmd by_config = baotin_cmd("extract --config " + quote(s.config.string()) + " --url " + quote(url));
  EXPECT_EQ(by_config.status, 0) << by_config.err;
  EXPECT_EQ(nlohmann::json::parse(by_config.out)["extractor"], "template");
  Cmd big = baotin_cmd("extract --config " + quote(s.config.string()) + " --url " +
                       quote(site.base() + "/bai/bai-rat-dai-1004.html"));
  EXPECT_TRUE(contains(big.err, "larger than the fetch limit")) << big.err;
  auto bj = nlohmann::json::parse(big.out);
  EXPECT_EQ(bj["partial"], true);
  EXPECT_FALSE(contains(big.out, std::string(4000, 'b')));

  // The daemon's own metrics endpoint is never fetched, whatever the allow list says (as in serve).
  s.write_config("[fetch]\nallow_private = [\"127.0.0.1\"]\n", "127.0.0.1:" + std::to_string(site.port()));
  const int before = site.requests_for("gia-vang-giam-1002");
  Cmd own = baotin_cmd("extract --config " + quote(s.config.string()) + " --url " +
                       quote(site.base() + "/bai/gia-vang-giam-1002.html"));
  EXPECT_EQ(own.status, 1) << own.err;
  EXPECT_TRUE(contains(own.err, "not fetched")) << own.err;
  EXPECT_EQ(site.requests_for("gia-vang-giam-1002"), before);

  // --url with a saved page: no fetch, the URL resolves links and picks the template.
  const fs::path page = s.dir.path / "page.html";
  std::ofstream(page) << baotin::testing::article_html(stories[2], site.base());
  Cmd saved = baotin_cmd("extract" + tpl + " --url " + quote(site.base() + "/bai/tet-nguyen-dan-1003.html") + " " +
                         quote(page.string()));
  EXPECT_EQ(saved.status, 0) << saved.err;
  EXPECT_EQ(nlohmann::json::parse(saved.out)["extractor"], "template");
  EXPECT_EQ(site.requests_for("tet-nguyen-dan-1003"), 0);
}

// --- 5. check and serve agree on template names the config refers to.

TEST(CliConventions, UnknownEnabledTemplateIsAnErrorForCheckAndServe) {
  Fixture s;
  s.write_config("[sites]\nenabled = [\n  \"site\",\n  \"nosuch\",\n]\n");
  Cmd check = baotin_cmd("check --config " + quote(s.config.string()));
  EXPECT_EQ(check.status, 2) << check.out;
  EXPECT_TRUE(contains(check.out, s.config.string() + ":8: sites.enabled: unknown template 'nosuch'")) << check.out;
  EXPECT_FALSE(contains(check.out, " ok")) << check.out;
  EXPECT_TRUE(contains(check.out, "INVALID")) << check.out;

  Cmd serve = run("timeout 60 " + kBin + " serve --config " + quote(s.config.string()) + " --data-dir " +
                  quote((s.dir.path / "data").string()));
  EXPECT_EQ(serve.status, 2) << serve.err;
  EXPECT_TRUE(contains(serve.err, s.config.string() + ":8: sites.enabled: unknown template 'nosuch'")) << serve.err;

  // [[feeds]] site likewise.
  s.write_config("[[feeds]]\nurl = \"https://a.vn/rss.xml\"\nsite = \"sitee\"\n");
  Cmd feed_site = baotin_cmd("check --config " + quote(s.config.string()));
  EXPECT_EQ(feed_site.status, 2) << feed_site.out;
  EXPECT_TRUE(contains(feed_site.out, s.config.string() + ":5: feeds.site: unknown template 'sitee'")) << feed_site.out;
}

TEST(CliConventions, EnabledTemplateThatFailsToLoadIsReportedButServeRuns) {
  Fixture s;
  std::ofstream(s.sites / "broken.toml") << "name = \"broken\"\nrevision = 1\nhosts = [\"b.vn\"]\n[fields]\n"
                                            "title = \"//h1[\"\nbody = \"//p\"\n";
  s.write_config("[sites]\nenabled = [\"site\", \"broken\"]\n");
  Cmd check = baotin_cmd("check --config " + quote(s.config.string()));
  EXPECT_EQ(check.status, 1) << check.out;
  EXPECT_TRUE(contains(check.out, "broken.toml:5: fields.title: invalid XPath")) << check.out;
  EXPECT_FALSE(contains(check.out, "unknown template")) << check.out;

  // Running: its metrics endpoint answers (it is opened after the startup checks).
  const int port = baotin::testing::free_port();
  s.write_config("[sites]\nenabled = [\"site\", \"broken\"]\n", "127.0.0.1:" + std::to_string(port));
  Daemon d(s.config, s.dir.path / "data", s.dir.path / "serve.log");
  ASSERT_TRUE(d.wait_until([&] {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Get("/metrics");
    return r && r->status == 200;
  })) << baotin::testing::read_file(d.log);
  EXPECT_EQ(d.stop(), 0);
  std::string log = baotin::testing::read_file(d.log);
  EXPECT_TRUE(contains(log, "broken.toml:5: fields.title: invalid XPath")) << log;
  EXPECT_FALSE(contains(log, "unknown template")) << log;
}

// --- 6. --db on a path without a store: said so, exit 2, nothing created.

TEST(CliConventions, MissingStoreIsSaidAndNeverCreated) {
  Fixture s;
  s.write_config("");
  const fs::path missing = s.dir.path / "nostore";
  const fs::path empty = s.dir.path / "empty";
  fs::create_directories(empty);
  for (const fs::path& p : {missing, empty}) {
    const std::string db = quote(p.string());
    for (const std::string& args : std::vector<std::string>{"check --config " + quote(s.config.string()) + " --db " + db, "feeds --db " + db, "feeds --json --db " + db,
          "verify --db " + db, "verify --json --db " + db, "verify --salvage-wal --db " + db, "export --db " + db,
          "export --db " + db + " --out " + quote((s.dir.path / "out.jsonl").string()), "diff --db " + db + " abc"}) {
      Cmd r = baotin_cmd(args);
      EXPECT_EQ(r.status, 2) << args << "\n" << r.err;
      EXPECT_TRUE(contains(r.err, "no baotin store at " + p.string())) << args << "\n" << r.err;
      EXPECT_EQ(r.out, "") << args;
    }
    EXPECT_FALSE(fs::exists(s.dir.path / "out.jsonl"));
  }
  EXPECT_FALSE(fs::exists(missing));
  EXPECT_TRUE(fs::is_empty(empty));
  // Without --db, check looks at the config's data_dir only when a store is there; nothing is created.
  Cmd check = baotin_cmd("check --config " + quote(s.config.string()));
  EXPECT_EQ(check.status, 0) << check.out;
  EXPECT_FALSE(fs::exists(s.dir.path / "data"));
}
