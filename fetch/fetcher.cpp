#include "fetch/fetcher.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/limits.h"
#include "core/url.h"
#include "fetch/netpolicy.h"
#include "fetch/robots.h"

namespace baotin {
namespace {

using Clock = std::chrono::steady_clock;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Job {
  FetchRequest req;      // req.url is the URL of the current hop (the redirect target after a redirect)
  std::function<void(FetchResult)> cb;
  Clock::time_point submitted;  // when the current hop entered admission (submit, or the redirect)
  std::string origin;    // scheme://authority, robots.txt scope
  std::string host;      // lower-case host name
  std::string host_key;  // host[:port], politeness scope
  std::string path;      // path?query, for robots matching
  bool internal_robots = false;
  // Redirects are followed by the fetcher itself (not libcurl), each hop re-admitted like a new request.
  std::string first_url;             // URL as submitted (FetchResult::url); empty until the first redirect
  std::vector<std::string> visited;  // URLs requested so far, for loop detection
  int redirects = 0;
  double queued_before = 0, seconds_before = 0;  // queueing and transfer time of the earlier hops
  size_t wire_before = 0;                        // bytes received by the earlier hops
  std::shared_ptr<const NetAllowList> allow;     // parsed req.allow_private (null: none)
};
using JobPtr = std::unique_ptr<Job>;

struct Transfer {
  JobPtr job;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  FetchResult result;
  size_t limit = 0;
  bool too_large = false;
  char errbuf[CURL_ERROR_SIZE] = {0};
  Clock::time_point started;
  const NetAllowList* policy = nullptr;  // the fetcher's allow list (job->allow adds to it)
  std::string blocked;                   // set when the network policy refused a connection
  const std::vector<std::string>* never_connect = nullptr;  // FetcherConfig::never_connect

