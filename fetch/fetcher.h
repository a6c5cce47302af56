// Production HTTP fetcher: libcurl multi on its own event-loop thread, polite per-host scheduling,
// robots.txt, conditional GET, body limits. See README section "Fetching".
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace baotin {

struct FetcherConfig {
  // The defaults here are the daemon's defaults too (daemon/config.h holds a FetcherConfig).
  std::string user_agent = "baotin/0.1 (Vietnamese news ingestion; +https://example.invalid/baotin)";
  int max_in_flight = 32;            // transfers running at once, all hosts together
  int per_host_concurrency = 2;      // transfers running at once per host (host[:port])
  double per_host_min_delay_s = 1.0; // minimum time between the starts of two requests to one host
  long connect_timeout_ms = 10000;
  long total_timeout_ms = 30000;
  long low_speed_limit_bytes = 100;  // abort when slower than this many bytes/s ...
  long low_speed_time_s = 15;        // ... for this many seconds (slow-drip bodies)
  size_t max_body_bytes = 16u << 20; // decoded body limit; larger bodies are aborted (too_large)
  int max_redirects = 5;             // redirect hops followed; each hop is admitted like a new request
                                     // (robots.txt and politeness of the target host apply)
  bool respect_robots = true;
  double robots_ttl_s = 24 * 3600;   // cache lifetime of a fetched robots.txt (also of a 4xx = allow all)
  double robots_error_ttl_s = 600;   // 5xx/unreachable robots.txt: the host's requests fail (robots_unavailable,
                                     // transient) for this long, then robots.txt is fetched again
  size_t robots_max_bytes = 512u << 10;  // robots.txt beyond this is truncated (RFC 9309: >= 500 KiB parsed)
  double max_crawl_delay_s = 30;     // robots Crawl-delay is honoured up to this many seconds
  double max_retry_after_pause_s = 60;  // a 429/503 with Retry-After pauses new requests to that host for
                                        // min(Retry-After, this); 0 disables the host pause
  std::map<std::string, bool> robots_override;  // host (or host:port) -> true: ignore robots.txt for it
  std::map<std::string, double> host_min_delay; // host (or host:port) -> min delay, overrides the default
  bool verify_tls = true;
  // Addresses never connected to, whatever the allow lists say: "ip:port", "[ipv6]:port" or "*:port". The
  // daemon puts its own metrics endpoint here, so no feed or redirect can make it fetch its own /status.
  std::vector<std::string> never_connect;
  // Network policy (fetch/netpolicy.h, README "Network policy"): connections to loopback, private, link-local,
  // multicast, ... addresses are refused unless an entry here (or in FetchRequest::allow_private) allows them:
  // "*", an address, a CIDR network or a host name, each optionally with ":port". Invalid entries make the
  // constructor throw std::invalid_argument.
  std::vector<std::string> allow_private;
  // libcurl CURLOPT_RESOLVE entries ("host:port:address"): pin names to addresses (tests; the policy still
  // judges the address).
  std::vector<std::string> resolve;
};

struct FetchRequest {
  FetchRequest() = default;
  FetchRequest(std::string u) : url(std::move(u)) {}  // NOLINT: implicit, so f.fetch({url}) reads well
  std::string url;
  std::string etag, last_modified;  // conditional GET: sent as If-None-Match / If-Modified-Since when set
  bool is_robots = false;           // fetch without consulting robots.txt (used for robots.txt itself)
  // Extra network-policy allow entries for this request, its redirect hops and the robots.txt fetch it causes
  // (same forms as FetcherConfig::allow_private; an invalid entry fails the request with blocked_by_policy).
  std::vector<std::string> allow_private;
};

struct FetchResult {
  std::string url, final_url;  // as submitted; after redirects (the blocked target when a redirect was refused)
  long status = 0;            // HTTP status of the final response; 0 = transport error / not attempted
  std::string error;          // empty on success; otherwise a human-readable reason
  std::string body;           // decoded (gzip/deflate/br) body
  std::string content_type, etag, last_modified;
  std::optional<double> retry_after_s;  // parsed Retry-After (delta seconds or HTTP-date) on 429/503; with
                                        // robots_unavailable: seconds until robots.txt is fetched again
  bool not_modified = false;  // 304 answer to a conditional request
  bool too_large = false;     // body exceeded max_body_bytes; body holds the truncated prefix
  bool blocked_by_robots = false;  // disallowed by the robots.txt of the URL's origin (or of a redirect target's)
  // robots.txt of the origin could not be read (5xx, 429, timeout, DNS, TLS, ...): nothing was requested;
  // transient, `error` says why. Not a disallow.
  bool robots_unavailable = false;
  // Refused before any request by the network policy or the URL checks: a non-public address (see
  // FetcherConfig::allow_private), a non-http(s) scheme (also as a redirect target), an invalid URL, CR/LF in
  // the request. Permanent: retrying cannot help.
  bool blocked_by_policy = false;
  int redirects = 0;              // redirect hops followed
  double seconds = 0;         // transfer time (excludes queueing)
  double queued_seconds = 0;  // time spent waiting for politeness / robots / a slot
  size_t wire_bytes = 0;      // bytes received (headers + possibly compressed body)
  std::multimap<std::string, std::string> headers;  // final response headers, names lower-case
  // 2xx with a complete body. A 304 is not ok() (check not_modified).
  bool ok() const {
    return status >= 200 && status < 300 && error.empty() && !too_large && !blocked_by_robots && !robots_unavailable &&
           !blocked_by_policy;
  }
  // First value of a (lower-case) header name, or "".
  std::string header(const std::string& name) const;
};

struct FetcherStats {
  uint64_t requests = 0;        // submitted
  uint64_t completed = 0;       // callbacks delivered
  uint64_t status_2xx = 0, status_3xx = 0, status_4xx = 0, status_5xx = 0;
  uint64_t transport_errors = 0;  // status 0 (includes timeouts, resets, redirect loops, cancellations)
  uint64_t not_modified = 0;
  uint64_t too_large = 0;
  uint64_t robots_blocked = 0;
  uint64_t robots_unavailable = 0;
  uint64_t policy_blocked = 0;
  uint64_t robots_fetches = 0;
  uint64_t body_bytes = 0, wire_bytes = 0;
  size_t queued = 0;     // waiting (politeness, robots, slots)
  size_t in_flight = 0;  // transfers running
};

// Parses a Retry-After value: delta-seconds or an HTTP-date (relative to `now_epoch_s`). nullopt if invalid.
std::optional<double> parse_retry_after(const std::string& value, int64_t now_epoch_s);

class Fetcher {
 public:
  explicit Fetcher(FetcherConfig cfg = {});
  ~Fetcher();  // shutdown(false) if still running: cancels outstanding work (callbacks get an error), joins
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // Thread-safe. `on_done` runs on the loop thread exactly once (keep it short; do not call fetch() from it).
  // After shutdown, it is called immediately on the caller's thread with an error.
  void submit(FetchRequest req, std::function<void(FetchResult)> on_done);
  // Blocking convenience. Must not be called from a callback (returns an error result if it is).
  FetchResult fetch(FetchRequest req);
  // drain=true: finish everything in flight and queued, then stop. drain=false: cancel everything
  // (callbacks receive error "cancelled: fetcher shut down"). Idempotent; blocks until the loop has exited.
  void shutdown(bool drain);
  // Replaces the settings (SIGHUP reload). Validated here (an invalid allow_private entry returns false with
  // `why` and changes nothing); applied by the loop thread before its next dispatch, so requests admitted from
  // then on (and redirect hops, robots.txt fetches, politeness delays of queued ones) use them. Transfers
  // already running keep their timeouts and body limit. `resolve` and `verify_tls` are not changed.
  bool reconfigure(FetcherConfig cfg, std::string* why = nullptr);
  FetcherStats stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace baotin
