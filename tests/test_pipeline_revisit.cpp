// Re-visits (issue 10 item 3): a stored article is fetched again on a schedule after it was first seen, with a
// conditional GET, at a lower priority than new articles; an edited page becomes a new version without any feed
// change. Loopback server, real fetcher, real RocksDB, injected clock (no date of the machine matters).
#include <gtest/gtest.h>
#include <httplib.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "daemon/pipeline.h"
#include "daemon/revisit.h"
#include "e2e_server.h"

using namespace baotin;
using baotin::testing::Story;

namespace {

// A fixed point in time: the injected clock starts here whatever the machine's date is.
constexpr int64_t kT0 = 1767225600;  // 2026-01-01T00:00:00Z

// A news site whose article pages can be edited, answer 304 to a matching If-None-Match, fail on demand, or be
// held (the answer waits until released).
class EditableSite {
 public:
  EditableSite() {
    svr_.set_keep_alive_timeout(1);
    svr_.Get("/robots.txt", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("User-agent: *\nAllow: /\n", "text/plain");
    });
    svr_.Get("/rss.xml", [this](const httplib::Request& req, httplib::Response& res) {
      ++feed_requests;
      if (req.get_header_value("If-None-Match") == "\"feed1\"") {
        res.status = 304;
        return;
      }
      std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>t</title>";
      std::lock_guard lk(mu_);
      for (const auto& slug : feed_slugs_)
        x += "<item><title>" + stories_.at(slug).title + "</title><link>" + base() + "/bai/" + slug +
             ".html</link><pubDate>Mon, 27 Jan 2025 14:30:00 +0700</pubDate></item>";
      res.set_header("ETag", "\"feed1\"");
      res.set_content(x + "</channel></rss>", "application/rss+xml; charset=utf-8");
    });
    svr_.Get(R"(/bai/(.+)\.html)", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string slug = req.matches[1];
      std::unique_lock lk(mu_);
      log_.push_back(slug);
      ++requests_[slug];
      cv_.wait(lk, [&] { return !held_.count(slug) || stopping_; });
      if (auto r = redirects_.find(slug); r != redirects_.end()) {
        res.set_redirect(base() + r->second, 301);
        return;
      }
      if (auto f = faults_.find(slug); f != faults_.end() && f->second > 0) {
        --f->second;
        res.status = 500;
        res.set_content("error", "text/plain");
        return;
      }
      auto it = stories_.find(slug);
      if (it == stories_.end()) {
        res.status = 404;
        return;
      }
      const std::string etag = "\"" + slug + "-e" + std::to_string(edits_[slug]) + "\"";
      if (req.get_header_value("If-None-Match") == etag) {
        ++not_modified_[slug];
        res.status = 304;
        return;
      }
      conditional_[slug] += req.has_header("If-None-Match") ? 1 : 0;
      res.set_header("ETag", etag);
      res.set_content(baotin::testing::article_html(it->second, base()), "text/html; charset=utf-8");
    });
    // The homepage: where outlets send the URLs of articles they took down.
    svr_.Get("/", [this](const httplib::Request&, httplib::Response& res) {
      Story home = story_for_home();
      res.set_content(baotin::testing::article_html(home, base()), "text/html; charset=utf-8");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~EditableSite() {
    {
      std::lock_guard lk(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    svr_.stop();
    thread_.join();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string url(const std::string& slug) const { return base() + "/bai/" + slug + ".html"; }

  void add(const Story& s, bool in_feed = true) {
    std::lock_guard lk(mu_);
    stories_[s.slug] = s;
    if (in_feed) feed_slugs_.push_back(s.slug);
  }
  // The outlet edits the article silently: the body changes, the ETag with it; the feed stays as it is.
  void edit(const std::string& slug, const std::string& new_paragraph) {
    std::lock_guard lk(mu_);
    stories_.at(slug).paragraphs.push_back(new_paragraph);
    ++edits_[slug];
  }
  // The article's URL now answers 301 to `path` (e.g. "/": taken down, sent to the homepage).
  void redirect(const std::string& slug, const std::string& path) {
    std::lock_guard lk(mu_);
    redirects_[slug] = path;
  }
  void fail(const std::string& slug, int times) {
    std::lock_guard lk(mu_);
    faults_[slug] = times;
  }
  void hold(const std::string& slug) {
    std::lock_guard lk(mu_);
    held_.insert(slug);
  }
  void release(const std::string& slug) {
    {
      std::lock_guard lk(mu_);
      held_.erase(slug);
    }
    cv_.notify_all();
  }
  int requests(const std::string& slug) {
    std::lock_guard lk(mu_);
    return requests_[slug];
  }
  int not_modified(const std::string& slug) {
    std::lock_guard lk(mu_);
    return not_modified_[slug];
  }
  int conditional_200s(const std::string& slug) {
    std::lock_guard lk(mu_);
    return conditional_[slug];
  }
  std::vector<std::string> log() {
    std::lock_guard lk(mu_);
    return log_;
  }
  std::atomic<int> feed_requests{0};

 private:
  httplib::Server svr_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, Story> stories_;
  std::vector<std::string> feed_slugs_, log_;
  std::map<std::string, int> requests_, not_modified_, conditional_, edits_, faults_;
  std::map<std::string, std::string> redirects_;
  std::set<std::string> held_;
  static Story story_for_home();
};

Story story(const std::string& slug, const std::string& title) {
  return {slug, title, "Tóm tắt của bài " + title + ".", "2025-01-20T08:15:00+07:00",
          {"Đoạn thứ nhất của bài " + title + " kể lại diễn biến trong ngày tại Hà Nội.",
           "Đoạn thứ hai của bài " + title + " nêu ý kiến của các chuyên gia giao thông."}};
}

Story EditableSite::story_for_home() {
  return story("trang-chu", "Trang chủ: tin tức mới nhất trong ngày hôm nay");
}

struct Harness {
  std::filesystem::path dir;
  Config cfg;
  std::unique_ptr<Store> store;
  std::unique_ptr<Fetcher> fetcher;
  std::unique_ptr<Metrics> metrics;
  std::shared_ptr<TemplateRegistry> templates = std::make_shared<TemplateRegistry>();
  std::unique_ptr<Ingestor> ing;
  std::atomic<int64_t> clock{kT0};

  explicit Harness(const std::string& name, std::function<void(Config&)> tune = {}) {
    dir = std::filesystem::temp_directory_path() / ("baotin-revisit-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::vector<TemplateError> errs;
    auto t = load_template(std::string(BAOTIN_FIXTURES) + "/e2e/site.toml", errs);
    EXPECT_TRUE(t) << (errs.empty() ? "" : errs[0].str());
    templates->add(t);
    cfg.poll.min_interval_s = 1;
    cfg.article_retries = 3;
    if (tune) tune(cfg);
    start();
  }
  void start() {
    std::string err;
    store = Store::open({(dir / "db").string(), true}, &err);
    ASSERT_TRUE(store) << err;
    FetcherConfig fc;
    fc.per_host_min_delay_s = 0;
    fc.per_host_concurrency = 4;
    fc.total_timeout_ms = 10000;
    fc.allow_private = {"127.0.0.1"};
    fetcher = std::make_unique<Fetcher>(fc);
    metrics = std::make_unique<Metrics>();
    ing = std::make_unique<Ingestor>(cfg, *store, *fetcher, *metrics, templates);
    ing->set_clock([this] { return clock.load(); });
  }
  void stop() {
    ing->finish();
    fetcher->shutdown(false);
    ing.reset();
    fetcher.reset();
    store.reset();
  }
  ~Harness() {
    if (ing) stop();
    std::filesystem::remove_all(dir);
  }
  // Waits for the outstanding work; tick() runs the retries only (re-visits are dispatched explicitly by the
  // tests, so that what runs when is decided by the test, not by timing).
  void wait() {
    for (int i = 0; i < 600 && !ing->wait_idle(0.1); ++i) {
    }
    ASSERT_EQ(ing->outstanding(), 0u);
  }
  std::string id(const std::string& url) { return store->id_for_url(url).value_or(""); }
};

std::string paragraphs_of(const Article& a) {
  std::string s;
  for (const auto& p : a.body) s += p + "\n";
  return s;
}

}  // namespace

TEST(RevisitSchedule, KeysSortByDueTimeAndRoundTrip) {
  EXPECT_LT(revisit_key(255, "b"), revisit_key(256, "a"));
  EXPECT_LT(revisit_key(kT0, "zz"), revisit_key(kT0 + 1, "aa"));
  RevisitEntry e{"abc", "https://x.vn/a.html", "site", "https://x.vn/rss", kT0, kT0 + 3600, 0, 2, "\"e\"", "Mon"};
  auto back = parse_revisit(revisit_key(e.due, e.id), revisit_value(e));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, "abc");
  EXPECT_EQ(back->due, kT0 + 3600);
  EXPECT_EQ(back->url, e.url);
  EXPECT_EQ(back->failures, 2u);
  EXPECT_EQ(back->etag, "\"e\"");
  EXPECT_EQ(back->last_modified, "Mon");
  EXPECT_FALSE(parse_revisit(revisit_key(1, "x"), "{not json"));
  EXPECT_FALSE(parse_revisit("other:key", revisit_value(e)));
}

TEST(RevisitSchedule, NextStepSkipsStepsThatPassedWhileTheDaemonWasDown) {
  const std::vector<int64_t> steps = {3600, 21600, 86400, 259200, 604800};
  EXPECT_EQ(next_revisit_step(steps, kT0, 0, kT0 + 3601), 1u);
  // Visited step 0 four days late: 6 h, 24 h and 72 h are past, the next visit is the 7 d one.
  EXPECT_EQ(next_revisit_step(steps, kT0, 0, kT0 + 4 * 86400), 4u);
  EXPECT_FALSE(next_revisit_step(steps, kT0, 4, kT0 + 604801));
  EXPECT_FALSE(next_revisit_step(steps, kT0, 0, kT0 + 700000));
}

TEST(RevisitConfig, ParsesDurationsAndRejectsBadSteps) {
  const auto dir = std::filesystem::temp_directory_path() / ("baotin-revisit-cfg-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto load = [&](const std::string& text, Config& cfg, std::vector<TemplateError>& errs) {
    std::ofstream(dir / "c.toml") << text;
    return load_config((dir / "c.toml").string(), cfg, errs);
  };
  {
    Config cfg;
    std::vector<TemplateError> errs;
    EXPECT_EQ(cfg.revisit.after_s, (std::vector<int64_t>{3600, 21600, 86400, 259200, 604800}));  // default
    ASSERT_TRUE(load("[revisit]\nafter = [\"30m\", 7200, \"2d\"]\nper_tick = 5\nmax_in_flight = 2\n", cfg, errs))
        << (errs.empty() ? "" : errs[0].str());
    EXPECT_EQ(cfg.revisit.after_s, (std::vector<int64_t>{1800, 7200, 172800}));
    EXPECT_EQ(cfg.revisit.per_tick, 5);
    EXPECT_EQ(cfg.revisit.max_in_flight, 2);
  }
  {
    Config cfg;
    std::vector<TemplateError> errs;
    ASSERT_TRUE(load("[revisit]\nafter = []\n", cfg, errs));
    EXPECT_TRUE(cfg.revisit.after_s.empty());  // off
  }
  for (const char* bad : {"after = [\"6h\", \"1h\"]", "after = [\"1x\"]", "after = [10]", "after = \"1h\"",
                          "after = [\"400d\"]", "per_tick = 0", "typo = 1"}) {
    Config cfg;
    std::vector<TemplateError> errs;
    EXPECT_FALSE(load(std::string("[revisit]\n") + bad + "\n", cfg, errs)) << bad;
    ASSERT_FALSE(errs.empty()) << bad;
    EXPECT_NE(errs[0].str().find("revisit."), std::string::npos) << errs[0].str();
    EXPECT_NE(errs[0].str().find(":2:"), std::string::npos) << errs[0].str();
  }
  std::filesystem::remove_all(dir);
}

// The issue's "done when": a re-visit serves an edited page and gets version 2 without any feed change.
TEST(Revisit, EditedPageBecomesVersion2WithoutAnyFeedChange) {
  EditableSite site;
  site.add(story("gia-xang-tang-5001", "Giá xăng tăng từ chiều nay"));
  Harness h("edited");
  h.ing->poll_feed({site.base() + "/rss.xml", ""});
  h.wait();
  const std::string id = h.id(site.url("gia-xang-tang-5001"));
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(h.store->versions(id).size(), 1u);
  EXPECT_EQ(h.metrics->revisits_scheduled.load(), 1u);
  // Not due before an hour has passed.
  h.clock = kT0 + 3599;
  EXPECT_EQ(h.ing->revisits_due(), 0u);
  EXPECT_EQ(h.ing->dispatch_revisits(), 0u);

  site.edit("gia-xang-tang-5001", "Cập nhật: Bộ Công Thương điều chỉnh giá bán lẻ thêm 500 đồng mỗi lít.");
  h.clock = kT0 + 3601;
  EXPECT_EQ(h.ing->revisits_due(), 1u);
  EXPECT_EQ(h.metrics->revisits_due.load(), 1);
  EXPECT_EQ(h.ing->dispatch_revisits(), 1u);
  h.wait();
  EXPECT_EQ(site.feed_requests.load(), 1);           // no feed poll
  EXPECT_EQ(site.requests("gia-xang-tang-5001"), 2);
  EXPECT_EQ(site.conditional_200s("gia-xang-tang-5001"), 1);  // sent If-None-Match, got the edited page
  auto versions = h.store->versions(id);
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[1].version, 2u);
  EXPECT_NE(paragraphs_of(versions[1]).find("điều chỉnh giá bán lẻ thêm 500 đồng"), std::string::npos)
      << paragraphs_of(versions[1]);
  EXPECT_EQ(paragraphs_of(versions[0]).find("500 đồng"), std::string::npos);
  EXPECT_EQ(h.metrics->revisits.load(), 1u);
  EXPECT_EQ(h.metrics->revisits_corrections.load(), 1u);
  EXPECT_EQ(h.metrics->revisits_not_modified.load(), 0u);
  EXPECT_EQ(h.metrics->articles_updated.load(), 1u);
  // The change log says "updated" for version 2, as for any correction.
  std::vector<std::string> types;
  h.store->scan_changes(0, [&](const ChangeEvent& e) {
    types.push_back(e.type + ":" + std::to_string(e.version));
    return true;
  });
  EXPECT_EQ(types, (std::vector<std::string>{"new:1", "updated:2"}));
  // The next step (6 h after first seen) is not due yet; at 6 h it is, once.
  EXPECT_EQ(h.ing->revisits_due(), 0u);
  h.clock = kT0 + 6 * 3600;
  EXPECT_EQ(h.ing->revisits_due(), 1u);
  const std::string prom = h.metrics->prometheus(false);
  EXPECT_NE(prom.find("baotin_revisits_corrections_total 1"), std::string::npos);
  EXPECT_NE(prom.find("baotin_revisits_total 1"), std::string::npos);
}

// An article taken down and redirected to the homepage: the homepage is not stored as its new version (nor is the
// homepage's URL mapped to it), and its re-visits end.
TEST(Revisit, RedirectToAnotherPageIsNotANewVersion) {
  EditableSite site;
  site.add(story("bai-go-5009", "Bài viết sắp bị gỡ xuống"));
  Harness h("gone");
  h.ing->poll_feed({site.base() + "/rss.xml", ""});
  h.wait();
  const std::string id = h.id(site.url("bai-go-5009"));
  ASSERT_FALSE(id.empty());
  const uint64_t seq = h.store->last_seq();
  site.redirect("bai-go-5009", "/");
  h.clock = kT0 + 3601;
  EXPECT_EQ(h.ing->dispatch_revisits(), 1u);
  h.wait();
  EXPECT_EQ(site.requests("bai-go-5009"), 2);
  EXPECT_EQ(h.store->versions(id).size(), 1u);
  EXPECT_EQ(h.store->last_seq(), seq);  // nothing stored
  EXPECT_EQ(h.metrics->revisits_corrections.load(), 0u);
  EXPECT_EQ(h.metrics->revisits_abandoned.load(), 1u);
  EXPECT_FALSE(h.store->id_for_url(site.base() + "/"));
  h.clock = kT0 + 7 * 86400 + 1;
  EXPECT_EQ(h.ing->revisits_due(), 0u);  // the schedule ended
}

TEST(Revisit, UnchangedPageAnswers304AndStoresNothing) {
  EditableSite site;
  site.add(story("mua-bao-5002", "Mưa bão tại miền Trung"));
  Harness h("304");
  h.ing->poll_feed({site.base() + "/rss.xml", ""});
  h.wait();
  const std::string id = h.id(site.url("mua-bao-5002"));
  ASSERT_FALSE(id.empty());
  const uint64_t seq = h.store->last_seq();
  h.clock = kT0 + 3600;
  EXPECT_EQ(h.ing->dispatch_revisits(), 1u);
  h.wait();
  EXPECT_EQ(site.requests("mua-bao-5002"), 2);
  EXPECT_EQ(site.not_modified("mua-bao-5002"), 1);
  EXPECT_EQ(h.metrics->revisits.load(), 1u);
  EXPECT_EQ(h.metrics->revisits_not_modified.load(), 1u);
  EXPECT_EQ(h.metrics->revisits_corrections.load(), 0u);
  EXPECT_EQ(h.metrics->articles_unchanged.load() + h.metrics->articles_updated.load(), 0u);  // nothing parsed
  EXPECT_EQ(h.store->versions(id).size(), 1u);
  EXPECT_EQ(h.store->last_seq(), seq);
  // The 6 h step keeps the validators: another 304.
  h.clock = kT0 + 6 * 3600;
  EXPECT_EQ(h.ing->dispatch_revisits(), 1u);
  h.wait();
  EXPECT_EQ(site.not_modified("mua-bao-5002"), 2);
  EXPECT_EQ(h.store->versions(id).size(), 1u);
}

TEST(Revisit, NewArticlesAreDispatchedBeforeDueRevisits) {
  EditableSite site;
  site.add(story("cu-5003", "Bài cũ về giao thông"));
  site.add(story("moi-5004", "Bài mới về giao thông"), false);
  Harness h("priority");
  h.ing->poll_feed({site.base() + "/rss.xml", ""});
  h.wait();
  h.clock = kT0 + 2 * 3600;
  ASSERT_EQ(h.ing->revisits_due(), 1u);
  // A new article of the same host is being fetched (its answer is held): the due re-visit waits.
  site.hold("moi-5004");
  ASSERT_EQ(h.ing->ingest_url(site.url("moi-5004"), "", ""), Ingestor::QueueResult::Queued);
  EXPECT_EQ(h.ing->dispatch_revisits(), 0u);
  h.ing->tick();  // the scheduler's tick does not start it either
  EXPECT_EQ(h.ing->revisits_in_flight(), 0u);
  EXPECT_EQ(h.ing->revisits_due(), 1u);
  site.release("moi-5004");
  h.wait();
  EXPECT_EQ(h.metrics->articles_new.load() + h.metrics->articles_duplicate.load(), 2u);  // near-copies may be duplicates
  // Now the host is free: the re-visit goes.
  EXPECT_EQ(h.ing->dispatch_revisits(), 1u);
  h.wait();
  EXPECT_EQ(site.log(), (std::vector<std::string>{"cu-5003", "moi-5004", "cu-5003"}));
  EXPECT_EQ(h.metrics->revisits.load(), 1u);
  EXPECT_EQ(h.ing->revisits_due(), 0u);  // moi-5004's first re-visit is an hour after it was stored
}

TEST(Revisit, AtMostPerTickAndMaxInFlight) {
  EditableSite site;
  for (int i = 0; i < 5; ++i) site.add(story("bai-" + std::to_string(i) + "-600" + std::to_string(i), "Bài số " + std::to_string(i)));
  Harness h("caps", [](Config& c) {
    c.revisit.per_tick = 2;
    c.revisit.max_in_flight = 3;
  });
  h.ing->poll_feed({site.base() + "/rss.xml", ""});
  h.wait();
  ASSERT_EQ(h.metrics->articles_new.load() + h.metrics->articles_duplicate.load(), 5u);  // copies get re-visits too
  h.clock = kT0 + 3600;
  EXPECT_EQ(h.ing->revisits_due(), 5u);
  for (int i = 0; i < 5; ++i) site.hold("bai-" + std::to_string(i) + "-600" + std::to_string(i));
  EXPECT_EQ(h.ing->dispatch_revisits(), 2u);  // per_tick
  EXPECT_EQ(h.ing->dispatch_revisits(), 1u);  // max_in_flight
  EXPECT_EQ(h.ing->dispatch_revisits(), 0u);
  EXPECT_EQ(h.ing->revisits_in_flight(), 3u);
  for (int i = 0; i < 5; ++i) site.release("bai-" + std::to_string(i) + "-600" + std::to_string(i));
  h.wait();
  EXPECT_EQ(h.ing->dispatch_revisits(), 2u);
  h.wait();
  EXPECT_EQ(h.metrics->revisits.load(), 5u);
  EXPECT_EQ(h.metrics->revisits_not_modified.load(), 5u);
  EXPECT_EQ(h.ing->revisits_due(), 0u);
}

TEST(Revisit, FailedRevisitIsRetriedAtTheNextStepAndCounted) {
  EditableSite site;
  site.add(story("loi-5005", "Bài có lỗi máy chủ"));
  Harness h("fail");
  h.ing->poll_feed({site.base() + "/rss.xml", ""});
  h.wait();
  const std::string id = h.id(site.url("loi-5005"));
  site.fail("loi-5005", 1);
  h.clock = kT0 + 3600;
  EXPECT_EQ(h.ing->dispatch_revisits(), 1u);
  h.wait();
  EXPECT_EQ(site.requests("loi-5005"), 2);  // no immediate retry
  EXPECT_EQ(h.metrics->revisits.load(), 1u);
  EXPECT_EQ(h.metrics->revisits_failed.load(), 1u);
  EXPECT_EQ(h.ing->revisits_due(), 0u);
  EXPECT_EQ(h.metrics->articles_failed.load(), 0u);  // the article itself is not a failed article
  // The next step: the page has been edited meanwhile; the correction is found.
  site.edit("loi-5005", "Đính chính: số liệu trong bài đã được cập nhật theo báo cáo mới nhất.");
  h.clock = kT0 + 6 * 3600;
  EXPECT_EQ(h.ing->dispatch_revisits(), 1u);
  h.wait();
  EXPECT_EQ(h.metrics->revisits_failed.load(), 1u);
  EXPECT_EQ(h.metrics->revisits_corrections.load(), 1u);
  EXPECT_EQ(h.store->versions(id).size(), 2u);
}

TEST(Revisit, LastStepFailuresAreRetriedThenTheScheduleEnds) {
  EditableSite site;
  site.add(story("het-5006", "Bài đã bị gỡ"));
  Harness h("last", [](Config& c) { c.revisit.after_s = {3600}; });
  h.ing->poll_feed({site.base() + "/rss.xml", ""});
  h.wait();
  site.fail("het-5006", 100);
  int64_t t = kT0 + 3600;
  for (uint32_t i = 0; i <= RevisitPolicy::kLastStepRetries; ++i) {
    h.clock = t;
    ASSERT_EQ(h.ing->dispatch_revisits(), 1u) << i;
    h.wait();
    t += RevisitPolicy::kLastStepRetryS;
  }
  EXPECT_EQ(h.metrics->revisits_failed.load(), RevisitPolicy::kLastStepRetries + 1);
  EXPECT_EQ(h.metrics->revisits_abandoned.load(), 1u);
  h.clock = t + 30 * 86400;
  EXPECT_EQ(h.ing->revisits_due(), 0u);
}

TEST(Revisit, ScheduleSurvivesAStoreReopen) {
  EditableSite site;
  site.add(story("ben-5007", "Bài sống qua lần khởi động lại"));
  Harness h("reopen");
  h.ing->poll_feed({site.base() + "/rss.xml", ""});
  h.wait();
  const std::string id = h.id(site.url("ben-5007"));
  h.stop();
  h.start();
  h.clock = kT0 + 3600;
  EXPECT_EQ(h.ing->revisits_due(), 1u);
  site.edit("ben-5007", "Bổ sung: cơ quan chức năng đã có kết luận chính thức về vụ việc.");
  EXPECT_EQ(h.ing->dispatch_revisits(), 1u);
  h.wait();
  EXPECT_EQ(site.conditional_200s("ben-5007"), 1);  // the validators survived too
  EXPECT_EQ(h.metrics->revisits_corrections.load(), 1u);
  EXPECT_EQ(h.store->versions(id).size(), 2u);
  // A visit interrupted by a shutdown is not lost: stopping before the held answer keeps the entry.
  h.clock = kT0 + 6 * 3600;
  site.hold("ben-5007");
  EXPECT_EQ(h.ing->dispatch_revisits(), 1u);
  h.ing->stop_accepting();
  site.release("ben-5007");
  h.wait();
  h.stop();
  h.start();
  EXPECT_EQ(h.ing->revisits_due(), 1u);
}

TEST(Revisit, EmptyScheduleTurnsRevisitsOff) {
  EditableSite site;
  site.add(story("tat-5008", "Bài không được xem lại"));
  Harness h("off", [](Config& c) { c.revisit.after_s.clear(); });
  h.ing->poll_feed({site.base() + "/rss.xml", ""});
  h.wait();
  h.clock = kT0 + 30 * 86400;
  EXPECT_EQ(h.metrics->revisits_scheduled.load(), 0u);
  EXPECT_EQ(h.ing->revisits_due(), 0u);
  EXPECT_EQ(h.ing->dispatch_revisits(), 0u);
}

TEST(RevisitSchedule, MetaWritesRefuseReservedKeysAndScanOnlyTheDuePrefix) {
  Harness h("meta");
  EXPECT_THROW(h.store->write_meta({{"last_seq", "7"}}, {}), StoreError);
  EXPECT_THROW(h.store->write_meta({}, {"schema_version"}), StoreError);
  RevisitSchedule sched(*h.store);
  RevisitEntry a{"a", "http://127.0.0.1:1/bai/a-1.html", "site", "", kT0, kT0 + 10, 0, 0, "", ""};
  RevisitEntry b = a;
  b.id = "b";
  b.due = kT0 + 20;
  sched.add(b);
  sched.add(a);
  h.store->put_meta("template_health", "{}");  // another meta key: never read as an entry
  h.store->write_meta({{revisit_key(kT0 + 5, "bad"), "{not json"}}, {});
  size_t malformed = 0;
  auto due = sched.due(kT0 + 10, 10, 100, {}, &malformed);
  ASSERT_EQ(due.size(), 1u);  // b is not due yet; the malformed entry is dropped
  EXPECT_EQ(due[0].id, "a");
  EXPECT_EQ(malformed, 1u);
  EXPECT_EQ(sched.count_due(kT0 + 100, 100), 2u);
  EXPECT_EQ(sched.count_due(kT0 + 100, 1), 1u);  // capped
  RevisitEntry next = a;
  next.due = kT0 + 30;
  next.step = 1;
  sched.advance(a, next);
  EXPECT_EQ(sched.count_due(kT0 + 20, 100), 1u);  // b only: a moved to +30
  sched.advance(next, std::nullopt);
  EXPECT_EQ(sched.count_due(kT0 + 1000, 100), 1u);
  EXPECT_TRUE(h.store->get_meta("template_health"));
}
