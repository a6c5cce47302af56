#include "daemon/control.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "core/clock.h"
#include "daemon/backfill.h"
#include "daemon/commands.h"
#include "daemon/reprocess.h"

namespace baotin {

namespace {
constexpr size_t kMaxLine = size_t{64} << 20;  // a request with a large URL list still fits

bool fill_addr(const std::string& path, sockaddr_un& addr, std::string* error) {
  addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    if (error)
      *error = "control socket path " + path + " is " + std::to_string(path.size()) + " bytes; at most " +
               std::to_string(sizeof addr.sun_path - 1) + " fit (use a shorter data_dir)";
    return false;
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return true;
}
}  // namespace

std::string control_socket_path(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "control.sock").string();
}

ControlConnection::~ControlConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool ControlConnection::send(const nlohmann::json& j) {
  std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';
  size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::send(fd_, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::optional<nlohmann::json> ControlConnection::receive(double timeout_s, std::string* error) {
  const double deadline = monotonic_seconds() + timeout_s;
  for (;;) {
    if (auto nl = buf_.find('\n'); nl != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) {
        if (error) *error = "not a JSON line";
        return std::nullopt;
      }
      return j;
    }
    if (buf_.size() > kMaxLine) {
      if (error) *error = "line too long";
      return std::nullopt;
    }
    int wait_ms = -1;
    if (timeout_s > 0) {
      const double left = deadline - monotonic_seconds();
      if (left <= 0) {
        if (error) *error = "timed out";
        return std::nullopt;
      }
      wait_ms = static_cast<int>(left * 1000) + 1;
    }
    pollfd p{fd_, POLLIN, 0};
    const int pr = ::poll(&p, 1, std::min(wait_ms < 0 ? 200 : wait_ms, 200));
    if (pr < 0 && errno != EINTR) {
      if (error) *error = std::strerror(errno);
      return std::nullopt;
    }
    if (pr <= 0) {
      if (cli::stop_flag()) {  // Ctrl-C of a client (cli::install_stop_handlers)
        if (error) *error = "interrupted";
        return std::nullopt;
      }
      continue;
    }
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (error) *error = n == 0 ? "connection closed" : std::strerror(errno);
      return std::nullopt;
    }
    buf_.append(chunk, static_cast<size_t>(n));
  }
}

bool ControlConnection::peer_closed() {
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) return true;
  char c;
  return ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

std::unique_ptr<ControlConnection> control_connect(const std::string& path, std::string* error) {
  sockaddr_un addr;
  if (!fill_addr(path, addr, error)) return nullptr;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (error) *error = std::strerror(errno);
    return nullptr;
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (error) *error = "cannot connect to " + path + ": " + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  return std::make_unique<ControlConnection>(fd);
}

std::unique_ptr<ControlServer> ControlServer::bind(const std::string& path, std::string* error) {
  sockaddr_un addr;
  if (!fill_addr(path, addr, error)) return nullptr;
  std::unique_ptr<ControlServer> s(new ControlServer());
  s->path_ = path;
  s->fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s->fd_ < 0) {
    if (error) *error = std::strerror(errno);
    return nullptr;
  }
  ::unlink(path.c_str());  // a stale socket of a daemon that was killed
  // Connecting needs write permission on the socket file: with the usual umask (022) it is created without it for
  // others, and chmod makes it srw------- before listen() accepts anyone. (The umask is not changed: it is the
  // whole process's, and RocksDB's threads create files meanwhile.)
  if (::bind(s->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::chmod(path.c_str(), 0600) != 0 ||
      ::listen(s->fd_, 16) != 0) {
    if (error) *error = "cannot listen on " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  return s;
}

ControlServer::~ControlServer() {
  stop();
  if (fd_ >= 0) ::close(fd_);
}

void ControlServer::start(Handler handler) {
  handler_ = std::move(handler);
  thread_ = std::thread([this] { accept_loop(); });
}

void ControlServer::accept_loop() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // out of descriptors: do not spin
      continue;
    }
    // A client that stops reading (suspended, a full pipe) must not block a handler, nor serve's shutdown.
    const timeval send_timeout{2, 0};
    ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
    // Owner-only: the socket file's mode already says so; the peer's credentials say it again.
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || (cred.uid != ::geteuid() && cred.uid != 0)) {
      spdlog::warn("control: refused a connection of uid {} (only uid {} or root)", cred.uid, ::geteuid());
      ::close(c);
      continue;
    }
    auto conn = std::make_shared<ControlConnection>(c);
    if (active_ >= kMaxConnections) {
      conn->send({{"event", "error"}, {"error", "too many control connections"}});
      continue;
    }
    ++active_;
    std::lock_guard lk(mu_);
    for (auto it = handlers_.begin(); it != handlers_.end();) {
      if (!*it->done) {
        ++it;
        continue;
      }
      it->thread.join();
      it = handlers_.erase(it);
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    try {
      handlers_.reserve(handlers_.size() + 1);  // the push_back below cannot throw once the thread runs
      handlers_.push_back({std::thread([this, conn, done] {
        try {
          std::string err;
          if (auto req = conn->receive(10, &err)) {
            handler_(*conn, *req, stop_);
          } else {
            conn->send({{"event", "error"}, {"error", "no request: " + err}});
          }
        } catch (const std::exception& e) {  // a store error, bad_alloc: this request fails, nothing else
          spdlog::error("control: {}", e.what());
          conn->send({{"event", "error"}, {"error", e.what()}});
        }
        --active_;
        *done = true;
      }), done});
    } catch (const std::exception& e) {  // no thread (resource limits): the request is refused, the daemon goes on
      --active_;
      spdlog::error("control: cannot start a handler: {}", e.what());
    }
  }
}

