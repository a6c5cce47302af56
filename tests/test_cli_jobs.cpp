// One-shot jobs (issue 10, items 4 and 5): `baotin reprocess` re-extracts stored raw pages after a template change
// and writes versions (reason "reprocess") only for records whose extraction changed, resumably; `backfill` and
// `reprocess` run while `serve` holds the store, handed over on its control socket, and a job the daemon was
// running when it was SIGKILLed completes after a restart. Real RocksDB, real daemon, loopback sites.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "daemon/jobs.h"
#include "daemon/reprocess.h"
#include "e2e_server.h"
#include "extract/template.h"
#include "serve_process.h"
#include "store/store.h"
#include "test_util.h"

using baotin::testing::NewsServer;
using baotin::testing::ServeProcess;
using baotin::testing::Story;

namespace {

using Cmd = baotin::testing::CmdResult;
Cmd run(const std::string& cmd) { return baotin::testing::run_command(cmd); }
std::string quote(const std::string& s) { return "'" + s + "'"; }

std::vector<nlohmann::json> jsonl(const std::string& s) {
  std::vector<nlohmann::json> v;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) v.push_back(nlohmann::json::parse(line));
  return v;
}

// Stories of which one carries an advertisement inside a body paragraph: the fixed template removes it.
std::vector<Story> stories_with_ad() {
  auto v = baotin::testing::default_stories();
  v[1].paragraphs[0] += " <span class=\"ad\">QUẢNG CÁO: vay tiêu dùng lãi suất 0%</span>";
  return v;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The e2e template, with one more `remove` rule (the "fix") and a new revision.
void write_fixed_template(const std::filesystem::path& sites) {
  std::string t = read_file(std::string(BAOTIN_FIXTURES) + "/e2e/site.toml");
  const std::string from = "remove = [";
  const size_t at = t.find(from);
  ASSERT_NE(at, std::string::npos);
  t.replace(at, from.size(), "remove = [\"//span[@class='ad']\", ");
  const size_t rev = t.find("revision = 1");
  ASSERT_NE(rev, std::string::npos);
  t.replace(rev, 12, "revision = 2");
  std::ofstream(sites / "site.toml") << t;
}

struct Dir {
  std::filesystem::path path;
  explicit Dir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path / "sites");
    std::filesystem::copy_file(std::string(BAOTIN_FIXTURES) + "/e2e/site.toml", path / "sites" / "site.toml");
  }
  ~Dir() { std::filesystem::remove_all(path); }
  // The store under data/ (created if absent); *err says why it could not be opened.
  std::unique_ptr<baotin::Store> open_store(std::string* err) const {
    baotin::StoreOptions so;
    so.path = (path / "data").string();
    return baotin::Store::open(so, err);
  }
};

const std::string kBin = BAOTIN_BINARY;

}  // namespace

