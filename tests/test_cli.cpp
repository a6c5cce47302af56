// The baotin executable end to end: `serve` against a local site, `export` while it runs (secondary
// instance), SIGTERM drains and exits 0, then `check`, `extract`, `feeds`, `verify`, `diff`.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include <rocksdb/db.h>
#include <rocksdb/metadata.h>

#include "e2e_server.h"
#include "store/store.h"
#include "test_util.h"

using baotin::testing::NewsServer;
using baotin::testing::free_port;

namespace {

using Cmd = baotin::testing::CmdResult;

// Runs a command, capturing stdout (stderr goes to the test log).
Cmd run(const std::string& cmd) {
  return baotin::testing::run_command(cmd);
}

size_t count_lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

std::string quote(const std::string& s) { return "'" + s + "'"; }

}  // namespace

TEST(Cli, ServeExportSigtermAndTools) {
  NewsServer site;
  auto dir = std::filesystem::temp_directory_path() / ("baotin-cli-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "sites");
  std::filesystem::copy_file(std::string(BAOTIN_FIXTURES) + "/e2e/site.toml", dir / "sites" / "site.toml");
  // A dead feed next to the good one: the daemon must keep running.
  int dead_port = baotin::testing::free_port();
  int metrics_port = baotin::testing::free_port();
  std::ofstream(dir / "baotin.toml") << "[daemon]\ntemplates_dir = \"sites\"\nmetrics_listen = \"127.0.0.1:" +
                                            std::to_string(metrics_port) + "\"\nlog_level = \"info\"\n"
                                        "[fetch]\nper_host_min_delay_s = 0.0\ntotal_timeout_ms = 5000\n"
                                        "[poll]\nmin_interval_s = 1\nmax_interval_s = 2\n"
                                        // Loopback is opted in per feed (network policy); the dead feed's URL
                                        // carries a credential that must not show in logs, /status, `feeds`.
                                        "[[feeds]]\nurl = \"" + site.base() + "/rss.xml\"\nallow_private = true\n"
                                        "[[feeds]]\nurl = \"http://127.0.0.1:" + std::to_string(dead_port) +
                                            "/rss.xml?token=s3cr3t-tok&cat=1\"\nallow_private = [\"127.0.0.1\"]\n";
  const std::string bin = BAOTIN_BINARY;
  const std::string db = (dir / "data").string();

  // Before the daemon has run there is no store: --db would be an error (no baotin store at ...).
  Cmd check = run(bin + " check --config " + quote((dir / "baotin.toml").string()));
  EXPECT_EQ(check.status, 0) << check.out;
  EXPECT_NE(check.out.find("1 templates, 2 feeds"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("memory: budget 256 MiB = store 128 MiB"), std::string::npos) << check.out;

  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string log = (dir / "serve.log").string();
    freopen(log.c_str(), "w", stderr);
    execl(bin.c_str(), bin.c_str(), "serve", "--config", (dir / "baotin.toml").c_str(), "--data-dir", db.c_str(), nullptr);
    _exit(127);
  }
  struct KillOnExit {  // never leave a daemon behind when an assertion ends the test early
    pid_t pid;
    ~KillOnExit() {
      if (pid > 0 && waitpid(pid, nullptr, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
  } guard{pid};
  // Export (secondary instance) while serve holds the store, until the three articles are in.
  Cmd exp;
  for (int i = 0; i < 150; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (!std::filesystem::exists(std::filesystem::path(db) / "CURRENT")) continue;
    exp = run(bin + " export --db " + quote(db) + " --format jsonl 2>/dev/null");
    if (exp.status == 0 && count_lines(exp.out) >= 3) break;
  }
  EXPECT_EQ(count_lines(exp.out), 3u) << exp.out;
  EXPECT_NE(exp.out.find("Giá vàng giảm mạnh phiên đầu tuần"), std::string::npos);
  EXPECT_EQ(exp.out.find("Tin liên quan"), std::string::npos);
  // Let it poll again (min interval 1 s): nothing new appears.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  ASSERT_EQ(waitpid(pid, nullptr, WNOHANG), 0) << "daemon exited early";
  // Metrics and status on loopback.
  httplib::Client cli("127.0.0.1", metrics_port);
  auto m = cli.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("baotin_articles_total{outcome=\"new\"} 3"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("baotin_template_pages_total{template=\"site\"} 3"), std::string::npos);
  auto status = cli.Get("/status");
  ASSERT_TRUE(status);
  auto sj = nlohmann::json::parse(status->body);
  EXPECT_EQ(sj["feeds"].size(), 2u);
  EXPECT_EQ(status->body.find("s3cr3t-tok"), std::string::npos) << status->body;
  EXPECT_NE(status->body.find("token=REDACTED&cat=1"), std::string::npos) << status->body;
  // SIGHUP reloads config and templates; the daemon keeps its state and keeps running.
  kill(pid, SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  ASSERT_EQ(waitpid(pid, nullptr, WNOHANG), 0) << "daemon exited on SIGHUP";
  kill(pid, SIGTERM);
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "exit status " << st;
  std::ifstream logf(dir / "serve.log");
  std::string log((std::istreambuf_iterator<char>(logf)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("stopped cleanly"), std::string::npos) << log;
  EXPECT_NE(log.find("reload: 2 feeds, 1 templates"), std::string::npos) << log;
  EXPECT_NE(log.find("poll http://127.0.0.1:" + std::to_string(dead_port)), std::string::npos) << log;
  EXPECT_NE(log.find("connection failed"), std::string::npos) << log;  // the real cause, not "disallowed"
  EXPECT_EQ(log.find("s3cr3t-tok"), std::string::npos) << log;
  EXPECT_GE(site.feed_requests.load(), 2);

  Cmd after = run(bin + " export --db " + quote(db) + " --format jsonl");
  EXPECT_EQ(count_lines(after.out), 3u);
  Cmd csv = run(bin + " export --db " + quote(db) + " --format csv");
  EXPECT_EQ(csv.status, 0);
  EXPECT_NE(csv.out.find("title"), std::string::npos);
  Cmd feeds = run(bin + " feeds --db " + quote(db));
  EXPECT_NE(feeds.out.find("failing"), std::string::npos) << feeds.out;
  EXPECT_NE(feeds.out.find(site.base() + "/rss.xml"), std::string::npos);
  EXPECT_EQ(feeds.out.find("s3cr3t-tok"), std::string::npos) << feeds.out;
  EXPECT_NE(feeds.out.find("token=REDACTED"), std::string::npos) << feeds.out;
  // feeds --json: the entries of /status "feeds", field for field.
  Cmd feeds_json = run(bin + " feeds --json --db " + quote(db));
  EXPECT_EQ(feeds_json.status, 0);
  auto fj = nlohmann::json::parse(feeds_json.out);
  ASSERT_EQ(fj.size(), sj["feeds"].size()) << feeds_json.out;
  auto keys = [](const nlohmann::json& o) {
    std::vector<std::string> k;
    for (auto& [name, v] : o.items()) k.push_back(name);
    return k;
  };
  EXPECT_EQ(keys(fj[0]), keys(sj["feeds"][0]));
  EXPECT_EQ(feeds_json.out.find("s3cr3t-tok"), std::string::npos) << feeds_json.out;
  // Template health recorded by the daemon, now that the store exists.
  Cmd health = run(bin + " check --config " + quote((dir / "baotin.toml").string()) + " --db " + quote(db));
  EXPECT_EQ(health.status, 0) << health.out;
  EXPECT_NE(health.out.find("template health"), std::string::npos) << health.out;
  Cmd verify = run(bin + " verify --db " + quote(db));
  EXPECT_EQ(verify.status, 0) << verify.out;

  // The template author's tool.
  std::ofstream(dir / "page.html") << baotin::testing::article_html(baotin::testing::default_stories()[0], site.base());
  Cmd ex = run(bin + " extract --templates " + quote((dir / "sites").string()) + " --site site " +
               quote((dir / "page.html").string()));
  EXPECT_EQ(ex.status, 0);
  auto j = nlohmann::json::parse(ex.out);
  EXPECT_EQ(j["title"], "Mưa lớn gây ngập nhiều tuyến phố Hà Nội");
  EXPECT_EQ(j["extractor"], "template");

  // A broken template is reported with file:line and a non-zero exit.
  std::ofstream(dir / "sites" / "broken.toml") << "name = \"broken\"\nrevision = 1\nhosts = [\"b.vn\"]\n[fields]\ntitle = \"//h1[\"\nbody = \"//p\"\n";
  Cmd bad = run(bin + " check --config " + quote((dir / "baotin.toml").string()));
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.out.find("broken.toml:5: fields.title: invalid XPath"), std::string::npos) << bad.out;
  std::filesystem::remove_all(dir);
}

TEST(Cli, BackfillFromUrlsAndSitemap) {
  NewsServer site;
  auto dir = std::filesystem::temp_directory_path() / ("baotin-backfill-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "sites");
  std::filesystem::copy_file(std::string(BAOTIN_FIXTURES) + "/e2e/site.toml", dir / "sites" / "site.toml");
  std::ofstream(dir / "baotin.toml") << "[daemon]\ntemplates_dir = \"sites\"\nmetrics_listen = \"\"\n"
                                        "[fetch]\nper_host_min_delay_s = 0.0\n"
                                        "allow_private = [\"127.0.0.1\", \"localhost\"]\n";
  std::ofstream(dir / "urls.txt") << "# two stories and one that does not exist\n"
                                  << site.base() << "/bai/mua-lon-ha-noi-1001.html\n"
                                  << site.base() << "/bai/gia-vang-giam-1002.html?utm_source=x\n"
                                  << site.base() << "/bai/khong-co-9999.html\n";
  const std::string bin = BAOTIN_BINARY;
  const std::string cfg = quote((dir / "baotin.toml").string());
  const std::string db = quote((dir / "data").string());
  Cmd urls = run(bin + " backfill --config " + cfg + " --data-dir " + db + " --site site --urls " +
                 quote((dir / "urls.txt").string()) + " 2>&1");
  EXPECT_EQ(urls.status, 1) << urls.out;  // one URL failed (404) -> non-zero, the others stored
  EXPECT_NE(urls.out.find("FAILED"), std::string::npos) << urls.out;
  EXPECT_EQ(count_lines(run(bin + " export --db " + db + " 2>/dev/null").out), 2u);
  // Sitemap index -> urlset, filtered by date: only the 2025-01-27 story is in range; known URLs are skipped.
  Cmd sm = run(bin + " backfill --config " + cfg + " --data-dir " + db + " --site site --sitemap " + site.base() +
               "/sitemap.xml --from 2025-01-21 --to 2025-01-31 2>&1");
  EXPECT_EQ(sm.status, 0) << sm.out;
  EXPECT_NE(sm.out.find("0 URLs to fetch (1 already stored, 1 listed)"), std::string::npos) << sm.out;
  Cmd all = run(bin + " backfill --config " + cfg + " --data-dir " + db + " --site site --sitemap " + site.base() +
                "/sitemap.xml 2>&1");
  EXPECT_EQ(all.status, 0) << all.out;
  EXPECT_EQ(count_lines(run(bin + " export --db " + db + " 2>/dev/null").out), 3u);
  std::filesystem::remove_all(dir);
}

// A template with host_aliases (the outlet's former domain): backfilling the old-domain URLs of articles
// already stored from the current domain fetches nothing.
TEST(Cli, BackfillSkipsOldDomainUrlsOfStoredArticles) {
  NewsServer site;
  auto dir = std::filesystem::temp_directory_path() / ("baotin-backfill-alias-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "sites");
  std::string toml = baotin::testing::read_file(std::string(BAOTIN_FIXTURES) + "/e2e/site.toml");
  const std::string hosts_line = "hosts = [\"127.0.0.1\"]";
  ASSERT_NE(toml.find(hosts_line), std::string::npos);
  toml.replace(toml.find(hosts_line), hosts_line.size(),
               "hosts = [\"127.0.0.1\", \"localhost\"]\nhost_aliases = { \"localhost\" = \"127.0.0.1\" }");
  std::ofstream(dir / "sites" / "site.toml") << toml;
  std::ofstream(dir / "baotin.toml") << "[daemon]\ntemplates_dir = \"sites\"\nmetrics_listen = \"\"\n"
                                        "[fetch]\nper_host_min_delay_s = 0.0\n"
                                        "allow_private = [\"127.0.0.1\", \"localhost\"]\n";
  const std::string old_base = "http://localhost:" + std::to_string(site.port());
  std::ofstream(dir / "new.txt") << site.base() << "/bai/mua-lon-ha-noi-1001.html\n"
                                 << site.base() << "/bai/gia-vang-giam-1002.html\n";
  std::ofstream(dir / "old.txt") << old_base << "/bai/mua-lon-ha-noi-1001.html\n"
                                 << old_base << "/bai/gia-vang-giam-1002.html?utm_source=x\n"
                                 << old_base << "/bai/tet-nguyen-dan-1003.html\n";
  const std::string bin = BAOTIN_BINARY;
  const std::string cfg = quote((dir / "baotin.toml").string());
  const std::string db = quote((dir / "data").string());
  Cmd first = run(bin + " backfill --config " + cfg + " --data-dir " + db + " --site site --urls " +
                  quote((dir / "new.txt").string()) + " 2>&1");
  EXPECT_EQ(first.status, 0) << first.out;
  Cmd second = run(bin + " backfill --config " + cfg + " --data-dir " + db + " --site site --urls " +
                   quote((dir / "old.txt").string()) + " 2>&1");
  EXPECT_EQ(second.status, 0) << second.out;
  EXPECT_NE(second.out.find("1 URLs to fetch (2 already stored, 3 listed)"), std::string::npos) << second.out;
  EXPECT_EQ(site.requests_for("mua-lon-ha-noi-1001"), 1);
  EXPECT_EQ(site.requests_for("gia-vang-giam-1002"), 1);
  EXPECT_EQ(count_lines(run(bin + " export --db " + db + " 2>/dev/null").out), 3u);
  // `diff` by an old-domain URL that was never fetched: found through the template's host_aliases.
  const std::string old_url = quote(old_base + "/bai/gia-vang-giam-1002.html");
  Cmd by_alias = run(bin + " diff --db " + db + " --templates " + quote((dir / "sites").string()) + " " + old_url + " 2>&1");
  EXPECT_EQ(by_alias.status, 0) << by_alias.out;
  Cmd without = run(bin + " diff --db " + db + " --templates " + quote((dir / "none").string()) + " " + old_url + " 2>&1");
  EXPECT_EQ(without.status, 1) << without.out;
  EXPECT_NE(without.out.find("no article for URL"), std::string::npos) << without.out;
  std::filesystem::remove_all(dir);
}

TEST(Cli, UsageErrors) {  // more in test_cli_conventions
  const std::string bin = BAOTIN_BINARY;
  EXPECT_EQ(run(bin + " 2>/dev/null").status, 2);
  EXPECT_EQ(run(bin + " export --db /nonexistent/db 2>/dev/null").status, 2);
  EXPECT_EQ(run(bin + " serve --config /nonexistent.toml 2>/dev/null").status, 2);
}

TEST(Cli, NegativeExportCursorIsAUsageError) {
  const std::string bin = BAOTIN_BINARY;
  for (const char* bad : {"-1", "18446744073709551616x", "abc", "1.5"}) {
    Cmd r = run(bin + " export --db /nonexistent/db --since " + quote(bad) + " 2>&1");
    EXPECT_EQ(r.status, 2) << bad;
    EXPECT_NE(r.out.find("change-log cursor"), std::string::npos) << bad << ": " << r.out;
    EXPECT_EQ(r.out.find("18446744073709551615"), std::string::npos) << r.out;
  }
}

// Two daemons must not share a metrics port: the second refuses to start, saying why.
TEST(Cli, ServeRefusesAMetricsPortInUse) {
  auto dir = std::filesystem::temp_directory_path() / ("baotin-cli-port-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  int port = free_port();
  httplib::Server holder;
  ASSERT_TRUE(holder.bind_to_port("127.0.0.1", port));
  std::ofstream(dir / "baotin.toml") << "[daemon]\nmetrics_listen = \"127.0.0.1:" + std::to_string(port) +
                                            "\"\n[sites]\ntemplate_feeds = false\n";
  const std::string bin = BAOTIN_BINARY;
  Cmd r = run("timeout 20 " + bin + " serve --config " + quote((dir / "baotin.toml").string()) + " --data-dir " +
              quote((dir / "data").string()) + " 2>&1");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("cannot listen on 127.0.0.1:" + std::to_string(port)), std::string::npos) << r.out;
  std::filesystem::remove_all(dir);
}

// Storage faults through the binary (issue 14, item 6): a checksum error ends `export` with a message and exit
// status 1 (no abort); `verify` finds damaged SST blocks and a damaged WAL, and `verify --salvage-wal` recovers.
namespace {

baotin::Article fault_article(int n) {
  baotin::Article a;
  a.url = a.canonical_url = "https://cli-faults.test/bai-" + std::to_string(n) + ".html";
  a.site = "faults";
  a.title = "Bài số " + std::to_string(n) + " về thời tiết và giao thông";
  a.lead = "Tóm tắt " + std::to_string(n);
  a.body = {"Đoạn một của bài " + std::to_string(n) + " " + std::string(400, 'x'), "Đoạn hai " + std::to_string(n)};
  a.published = "2026-03-07T08:00:00+07:00";
  return a;
}

std::vector<std::string> family_files(const std::string& path, const std::string& family) {
  std::vector<std::string> names, out;
  rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const auto& n : names) descs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> hs;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, descs, &hs, &db).ok()) return out;
  std::vector<rocksdb::LiveFileMetaData> files;
  db->GetLiveFilesMetaData(&files);
  for (const auto& f : files)
    if (f.column_family_name == family) out.push_back(f.db_path + f.name);
  for (auto* h : hs) db->DestroyColumnFamilyHandle(h);
  delete db;
  return out;
}

void xor_bytes(const std::string& file, long at, size_t n) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  std::string buf(n, '\0');
  f.seekg(at);
  f.read(buf.data(), static_cast<std::streamsize>(n));
  for (auto& c : buf) c = static_cast<char>(c ^ 0x5A);
  f.seekp(at);
  f.write(buf.data(), static_cast<std::streamsize>(n));
}

}  // namespace

TEST(Cli, ExportAndVerifyReportStorageDamage) {
  baotin::testing::TempDir dir("baotin-cli-faults");
  const std::string db = (dir.path / "db").string();
  const std::string bin = BAOTIN_BINARY;
  {
    auto st = baotin::Store::open({db}, nullptr);
    ASSERT_TRUE(st);
    for (int i = 0; i < 30; ++i) st->put_article(fault_article(i), "");
  }
  EXPECT_EQ(run(bin + " verify --db " + quote(db)).status, 0);
  auto files = family_files(db, "versions");
  ASSERT_FALSE(files.empty());
  xor_bytes(files.front(), 40, 16);  // a data block of the version history

  // `--versions` reads the version history (a plain export reads the latest records, family `articles`).
  Cmd exp = run(bin + " export --db " + quote(db) + " --format jsonl --versions 2>&1");
  EXPECT_EQ(exp.status, 1) << exp.out;  // not an abort (-1)
  EXPECT_NE(exp.out.find("Corruption"), std::string::npos) << exp.out;
  Cmd ver = run(bin + " verify --db " + quote(db) + " 2>&1");
  EXPECT_EQ(ver.status, 1) << ver.out;
  EXPECT_NE(ver.out.find("PROBLEMS FOUND"), std::string::npos) << ver.out;
  EXPECT_NE(ver.out.find(std::filesystem::path(files.front()).filename().string()), std::string::npos) << ver.out;
  Cmd ver_json = run(bin + " verify --json --db " + quote(db));  // the same verdict and exit status as JSON
  EXPECT_EQ(ver_json.status, 1) << ver_json.out;
  auto vj = nlohmann::json::parse(ver_json.out);
  EXPECT_EQ(vj["consistent"], false);
  ASSERT_FALSE(vj["problems"].empty());
  EXPECT_NE(vj["problems"].dump().find(std::filesystem::path(files.front()).filename().string()), std::string::npos)
      << ver_json.out;
}

// Raw pages are in blob files (the default); RocksDB secondaries cannot read them (Debian's 7.8.3 crashed trying),
// so the read-only commands' secondary leaves the raw family out. With the "daemon" (a primary open in this
// process, holding the store's lock) running, every read-only command works and `verify` says that raw pages
// are checked only with the daemon stopped; stopped, `verify` reads them.
TEST(Cli, ReadOnlyCommandsBesideARunningDaemonWithBlobFiles) {
  baotin::testing::TempDir dir("baotin-cli-blobs");
  const std::string db = (dir.path / "db").string();
  const std::string bin = BAOTIN_BINARY;
  auto page = [](int n) {  // compressed well above the blob threshold (512 bytes)
    return "<html><body><p>" + baotin::testing::vn_words(n * 17 + 3, 2000) + "</p></body></html>";
  };
  {
    auto st = baotin::Store::open({db}, nullptr);
    ASSERT_TRUE(st);
    for (int i = 0; i < 10; ++i) st->put_article(fault_article(i), page(i));
  }  // flushed: the pages are in a blob file
  bool blob = false;
  for (const auto& e : std::filesystem::directory_iterator(db)) blob |= e.path().extension() == ".blob";
  ASSERT_TRUE(blob);
  auto st = baotin::Store::open({db}, nullptr);
  ASSERT_TRUE(st);
  baotin::Article v2 = fault_article(3);
  v2.title += " (cập nhật)";
  const auto r = st->put_article(v2, page(30));  // unflushed: WAL and memtable
  ASSERT_EQ(r.version, 2u);
  st->put_feed_state("https://cli-faults.test/rss", R"({"url":"https://cli-faults.test/rss"})");
  // (Store::in_use is false in this process: POSIX locks are per process; the commands below see the lock.)

  Cmd exp = run(bin + " export --db " + quote(db) + " --format jsonl");
  EXPECT_EQ(exp.status, 0) << exp.out;
  EXPECT_EQ(count_lines(exp.out), 10u) << exp.out;
  EXPECT_NE(exp.out.find("(cập nhật)"), std::string::npos) << exp.out;
  Cmd diff = run(bin + " diff --db " + quote(db) + " " + r.id);
  EXPECT_EQ(diff.status, 0) << diff.out;
  EXPECT_NE(diff.out.find("cập nhật"), std::string::npos) << diff.out;
  Cmd feeds = run(bin + " feeds --db " + quote(db));
  EXPECT_EQ(feeds.status, 0) << feeds.out;
  EXPECT_NE(feeds.out.find("cli-faults.test/rss"), std::string::npos) << feeds.out;
  const std::string note =
      "raw pages: checked only with the daemon stopped (RocksDB secondaries cannot read blob files)";
  Cmd ver = run(bin + " verify --db " + quote(db));
  EXPECT_EQ(ver.status, 0) << ver.out;
  EXPECT_NE(ver.out.find(note), std::string::npos) << ver.out;
  EXPECT_NE(ver.out.find("consistent"), std::string::npos) << ver.out;
  Cmd ver_json = run(bin + " verify --json --db " + quote(db));
  EXPECT_EQ(ver_json.status, 0) << ver_json.out;
  auto vj = nlohmann::json::parse(ver_json.out);
  EXPECT_EQ(vj["consistent"], true);
  EXPECT_EQ(vj["raw_pages_checked"], false);

  st.reset();  // the daemon stops
  Cmd stopped = run(bin + " verify --db " + quote(db));
  EXPECT_EQ(stopped.status, 0) << stopped.out;
  EXPECT_EQ(stopped.out.find(note), std::string::npos) << stopped.out;
  auto sj = nlohmann::json::parse(run(bin + " verify --json --db " + quote(db)).out);
  EXPECT_EQ(sj["raw_pages_checked"], true);
}

TEST(Cli, VerifyRefusesDamagedWalAndSalvages) {
  baotin::testing::TempDir dir("baotin-cli-wal");
  const std::string db = (dir.path / "db").string();
  const std::string bin = BAOTIN_BINARY;
  fflush(nullptr);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // fsynced writes, then SIGKILL: the records are in the WAL only
    auto st = baotin::Store::open({db}, nullptr);
    if (!st) _exit(3);
    for (int i = 0; i < 200; ++i) st->put_article(fault_article(i), "");
    raise(SIGKILL);
    _exit(4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  std::string wal;
  for (const auto& e : std::filesystem::directory_iterator(db))
    if (e.path().extension() == ".log" && (wal.empty() || e.file_size() > std::filesystem::file_size(wal)))
      wal = e.path().string();
  ASSERT_FALSE(wal.empty());
  xor_bytes(wal, static_cast<long>(std::filesystem::file_size(wal) / 2), 64);

  Cmd ver = run(bin + " verify --db " + quote(db) + " 2>&1");
  EXPECT_EQ(ver.status, 1) << ver.out;
  EXPECT_NE(ver.out.find(std::filesystem::path(wal).filename().string()), std::string::npos) << ver.out;
  EXPECT_NE(ver.out.find("--salvage-wal"), std::string::npos) << ver.out;
  Cmd salvage = run(bin + " verify --db " + quote(db) + " --salvage-wal 2>&1");
  EXPECT_EQ(salvage.status, 0) << salvage.out;
  EXPECT_NE(salvage.out.find("WAL salvage"), std::string::npos) << salvage.out;
  EXPECT_NE(salvage.out.find(std::filesystem::path(wal).filename().string() + ": dropping"), std::string::npos)
      << salvage.out;
  EXPECT_EQ(run(bin + " verify --db " + quote(db)).status, 0);
}

// Backfill with more URLs than max_queued_articles: it waits for room, it never drops a URL and says "done".
TEST(Cli, BackfillWaitsForQueueRoomInsteadOfDroppingUrls) {
  NewsServer site(baotin::testing::many_stories(9));
  auto dir = std::filesystem::temp_directory_path() / ("baotin-backfill-q-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "sites");
  std::filesystem::copy_file(std::string(BAOTIN_FIXTURES) + "/e2e/site.toml", dir / "sites" / "site.toml");
  std::ofstream(dir / "baotin.toml") << "[daemon]\ntemplates_dir = \"sites\"\nmetrics_listen = \"\"\n"
                                        "[fetch]\nper_host_min_delay_s = 0.0\nallow_private = [\"127.0.0.1\"]\n"
                                        "[poll]\nmax_queued_articles = 2\n";
  {
    std::ofstream urls(dir / "urls.txt");
    for (const auto& s : baotin::testing::many_stories(9)) urls << site.base() << "/bai/" << s.slug << ".html\n";
  }
  const std::string bin = BAOTIN_BINARY;
  const std::string db = quote((dir / "data").string());
  Cmd r = run(bin + " backfill --config " + quote((dir / "baotin.toml").string()) + " --data-dir " + db +
              " --site site --urls " + quote((dir / "urls.txt").string()) + " 2>&1");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("9 URLs to fetch"), std::string::npos) << r.out;
  EXPECT_EQ(count_lines(run(bin + " export --db " + db + " 2>/dev/null").out), 9u);
  std::filesystem::remove_all(dir);
}

// Under journald (JOURNAL_STREAM set) every line starts with its syslog priority, so `journalctl -p warning`
// can filter: <6> info, <4> warning, <3> error.
TEST(Cli, JournaldLinesCarryTheirPriority) {
  auto dir = std::filesystem::temp_directory_path() / ("baotin-cli-journal-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "baotin.toml") << "[daemon]\nmetrics_listen = \"\"\n[sites]\ntemplate_feeds = false\n";
  const std::string bin = BAOTIN_BINARY;
  Cmd r = run("JOURNAL_STREAM=8:12345 timeout -s TERM 2 " + bin + " serve --config " +
              quote((dir / "baotin.toml").string()) + " --data-dir " + quote((dir / "data").string()) + " 2>&1");
  EXPECT_NE(r.out.find("<6>info: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("<4>warning: no feeds configured"), std::string::npos) << r.out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      EXPECT_EQ(line[0], '<') << line;
    }
  }
  std::filesystem::remove_all(dir);
}
