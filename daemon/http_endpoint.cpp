#include "daemon/http_endpoint.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

namespace baotin {

std::optional<ListenAddress> parse_listen_address(const std::string& s, std::string* why) {
  auto fail = [&](const std::string& m) -> std::optional<ListenAddress> {
    if (why) *why = m;
    return std::nullopt;
  };
  ListenAddress a;
  std::string port;
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':')
      return fail("'" + s + "': expected [IPv6]:port");
    a.host = s.substr(1, close - 1);
    port = s.substr(close + 2);
    in6_addr v6{};
    if (inet_pton(AF_INET6, a.host.c_str(), &v6) != 1) return fail("'" + a.host + "' is not an IPv6 address");
    a.loopback = IN6_IS_ADDR_LOOPBACK(&v6);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos) return fail("'" + s + "': expected host:port (e.g. 127.0.0.1:9464)");
    a.host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (a.host == "localhost") a.host = "127.0.0.1";
    in_addr v4{};
    if (inet_pton(AF_INET, a.host.c_str(), &v4) != 1)
      return fail("'" + a.host + "' is not an IPv4 address (use a numeric address, [IPv6] or localhost)");
    a.loopback = (ntohl(v4.s_addr) >> 24) == 127;
  }
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return fail("port '" + port + "' is not a number in 1-65535");
  a.port = std::stoi(port);
  if (a.port < 1 || a.port > 65535) return fail("port " + port + " is not in 1-65535");
  return a;
}

namespace {

double now_mono() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

struct Conn {
  int fd = -1;
  double accepted = 0;
  std::string in, out;
  size_t sent = 0;
  bool writing = false;
};

}  // namespace

std::unique_ptr<HttpEndpoint> HttpEndpoint::bind(const ListenAddress& addr, std::string* err) {
  bool v6 = addr.host.find(':') != std::string::npos;
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    if (err) *err = std::string("socket: ") + std::strerror(errno);
    return nullptr;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // restart while old sockets linger
  int rc;
  if (v6) {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(static_cast<uint16_t>(addr.port));
    inet_pton(AF_INET6, addr.host.c_str(), &sa.sin6_addr);
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  } else {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(addr.port));
    inet_pton(AF_INET, addr.host.c_str(), &sa.sin_addr);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  }
  if (rc != 0 || ::listen(fd, 64) != 0) {
    if (err) *err = std::string(std::strerror(errno)) + (errno == EADDRINUSE ? " (is another baotin running?)" : "");
    ::close(fd);
    return nullptr;
  }
  std::unique_ptr<HttpEndpoint> ep(new HttpEndpoint());
  ep->listen_fd_ = fd;
  ep->port_ = addr.port;
  if (::pipe2(ep->wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    if (err) *err = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  return ep;
}

HttpEndpoint::~HttpEndpoint() {
  stop();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  for (int fd : wake_)
    if (fd >= 0) ::close(fd);
}

void HttpEndpoint::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
}

void HttpEndpoint::stop() {
  stopping_ = true;
  if (wake_[1] >= 0) {
    char c = 1;
    [[maybe_unused]] auto n = ::write(wake_[1], &c, 1);
  }
  if (thread_.joinable()) thread_.join();
}