  ~Transfer() {
    if (easy) curl_easy_cleanup(easy);
    if (headers) curl_slist_free_all(headers);
  }
};

struct HostState {
  std::deque<JobPtr> queue;
  int in_flight = 0;
  Clock::time_point next_start{};
};

struct RobotsEntry {
  enum class State { kFetching, kReady, kError } state = State::kFetching;
  RobotsRules rules;
  Clock::time_point expires{};
  std::string error;
  std::vector<JobPtr> waiting;
};

size_t write_cb(char* data, size_t size, size_t nmemb, void* userp) {
  auto* t = static_cast<Transfer*>(userp);
  size_t n = size * nmemb;
  std::string& body = t->result.body;
  if (body.size() + n > t->limit) {
    body.append(data, t->limit - std::min(t->limit, body.size()));
    t->too_large = true;
    return 0;  // abort the transfer (CURLE_WRITE_ERROR)
  }
  body.append(data, n);
  return n;
}

size_t header_cb(char* data, size_t size, size_t nitems, void* userp) {
  auto* t = static_cast<Transfer*>(userp);
  size_t n = size * nitems;
  std::string_view line(data, n);
  if (line.substr(0, 5) == "HTTP/") {
    // A new response starts (after a redirect or a 1xx): forget the previous one.
    t->result.headers.clear();
    t->result.body.clear();
    return n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return n;
  t->result.headers.emplace(lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  return n;
}

// URL host of the transfer's current hop (libcurl follows robots.txt redirects itself).
std::string transfer_host(Transfer* t) {
  char* eff = nullptr;
  if (curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff) return url_host(eff);
  return t->job->host;
}

// Network policy, before a connection is made: the address is the resolved one, for every hop and every
// address libcurl tries (a name resolving to 127.0.0.1 is refused like the literal).
// "" when `addr` may be connected to, else why not: the daemon's own endpoints (never_connect, whatever the
// allow lists say), then the network policy.
std::string connect_refusal(Transfer* t, const sockaddr* addr) {
  if (!t->never_connect->empty()) {
    char ip[INET6_ADDRSTRLEN] = "";
    int port = 0;
    if (addr->sa_family == AF_INET) {
      auto* a4 = reinterpret_cast<const sockaddr_in*>(addr);
      inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof ip);
      port = ntohs(a4->sin_port);
    } else if (addr->sa_family == AF_INET6) {
      auto* a6 = reinterpret_cast<const sockaddr_in6*>(addr);
      inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof ip);
      port = ntohs(a6->sin6_port);
    }
    const std::string any = "*:" + std::to_string(port);
    const std::string exact = std::string(addr->sa_family == AF_INET6 ? "[" : "") + ip +
                              (addr->sa_family == AF_INET6 ? "]" : "") + ":" + std::to_string(port);
    for (const auto& n : *t->never_connect)
      if (n == exact || n == any) return "blocked: " + exact + " is baotin's own endpoint (network policy)";
  }
  return net_policy_refusal(addr, transfer_host(t), *t->policy, t->job->allow.get());
}

curl_socket_t open_socket_cb(void* clientp, curlsocktype purpose, curl_sockaddr* a) {
  auto* t = static_cast<Transfer*>(clientp);
  if (purpose == CURLSOCKTYPE_IPCXN) {
    std::string why = connect_refusal(t, &a->addr);
    if (!why.empty()) {
      t->blocked = std::move(why);
      return CURL_SOCKET_BAD;
    }
    // Another address of the host is allowed: a later failure of this connection is not a policy refusal.
    t->blocked.clear();
  }
  return ::socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

// The same check on the connection a request is about to use: also covers a connection libcurl reuses from
// an earlier transfer (opened under another request's allow list).
int prereq_cb(void* clientp, char* primary_ip, char*, int primary_port, int) {
  auto* t = static_cast<Transfer*>(clientp);
  sockaddr_storage ss{};
  auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (primary_ip && inet_pton(AF_INET, primary_ip, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<uint16_t>(primary_port));
  } else if (primary_ip && inet_pton(AF_INET6, primary_ip, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(primary_port));
  } else {
    return CURL_PREREQFUNC_OK;  // not an IP connection (cannot happen with http/https only)
  }
  std::string why = connect_refusal(t, reinterpret_cast<sockaddr*>(&ss));
  if (why.empty()) return CURL_PREREQFUNC_OK;
  t->blocked = std::move(why);
  return CURL_PREREQFUNC_ABORT;
}

bool has_crlf(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

bool is_followed_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// `ref` (a Location value) resolved against `base` with libcurl's URL API, the way libcurl resolves it when it
// follows redirects itself (spaces and non-ASCII bytes percent-encoded); the fragment is dropped (never sent).
// With an empty `ref`, `base` in the same normal form. nullopt (and `why`) when either is not a usable URL.
std::optional<std::string> resolve_location(const std::string& base, const std::string& ref, std::string& why) {
  std::unique_ptr<CURLU, void (*)(CURLU*)> u(curl_url(), curl_url_cleanup);
  if (!u) {
    why = "out of memory";
    return std::nullopt;
  }
  const unsigned flags = CURLU_URLENCODE | CURLU_ALLOW_SPACE;
  CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, base.c_str(), flags);
  if (rc == CURLUE_OK && !ref.empty()) rc = curl_url_set(u.get(), CURLUPART_URL, ref.c_str(), flags);
  if (rc == CURLUE_OK) rc = curl_url_set(u.get(), CURLUPART_FRAGMENT, nullptr, 0);
  char* out = nullptr;
  if (rc == CURLUE_OK) rc = curl_url_get(u.get(), CURLUPART_URL, &out, 0);
  if (rc != CURLUE_OK) {
    why = curl_url_strerror(rc);
    return std::nullopt;
  }
  std::string s(out);
  curl_free(out);
  return s;
}

}  // namespace

std::string FetchResult::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

std::optional<double> parse_retry_after(const std::string& value, int64_t now_epoch_s) {
  std::string_view v = trim(value);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (v.size() > 12) return std::nullopt;  // absurd; refuse rather than overflow
    return static_cast<double>(std::stoll(std::string(v)));
  }
  std::string s(v);
  time_t t = curl_getdate(s.c_str(), nullptr);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return std::max(0.0, static_cast<double>(static_cast<int64_t>(t) - now_epoch_s));
}

struct Fetcher::Impl {
  static void normalise(FetcherConfig& c) {
    if (c.max_in_flight < 1) c.max_in_flight = 1;
    if (c.per_host_concurrency < 1) c.per_host_concurrency = 1;
    if (c.per_host_min_delay_s < 0) c.per_host_min_delay_s = 0;
    if (c.max_redirects < 0) c.max_redirects = 0;
  }

  explicit Impl(FetcherConfig c) : cfg(std::move(c)) {
    normalise(cfg);
    agent_token = robots_product_token(cfg.user_agent);
    std::string why;
    auto allow_list = NetAllowList::parse(cfg.allow_private, &why);
    if (!allow_list) throw std::invalid_argument("Fetcher: " + why);
    allow = std::move(*allow_list);
    for (const auto& r : cfg.resolve) resolve = curl_slist_append(resolve, r.c_str());
    global_init();
    multi = curl_multi_init();
    if (!multi) throw std::runtime_error("Fetcher: curl_multi_init failed");
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(std::max(16, cfg.max_in_flight * 2)));
    thread = std::thread([this] { loop(); });
    loop_id = thread.get_id();
  }

  ~Impl() {
    if (multi) curl_multi_cleanup(multi);
    if (resolve) curl_slist_free_all(resolve);
  }