// In-process (no daemon): backfill three pages, fix the template, reprocess: only the page the fix changes gets a
// version 2, and it says reason "reprocess"; a second run changes nothing; --site/--template select.
TEST(Reprocess, NewVersionsOnlyForChangedRecords) {
  NewsServer site(stories_with_ad());
  Dir dir("baotin-reprocess");
  std::ofstream(dir.path / "baotin.toml") << "[daemon]\ntemplates_dir = \"sites\"\nmetrics_listen = \"\"\n"
                                             "[fetch]\nper_host_min_delay_s = 0.0\n"
                                             "allow_private = [\"127.0.0.1\"]\n";
  std::ofstream(dir.path / "urls.txt") << site.base() << "/bai/mua-lon-ha-noi-1001.html\n"
                                       << site.base() << "/bai/gia-vang-giam-1002.html\n"
                                       << site.base() << "/bai/tet-nguyen-dan-1003.html\n";
  const std::string cfg = quote((dir.path / "baotin.toml").string());
  const std::string db = quote((dir.path / "data").string());
  const std::string common = " --config " + cfg + " --data-dir " + db;
  Cmd bf = run(kBin + " backfill" + common + " --site site --urls " + quote((dir.path / "urls.txt").string()) + " 2>&1");
  ASSERT_EQ(bf.status, 0) << bf.out;
  auto before = jsonl(run(kBin + " export --db " + db + " 2>/dev/null").out);
  ASSERT_EQ(before.size(), 3u);
  for (const auto& r : before) {
    EXPECT_EQ(r["version"], 1);
    EXPECT_EQ(r["reason"], "fetch");
    EXPECT_EQ(r["content_type"], "text/html; charset=utf-8");
  }

  // Nothing changed yet: a reprocess with the same templates writes nothing.
  Cmd same = run(kBin + " reprocess" + common + " 2>&1");
  EXPECT_EQ(same.status, 0) << same.out;
  EXPECT_NE(same.out.find("3 selected: 0 changed, 3 unchanged"), std::string::npos) << same.out;

  write_fixed_template(dir.path / "sites");
  // A selection that matches nothing, and an unknown template (a usage error).
  Cmd none = run(kBin + " reprocess" + common + " --site other.example.vn 2>&1");
  EXPECT_EQ(none.status, 0) << none.out;
  EXPECT_NE(none.out.find("0 selected"), std::string::npos) << none.out;
  Cmd unknown = run(kBin + " reprocess" + common + " --template nope 2>&1");
  EXPECT_EQ(unknown.status, 2) << unknown.out;
  EXPECT_NE(unknown.out.find("no template named 'nope'"), std::string::npos) << unknown.out;

  Cmd fixed = run(kBin + " reprocess" + common + " --template site --since 2020-01-01 2>&1");
  EXPECT_EQ(fixed.status, 0) << fixed.out;
  EXPECT_NE(fixed.out.find("3 selected: 1 changed, 2 unchanged"), std::string::npos) << fixed.out;

  auto after = jsonl(run(kBin + " export --db " + db + " 2>/dev/null").out);
  ASSERT_EQ(after.size(), 3u);
  for (const auto& r : after) {
    const bool ad_page = r["url"].get<std::string>().find("gia-vang") != std::string::npos;
    EXPECT_EQ(r["version"], ad_page ? 2 : 1) << r.dump();
    if (!ad_page) continue;
    EXPECT_EQ(r["reason"], "reprocess");
    EXPECT_EQ(r["template"], "site@2");
    for (const auto& b : before)  // the page's provenance: when it was fetched, not when it was re-extracted
      if (b["url"] == r["url"]) EXPECT_EQ(r["fetched_at"], b["fetched_at"]);
    EXPECT_EQ(r.dump().find("QUẢNG CÁO"), std::string::npos) << r.dump();
    EXPECT_NE(r["body"][0].get<std::string>().find("Sáng nay"), std::string::npos);
  }
  // Both versions are kept; the change log has an "updated" event saying why.
  auto versions = jsonl(run(kBin + " export --db " + db + " --versions 2>/dev/null").out);
  EXPECT_EQ(versions.size(), 4u);
  Cmd again = run(kBin + " reprocess" + common + " 2>&1");
  EXPECT_NE(again.out.find("3 selected: 0 changed, 3 unchanged"), std::string::npos) << again.out;
  Cmd verify = run(kBin + " verify --db " + db + " 2>&1");
  EXPECT_EQ(verify.status, 0) << verify.out;
  std::string err;
  auto store = baotin::Store::open_readonly((dir.path / "data").string(), &err);
  ASSERT_TRUE(store) << err;
  int reprocess_events = 0;
  store->scan_changes(0, [&](const baotin::ChangeEvent& e) {
    if (e.reason == "reprocess") {
      ++reprocess_events;
      EXPECT_EQ(e.type, "updated");
      EXPECT_EQ(e.version, 2u);
    }
    return true;
  });
  EXPECT_EQ(reprocess_events, 1);
  for (const auto& r : after) EXPECT_TRUE(store->raw_html(r["id"], r["version"])) << "raw page of " << r["id"];
}

