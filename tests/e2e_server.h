// A local news site for end-to-end tests: an RSS feed and article pages with real-world boilerplate,
// served by cpp-httplib on 127.0.0.1, with switchable faults.
#pragma once
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace baotin::testing {

// A loopback TCP port that nothing listens on (bound, read, closed).
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

struct Story {
  std::string slug, title, sapo, date;
  std::vector<std::string> paragraphs;
};

inline std::vector<Story> default_stories() {
  return {
      {"mua-lon-ha-noi-1001", "Mưa lớn gây ngập nhiều tuyến phố Hà Nội", "Cơn mưa kéo dài từ chiều qua khiến nhiều tuyến phố ngập sâu.",
       "Thứ hai, 27/1/2025, 14:30 (GMT+7)",
       {"Từ 15h chiều, mưa lớn trút xuống nội thành, nhiều tuyến phố như Nguyễn Trãi, Tây Sơn ngập sâu 30-50 cm.",
        "Công ty Thoát nước cho biết đã huy động hơn 500 công nhân ứng trực tại các điểm ngập."}},
      {"gia-vang-giam-1002", "Giá vàng giảm mạnh phiên đầu tuần", "Giá vàng miếng trong nước giảm hơn một triệu đồng mỗi lượng.",
       "06/02/2025 | 13:54",
       {"Sáng nay, các doanh nghiệp kinh doanh vàng đồng loạt điều chỉnh giảm giá vàng miếng.",
        "Chênh lệch giữa giá trong nước và thế giới vẫn ở mức cao, khoảng 20 triệu đồng mỗi lượng."}},
      {"tet-nguyen-dan-1003", "Lịch nghỉ Tết Nguyên đán của công chức", "Công chức, viên chức được nghỉ 9 ngày liên tục dịp Tết.",
       "2025-01-20T08:15:00+07:00",
       {"Bộ Lao động đã trình phương án nghỉ Tết Nguyên đán kéo dài 9 ngày.",
        "Người lao động khu vực doanh nghiệp được khuyến khích áp dụng lịch nghỉ tương tự."}},
  };
}

// `n` distinct generated stories (slugs tin-so-<i>-<10000+i>), for feeds with many items.
inline std::vector<Story> many_stories(int n) {
  std::vector<Story> v;
  for (int i = 0; i < n; ++i) {
    std::string k = std::to_string(i);
    v.push_back({"tin-so-" + k + "-" + std::to_string(10000 + i), "Tin số " + k + " về giao thông đô thị",
                 "Bản tin số " + k + " tóm tắt diễn biến giao thông trong ngày.", "2025-01-20T08:15:00+07:00",
                 {"Đoạn thứ nhất của bản tin số " + k + " nói về tình hình ùn tắc tại các cửa ngõ thành phố.",
                  "Đoạn thứ hai của bản tin số " + k + " nêu các biện pháp phân luồng của lực lượng chức năng."}});
  }
  return v;
}

inline std::string article_html(const Story& s, const std::string& base) {
  std::string h = "<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>" + s.title +
                  " - Báo Thử</title><link rel=\"canonical\" href=\"" + base + "/bai/" + s.slug +
                  ".html\"><meta name=\"keywords\" content=\"thời sự, Hà Nội\"></head><body>"
                  "<nav><ul><li><a href=\"/\">Trang chủ</a></li><li><a href=\"/thoi-su\">Thời sự</a></li></ul></nav>"
                  "<ul class=\"breadcrumb\"><li><a href=\"/\">Trang chủ</a></li><li><a href=\"/thoi-su\">Thời sự</a></li></ul>"
                  "<h1 class=\"title-detail\">" + s.title + "</h1><span class=\"date\">" + s.date + "</span>"
                  "<p class=\"sapo\">" + s.sapo + "</p><div class=\"share\">Chia sẻ Facebook Zalo</div>"
                  "<article class=\"fck_detail\">";
  for (const auto& p : s.paragraphs) h += "<p>" + p + "</p>";
  h += "<figure><img src=\"/img/" + s.slug + ".jpg\"><figcaption>Ảnh minh họa</figcaption></figure>"
       "<div class=\"tin-lien-quan\"><p>Tin liên quan</p><p><a href=\"/bai/khac-9999.html\">Đọc thêm bài khác</a></p></div>"
       "<p class=\"author\"><strong>Nguyễn Văn An</strong></p></article>"
       "<div id=\"comments\"><p>Ý kiến bạn đọc: hay quá!</p></div>"
       "<footer>Cùng chủ đề ... © Báo Thử</footer></body></html>";
  return h;
}

class NewsServer {
 public:
  explicit NewsServer(std::vector<Story> stories = default_stories()) : stories_(std::move(stories)) {
    svr_.Get("/robots.txt", [this](const httplib::Request&, httplib::Response& res) {
      ++robots_requests;
      if (robots_faults > 0) {
        --robots_faults;
        if (robots_fault_status == 0) {  // hang until the client gives up (or the server stops)
          for (int i = 0; i < 2000 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
          return;
        }
        res.status = robots_fault_status;
        res.set_content("error", "text/plain");
        return;
      }
      res.set_content("User-agent: *\nDisallow: /private/\n", "text/plain");
    });
    svr_.Get("/rss.xml", [this](const httplib::Request& req, httplib::Response& res) {
      ++feed_requests;
      std::string etag = "\"v" + std::to_string(feed_version.load()) + "\"";
      if (req.get_header_value("If-None-Match") == etag) {
        ++feed_304;
        res.status = 304;
        return;
      }
      res.set_header("ETag", etag);
      res.set_content(feed_xml(), "application/rss+xml; charset=utf-8");
    });
    svr_.Get(R"(/bai/(.+)\.html)", [this](const httplib::Request& req, httplib::Response& res) {
      std::string slug = req.matches[1];
      if (int ms = article_delay_ms.load(); ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      {
        std::lock_guard lk(mu_);
        ++article_requests[slug];
        auto f = faults_.find(slug);
        if (f != faults_.end() && f->second.remaining > 0) {
          --f->second.remaining;
          res.status = f->second.status;
          if (f->second.status == 503 || f->second.status == 429) res.set_header("Retry-After", "0");
          res.set_content("error", "text/plain");
          return;
        }
      }
      for (const auto& s : stories_)
        if (s.slug == slug) {
          res.set_content(article_html(s, base()), "text/html; charset=utf-8");
          return;
        }
      res.status = 404;
    });
    // A news sitemap index with one child urlset listing every story.
    svr_.Get("/sitemap.xml", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content("<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
                      "<sitemap><loc>" + base() + "/sitemap-1.xml</loc><lastmod>2025-02-01</lastmod></sitemap></sitemapindex>",
                      "application/xml");
    });
    svr_.Get("/sitemap-1.xml", [this](const httplib::Request&, httplib::Response& res) {
      std::string x = "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">";
      const char* dates[] = {"2025-01-27", "2025-02-06", "2025-01-20"};
      for (size_t i = 0; i < stories_.size(); ++i)
        x += "<url><loc>" + base() + "/bai/" + stories_[i].slug + ".html</loc><lastmod>" + dates[i % 3] + "</lastmod></url>";
      res.set_content(x + "</urlset>", "application/xml");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~NewsServer() {
    stopping_ = true;
    svr_.stop();
    thread_.join();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

  // The next `times` requests for `slug` answer `status`.
  void fault(const std::string& slug, int status, int times) {
    std::lock_guard lk(mu_);
    faults_[slug] = {status, times};
  }
  int requests_for(const std::string& slug) {
    std::lock_guard lk(mu_);
    return article_requests[slug];
  }
  void add_item(const std::string& slug) {
    std::lock_guard lk(mu_);
    extra_items_.push_back(slug);
    ++feed_version;
  }

  std::string feed_xml() {
    std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>Báo Thử</title><link>" + base() +
                    "/</link>";
    for (const auto& s : stories_)
      x += "<item><title><![CDATA[" + s.title + "]]></title><link>" + base() + "/bai/" + s.slug +
           ".html?utm_source=rss</link><pubDate>Mon, 27 Jan 2025 14:30:00 +0700</pubDate></item>";
    std::lock_guard lk(mu_);
    for (const auto& e : extra_items_)
      x += "<item><title>Extra</title><link>" + base() + "/bai/" + e + ".html</link></item>";
    x += "<item><title>Video</title><link>" + base() + "/video/clip-2001.html</link></item>";
    x += "</channel></rss>";
    return x;
  }

  std::atomic<int> feed_requests{0}, feed_304{0}, feed_version{1};
  std::atomic<int> article_delay_ms{0};  // each article answer waits this long (a slow site)
  // The next `robots_faults` robots.txt requests answer `robots_fault_status` (0: hang, no answer).
  std::atomic<int> robots_faults{0}, robots_fault_status{500}, robots_requests{0};

 private:
  struct Fault {
    int status = 500;
    int remaining = 0;
  };
  std::vector<Story> stories_;
  httplib::Server svr_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::map<std::string, int> article_requests;
  std::map<std::string, Fault> faults_;
  std::vector<std::string> extra_items_;
};

}  // namespace baotin::testing