  FetcherConfig cfg;
  NetAllowList allow;
  curl_slist* resolve = nullptr;
  std::string agent_token;
  CURLM* multi = nullptr;
  std::thread thread;
  std::mutex join_mu;

  // Shared with submitters (guarded by mu).
  mutable std::mutex mu;
  std::vector<JobPtr> incoming;
  std::optional<std::pair<FetcherConfig, NetAllowList>> next_cfg;  // reconfigure(): applied by the loop
  bool stopping = false;
  bool drain = false;

  mutable std::mutex stats_mu;
  FetcherStats st;            // queued is derived in stats()
  size_t user_in_flight = 0;  // transfers for submitted requests (not internal robots.txt ones)

  // Loop-thread only.
  std::atomic<std::thread::id> loop_id{};
  std::map<std::string, HostState> hosts;
  std::map<std::string, RobotsEntry> robots;
  std::map<std::string, double> crawl_delay;  // host_key -> seconds (from robots.txt)
  std::unordered_set<Transfer*> running;
  std::string rr_cursor;
  size_t waiting_count = 0;  // jobs in host queues + robots waiting lists
  Clock::time_point next_sweep = Clock::now() + std::chrono::minutes(10);

  // ---- helpers -------------------------------------------------------------------------------------

  template <typename M>
  const typename M::mapped_type* host_lookup(const M& m, const Job& j) const {
    if (auto it = m.find(j.host_key); it != m.end()) return &it->second;
    if (auto it = m.find(j.host); it != m.end()) return &it->second;
    return nullptr;
  }

  double host_delay(const Job& j) const {
    double d = cfg.per_host_min_delay_s;
    if (auto* o = host_lookup(cfg.host_min_delay, j)) d = std::max(0.0, *o);
    if (auto it = crawl_delay.find(j.host_key); it != crawl_delay.end())
      d = std::max(d, std::min(it->second, cfg.max_crawl_delay_s));
    return d;
  }

  bool robots_ignored(const Job& j) const {
    if (!cfg.respect_robots || j.req.is_robots) return true;
    auto* o = host_lookup(cfg.robots_override, j);
    return o && *o;
  }

  void publish_counts() {
    size_t user = 0;
    for (const Transfer* t : running) user += t->job->internal_robots ? 0 : 1;
    std::lock_guard lk(stats_mu);
    st.in_flight = running.size();
    user_in_flight = user;
  }

  void deliver(Job& job, FetchResult r) {
    r.url = job.first_url.empty() ? job.req.url : job.first_url;
    if (r.final_url.empty()) r.final_url = job.req.url;
    {
      std::lock_guard lk(stats_mu);
      ++st.completed;
      if (r.status == 0) ++st.transport_errors;
      else if (r.status < 300) ++st.status_2xx;
      else if (r.status < 400) ++st.status_3xx;
      else if (r.status < 500) ++st.status_4xx;
      else ++st.status_5xx;
      if (r.not_modified) ++st.not_modified;
      if (r.too_large) ++st.too_large;
      if (r.blocked_by_robots) ++st.robots_blocked;
      if (r.robots_unavailable) ++st.robots_unavailable;
      if (r.blocked_by_policy) ++st.policy_blocked;
      st.body_bytes += r.body.size();
      st.wire_bytes += r.wire_bytes;
    }
    if (!job.cb) return;
    try {
      job.cb(std::move(r));
    } catch (const std::exception& e) {
      spdlog::error("fetcher: callback for {} threw: {}", redact_url(job.req.url), redact_url(e.what()));
    } catch (...) {
      spdlog::error("fetcher: callback for {} threw a non-standard exception", redact_url(job.req.url));
    }
  }

  enum class Why { kOther, kRobots, kRobotsUnavailable, kPolicy };
  void fail(Job& job, std::string error, Why why = Why::kOther, std::optional<double> retry_after = std::nullopt) {
    FetchResult r;
    r.error = std::move(error);
    r.blocked_by_robots = why == Why::kRobots;
    r.robots_unavailable = why == Why::kRobotsUnavailable;
    r.blocked_by_policy = why == Why::kPolicy;
    r.retry_after_s = retry_after;
    r.redirects = job.redirects;
    r.queued_seconds = job.queued_before + secs(Clock::now() - job.submitted);
    r.seconds = job.seconds_before;
    r.wire_bytes = job.wire_before;
    deliver(job, std::move(r));
  }

  // ---- admission: URL checks and robots ------------------------------------------------------------