// Resumable: a run stopped after its first chunk continues from its cursor and counts every article once.
TEST(Reprocess, StoppedRunContinuesFromItsCursor) {
  Dir dir("baotin-reprocess-resume");
  std::string err;
  auto store = dir.open_store(&err);
  ASSERT_TRUE(store) << err;
  const auto stories = baotin::testing::many_stories(150);
  for (const auto& s : stories) {
    baotin::Article a;
    a.url = "http://127.0.0.1/bai/" + s.slug + ".html";
    a.site = "site";
    a.title = s.title + " (cũ)";  // what a broken template made of it
    a.body = s.paragraphs;
    a.fetched_at = "2025-01-20T09:00:00+07:00";
    store->put_article(a, baotin::testing::article_html(s, "http://127.0.0.1"));
  }
  baotin::TemplateRegistry templates;
  std::vector<baotin::TemplateError> errors;
  templates.load_dir((dir.path / "sites").string(), errors);
  ASSERT_TRUE(errors.empty());
  baotin::Config cfg;
  baotin::JobStore jobs(*store);
  baotin::Job job = jobs.create("reprocess", baotin::ReprocessSpec{}.to_json(), "cli");
  std::atomic<bool> stop{false};
  int checkpoints = 0;
  EXPECT_FALSE(baotin::run_reprocess(*store, templates, cfg, job, stop, [&](baotin::Job& j) {
    jobs.save(j);
    if (++checkpoints == 1) stop = true;  // Ctrl-C after the first chunk
  }));
  EXPECT_FALSE(job.cursor.empty());
  const uint64_t first = job.progress["scanned"];
  EXPECT_GT(first, 0u);
  EXPECT_LT(first, 150u);
  // The persisted job, continued by a new run.
  auto saved = jobs.get(job.id);
  ASSERT_TRUE(saved);
  stop = false;
  EXPECT_TRUE(baotin::run_reprocess(*store, templates, cfg, *saved, stop, [&](baotin::Job& j) { jobs.save(j); }, 2));
  EXPECT_EQ(saved->progress["scanned"], 150u);
  EXPECT_EQ(saved->progress["selected"], 150u);
  EXPECT_EQ(saved->progress["changed"], 150u);  // the template's title replaces the broken one
  EXPECT_EQ(saved->progress["unchanged"], 0u);
  size_t v2 = 0;
  store->scan_family(baotin::Store::Family::Articles, "", "", [&](std::string_view, std::string_view v) {
    auto j = nlohmann::json::parse(v);
    v2 += j["version"] == 2 && j["reason"] == "reprocess" && j["title"].get<std::string>().find("(cũ)") == std::string::npos;
    return true;
  });
  EXPECT_EQ(v2, 150u);
  EXPECT_TRUE(store->verify().empty());
}

// Store::put_reprocessed refuses to write over a version it did not read (the daemon stored a newer one).
TEST(Reprocess, StaleExtractionIsNotWritten) {
  Dir dir("baotin-reprocess-stale");
  std::string err;
  auto store = dir.open_store(&err);
  ASSERT_TRUE(store) << err;
  baotin::Article a;
  a.url = "http://127.0.0.1/bai/x-1.html";
  a.title = "Tiêu đề một";
  a.body = {"Đoạn văn thứ nhất của bài báo thử nghiệm."};
  auto r1 = store->put_article(a, "<html>v1</html>");
  a.body = {"Đoạn văn đã sửa của bài báo thử nghiệm."};
  store->put_article(a, "<html>v2</html>");
  baotin::Article re = a;
  re.title = "Tiêu đề khác";
  auto stale = store->put_reprocessed(r1.id, 1, re);
  EXPECT_EQ(stale.outcome, baotin::Store::ReprocessOutcome::Stale);
  EXPECT_EQ(store->get(r1.id)->version, 2u);
  auto ok = store->put_reprocessed(r1.id, 2, re);
  EXPECT_EQ(ok.outcome, baotin::Store::ReprocessOutcome::Changed);
  EXPECT_EQ(store->get(r1.id)->version, 3u);
  EXPECT_EQ(store->get(r1.id)->reason, "reprocess");
  EXPECT_EQ(store->raw_html(r1.id, 3), "<html>v2</html>");  // the page it was extracted from
  EXPECT_EQ(store->put_reprocessed("0000000000000000", 1, re).outcome, baotin::Store::ReprocessOutcome::Missing);
  EXPECT_TRUE(store->verify().empty());
}

