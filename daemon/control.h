// The daemon's control socket (README "Jobs"): a unix stream socket, <data_dir>/control.sock, mode 0600, that
// only the daemon's own user (or root: SO_PEERCRED) may use. One request per connection, one JSON object per line
// each way:
//   {"op":"submit","kind":"backfill"|"reprocess","spec":{...},"urls":[...],"wait":true}
//       -> {"event":"accepted","job":{...}}, then while "wait": {"event":"progress","job":{...}} about every second
//          and {"event":"finished","job":{...}} at the end; a refused job: {"event":"error","error":"..."}
//   {"op":"list"}              -> {"jobs":[...]}
//   {"op":"cancel","job":N}    -> {"ok":true,"job":{...}} or {"ok":false,"error":"..."}
// A client that goes away does not stop its job.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace baotin {

std::string control_socket_path(const std::string& data_dir);

// A connection: reads and writes JSON lines.
class ControlConnection {
 public:
  explicit ControlConnection(int fd) : fd_(fd) {}
  ~ControlConnection();
  ControlConnection(const ControlConnection&) = delete;
  ControlConnection& operator=(const ControlConnection&) = delete;
  // false when the peer is gone.
  bool send(const nlohmann::json& j);
  // The next line as JSON; nullopt on end of stream, error, timeout (seconds; <= 0 waits forever) or invalid JSON
  // (*error says which).
  std::optional<nlohmann::json> receive(double timeout_s, std::string* error = nullptr);
  // True once the peer closed its end (checked without blocking).
  bool peer_closed();

 private:
  int fd_;
  std::string buf_;
};

// Client side: connects to a daemon's socket; nullptr with *error when no daemon listens there.
std::unique_ptr<ControlConnection> control_connect(const std::string& path, std::string* error);

class ControlServer {
 public:
  using Handler = std::function<void(ControlConnection&, const nlohmann::json& request, const std::atomic<bool>& stop)>;
  // Binds (replacing a stale socket file: the caller holds the store's lock, so no other daemon uses it) with mode
  // 0600. nullptr with *error on failure (a path longer than sun_path, a directory that cannot be written).
  static std::unique_ptr<ControlServer> bind(const std::string& path, std::string* error);
  ~ControlServer();
  // Accepts connections on a thread of its own; each request runs `handler` on a thread of its own (at most
  // kMaxConnections at once; more are answered with an error).
  void start(Handler handler);
  // Stops accepting, tells handlers to end (`stop`), joins them and removes the socket file.
  void stop();

  static constexpr size_t kMaxConnections = 16;

 private:
  ControlServer() = default;
  void accept_loop();
  int fd_ = -1;
  std::string path_;
  Handler handler_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Worker> handlers_;  // finished ones are joined at the next accept
  std::atomic<size_t> active_{0};
};

// `baotin backfill|reprocess` when a daemon holds the store: submits the job over the control socket and prints
// its progress on stderr until it finishes (or, with `detach`, returns once it was accepted). Exit status: 0 done,
// 1 done with failures / failed / cancelled / no daemon answering, 2 refused (a usage error). Ctrl-C stops the
// printing, not the job.
int hand_over_job(const std::string& data_dir, const std::string& kind, const nlohmann::json& spec,
                  const std::vector<std::string>& urls, bool detach);

// One line describing a job for people (`baotin jobs`, progress lines).
std::string job_summary(const nlohmann::json& job);

}  // namespace baotin
