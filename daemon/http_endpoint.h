// The daemon's loopback HTTP endpoint (/metrics, /status, /healthz).
//
// A single thread runs a poll(2) loop over the listening socket and at most kMaxConnections
// connections. Each connection has a deadline for its whole request (kRequestDeadline, not per read)
// and a size limit on the request head, so slow or idle clients (slowloris) cannot hold the endpoint:
// when every slot is taken the oldest connection is dropped to admit the new one. Handlers run on the
// loop thread; they must be quick and must not block on the network. The socket is bound with
// SO_REUSEADDR only (never SO_REUSEPORT), so a second daemon configured with the same port fails to
// bind instead of sharing it.
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace baotin {

struct ListenAddress {
  std::string host;  // numeric IPv4 or IPv6 address (no brackets)
  int port = 0;
  bool loopback = false;
};
// Parses "127.0.0.1:9464", "[::1]:9464", "localhost:9464" (= 127.0.0.1), "0.0.0.0:9464". Host names other
// than localhost are rejected (a metrics endpoint binds an address, it does not resolve one). The port
// must be 1-65535 in decimal digits. nullopt with `why` set on error.
std::optional<ListenAddress> parse_listen_address(const std::string& s, std::string* why);

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class HttpEndpoint {
 public:
  using Handler = std::function<HttpResponse()>;
  static constexpr int kMaxConnections = 32;
  static constexpr double kRequestDeadline = 5.0;   // seconds from accept to a complete request head
  static constexpr double kResponseDeadline = 30.0; // seconds to write the response
  static constexpr size_t kMaxRequestHead = 8192;

  ~HttpEndpoint();
  // Binds and listens; nullptr with `err` set when the address cannot be bound (e.g. in use).
  static std::unique_ptr<HttpEndpoint> bind(const ListenAddress& addr, std::string* err);
  void route(const std::string& path, Handler h) { routes_[path] = std::move(h); }
  void start();  // serves on its own thread
  void stop();   // idempotent; joins the thread
  int port() const { return port_; }

 private:
  HttpEndpoint() = default;
  void loop();
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::map<std::string, Handler> routes_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

}  // namespace baotin