void HttpEndpoint::loop() {
  std::vector<Conn> conns;
  auto drop = [&](size_t i) {
    ::close(conns[i].fd);
    conns.erase(conns.begin() + static_cast<long>(i));
  };
  auto respond = [&](Conn& c, const HttpResponse& r, bool head_only) {
    c.out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\nContent-Type: " + r.content_type +
            "\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\nConnection: close\r\n\r\n";
    if (!head_only) c.out += r.body;
    c.writing = true;
  };
  auto handle = [&](Conn& c) {
    // Request line: METHOD SP target SP version
    auto eol = c.in.find("\r\n");
    std::string line = c.in.substr(0, eol);
    auto sp1 = line.find(' ');
    auto sp2 = sp1 == std::string::npos ? std::string::npos : line.find(' ', sp1 + 1);
    if (sp2 == std::string::npos) return respond(c, {400, "text/plain; charset=utf-8", "bad request\n"}, false);
    std::string method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
    if (method != "GET" && method != "HEAD")
      return respond(c, {405, "text/plain; charset=utf-8", "only GET\n"}, false);
    auto it = routes_.find(target);
    if (it == routes_.end()) return respond(c, {404, "text/plain; charset=utf-8", "not found\n"}, method == "HEAD");
    HttpResponse r;
    try {
      r = it->second();
    } catch (const std::exception& e) {
      r = {503, "text/plain; charset=utf-8", std::string("error: ") + e.what() + "\n"};
    } catch (...) {
      r = {503, "text/plain; charset=utf-8", "error\n"};
    }
    respond(c, r, method == "HEAD");
  };

  while (!stopping_) {
    std::vector<pollfd> fds;
    fds.push_back({listen_fd_, POLLIN, 0});
    fds.push_back({wake_[0], POLLIN, 0});
    for (const auto& c : conns) fds.push_back({c.fd, static_cast<short>(c.writing ? POLLOUT : POLLIN), 0});
    int n = ::poll(fds.data(), fds.size(), 250);
    if (stopping_) break;
    if (n < 0 && errno != EINTR) {
      spdlog::error("metrics endpoint: poll: {}", std::strerror(errno));
      break;
    }
    double now = now_mono();
    // Connections first (indices shift when one is dropped, so walk backwards).
    for (size_t i = conns.size(); i-- > 0;) {
      Conn& c = conns[i];
      short re = fds[i + 2].revents;
      if (re & (POLLERR | POLLNVAL)) {
        drop(i);
        continue;
      }
      if (!c.writing && (re & (POLLIN | POLLHUP))) {
        char buf[4096];
        ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
        if (got <= 0) {
          if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
          drop(i);
          continue;
        }
        c.in.append(buf, static_cast<size_t>(got));
        if (c.in.find("\r\n\r\n") != std::string::npos || c.in.find("\n\n") != std::string::npos) handle(c);
        else if (c.in.size() > kMaxRequestHead)
          respond(c, {431, "text/plain; charset=utf-8", "request head too large\n"}, false);
      }
      if (c.writing && (re & POLLOUT)) {
        ssize_t w = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
          drop(i);
          continue;
        }
        if (w > 0) c.sent += static_cast<size_t>(w);
        if (c.sent >= c.out.size()) {
          drop(i);
          continue;
        }
      }
      double limit = c.writing ? kRequestDeadline + kResponseDeadline : kRequestDeadline;
      if (now - c.accepted > limit) drop(i);
    }
    if (fds[0].revents & POLLIN) {
      for (;;) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
          if ((errno == EMFILE || errno == ENFILE) && !conns.empty()) {
            drop(0);  // out of descriptors: free one (the oldest connection) rather than spin on a readable socket
            continue;
          }
          if (errno == EMFILE || errno == ENFILE) ::poll(nullptr, 0, 100);
          break;
        }
        if (conns.size() >= static_cast<size_t>(kMaxConnections)) {
          // Every slot is taken: drop the oldest connection still reading its request (a slow client), else
          // the oldest one; never the new request.
          size_t victim = conns.size();
          for (size_t i = 0; i < conns.size(); ++i)
            if (!conns[i].writing && (victim == conns.size() || conns[i].accepted < conns[victim].accepted)) victim = i;
          if (victim == conns.size()) victim = 0;
          drop(victim);
        }
        Conn c;
        c.fd = fd;
        c.accepted = now;
        conns.push_back(std::move(c));
      }
    }
    if (fds[1].revents & POLLIN) {
      char buf[16];
      while (::read(wake_[0], buf, sizeof buf) > 0) {
      }
    }
  }
  for (auto& c : conns) ::close(c.fd);
}

}  // namespace baotin
