// `baotin export` as a process: filters and their errors, --out -, --compress zstd, --bom, a closed pipe, peak
// memory over N and 10N records, and --follow across serve restarts (a real `baotin serve`).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "e2e_server.h"
#include "serve_process.h"
#include "store/store.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace baotin;
using baotin::testing::run_command;

namespace {

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }
const std::string kBin = BAOTIN_BINARY;

Article record(int i, const std::string& site) {
  Article a;
  a.url = a.canonical_url = "https://" + site + ".vn/bai-" + std::to_string(i) + ".html";
  a.site = site;
  a.title = "Tin số " + std::to_string(i);
  a.lead = baotin::testing::vn_words(1000 + static_cast<uint64_t>(i), 20);
  a.body = {baotin::testing::vn_words(static_cast<uint64_t>(i) * 7 + 1, 120),
            baotin::testing::vn_words(static_cast<uint64_t>(i) * 7 + 2, 120)};
  a.authors = {"Minh Anh"};
  a.category = "Thời sự";
  a.language = "vi";
  a.published = "2026-03-07T08:00:00+07:00";
  a.fetched_at = "2026-03-07T10:00:00+07:00";
  return a;
}

void fill(const fs::path& db, int from, int to, const std::string& site = "vnexpress") {
  std::string err;
  auto st = Store::open({db.string(), false}, &err);
  ASSERT_TRUE(st) << err;
  for (int i = from; i < to; ++i) st->put_article(record(i, site), "");
}

size_t lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace

TEST(CliExport, FiltersOutputsAndErrors) {
  baotin::testing::TempDir dir("baotin-cli-export");
  const fs::path db = dir.path / "db";
  fill(db, 0, 30);
  fill(db, 30, 35, "tuoitre");
  const std::string base = kBin + " export --db " + q(db);

  // --out - is stdout, the same bytes as no --out.
  auto plain = run_command(base + " 2>/dev/null");
  ASSERT_EQ(plain.status, 0);
  EXPECT_EQ(lines(plain.out), 35u);
  EXPECT_EQ(run_command(base + " --out - 2>/dev/null").out, plain.out);

  // --compress zstd: one zstd stream that `zstd -d` reads back to the same bytes, to a file or to stdout.
  ASSERT_EQ(run_command(base + " --compress zstd --out " + q(dir.path / "o.jsonl.zst") + " 2>/dev/null").status, 0);
  auto unz = run_command("zstd -dc " + q(dir.path / "o.jsonl.zst"));
  ASSERT_EQ(unz.status, 0);
  EXPECT_EQ(unz.out, plain.out);
  EXPECT_EQ(run_command(base + " --compress zstd 2>/dev/null | zstd -dc").out, plain.out);
  EXPECT_EQ(run_command(base + " --compress gzip 2>&1").status, 2);

  // --bom: CSV only.
  auto csv = run_command(base + " --format csv --bom 2>/dev/null");
  ASSERT_EQ(csv.status, 0);
  EXPECT_EQ(csv.out.substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_EQ(csv.out.substr(3, 4), "seq,");
  EXPECT_EQ(run_command(base + " --format csv 2>/dev/null").out.substr(0, 4), "seq,");
  auto bom_jsonl = run_command(base + " --bom 2>&1");
  EXPECT_EQ(bom_jsonl.status, 2);
  EXPECT_NE(bom_jsonl.out.find("--bom is for --format csv"), std::string::npos) << bom_jsonl.out;

  // --site: a stored site (no template of that name) or a template without records; anything else is exit 2.
  auto tt = run_command(base + " --site tuoitre 2>/dev/null");
  EXPECT_EQ(tt.status, 0);
  EXPECT_EQ(lines(tt.out), 5u);
  const fs::path sites = dir.path / "sites";
  fs::create_directories(sites);
  std::ofstream(sites / "thanhnien.toml") << "name = \"thanhnien\"\nrevision = 1\nhosts = [\"thanhnien.vn\"]\n"
                                              "[fields]\ntitle = \"//h1\"\nbody = \"//article/p\"\n";
  auto tn = run_command(base + " --templates " + q(sites) + " --site thanhnien 2>&1");
  EXPECT_EQ(tn.status, 0) << tn.out;
  EXPECT_EQ(tn.out, "next cursor: 35\n");
  auto unknown = run_command(base + " --templates " + q(sites) + " --site vnexpres 2>&1");
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.out.find("unknown site 'vnexpres'"), std::string::npos) << unknown.out;

  // --from/--to, --category, --language.
  EXPECT_EQ(lines(run_command(base + " --from 2026-03-07 --to 2026-03-07 2>/dev/null").out), 35u);
  EXPECT_EQ(lines(run_command(base + " --from 2026-03-07T08:00:01 2>/dev/null").out), 0u);
  EXPECT_EQ(lines(run_command(base + " --to 2026-03-07T01:00:00Z 2>/dev/null").out), 35u);
  EXPECT_EQ(lines(run_command(base + " --to 2026-03-06 2>/dev/null").out), 0u);
  EXPECT_EQ(lines(run_command(base + " --category 'Thời sự' --language vi 2>/dev/null").out), 35u);
  EXPECT_EQ(lines(run_command(base + " --category 'Kinh tế' 2>/dev/null").out), 0u);
  auto bad_from = run_command(base + " --from 07/03/2026 2>&1");
  EXPECT_EQ(bad_from.status, 2);
  EXPECT_NE(bad_from.out.find("--from takes YYYY-MM-DD"), std::string::npos) << bad_from.out;
  EXPECT_EQ(run_command(base + " --from 2026-03-08 --to 2026-03-07 2>&1").status, 2);
  EXPECT_EQ(run_command(base + " --follow --format csv 2>&1").status, 2);

  // An output file that cannot be written is a usage error; nothing is half-written elsewhere.
  EXPECT_EQ(run_command(base + " --out " + q(dir.path / "no" / "such" / "dir.jsonl") + " 2>&1").status, 2);

  // A reader that closes the pipe early (`| head`) ends the export with status 0, not a signal death.
  auto head = run_command("sh -c '" + kBin + " export --db " + db.string() + " 2>/dev/null; echo $? > " +
                          (dir.path / "rc").string() + "' | head -n 1");
  EXPECT_EQ(lines(head.out), 1u);
  EXPECT_EQ(baotin::testing::read_file(dir.path / "rc"), "0\n");
}

// Peak RSS of `baotin export` over N and 10N records (each of ~2 KB): flat, the records are streamed (the
// change-log selection held per pass is bounded by --pass-records). Not timed.
TEST(CliExport, PeakMemoryIsFlatFromNTo10NRecords) {
  baotin::testing::TempDir dir("baotin-cli-export-rss");
  const fs::path small = dir.path / "small", large = dir.path / "large";
  fill(small, 0, 1000);
  fill(large, 0, 10000);
  auto peak_kb = [&](const fs::path& db, const std::string& extra) {
    // ru_maxrss of the waited-for child, read by Python's resource module.
    auto r = run_command("python3 -c 'import resource,subprocess,sys; "
                         "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True); "
                         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' " +
                         kBin + " export --db " + q(db) + extra);
    EXPECT_EQ(r.status, 0);
    return std::stol(r.out.empty() ? "0" : r.out);
  };
  // A process's peak RSS varies from run to run by what it happens to touch besides its work (thread stacks and
  // arenas of RocksDB's background threads): the least of three runs is the reading.
  auto least_peak_kb = [&](const fs::path& db, const std::string& extra) {
    long least = peak_kb(db, extra);
    for (int i = 0; i < 2; ++i) least = std::min(least, peak_kb(db, extra));
    return least;
  };
  // Export's own memory: the peak of a full export minus the peak of one that opens the same store and exports
  // nothing (--since the last change): RocksDB's table readers grow with the store, not with what export holds.
  auto own_kb = [&](const fs::path& db, uint64_t last, const std::string& extra) {
    return least_peak_kb(db, extra) - least_peak_kb(db, " --since " + std::to_string(last) + extra);
  };
  // Holding ~300 B per record (the former export) would add ~2.7 MB from N to 10N. With a --pass-records bound
  // below N nothing grows; with the default (2,000,000) the change-log selection adds ~80 B per changed record
  // until that bound.
  for (const std::string extra : {" --pass-records 500", " --format csv --pass-records 500", " --versions --pass-records 500", ""}) {
    const long n = own_kb(small, 1000, extra), n10 = own_kb(large, 10000, extra);
    std::printf("export's own peak RSS%s: %ld KB over 1,000 records, %ld KB over 10,000\n",
                extra.empty() ? " (default --pass-records)" : extra.c_str(), n, n10);
    EXPECT_LT(n10 - n, extra.empty() ? 1800 : 1000) << extra;  // RSS readings vary by a few hundred KB
  }
}