// A re-extraction's new text decides the record's copy link: a "copy" that only shared a broken template's
// boilerplate is no copy any more; a record whose real text is another article's becomes its copy.
TEST(Reprocess, NewTextDecidesTheDuplicateLink) {
  Dir dir("baotin-reprocess-dedup");
  std::string err;
  auto store = dir.open_store(&err);
  ASSERT_TRUE(store) << err;
  const auto stories = baotin::testing::default_stories();
  auto article = [&](const std::string& url, const Story& s, const std::string& published) {
    baotin::Article a;
    a.url = url;
    a.title = s.title;
    a.lead = s.sapo;
    a.body = s.paragraphs;
    a.published = published;
    a.published_source = "page-visible";
    a.fetched_at = published;
    return a;
  };
  auto orig = store->put_article(article("http://a.example/1.html", stories[0], "2025-01-27T14:30:00+07:00"), "<p>a</p>");
  // The broken template gave this page the first story's text.
  auto copy = store->put_article(article("http://b.example/2.html", stories[0], "2025-01-28T09:00:00+07:00"), "<p>b</p>");
  ASSERT_EQ(copy.duplicate_of, orig.id);
  auto other = store->put_article(article("http://c.example/3.html", stories[2], "2025-01-29T09:00:00+07:00"), "<p>c</p>");
  ASSERT_TRUE(other.duplicate_of.empty());

  // Re-extracted: its real text is the second story, no copy of anything.
  auto r = store->put_reprocessed(copy.id, 1, article("http://b.example/2.html", stories[1], "2025-01-28T09:00:00+07:00"));
  ASSERT_EQ(r.outcome, baotin::Store::ReprocessOutcome::Changed);
  auto b = store->get(copy.id);
  EXPECT_TRUE(b->duplicate_of.empty());
  EXPECT_EQ(b->cluster, copy.id);
  // Re-extracted: its real text is the first story, published after it: a copy of the original.
  r = store->put_reprocessed(other.id, 1, article("http://c.example/3.html", stories[0], "2025-01-29T09:00:00+07:00"));
  ASSERT_EQ(r.outcome, baotin::Store::ReprocessOutcome::Changed);
  auto c = store->get(other.id);
  EXPECT_EQ(c->duplicate_of, orig.id);
  EXPECT_EQ(c->cluster, orig.cluster);
  // The original itself is untouched.
  EXPECT_EQ(store->get(orig.id)->version, 1u);

  // No loop: Y, stored after X but shown 30 s earlier, is X's copy (put_article keeps the first stored); X's new
  // text still matches Y, yet X must not become a copy of its own copy.
  const Story flood{"lu-lon-mien-trung-1005", "Lũ lớn gây ngập sâu nhiều huyện miền Trung",
                    "Mưa lớn kéo dài khiến nước sông dâng cao, hàng nghìn hộ dân phải sơ tán khẩn cấp.", "",
                    {"Từ đêm qua, mực nước trên các sông Thu Bồn, Vu Gia lên nhanh, vượt mức báo động ba.",
                     "Chính quyền các địa phương đã huy động lực lượng, phương tiện đưa người dân đến nơi an toàn."}};
  auto x = store->put_article(article("http://x.example/4.html", flood, "2025-02-06T13:54:30+07:00"), "<p>x</p>");
  auto y = store->put_article(article("http://y.example/5.html", flood, "2025-02-06T13:54:00+07:00"), "<p>y</p>");
  ASSERT_EQ(y.duplicate_of, x.id);
  auto x2 = article("http://x.example/4.html", flood, "2025-02-06T13:54:30+07:00");
  x2.body.push_back("Nhiều tuyến đường bị chia cắt, lực lượng cứu hộ đang tiếp cận các thôn bị cô lập.");
  ASSERT_EQ(store->put_reprocessed(x.id, 1, x2).outcome, baotin::Store::ReprocessOutcome::Changed);
  EXPECT_TRUE(store->get(x.id)->duplicate_of.empty());
  EXPECT_EQ(store->get(y.id)->duplicate_of, x.id);
  EXPECT_TRUE(store->verify().empty());
}

namespace {
// A daemon polling `feed_site`'s feed, with the control socket in its data directory.
std::string serve_config(const NewsServer& feed_site, int metrics_port) {
  return "[daemon]\ntemplates_dir = \"sites\"\nmetrics_listen = \"127.0.0.1:" + std::to_string(metrics_port) +
         "\"\n[fetch]\nper_host_min_delay_s = 0.0\ntotal_timeout_ms = 5000\nallow_private = [\"127.0.0.1\"]\n"
         "[poll]\nmin_interval_s = 1\nmax_interval_s = 2\n"
         "[[feeds]]\nurl = \"" + feed_site.base() + "/rss.xml\"\nallow_private = true\n";
}

bool wait_for(const std::function<bool()>& f, double seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return f();
}

size_t exported(const std::string& db) {
  return jsonl(run(kBin + " export --db " + quote(db) + " 2>/dev/null").out).size();
}
}  // namespace