  void admit(JobPtr job) {
    const std::string scheme = url_scheme(job->req.url);
    if (!scheme.empty() && scheme != "http" && scheme != "https")
      return fail(*job, "unsupported URL scheme '" + scheme + "' in '" + job->req.url + "' (only http/https)",
                  Why::kPolicy);
    auto u = parse_url(job->req.url);
    if (!u) return fail(*job, "invalid URL: '" + job->req.url + "'", Why::kPolicy);
    if (has_crlf(job->req.url) || has_crlf(job->req.etag) || has_crlf(job->req.last_modified))
      return fail(*job, "request contains CR/LF characters (header injection refused): '" + job->req.url + "'",
                  Why::kPolicy);
    if (!job->allow && !job->req.allow_private.empty()) {
      std::string why;
      auto l = NetAllowList::parse(job->req.allow_private, &why);
      if (!l) return fail(*job, "invalid request: " + why, Why::kPolicy);
      job->allow = std::make_shared<const NetAllowList>(std::move(*l));
    }
    std::string port = u->port;
    if ((u->scheme == "http" && port == "80") || (u->scheme == "https" && port == "443")) port.clear();
    std::string host = u->host.find(':') != std::string::npos ? "[" + u->host + "]" : u->host;
    job->host = u->host;
    job->host_key = port.empty() ? host : host + ":" + port;
    job->origin = u->scheme + "://" + job->host_key;
    job->path = (u->path.empty() ? "/" : u->path) + (u->has_query ? "?" + u->query : "");
    if (robots_ignored(*job)) return enqueue(std::move(job));

    auto now = Clock::now();
    auto [it, inserted] = robots.try_emplace(job->origin);
    RobotsEntry& e = it->second;
    if (inserted || (e.state != RobotsEntry::State::kFetching && now >= e.expires)) {
      e.state = RobotsEntry::State::kFetching;
      e.waiting.push_back(std::move(job));
      ++waiting_count;
      start_robots_fetch(*e.waiting.back());
      return;
    }
    if (e.state == RobotsEntry::State::kFetching) {
      e.waiting.push_back(std::move(job));
      ++waiting_count;
      return;
    }
    judge(std::move(job), e);
  }

  void judge(JobPtr job, const RobotsEntry& e) {
    // A redirect target is judged by the robots.txt of its own origin; say so, and where the chain started.
    const std::string blocked = job->redirects == 0 ? std::string("blocked by robots.txt")
                                                    : "redirect target " + job->req.url + " blocked by robots.txt of " +
                                                          job->origin + " (redirected from " + job->first_url + ")";
    if (e.state == RobotsEntry::State::kError) {
      // Not a disallow: robots.txt could not be read. The request is not made (RFC 9309 2.3.1.4: assume
      // complete disallow) but fails as transient, so that the caller retries once robots.txt is readable.
      const double left = std::max(0.0, secs(e.expires - Clock::now()));
      const std::string what = job->redirects == 0 ? "robots.txt of " + job->origin + " unavailable"
                                                   : "redirect target " + job->req.url + " deferred: robots.txt of " +
                                                         job->origin + " unavailable (redirected from " +
                                                         job->first_url + ")";
      return fail(*job, what + ": " + e.error + " (not fetched; retried after " +
                            std::to_string(static_cast<long>(left + 0.5)) + "s)",
                  Why::kRobotsUnavailable, left);
    }
    if (auto rule = e.rules.matching_rule(job->path); rule && !rule->allow)
      return fail(*job, blocked + ": 'Disallow: " + rule->pattern + "' matches " + job->path, Why::kRobots);
    enqueue(std::move(job));
  }

  void start_robots_fetch(const Job& like) {
    auto j = std::make_unique<Job>();
    j->req.url = like.origin + "/robots.txt";
    j->req.is_robots = true;
    j->internal_robots = true;
    j->submitted = Clock::now();
    j->origin = like.origin;
    j->host = like.host;
    j->host_key = like.host_key;
    j->path = "/robots.txt";
    j->allow = like.allow;  // the robots.txt of a host a request may reach is reachable for it too
    j->req.allow_private = like.req.allow_private;
    {
      std::lock_guard lk(stats_mu);
      ++st.robots_fetches;
    }
    HostState& hs = hosts[j->host_key];
    hs.queue.push_front(std::move(j));  // ahead of the host's other work
    ++waiting_count;
  }