void ControlServer::stop() {
  if (stop_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  std::vector<Worker> hs;
  {
    std::lock_guard lk(mu_);
    hs.swap(handlers_);
  }
  for (auto& w : hs) w.thread.join();
  ::unlink(path_.c_str());
}

std::string job_summary(const nlohmann::json& job) {
  const std::string kind = job.value("kind", "");
  std::string s = "job " + std::to_string(job.value("id", uint64_t{0})) + " " + kind;
  if (job.contains("spec") && job["spec"].is_object())
    for (const auto& [k, v] : job["spec"].items())
      if ((v.is_string() && !v.get<std::string>().empty()) || (v.is_boolean() && v.get<bool>() && k != "urls_given"))
        s += " --" + k + (v.is_string() ? " " + v.get<std::string>() : "");
  s += ": " + job.value("state", "");
  const nlohmann::json progress = job.contains("progress") ? job["progress"] : nlohmann::json::object();
  if (!progress.empty())
    s += ", " + (kind == "reprocess" ? reprocess_progress_line(progress, 0) : backfill_progress_line(progress, 0));
  if (!job.value("error", "").empty()) s += " (" + job.value("error", "") + ")";
  return s;
}

int hand_over_job(const std::string& data_dir, const std::string& kind, const nlohmann::json& spec,
                  const std::vector<std::string>& urls, bool detach) {
  const std::string path = control_socket_path(data_dir);
  std::string err;
  auto conn = control_connect(path, &err);
  if (!conn) {
    std::fprintf(stderr,
                 "%s: the store %s is in use by another process (a `baotin serve`, or another backfill/reprocess) and "
                 "no daemon answers on its control socket: %s\n",
                 kind.c_str(), data_dir.c_str(), err.c_str());
    return 1;
  }
  nlohmann::json req = {{"op", "submit"}, {"kind", kind}, {"spec", spec}, {"wait", !detach}};
  if (!urls.empty()) req["urls"] = urls;
  // Measured as send() writes it (invalid UTF-8 in a URL replaced, not an exception).
  if (const size_t bytes = req.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size() + 1;
      bytes > kMaxLine) {
    std::fprintf(stderr, "%s: the URL list is %zu bytes; a hand-over takes at most %zu: split it into several jobs\n",
                 kind.c_str(), bytes, kMaxLine);
    return 2;
  }
  if (!conn->send(req)) {
    std::fprintf(stderr, "%s: the daemon closed the control connection\n", kind.c_str());
    return 1;
  }
  cli::install_stop_handlers();
  const bool tty = ::isatty(2);
  const char* counter = kind == "reprocess" ? "scanned" : "done";
  double last_t = monotonic_seconds(), last_line = 0;
  uint64_t last_n = 0;
  double rate = 0;
  uint64_t id = 0;
  for (;;) {
    auto m = conn->receive(0, &err);
    if (!m) {
      if (cli::stop_flag()) {
        std::fprintf(stderr, "\n%s: job %llu goes on in the daemon (`baotin jobs` shows it)\n", kind.c_str(),
                     (unsigned long long)id);
        return 1;
      }
      if (id == 0)
        std::fprintf(stderr, "%s: the daemon did not accept the job (%s); nothing was queued\n", kind.c_str(),
                     err.c_str());
      else
        std::fprintf(stderr, "\n%s: lost the daemon (%s); job %llu is persisted and resumes when it starts again\n",
                     kind.c_str(), err.c_str(), (unsigned long long)id);
      return 1;
    }
    const std::string ev = m->value("event", "");
    if (ev == "error") {
      // A refused job (an unknown site, a bad date) is a usage error; anything else (the daemon's store failed, too
      // many connections) a failure.
      const bool usage = m->value("usage", false);
      std::fprintf(stderr, "%s: %s by the daemon: %s\n", kind.c_str(), usage ? "refused" : "failed",
                   m->value("error", "").c_str());
      return usage ? 2 : 1;
    }
    const nlohmann::json job = m->contains("job") ? (*m)["job"] : nlohmann::json::object();
    if (ev == "accepted") {
      id = job.value("id", uint64_t{0});
      std::fprintf(stderr, "%s: handed to the running daemon as job %llu%s\n", kind.c_str(), (unsigned long long)id,
                   detach ? " (`baotin jobs` shows its progress)" : "");
      if (detach) return 0;
      continue;
    }
    const nlohmann::json progress = job.contains("progress") ? job["progress"] : nlohmann::json::object();
    const uint64_t n = progress.value(counter, uint64_t{0});
    const double t = monotonic_seconds();
    if (t > last_t && n >= last_n) {
      const double r = (n - last_n) / (t - last_t);
      rate = rate == 0 ? r : 0.7 * rate + 0.3 * r;
    }
    last_t = t;
    last_n = n;
    const std::string line =
        kind == "reprocess" ? reprocess_progress_line(progress, rate) : backfill_progress_line(progress, rate);
    if (ev == "progress") {
      if (tty) {
        std::fprintf(stderr, "\r\033[K%s: %s", kind.c_str(), line.c_str());
      } else if (t - last_line >= 5) {
        std::fprintf(stderr, "%s: %s\n", kind.c_str(), line.c_str());
        last_line = t;
      }
      continue;
    }
    if (ev == "finished") {
      const std::string state = job.value("state", "");
      std::fprintf(stderr, "%s%s: job %llu %s: %s%s\n", tty ? "\r\033[K" : "", kind.c_str(), (unsigned long long)id,
                   state.c_str(), line.c_str(),
                   job.value("error", "").empty() ? "" : (" (" + job.value("error", "") + ")").c_str());
      return state == "done" && progress.value("failed", uint64_t{0}) == 0 ? 0 : 1;
    }
  }
}

}  // namespace baotin