// `backfill` and `reprocess` while serve runs: handed to the daemon, completed, and the daemon keeps polling.
TEST(Jobs, BackfillAndReprocessWhileServeRuns) {
  NewsServer feed_site;                                          // the daemon's feed: three stories
  NewsServer archive(baotin::testing::many_stories(12));       // an archive no feed lists
  archive.article_delay_ms = 50;
  Dir dir("baotin-jobs");
  const int metrics_port = baotin::testing::free_port();
  std::ofstream(dir.path / "baotin.toml") << serve_config(feed_site, metrics_port);
  std::string urls;
  for (int i = 0; i < 12; ++i)
    urls += archive.base() + "/bai/tin-so-" + std::to_string(i) + "-" + std::to_string(10000 + i) + ".html\n";
  std::ofstream(dir.path / "urls.txt") << urls;
  const std::string db = (dir.path / "data").string();
  const std::string common = " --config " + quote((dir.path / "baotin.toml").string()) + " --data-dir " + quote(db);
  ServeProcess serve((dir.path / "baotin.toml").string(), db, (dir.path / "serve.log").string());
  ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(std::filesystem::path(db) / "CURRENT") && exported(db) == 3; }, 30))
      << read_file(dir.path / "serve.log");
  // The socket: the daemon's user only.
  struct stat st {};
  ASSERT_EQ(::stat((std::filesystem::path(db) / "control.sock").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  Cmd bf = run(kBin + " backfill" + common + " --site site --urls " + quote((dir.path / "urls.txt").string()) + " 2>&1");
  EXPECT_EQ(bf.status, 0) << bf.out << read_file(dir.path / "serve.log");
  EXPECT_NE(bf.out.find("handed to the running daemon as job 1"), std::string::npos) << bf.out;
  EXPECT_NE(bf.out.find("job 1 done"), std::string::npos) << bf.out;
  EXPECT_NE(bf.out.find("12 stored"), std::string::npos) << bf.out;
  EXPECT_TRUE(wait_for([&] { return exported(db) == 15; }, 10));
  // The daemon kept polling its feed meanwhile, and still does.
  const int polls = feed_site.feed_requests;
  EXPECT_TRUE(wait_for([&] { return feed_site.feed_requests > polls; }, 10));
  EXPECT_TRUE(serve.running());

  // A refused job is a usage error, and nothing is queued.
  Cmd bad = run(kBin + " backfill" + common + " --site nope --urls " + quote((dir.path / "urls.txt").string()) + " 2>&1");
  EXPECT_EQ(bad.status, 2) << bad.out;
  EXPECT_NE(bad.out.find("no template named 'nope'"), std::string::npos) << bad.out;

  // Reprocess through the daemon: its templates are the running ones; nothing changed.
  Cmd rp = run(kBin + " reprocess" + common + " 2>&1");
  EXPECT_EQ(rp.status, 0) << rp.out;
  EXPECT_NE(rp.out.find("job 2 done"), std::string::npos) << rp.out;
  EXPECT_NE(rp.out.find("15 selected: 0 changed, 15 unchanged"), std::string::npos) << rp.out;
  Cmd list = run(kBin + " jobs" + common + " --json 2>&1");
  EXPECT_EQ(list.status, 0) << list.out;
  auto jobs = nlohmann::json::parse(list.out);
  ASSERT_EQ(jobs.size(), 2u) << list.out;
  EXPECT_EQ(jobs[0]["kind"], "backfill");
  EXPECT_EQ(jobs[0]["state"], "done");
  EXPECT_EQ(jobs[1]["kind"], "reprocess");
  EXPECT_EQ(jobs[1]["state"], "done");
  // A sitemap job: the walked list is kept with the job (a resume works through the same list); all 12 are stored.
  Cmd sm = run(kBin + " backfill" + common + " --site site --sitemap " + archive.base() + "/sitemap.xml 2>&1");
  EXPECT_EQ(sm.status, 0) << sm.out;
  EXPECT_NE(sm.out.find("job 3 done"), std::string::npos) << sm.out;
  auto after_sm = nlohmann::json::parse(run(kBin + " jobs" + common + " --json 2>/dev/null").out);
  ASSERT_EQ(after_sm.size(), 3u);
  EXPECT_EQ(after_sm[2]["progress"]["urls_stored"], true) << after_sm[2].dump();
  EXPECT_EQ(after_sm[2]["progress"]["listed"], 12) << after_sm[2].dump();
  EXPECT_EQ(after_sm[2]["progress"]["skipped_known"], 12) << after_sm[2].dump();
  serve.signal(SIGTERM);
  EXPECT_TRUE(wait_for([&] { return !serve.running(); }, 20));
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(db) / "control.sock"));
  // Without a daemon the jobs are read from the store.
  Cmd offline = run(kBin + " jobs" + common + " 2>&1");
  EXPECT_EQ(offline.status, 0) << offline.out;
  EXPECT_NE(offline.out.find("job 1 backfill --site site: done"), std::string::npos) << offline.out;
}