  void robots_done(const Job& job, const FetchResult& r) {
    auto it = robots.find(job.origin);
    if (it == robots.end()) return;
    RobotsEntry& e = it->second;
    if (r.blocked_by_policy) {
      // The network policy refused robots.txt for the allow list of the request that caused the fetch: the
      // host itself is refused for the requests with that list. Nothing is cached: requests with another
      // allow list start their own robots.txt fetch.
      std::vector<JobPtr> waiting;
      waiting.swap(e.waiting);
      waiting_count -= waiting.size();
      robots.erase(it);
      for (auto& w : waiting) {
        if (w->req.allow_private == job.req.allow_private) fail(*w, r.error, Why::kPolicy);
        else admit(std::move(w));
      }
      return;
    }
    auto now = Clock::now();
    auto ttl = [](double s) { return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); };
    if (r.status >= 200 && r.status < 300 && (r.error.empty() || r.too_large)) {
      e.state = RobotsEntry::State::kReady;
      e.rules = RobotsRules::parse(r.body, agent_token);
      e.expires = now + ttl(cfg.robots_ttl_s);
      if (auto cd = e.rules.crawl_delay(); cd && *cd > 0) crawl_delay[job.host_key] = *cd;
      else crawl_delay.erase(job.host_key);
    } else if (r.status == 429 || r.status >= 500 || r.status == 0) {
      e.state = RobotsEntry::State::kError;
      e.error = r.status ? "robots.txt answered HTTP " + std::to_string(r.status) : "robots.txt unreachable: " + r.error;
      e.expires = now + ttl(cfg.robots_error_ttl_s);
    } else {  // 4xx (and unresolved redirects): no robots.txt, everything allowed
      e.state = RobotsEntry::State::kReady;
      e.rules = RobotsRules::allow_all();
      e.expires = now + ttl(cfg.robots_ttl_s);
      crawl_delay.erase(job.host_key);
    }
    std::vector<JobPtr> waiting;
    waiting.swap(e.waiting);
    waiting_count -= waiting.size();
    for (auto& w : waiting) judge(std::move(w), e);
  }

  void enqueue(JobPtr job) {
    HostState& hs = hosts[job->host_key];
    hs.queue.push_back(std::move(job));
    ++waiting_count;
  }

  // ---- transfers -------------------------------------------------------------------------------------

  void start(JobPtr job) {
    auto t = std::make_unique<Transfer>();
    t->started = Clock::now();
    t->result.queued_seconds = job->queued_before + secs(t->started - job->submitted);
    t->limit = job->internal_robots ? cfg.robots_max_bytes : cfg.max_body_bytes;
    t->easy = curl_easy_init();
    t->job = std::move(job);
    if (!t->easy) {
      hosts[t->job->host_key].in_flight--;
      return finish_job(std::move(t->job), [] {
        FetchResult r;
        r.error = "curl_easy_init failed";
        return r;
      }());
    }
    CURL* h = t->easy;
    curl_easy_setopt(h, CURLOPT_URL, t->job->req.url.c_str());
    curl_easy_setopt(h, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, cfg.user_agent.c_str());
    t->policy = &allow;
    t->never_connect = &cfg.never_connect;
    // Proxies from the environment (http_proxy, HTTPS_PROXY, ALL_PROXY) are not used: the network policy
    // judges the address baotin connects to, and through a proxy that would be the proxy, not the target.
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, t.get());
    curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, prereq_cb);
    curl_easy_setopt(h, CURLOPT_PREREQDATA, t.get());
    if (resolve) curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
    if (t->job->internal_robots || t->job->req.is_robots) {
      // robots.txt itself: libcurl follows (RFC 9309 2.3.1.2, also across hosts; no robots check applies to it).
      curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
      curl_easy_setopt(h, CURLOPT_MAXREDIRS, static_cast<long>(cfg.max_redirects));
    }
    // Everything else: redirects come back to complete() and are followed there (follow_redirect), so that
    // each hop goes through admission again: robots.txt and politeness of the target host apply.
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, cfg.connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, cfg.total_timeout_ms);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, cfg.low_speed_limit_bytes);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, cfg.low_speed_time_s);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(t->limit));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    if (!cfg.verify_tls) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!t->job->req.etag.empty())
      t->headers = curl_slist_append(t->headers, ("If-None-Match: " + t->job->req.etag).c_str());
    if (!t->job->req.last_modified.empty())
      t->headers = curl_slist_append(t->headers, ("If-Modified-Since: " + t->job->req.last_modified).c_str());
    if (t->headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
    CURLMcode mc = curl_multi_add_handle(multi, h);
    if (mc != CURLM_OK) {
      hosts[t->job->host_key].in_flight--;
      FetchResult r;
      r.error = std::string("curl_multi_add_handle failed: ") + curl_multi_strerror(mc);
      return finish_job(std::move(t->job), std::move(r));
    }
    running.insert(t.release());
  }

  void finish_job(JobPtr job, FetchResult r) {
    if (job->internal_robots) {
      robots_done(*job, r);
      return;
    }
    deliver(*job, std::move(r));
  }

  static std::string describe(CURLcode rc, const char* errbuf, int max_redirects) {
    std::string detail = errbuf && *errbuf ? errbuf : curl_easy_strerror(rc);
    switch (rc) {
      case CURLE_TOO_MANY_REDIRECTS:
        return "too many redirects (limit " + std::to_string(max_redirects) + ", possible redirect loop): " + detail;
      case CURLE_OPERATION_TIMEDOUT:
        return "timeout: " + detail;
      case CURLE_COULDNT_CONNECT:
        return "connection failed: " + detail;
      case CURLE_COULDNT_RESOLVE_HOST:
        return "DNS resolution failed: " + detail;
      case CURLE_PARTIAL_FILE:
      case CURLE_RECV_ERROR:
      case CURLE_GOT_NOTHING:
        return "connection closed or reset by server: " + detail;
      case CURLE_BAD_CONTENT_ENCODING:
        return "undecodable content encoding: " + detail;
      default:
        return std::string(curl_easy_strerror(rc)) + ": " + detail;
    }
  }

  void complete(Transfer* raw, CURLcode rc) {
    std::unique_ptr<Transfer> t(raw);
    running.erase(raw);
    curl_multi_remove_handle(multi, t->easy);
    FetchResult& r = t->result;
    long code = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
    char* eff = nullptr;
    if (curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff) r.final_url = eff;
    long redirects = 0;
    curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_COUNT, &redirects);  // only robots.txt fetches let curl follow
    r.redirects = static_cast<int>(redirects) + t->job->redirects;
    curl_off_t down = 0, total_us = 0;
    long header_size = 0;
    curl_easy_getinfo(t->easy, CURLINFO_SIZE_DOWNLOAD_T, &down);
    curl_easy_getinfo(t->easy, CURLINFO_HEADER_SIZE, &header_size);
    curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    r.wire_bytes = static_cast<size_t>(std::max<curl_off_t>(0, down)) + static_cast<size_t>(std::max(0L, header_size)) +
                   t->job->wire_before;
    r.seconds = static_cast<double>(total_us) / 1e6 + t->job->seconds_before;
    r.status = code;
    if (rc != CURLE_OK) {
      if (t->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        r.too_large = true;
        r.error = "body too large: exceeds limit of " + std::to_string(t->limit) + " bytes (transfer aborted)";
      } else if (!t->blocked.empty()) {
        r.status = 0;
        r.error = t->blocked;
        r.blocked_by_policy = true;
        r.body.clear();
      } else {
        r.status = 0;
        r.error = describe(rc, t->errbuf, cfg.max_redirects);
        r.body.clear();
      }
    }
    r.content_type = r.header("content-type");
    r.etag = r.header("etag");
    r.last_modified = r.header("last-modified");
    // Validators are stored and sent back on every poll: over-long ones are ignored (core/limits.h).
    if (r.etag.size() > limits::kMaxValidatorBytes) r.etag.clear();
    if (r.last_modified.size() > limits::kMaxValidatorBytes) r.last_modified.clear();
    if (r.status == 304) r.not_modified = true;
    if (r.status == 429 || r.status == 503) {
      std::string ra = r.header("retry-after");
      if (!ra.empty()) r.retry_after_s = parse_retry_after(ra, static_cast<int64_t>(std::time(nullptr)));
    }
    if (auto it = hosts.find(t->job->host_key); it != hosts.end()) {
      it->second.in_flight--;
      if (r.retry_after_s && cfg.max_retry_after_pause_s > 0) {
        // The host asked us to slow down: start nothing new there until it said we may.
        double pause = std::min(*r.retry_after_s, cfg.max_retry_after_pause_s);
        auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(pause));
        it->second.next_start = std::max(it->second.next_start, until);
      }
    }
    if (rc == CURLE_OK && is_followed_redirect(r.status) && !t->job->internal_robots && !t->job->req.is_robots) {
      std::string location = r.header("location");
      if (!location.empty()) return follow_redirect(std::move(t->job), std::move(r), location);
    }
    finish_job(std::move(t->job), std::move(r));
  }

  // A 301/302/303/307/308 answer to job's current URL: the Location becomes the job's next hop, re-admitted
  // like a new request (URL checks, robots.txt of the target's origin, the target host's queue, delay and
  // concurrency). Only GET is ever sent, so a 303 needs no method change. Conditional-GET validators stay on
  // the request as libcurl kept them: they come from the final response of an earlier fetch of the chain.
  void follow_redirect(JobPtr job, FetchResult r, const std::string& location) {
    const std::string from = r.final_url.empty() ? job->req.url : r.final_url;
    auto give_up = [&](std::string error, bool policy = false) {
      r.status = 0;
      r.error = std::move(error);
      r.blocked_by_policy = policy;
      r.body.clear();
      r.final_url = from;
      deliver(*job, std::move(r));
    };
    if (std::string scheme = url_scheme(location); !scheme.empty() && scheme != "http" && scheme != "https")
      return give_up("redirect from " + from + " to '" + location + "' refused: scheme '" + scheme +
                         "' is not http/https (network policy)",
                     true);
    std::string why;
    auto target = resolve_location(from, location, why);
    if (!target) return give_up("invalid redirect from " + from + " to Location '" + location + "': " + why);
    if (job->visited.empty()) {
      job->first_url = job->req.url;
      std::string ignored;
      job->visited.push_back(resolve_location(from, "", ignored).value_or(from));
    }
    const std::string limit = "limit " + std::to_string(cfg.max_redirects);
    if (job->redirects >= cfg.max_redirects)
      return give_up("too many redirects (" + limit + ", possible redirect loop): " + from + " redirects to " + *target);
    if (std::find(job->visited.begin(), job->visited.end(), *target) != job->visited.end())
      return give_up("too many redirects (redirect loop, " + limit + "): " + from + " redirects to " + *target +
                     ", which was visited before");
    job->visited.push_back(*target);
    ++job->redirects;
    job->queued_before = r.queued_seconds;
    job->seconds_before = r.seconds;
    job->wire_before = r.wire_bytes;
    job->req.url = *target;
    job->submitted = Clock::now();
    admit(std::move(job));
  }

  void dispatch() {
    auto now = Clock::now();
    if (hosts.empty()) return;
    // Round-robin over hosts, starting after the one served last, so no host starves the others.
    auto it = hosts.upper_bound(rr_cursor);
    size_t n = hosts.size();
    for (size_t i = 0; i < n && static_cast<int>(running.size()) < cfg.max_in_flight; ++i) {
      if (it == hosts.end()) it = hosts.begin();
      HostState& hs = it->second;
      std::string key = it->first;
      if (!hs.queue.empty() && hs.in_flight < cfg.per_host_concurrency && now >= hs.next_start) {
        JobPtr job = std::move(hs.queue.front());
        hs.queue.pop_front();
        --waiting_count;
        hs.in_flight++;
        double d = host_delay(*job);
        hs.next_start = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(d));
        rr_cursor = key;
        start(std::move(job));
        it = hosts.find(key);  // start() may have touched the map (never erases)
      }
      if (it->second.queue.empty() && it->second.in_flight == 0 && now >= it->second.next_start)
        it = hosts.erase(it);
      else
        ++it;
    }
  }

  long poll_timeout_ms() const {
    auto now = Clock::now();
    long best = 1000;
    if (static_cast<int>(running.size()) >= cfg.max_in_flight) return best;
    for (const auto& [k, hs] : hosts) {
      if (hs.queue.empty() || hs.in_flight >= cfg.per_host_concurrency) continue;
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(hs.next_start - now).count() + 1;
      best = std::min(best, std::max(0L, static_cast<long>(wait)));
    }
    return best;
  }

  void sweep_robots() {
    auto now = Clock::now();
    if (now < next_sweep) return;
    next_sweep = now + std::chrono::minutes(10);
    for (auto it = robots.begin(); it != robots.end();) {
      if (it->second.state != RobotsEntry::State::kFetching && now >= it->second.expires) it = robots.erase(it);
      else ++it;
    }
  }

  void cancel_all() {
    const std::string msg = "cancelled: fetcher shut down";
    std::vector<Transfer*> rs(running.begin(), running.end());
    for (Transfer* raw : rs) {
      std::unique_ptr<Transfer> t(raw);
      running.erase(raw);
      curl_multi_remove_handle(multi, t->easy);
      if (!t->job->internal_robots) fail(*t->job, msg);
    }
    for (auto& [k, hs] : hosts) {
      for (auto& j : hs.queue)
        if (!j->internal_robots) fail(*j, msg);
      hs.queue.clear();
    }
    hosts.clear();
    for (auto& [k, e] : robots) {
      for (auto& j : e.waiting) fail(*j, msg);
      e.waiting.clear();
    }
    waiting_count = 0;
    std::vector<JobPtr> in;
    {
      std::lock_guard lk(mu);
      in.swap(incoming);
    }
    for (auto& j : in) fail(*j, msg);
  }

  void loop() {
    loop_id = std::this_thread::get_id();
    for (;;) {
      std::vector<JobPtr> in;
      bool stop = false, dr = false;
      std::optional<std::pair<FetcherConfig, NetAllowList>> nc;
      {
        std::lock_guard lk(mu);
        in.swap(incoming);
        nc.swap(next_cfg);
        stop = stopping;
        dr = drain;
      }
      if (nc) apply(std::move(nc->first), std::move(nc->second));
      for (auto& j : in) admit(std::move(j));
      if (stop && !dr) {
        cancel_all();
        break;
      }
      dispatch();
      int still = 0;
      CURLMcode mc = curl_multi_perform(multi, &still);
      if (mc != CURLM_OK) spdlog::error("fetcher: curl_multi_perform: {}", curl_multi_strerror(mc));
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
        if (msg->msg != CURLMSG_DONE) continue;
        char* priv = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        CURLcode rc = msg->data.result;
        if (priv) complete(reinterpret_cast<Transfer*>(priv), rc);
      }
      sweep_robots();
      publish_counts();
      if (stop && dr && running.empty() && waiting_count == 0) {
        std::lock_guard lk(mu);
        if (incoming.empty()) break;
        continue;
      }
      curl_multi_poll(multi, nullptr, 0, static_cast<int>(poll_timeout_ms()), nullptr);
    }
    publish_counts();
  }

  // Loop thread only: running transfers point at cfg.never_connect and allow, which stay the same objects.
  void apply(FetcherConfig c, NetAllowList a) {
    c.resolve = cfg.resolve;
    c.verify_tls = cfg.verify_tls;
    const bool agent_changed = c.user_agent != cfg.user_agent;
    cfg = std::move(c);
    allow = std::move(a);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(std::max(16, cfg.max_in_flight * 2)));
    if (agent_changed) {
      // robots.txt groups are chosen by product token: parsed rules of the old agent are dropped (entries
      // still being fetched keep their waiting requests and are parsed with the new token).
      agent_token = robots_product_token(cfg.user_agent);
      for (auto it = robots.begin(); it != robots.end();) {
        if (it->second.state == RobotsEntry::State::kReady) it = robots.erase(it);
        else ++it;
      }
    }
  }

  void join() {
    std::lock_guard lk(join_mu);
    if (thread.joinable()) thread.join();
  }
};