namespace {

// `baotin export --follow` as a child process writing to a file.
struct FollowProcess {
  pid_t pid = -1;
  FollowProcess(const fs::path& db, const fs::path& out, const fs::path& err, const std::string& since = "0") {
    std::fflush(nullptr);
    pid = fork();
    if (pid == 0) {
      const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (o < 0 || e < 0) _exit(126);
      dup2(o, 1);
      dup2(e, 2);
      execl(kBin.c_str(), kBin.c_str(), "export", "--db", db.c_str(), "--follow", "--since", since.c_str(),
            "--poll-ms", "50", nullptr);
      _exit(127);
    }
  }
  int stop(int sig = SIGTERM) {
    if (pid <= 0) return -1;
    kill(pid, sig);
    int st = 0;
    waitpid(pid, &st, 0);
    pid = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  bool running() const {
    int st = 0;
    return pid > 0 && waitpid(pid, &st, WNOHANG) == 0;
  }
  ~FollowProcess() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

bool wait_for(const std::function<bool()>& pred, int seconds = 60) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

std::vector<baotin::testing::Story> stories(int from, int to) {
  auto all = baotin::testing::many_stories(to);
  return {all.begin() + from, all.end()};
}

}  // namespace

// --follow while serve stores articles, is stopped (SIGTERM), restarted, killed (SIGKILL) and restarted again:
// the followed output has every change exactly once, in order, with its record, and it kept running throughout.
TEST(CliExport, FollowAcrossServeRestartsHasEveryChangeOnceInOrder) {
  baotin::testing::TempDir dir("baotin-cli-follow");
  fs::create_directories(dir.path / "sites");
  fs::copy_file(std::string(BAOTIN_FIXTURES) + "/e2e/site.toml", dir.path / "sites" / "site.toml");
  baotin::testing::NewsServer a(stories(0, 4)), b(stories(4, 8)), c(stories(8, 11));
  const fs::path cfg = dir.path / "baotin.toml", data = dir.path / "data";
  auto config = [&](const std::vector<const baotin::testing::NewsServer*>& feeds) {
    std::string t = "[daemon]\ntemplates_dir = \"sites\"\nmetrics_listen = \"\"\nlog_level = \"info\"\n"
                    "[fetch]\nper_host_min_delay_s = 0.0\ntotal_timeout_ms = 5000\n"
                    "[poll]\nmin_interval_s = 1\nmax_interval_s = 2\n";
    for (const auto* f : feeds) t += "[[feeds]]\nurl = \"" + f->base() + "/rss.xml\"\nallow_private = true\n";
    std::ofstream(cfg) << t;
  };
  const fs::path out = dir.path / "follow.jsonl", err = dir.path / "follow.err";
  auto followed = [&] { return lines(baotin::testing::read_file(out)); };

  config({&a});
  std::unique_ptr<FollowProcess> follow;
  {
    baotin::testing::ServeProcess serve(cfg.string(), data.string(), (dir.path / "serve1.log").string(), {},
                                        (dir.path / "notify.sock").string());
    ASSERT_TRUE(serve.started());
    // The store exists once serve is ready; --follow starts from --since 0 while serve runs.
    ASSERT_TRUE(serve.wait_notify("READY=1")) << baotin::testing::read_file(dir.path / "serve1.log");
    follow = std::make_unique<FollowProcess>(data, out, err);
    ASSERT_TRUE(wait_for([&] { return followed() >= 4; })) << baotin::testing::read_file(err);
    EXPECT_EQ(serve.stop(SIGTERM), 0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // no primary: --follow keeps waiting
  ASSERT_TRUE(follow->running()) << baotin::testing::read_file(err);
  EXPECT_EQ(followed(), 4u);

  config({&a, &b});
  {
    baotin::testing::ServeProcess serve(cfg.string(), data.string(), (dir.path / "serve2.log").string());
    ASSERT_TRUE(wait_for([&] { return followed() >= 8; })) << baotin::testing::read_file(err)
                                                           << baotin::testing::read_file(dir.path / "serve2.log");
    serve.signal(SIGKILL);  // a crash: the primary goes away without closing
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  ASSERT_TRUE(follow->running()) << baotin::testing::read_file(err);

  config({&a, &b, &c});
  {
    baotin::testing::ServeProcess serve(cfg.string(), data.string(), (dir.path / "serve3.log").string());
    ASSERT_TRUE(wait_for([&] { return followed() >= 11; })) << baotin::testing::read_file(err)
                                                            << baotin::testing::read_file(dir.path / "serve3.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // nothing more comes (no repeats)
    EXPECT_EQ(serve.stop(SIGTERM), 0);
  }
  EXPECT_EQ(follow->stop(SIGTERM), 0);  // SIGTERM: a clean end, the cursor on stderr
  const std::string err_text = baotin::testing::read_file(err);

  // Every change of the store, once, in order, each with its record.
  std::string e;
  auto st = Store::open_secondary(data.string(), (dir.path / "sec").string(), &e);
  ASSERT_TRUE(st) << e;
  std::vector<ChangeEvent> changes;
  st->scan_changes(0, [&](const ChangeEvent& ev) {
    changes.push_back(ev);
    return true;
  });
  ASSERT_EQ(changes.size(), 11u);
  std::istringstream in(baotin::testing::read_file(out));
  std::vector<nlohmann::json> got;
  for (std::string line; std::getline(in, line);) got.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(got.size(), changes.size());
  std::set<std::string> titles;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i]["seq"], changes[i].seq);
    EXPECT_EQ(got[i]["change"], changes[i].type);
    EXPECT_EQ(got[i]["id"], changes[i].id);
    EXPECT_EQ(got[i]["version"], changes[i].version);
    EXPECT_FALSE(got[i]["title"].get<std::string>().empty());
    titles.insert(got[i]["title"]);
  }
  EXPECT_EQ(titles.size(), 11u);
  EXPECT_NE(err_text.find("next cursor: 11"), std::string::npos) << err_text;

  // Resuming with --since from the middle gives the rest, and a reader that closes the pipe ends it (exit 0)
  // even while no new change comes.
  auto rest = run_command("sh -c '" + kBin + " export --db " + data.string() + " --follow --poll-ms 50 --since 9 2>/dev/null; echo $? > " +
                          (dir.path / "rc").string() + "' | head -n 2");
  ASSERT_EQ(lines(rest.out), 2u);
  EXPECT_EQ(nlohmann::json::parse(rest.out.substr(0, rest.out.find('\n')))["seq"], 10);
  EXPECT_EQ(baotin::testing::read_file(dir.path / "rc"), "0\n");
}