// A job the daemon is running when it is SIGKILLed is persisted: the next start resumes it and it completes.
TEST(Jobs, JobResumesAfterDaemonSigkill) {
  NewsServer feed_site;
  NewsServer archive(baotin::testing::many_stories(40));
  archive.article_delay_ms = 250;  // slow enough that the kill comes mid-job
  Dir dir("baotin-jobs-kill");
  std::ofstream(dir.path / "baotin.toml") << serve_config(feed_site, baotin::testing::free_port());
  std::string urls;
  for (int i = 0; i < 40; ++i)
    urls += archive.base() + "/bai/tin-so-" + std::to_string(i) + "-" + std::to_string(10000 + i) + ".html\n";
  std::ofstream(dir.path / "urls.txt") << urls;
  const std::string db = (dir.path / "data").string();
  const std::string common = " --config " + quote((dir.path / "baotin.toml").string()) + " --data-dir " + quote(db);
  {
    ServeProcess serve((dir.path / "baotin.toml").string(), db, (dir.path / "serve.log").string());
    ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(std::filesystem::path(db) / "control.sock"); }, 30));
    Cmd bf = run(kBin + " backfill" + common + " --site site --detach --urls " +
                 quote((dir.path / "urls.txt").string()) + " 2>&1");
    ASSERT_EQ(bf.status, 0) << bf.out;
    EXPECT_NE(bf.out.find("as job 1"), std::string::npos) << bf.out;
    // Some of the archive is in, not all of it: kill.
    ASSERT_TRUE(wait_for([&] { return exported(db) >= 6; }, 30));
    serve.signal(SIGKILL);
    ASSERT_TRUE(wait_for([&] { return !serve.running(); }, 10));
  }
  const size_t at_kill = exported(db);
  EXPECT_LT(at_kill, 43u) << "the job finished before the kill: nothing to resume";
  ServeProcess again((dir.path / "baotin.toml").string(), db, (dir.path / "serve2.log").string());
  EXPECT_TRUE(wait_for([&] { return exported(db) == 43; }, 60)) << read_file(dir.path / "serve2.log");
  EXPECT_NE(read_file(dir.path / "serve2.log").find("resumes"), std::string::npos);
  Cmd list;
  EXPECT_TRUE(wait_for([&] {
    list = run(kBin + " jobs" + common + " --json 2>/dev/null");
    if (list.status != 0) return false;
    auto j = nlohmann::json::parse(list.out, nullptr, false);
    return !j.is_discarded() && j.size() == 1 && j[0]["state"] == "done";
  }, 30)) << list.out;
  // Counted once each across the restart: every listed URL was fetched or found stored, none twice.
  const auto progress = nlohmann::json::parse(list.out)[0]["progress"];
  EXPECT_EQ(progress["listed"], 40) << progress.dump();
  EXPECT_EQ(progress["done"].get<int>() + progress["skipped_known"].get<int>(), 40) << progress.dump();
  EXPECT_EQ(progress["queued"], progress["done"]) << progress.dump();
  EXPECT_EQ(progress["failed"], 0) << progress.dump();
  // Every URL fetched once per successful store: nothing lost, no duplicate records.
  auto all = jsonl(run(kBin + " export --db " + quote(db) + " 2>/dev/null").out);
  std::set<std::string> ids;
  for (const auto& r : all) ids.insert(r["id"]);
  EXPECT_EQ(ids.size(), 43u);
}