Fetcher::Fetcher(FetcherConfig cfg) : impl_(std::make_unique<Impl>(std::move(cfg))) {}

Fetcher::~Fetcher() {
  if (impl_->thread.joinable() && std::this_thread::get_id() == impl_->loop_id) {
    // Destroyed from its own callback: cannot join ourselves. Detach-free fallback is impossible without
    // leaking; terminate loudly rather than deadlock.
    spdlog::critical("Fetcher destroyed from its own callback thread");
    std::terminate();
  }
  shutdown(false);
}

void Fetcher::submit(FetchRequest req, std::function<void(FetchResult)> on_done) {
  auto job = std::make_unique<Job>();
  job->req = std::move(req);
  job->cb = std::move(on_done);
  job->submitted = Clock::now();
  {
    std::lock_guard lk(impl_->mu);
    if (!impl_->stopping) {
      {
        std::lock_guard lk2(impl_->stats_mu);  // counted before the loop can complete it
        ++impl_->st.requests;
      }
      impl_->incoming.push_back(std::move(job));
    }
  }
  if (job) {  // rejected: fetcher is shutting down
    FetchResult r;
    r.url = r.final_url = job->req.url;
    r.error = "fetcher is shut down";
    if (job->cb) job->cb(std::move(r));
    return;
  }
  curl_multi_wakeup(impl_->multi);
}

