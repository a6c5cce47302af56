// The live stream (issue 10, item 1): the change log published to a real `nats-server -js` (started here on a free
// loopback port with its own store directory) and read back by a durable pull consumer (the NATS C client). Every
// change event must reach the stream exactly once — one stream message per Nats-Msg-Id — across a NATS restart while
// ingestion goes on, a lost publish cursor (what a crash between the server's ack and the cursor write leaves) and
// a SIGKILL of `baotin serve`. Skipped only when no nats-server binary is installed (scripts/setup installs Debian's
// nats-server, so CI never skips). No timed assertions: every wait is for a condition, with a generous deadline.
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "daemon/config.h"
#include "e2e_server.h"
#include "serve_process.h"
#include "store/store.h"
#include "stream/nats_outbox.h"
#include "test_util.h"

namespace fs = std::filesystem;
using baotin::ChangeEvent;
using baotin::NatsOutbox;
using baotin::Store;
using baotin::testing::TempDir;

namespace {

std::string nats_server_binary() {
  if (const char* e = std::getenv("BAOTIN_NATS_SERVER"); e && *e) return e;
  for (const char* p : {BAOTIN_NATS_SERVER_UNPACKED, "/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"})
    if (::access(p, X_OK) == 0) return p;
  auto r = baotin::testing::run_command("command -v nats-server 2>/dev/null");
  std::string s = r.out;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

#define REQUIRE_NATS_SERVER()                                                                                    \
  if (nats_server_binary().empty())                                                                              \
  GTEST_SKIP() << "nats-server not installed (Debian package nats-server; scripts/setup installs it) — the NATS " \
                  "stream tests need a real server"

// Waits up to `seconds` for `cond` (checked every 50 ms).
bool wait_until(const std::function<bool()>& cond, double seconds = 60) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

// `nats-server -js` on 127.0.0.1:<port> with its JetStream store in `dir`; stop() and start() again keep the store.
class NatsServer {
 public:
  NatsServer(fs::path dir, int port) : dir_(std::move(dir)), port_(port) { fs::create_directories(dir_); }
  ~NatsServer() { stop(SIGKILL); }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  fs::path log() const { return dir_ / "nats-server.log"; }

  // Starts the server and waits until it says it is ready (JetStream recovered).
  bool start() {
    const std::string bin = nats_server_binary(), port = std::to_string(port_), sd = (dir_ / "js").string();
    const size_t before = count_ready();
    std::fflush(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      if (!std::freopen(log().c_str(), "a", stderr)) _exit(126);
      dup2(fileno(stderr), 1);
      execl(bin.c_str(), bin.c_str(), "-js", "-a", "127.0.0.1", "-p", port.c_str(), "-sd", sd.c_str(), nullptr);
      _exit(127);
    }
    return wait_until([&] { return count_ready() > before; }, 60);
  }
  void stop(int sig = SIGTERM) {
    if (pid_ <= 0) return;
    kill(pid_, sig);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  size_t count_ready() const {
    const std::string l = baotin::testing::read_file(log());
    size_t n = 0;
    for (size_t p = l.find("Server is ready"); p != std::string::npos; p = l.find("Server is ready", p + 1)) ++n;
    return n;
  }
  fs::path dir_;
  int port_;
  pid_t pid_ = -1;
};

// A durable pull consumer on the stream (the C client), reading and acking in its own thread. Records, per
// Nats-Msg-Id, the stream sequences it was delivered from (a redelivery after a lost consumer ack has the same
// stream sequence; a second copy in the stream would have another).
class Consumer {
 public:
  Consumer(std::string url, std::string durable) : url_(std::move(url)), durable_(std::move(durable)) {
    thread_ = std::thread([this] { run(); });
  }
  ~Consumer() {
    stop_ = true;
    thread_.join();
  }
  size_t distinct() const {
    std::lock_guard lk(mu_);
    return by_id_.size();
  }
  std::map<std::string, std::set<uint64_t>> by_id() const {
    std::lock_guard lk(mu_);
    return by_id_;
  }
  std::map<std::string, std::string> bodies() const {
    std::lock_guard lk(mu_);
    return bodies_;
  }
  std::map<std::string, std::string> subjects() const {
    std::lock_guard lk(mu_);
    return subjects_;
  }

 private:
  void run() {
    natsOptions* opts = nullptr;
    natsOptions_Create(&opts);
    natsOptions_SetURL(opts, url_.c_str());
    natsOptions_SetMaxReconnect(opts, -1);
    natsOptions_SetReconnectWait(opts, 100);
    natsOptions_SetRetryOnFailedConnect(opts, true, nullptr, nullptr);
    natsConnection* nc = nullptr;
    jsCtx* js = nullptr;
    natsSubscription* sub = nullptr;
    natsConnection_Connect(&nc, opts);
    natsConnection_JetStream(&js, nc, nullptr);
    int errors = 0, idle = 0;
    while (!stop_) {
      if (!sub) {
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = "BAOTIN";
        so.Config.AckPolicy = js_AckExplicit;
        jsErrCode jerr;
        if (js_PullSubscribe(&sub, js, "baotin.>", durable_.c_str(), nullptr, &so, &jerr) != NATS_OK) {
          sub = nullptr;  // the stream does not exist yet (baotin creates it), or the server is down
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          continue;
        }
      }
      natsMsgList list{};
      jsErrCode jerr;
      natsStatus s = natsSubscription_Fetch(&list, sub, 64, 500, &jerr);
      if (s != NATS_OK && s != NATS_TIMEOUT) {
        if (++errors > 20) {  // e.g. the server restarted: subscribe again (the durable consumer is kept)
          natsSubscription_Destroy(sub);
          sub = nullptr;
          errors = 0;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      errors = 0;
      // Nothing for 10 s: subscribe again (harmless: the durable consumer keeps its position).
      idle = s == NATS_TIMEOUT ? idle + 1 : 0;
      if (idle > 20) {
        natsSubscription_Destroy(sub);
        sub = nullptr;
        idle = 0;
      }
      for (int i = 0; i < list.Count; ++i) {
        natsMsg* m = list.Msgs[i];
        const char* id = nullptr;
        jsMsgMetaData* meta = nullptr;
        if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK && natsMsg_GetMetaData(&meta, m) == NATS_OK) {
          std::lock_guard lk(mu_);
          by_id_[id].insert(meta->Sequence.Stream);
          bodies_[id] = std::string(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
          subjects_[id] = natsMsg_GetSubject(m);
        }
        jsMsgMetaData_Destroy(meta);
        natsMsg_Ack(m, nullptr);
      }
      natsMsgList_Destroy(&list);
    }
    if (sub) natsSubscription_Destroy(sub);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(opts);
  }

  std::string url_, durable_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::map<std::string, std::set<uint64_t>> by_id_;
  std::map<std::string, std::string> bodies_, subjects_;
  std::thread thread_;
};

// Messages in the stream (JetStream's own count).
int64_t stream_messages(const std::string& url) {
  natsConnection* nc = nullptr;
  if (natsConnection_ConnectTo(&nc, url.c_str()) != NATS_OK) return -1;
  jsCtx* js = nullptr;
  natsConnection_JetStream(&js, nc, nullptr);
  jsStreamInfo* si = nullptr;
  int64_t n = -1;
  if (js_GetStreamInfo(&si, js, "BAOTIN", nullptr, nullptr) == NATS_OK) n = static_cast<int64_t>(si->State.Msgs);
  if (si) jsStreamInfo_Destroy(si);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return n;
}

// Every change event of the store is in the stream exactly once (one stream message per Nats-Msg-Id), on the
// subject <prefix>.<site>.<event>, with the record's JSON; and nothing else is.
void expect_exactly_once(const Store& store, const Consumer& c, const std::string& url) {
  const auto by_id = c.by_id();
  const auto bodies = c.bodies();
  const auto subjects = c.subjects();
  size_t events = 0;
  store.scan_changes(0, [&](const ChangeEvent& e) {
    ++events;
    const std::string id = NatsOutbox::msg_id(e);
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      ADD_FAILURE() << "change " << e.seq << " (" << id << ") never reached the consumer";
      return true;
    }
    EXPECT_EQ(it->second.size(), 1u) << id << " is in the stream " << it->second.size() << " times";
    EXPECT_EQ(subjects.at(id), "baotin." + NatsOutbox::subject_token(e.site) + "." + e.type);
    auto j = nlohmann::json::parse(bodies.at(id), nullptr, false);
    EXPECT_TRUE(j.is_object()) << bodies.at(id);
    if (j.is_object()) {
      EXPECT_EQ(j.value("seq", uint64_t{0}), e.seq);
      EXPECT_EQ(j.value("id", std::string()), e.id);
      EXPECT_EQ(j.value("version", 0u), e.version);
      EXPECT_FALSE(j.value("title", std::string()).empty()) << bodies.at(id);
    }
    return true;
  });
  EXPECT_EQ(by_id.size(), events) << "the consumer saw messages that are no change event";
  EXPECT_EQ(stream_messages(url), static_cast<int64_t>(events));
}

baotin::Article article(int i, const std::string& tag = "") {
  baotin::Article a;
  a.url = "https://vnexpress.net/bai-" + tag + std::to_string(i) + ".html";
  a.canonical_url = a.url;
  a.site = "vnexpress";
  a.title = "Bài số " + std::to_string(i) + tag + " " + baotin::testing::vn_words(i * 13 + 1, 6);
  a.lead = baotin::testing::vn_words(i * 17 + 3, 20);
  a.body = {baotin::testing::vn_words(i * 31 + 7, 80) + ".", baotin::testing::vn_words(i * 37 + 11, 80) + "."};
  a.published = "2026-03-07T08:00:00+07:00";
  a.fetched_at = "2026-03-07T09:00:00+07:00";
  return a;
}

}  // namespace

TEST(NatsOutbox, SubjectsAndMessageIds) {
  EXPECT_EQ(NatsOutbox::subject_token("vnexpress"), "vnexpress");
  EXPECT_EQ(NatsOutbox::subject_token("tuoitre.vn"), "tuoitre_vn");
  EXPECT_EQ(NatsOutbox::subject_token("a b*>"), "a_b__");
  EXPECT_EQ(NatsOutbox::subject_token(""), "_");
  ChangeEvent e;
  e.id = "abc";
  e.version = 2;
  e.type = "updated";
  e.site = "127.0.0.1";
  EXPECT_EQ(NatsOutbox::subject("baotin", e), "baotin.127_0_0_1.updated");
  EXPECT_EQ(NatsOutbox::msg_id(e), "abc:2:updated");
  e.type = "cluster_original_moved";
  e.original = "def";
  EXPECT_EQ(NatsOutbox::msg_id(e), "abc:2:cluster_original_moved:def");
}

// The publisher on a real store and a real server: new, updated and duplicate events; the server stopped while
// records keep being stored (the lag grows, nothing is lost); a cursor rewound as a crash after the acks would leave
// it (everything is sent again and JetStream drops every copy).
TEST(NatsOutbox, EveryEventOnceAcrossANatsRestartAndALostCursor) {
  REQUIRE_NATS_SERVER();
  TempDir dir("baotin-nats-outbox");
  NatsServer nats(dir.path / "nats", baotin::testing::free_port());
  ASSERT_TRUE(nats.start()) << baotin::testing::read_file(nats.log());
  std::string err;
  auto store = Store::open({(dir.path / "db").string(), true}, &err);
  ASSERT_TRUE(store) << err;
  for (int i = 0; i < 6; ++i) store->put_article(article(i), "<html></html>");
  {
    auto a = article(0);
    a.body.push_back("Cập nhật: " + baotin::testing::vn_words(99, 30) + ".");
    EXPECT_EQ(store->put_article(a, "<html></html>").kind, baotin::PutKind::Updated);
    auto copy = article(1);
    copy.url = copy.canonical_url = "https://baomoi.com/copy-1.html";
    copy.site = "baomoi.com";
    EXPECT_EQ(store->put_article(copy, "<html></html>").kind, baotin::PutKind::Duplicate);
  }
  baotin::NatsStreamConfig cfg;
  cfg.enabled = true;
  cfg.servers = {nats.url()};
  cfg.publish_timeout_ms = 2000;
  cfg.max_in_flight = 3;  // several batches
  std::unique_ptr<Consumer> consumer_ptr;
  {
    NatsOutbox ob(*store, cfg);
    ob.start();
    // The consumer subscribes once the stream exists (baotin creates it).
    ASSERT_TRUE(wait_until([&] { return stream_messages(nats.url()) >= 0; })) << ob.status_json().dump(2);
    consumer_ptr = std::make_unique<Consumer>(nats.url(), "test-outbox");
    Consumer& consumer = *consumer_ptr;
    ASSERT_TRUE(wait_until([&] { return ob.cursor() == store->last_seq() && consumer.distinct() == store->last_seq(); }))
        << ob.status_json().dump(2);
    EXPECT_EQ(ob.lag(), 0u);
    EXPECT_EQ(ob.failed(), 0u);
    EXPECT_NE(ob.prometheus().find("baotin_stream_lag_events 0\n"), std::string::npos) << ob.prometheus();

    // (a) NATS goes away while records keep arriving: they wait in the outbox, counted as lag.
    nats.stop(SIGTERM);
    ASSERT_TRUE(wait_until([&] { return !ob.connected(); }));
    for (int i = 10; i < 16; ++i) store->put_article(article(i), "<html></html>");
    EXPECT_EQ(ob.lag(), 6u);
    EXPECT_NE(ob.prometheus().find("baotin_stream_lag_events 6\n"), std::string::npos);
    EXPECT_EQ(ob.status_json()["connected"], false);
    ASSERT_TRUE(nats.start()) << baotin::testing::read_file(nats.log());
    ASSERT_TRUE(wait_until([&] { return ob.cursor() == store->last_seq() && consumer.distinct() == store->last_seq(); }))
        << ob.status_json().dump(2) << "\nconsumer has " << consumer.distinct();
    EXPECT_EQ(store->get_meta(NatsOutbox::kCursorKey), std::to_string(store->last_seq()));
    ob.stop();
  }
  // (b) The cursor is persisted only after the acks: rewinding it to 0 is the worst a crash can leave. Everything
  // is sent again; JetStream drops each copy (Nats-Msg-Id within the duplicate window); consumers see nothing new.
  store->put_meta(NatsOutbox::kCursorKey, "0");
  Consumer& consumer = *consumer_ptr;
  {
    NatsOutbox ob(*store, cfg);
    ob.start();
    ASSERT_TRUE(wait_until([&] { return ob.cursor() == store->last_seq(); })) << ob.status_json().dump(2);
    EXPECT_EQ(ob.duplicates(), store->last_seq());
    for (int i = 20; i < 23; ++i) store->put_article(article(i), "<html></html>");
    ASSERT_TRUE(wait_until([&] { return ob.cursor() == store->last_seq() && consumer.distinct() == store->last_seq(); }));
    ob.stop();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let a redelivery land, if any (not asserted on)
  expect_exactly_once(*store, consumer, nats.url());
}

// An existing stream whose settings differ is reported and left alone; nothing is published, nothing is lost.
TEST(NatsOutbox, IncompatibleExistingStreamIsReported) {
  REQUIRE_NATS_SERVER();
  TempDir dir("baotin-nats-incompat");
  NatsServer nats(dir.path / "nats", baotin::testing::free_port());
  ASSERT_TRUE(nats.start()) << baotin::testing::read_file(nats.log());
  {
    natsConnection* nc = nullptr;
    ASSERT_EQ(natsConnection_ConnectTo(&nc, nats.url().c_str()), NATS_OK);
    jsCtx* js = nullptr;
    natsConnection_JetStream(&js, nc, nullptr);
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    const char* subj[] = {"other.>"};
    sc.Name = "BAOTIN";
    sc.Subjects = subj;
    sc.SubjectsLen = 1;
    sc.MaxAge = int64_t{3600} * 1000000000;
    jsStreamInfo* si = nullptr;
    ASSERT_EQ(js_AddStream(&si, js, &sc, nullptr, nullptr), NATS_OK);
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
  std::string err;
  auto store = Store::open({(dir.path / "db").string(), true}, &err);
  ASSERT_TRUE(store) << err;
  store->put_article(article(1), "<html></html>");
  baotin::NatsStreamConfig cfg;
  cfg.enabled = true;
  cfg.servers = {nats.url()};
  NatsOutbox ob(*store, cfg);
  ob.start();
  ASSERT_TRUE(wait_until([&] {
    return ob.status_json()["last_error"].get<std::string>().find("incompatible") != std::string::npos;
  })) << ob.status_json().dump(2);
  const std::string e = ob.status_json()["last_error"];
  EXPECT_NE(e.find("subjects do not include baotin.>"), std::string::npos) << e;
  EXPECT_NE(e.find("max age 3600 s"), std::string::npos) << e;
  EXPECT_EQ(ob.cursor(), 0u);
  EXPECT_EQ(ob.lag(), 1u);
  ob.stop();
}

namespace {

std::vector<baotin::testing::Story> stories(const std::string& tag, int n) {
  std::vector<baotin::testing::Story> v;
  for (int i = 0; i < n; ++i) {
    const std::string k = tag + std::to_string(i);
    v.push_back({"tin-" + tag + "-" + std::to_string(i) + "-" + std::to_string(20000 + i),
                 "Tin " + k + " " + baotin::testing::vn_words(std::hash<std::string>{}(k), 5),
                 "Bản tin " + k + " " + baotin::testing::vn_words(std::hash<std::string>{}(k) + 1, 12),
                 "2025-01-20T08:15:00+07:00",
                 {"Đoạn một của " + k + " " + baotin::testing::vn_words(std::hash<std::string>{}(k) + 2, 40) + ".",
                  "Đoạn hai của " + k + " " + baotin::testing::vn_words(std::hash<std::string>{}(k) + 3, 40) + "."}});
  }
  return v;
}

// "name value" of an unlabelled series in a /metrics text; -1 when absent.
int64_t metric(const std::string& text, const std::string& name) {
  const std::string key = "\n" + name + " ";
  const size_t p = text.find(key);
  if (p == std::string::npos) return -1;
  return std::strtoll(text.c_str() + p + key.size(), nullptr, 10);
}

}  // namespace

// serve -> NATS -> consumer with faults: NATS stopped while the daemon goes on ingesting (a feed added by a reload
// is polled and stored meanwhile; the lag metric counts it), then restarted; the daemon SIGKILLed with a backlog
// and its cursor rewound (as a kill between the server's ack and the cursor write leaves it), then restarted.
// Every event reaches the stream exactly once.
TEST(NatsServe, ServeToNatsToConsumerExactlyOnceAcrossNatsRestartAndSigkill) {
  REQUIRE_NATS_SERVER();
  TempDir dir("baotin-nats-serve");
  NatsServer nats(dir.path / "nats", baotin::testing::free_port());
  ASSERT_TRUE(nats.start()) << baotin::testing::read_file(nats.log());
  baotin::testing::NewsServer a(stories("a", 6)), b(stories("b", 6)), c(stories("c", 12));
  fs::create_directories(dir.path / "sites");
  fs::copy_file(std::string(BAOTIN_FIXTURES) + "/e2e/site.toml", dir.path / "sites" / "site.toml");
  const int metrics_port = baotin::testing::free_port();
  const fs::path config = dir.path / "baotin.toml";
  auto write_config = [&](const std::vector<const baotin::testing::NewsServer*>& sites) {
    std::string t = "[daemon]\ntemplates_dir = \"" + (dir.path / "sites").string() +
                    "\"\nmetrics_listen = \"127.0.0.1:" + std::to_string(metrics_port) +
                    "\"\n[fetch]\nper_host_min_delay_s = 0.0\ntotal_timeout_ms = 5000\n"
                    "[poll]\nmin_interval_s = 1\nmax_interval_s = 2\n"
                    "[stream.nats]\nservers = [\"" + nats.url() + "\"]\npublish_timeout_ms = 2000\nmax_in_flight = 4\n"
                    "duplicate_window_s = 3600\n";
    for (const auto* s : sites) t += "[[feeds]]\nurl = \"" + s->base() + "/rss.xml\"\nallow_private = true\n";
    std::ofstream(config) << t;
  };
  write_config({&a});
  const std::string db = (dir.path / "data").string();
  const fs::path log = dir.path / "serve.log";
  httplib::Client http("127.0.0.1", metrics_port);
  http.set_connection_timeout(2);
  http.set_read_timeout(5);
  auto metrics = [&] {
    auto r = http.Get("/metrics");
    return r && r->status == 200 ? "\n" + r->body : std::string();
  };
  std::unique_ptr<Consumer> consumer_ptr;  // subscribes once the daemon has created the stream
  auto consumer_distinct = [&]() -> size_t { return consumer_ptr ? consumer_ptr->distinct() : 0; };
  // All published: nothing waits, the consumer has one message per event, and at least `n` events exist.
  auto all_published = [&](int64_t n) {
    const std::string m = metrics();
    const int64_t cur = metric(m, "baotin_stream_cursor");
    return cur >= n && metric(m, "baotin_stream_lag_events") == 0 && static_cast<int64_t>(consumer_distinct()) == cur;
  };
  {
    baotin::testing::ServeProcess serve(config.string(), db, log.string());
    ASSERT_TRUE(serve.started());
    ASSERT_TRUE(wait_until([&] { return stream_messages(nats.url()) >= 0; }, 120)) << baotin::testing::read_file(log);
    consumer_ptr = std::make_unique<Consumer>(nats.url(), "test-serve");
    ASSERT_TRUE(wait_until([&] { return all_published(6); }, 120))
        << metrics() << baotin::testing::read_file(log);

    // (a) NATS down; a feed added by a reload is ingested meanwhile (the daemon does not wait for NATS).
    nats.stop(SIGTERM);
    write_config({&a, &b});
    serve.signal(SIGHUP);
    ASSERT_TRUE(wait_until([&] {
      const std::string m = metrics();
      return metric(m, "baotin_stream_connected") == 0 && metric(m, "baotin_stream_lag_events") >= 6;
    }, 120)) << metrics() << baotin::testing::read_file(log);
    {
      // The exposition with the stream's families passes `promtool check metrics` (when promtool is unpacked).
      const std::string promtool = std::getenv("BAOTIN_PROMTOOL") ? std::getenv("BAOTIN_PROMTOOL") : BAOTIN_PROMTOOL;
      if (::access(promtool.c_str(), X_OK) == 0) {
        std::ofstream(dir.path / "metrics.txt") << metrics().substr(1);
        auto lint = baotin::testing::run_command("'" + promtool + "' check metrics < '" +
                                                 (dir.path / "metrics.txt").string() + "' 2>&1");
        EXPECT_EQ(lint.status, 0) << lint.out;
        EXPECT_EQ(lint.out, "");
      }
    }
    {
      auto st = http.Get("/status");
      ASSERT_TRUE(st);
      auto j = nlohmann::json::parse(st->body);
      EXPECT_EQ(j["stream"]["connected"], false) << st->body;
      EXPECT_GE(j["stream"]["lag"].get<int64_t>(), 6) << st->body;
    }
    ASSERT_TRUE(nats.start()) << baotin::testing::read_file(nats.log());
    ASSERT_TRUE(wait_until([&] { return all_published(12); }, 120)) << metrics() << baotin::testing::read_file(log);

    // (b) A backlog (NATS down again while a third feed is ingested), NATS back, and the daemon SIGKILLed.
    nats.stop(SIGTERM);
    write_config({&a, &b, &c});
    serve.signal(SIGHUP);
    ASSERT_TRUE(wait_until([&] { return metric(metrics(), "baotin_stream_lag_events") >= 12; }, 120))
        << metrics() << baotin::testing::read_file(log);
    ASSERT_TRUE(nats.start()) << baotin::testing::read_file(nats.log());
    ASSERT_TRUE(wait_until([&] { return consumer_distinct() > 12; }, 120)) << metrics();
    serve.stop(SIGKILL);
  }
  const std::string log_before = baotin::testing::read_file(log);
  EXPECT_NE(log_before.find("stream: disconnected from NATS"), std::string::npos) << log_before;
  EXPECT_NE(log_before.find("stream: reconnected to NATS"), std::string::npos) << log_before;
  // The kill may have come after some acks whose cursor write it prevented: rewind the cursor by 8 to be sure that
  // case happens (the store is closed: the daemon is dead).
  uint64_t rewound = 0;
  {
    std::string err;
    auto store = Store::open({db, true}, &err);
    ASSERT_TRUE(store) << err;
    const uint64_t cur = std::strtoull(store->get_meta(NatsOutbox::kCursorKey).value_or("0").c_str(), nullptr, 10);
    ASSERT_GT(cur, 8u);
    rewound = cur - 8;
    store->put_meta(NatsOutbox::kCursorKey, std::to_string(rewound));
  }
  {
    baotin::testing::ServeProcess serve(config.string(), db, log.string());
    ASSERT_TRUE(serve.started());
    ASSERT_TRUE(wait_until([&] { return all_published(24); }, 120)) << metrics() << baotin::testing::read_file(log);
    EXPECT_GE(metric(metrics(), "baotin_stream_duplicates_total"), 8) << metrics();
    EXPECT_EQ(serve.stop(), 0) << baotin::testing::read_file(log);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::string err;
  auto store = Store::open({db, true}, &err);
  ASSERT_TRUE(store) << err;
  EXPECT_GE(store->last_seq(), 24u);
  expect_exactly_once(*store, *consumer_ptr, nats.url());
}

// [stream.nats] in the config file: defaults, every key, and errors with file:line.
namespace {
struct Loaded {
  bool ok = false;
  baotin::Config cfg;
  std::string errors;
};
Loaded load(const std::string& text) {
  static int n = 0;
  TempDir dir("baotin-nats-config");
  const fs::path p = dir.path / ("c" + std::to_string(++n) + ".toml");
  std::ofstream(p) << text;
  std::ofstream(dir.path / "me.creds") << "-----BEGIN NATS USER JWT-----\n";
  Loaded l;
  std::vector<baotin::TemplateError> errs;
  l.ok = baotin::load_config(p.string(), l.cfg, errs);
  for (const auto& e : errs) l.errors += e.str() + "\n";
  return l;
}
}  // namespace

TEST(NatsConfig, SectionIsOptionalAndValidated) {
  auto none = load("[daemon]\nworkers = 1\n");
  ASSERT_TRUE(none.ok) << none.errors;
  EXPECT_FALSE(none.cfg.stream_nats.enabled);

  auto full = load("[stream.nats]\nservers = [\"nats://10.0.0.5:4222\", \"tls://nats.example.vn:4222\"]\n"
                   "stream = \"NEWS\"\nsubject_prefix = \"vn.news\"\ncredentials = \"me.creds\"\nretention = \"interest\"\n"
                   "storage = \"memory\"\nmax_age_s = 86400\nmax_bytes = 1000000\nduplicate_window_s = 600\nreplicas = 3\n"
                   "publish_timeout_ms = 1000\nmax_in_flight = 10\nstart = \"new\"\n");
  ASSERT_TRUE(full.ok) << full.errors;
  const auto& n = full.cfg.stream_nats;
  EXPECT_TRUE(n.enabled);
  EXPECT_EQ(n.servers, (std::vector<std::string>{"nats://10.0.0.5:4222", "tls://nats.example.vn:4222"}));
  EXPECT_EQ(n.stream, "NEWS");
  EXPECT_EQ(n.subject_prefix, "vn.news");
  EXPECT_TRUE(fs::path(n.credentials).is_absolute()) << n.credentials;
  EXPECT_EQ(n.retention, "interest");
  EXPECT_EQ(n.storage, "memory");
  EXPECT_EQ(n.max_age_s, 86400);
  EXPECT_EQ(n.duplicate_window_s, 600);
  EXPECT_EQ(n.replicas, 3);
  EXPECT_EQ(n.start, "new");

  auto defaults = load("[stream.nats]\n");
  ASSERT_TRUE(defaults.ok) << defaults.errors;
  EXPECT_EQ(defaults.cfg.stream_nats.servers, (std::vector<std::string>{"nats://127.0.0.1:4222"}));
  EXPECT_EQ(defaults.cfg.stream_nats.stream, "BAOTIN");
  EXPECT_EQ(defaults.cfg.stream_nats.duplicate_window_s, 86400);

  auto bad = load("[stream.nats]\nservers = [\"http://x:4222\"]\nstream = \"a.b\"\nsubject_prefix = \"baotin.>\"\n"
                  "retention = \"forever\"\nmax_age_s = 60\nduplicate_window_s = 3600\ncredentials = \"missing.creds\"\n"
                  "publish_timeout_ms = 5\nbogus = 1\n");
  EXPECT_FALSE(bad.ok);
  for (const char* e : {":2: stream.nats.servers: not a NATS URL", ":3: stream.nats.stream: 'a.b' is not",
                        ":4: stream.nats.subject_prefix: 'baotin.>'", ":5: stream.nats.retention:",
                        ":7: stream.nats.duplicate_window_s: 3600 exceeds max_age_s = 60",
                        ":8: stream.nats.credentials: cannot read", ":9: stream.nats.publish_timeout_ms: 5 is out of range",
                        ":10: unknown key 'stream.nats.bogus'"})
    EXPECT_NE(bad.errors.find(e), std::string::npos) << e << "\n" << bad.errors;

  auto short_age = load("[stream.nats]\nmax_age_s = 600\n");  // the default window shrinks to the max age
  ASSERT_TRUE(short_age.ok) << short_age.errors;
  EXPECT_EQ(short_age.cfg.stream_nats.duplicate_window_s, 600);

  auto not_table = load("stream = 1\n");
  EXPECT_FALSE(not_table.ok);
  EXPECT_NE(not_table.errors.find(":1: stream: expected a table"), std::string::npos) << not_table.errors;

  // A reload cannot apply it: it is named as needing a restart.
  auto changes = baotin::changed_settings(defaults.cfg, full.cfg);
  bool named = false;
  for (const auto& c : changes) named |= c.name == "stream.nats" && c.needs_restart;
  EXPECT_TRUE(named);
}