FetchResult Fetcher::fetch(FetchRequest req) {
  if (std::this_thread::get_id() == impl_->loop_id) {
    FetchResult r;
    r.url = r.final_url = req.url;
    r.error = "Fetcher::fetch called from a fetcher callback (would deadlock); use submit()";
    return r;
  }
  auto p = std::make_shared<std::promise<FetchResult>>();
  auto f = p->get_future();
  submit(std::move(req), [p](FetchResult r) { p->set_value(std::move(r)); });
  return f.get();
}

void Fetcher::shutdown(bool drain) {
  {
    std::lock_guard lk(impl_->mu);
    if (!impl_->stopping) {
      impl_->stopping = true;
      impl_->drain = drain;
    } else if (!drain) {
      impl_->drain = false;  // escalate a pending drain to a cancel
    }
  }
  curl_multi_wakeup(impl_->multi);
  if (std::this_thread::get_id() != impl_->loop_id) impl_->join();
}

bool Fetcher::reconfigure(FetcherConfig cfg, std::string* why) {
  std::string err;
  auto allow_list = NetAllowList::parse(cfg.allow_private, &err);
  if (!allow_list) {
    if (why) *why = err;
    return false;
  }
  Impl::normalise(cfg);
  {
    std::lock_guard lk(impl_->mu);
    impl_->next_cfg.emplace(std::move(cfg), std::move(*allow_list));
  }
  curl_multi_wakeup(impl_->multi);
  return true;
}

FetcherStats Fetcher::stats() const {
  std::lock_guard lk(impl_->stats_mu);
  FetcherStats s = impl_->st;
  uint64_t outstanding = s.requests >= s.completed ? s.requests - s.completed : 0;
  s.queued = static_cast<size_t>(outstanding - std::min<uint64_t>(outstanding, impl_->user_in_flight));
  return s;
}

}  // namespace baotin
