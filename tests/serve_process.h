// `baotin serve` as a child process for end-to-end tests: forked and exec'd (BAOTIN_BINARY) with extra
// environment variables, its stderr written to a log file, and SIGKILLed at scope exit if it still runs. With a
// notification socket path it also plays systemd's part: NOTIFY_SOCKET is set and wait_notify() reads what the
// daemon sends (READY=1, RELOADING=1, ...). JOURNAL_STREAM is cleared in the child unless `env` sets it.
#pragma once
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace baotin::testing {

class ServeProcess {
 public:
  ServeProcess(const std::string& config, const std::string& data_dir, const std::string& log,
               std::vector<std::pair<std::string, std::string>> env = {}, const std::string& notify_socket = "") {
    if (!notify_socket.empty()) {
      sock_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", notify_socket.c_str());
      if (sock_ < 0 || ::bind(sock_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
      env.emplace_back("NOTIFY_SOCKET", notify_socket);
    }
    const std::string bin = BAOTIN_BINARY;
    std::fflush(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      unsetenv("JOURNAL_STREAM");  // text log lines, as on a terminal, unless `env` says otherwise
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      if (!std::freopen(log.c_str(), "w", stderr)) _exit(126);
      execl(bin.c_str(), bin.c_str(), "serve", "--config", config.c_str(), "--data-dir", data_dir.c_str(), nullptr);
      _exit(127);
    }
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;
  ~ServeProcess() {
    if (running()) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (sock_ >= 0) ::close(sock_);
  }

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  bool running() const {
    if (pid_ <= 0 || exited_) return false;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      exited_ = true;
      status_ = st;
    }
    return !exited_;
  }
  void signal(int sig) const {
    if (pid_ > 0) kill(pid_, sig);
  }

  // Waits (up to `seconds`) for a notification containing `what`.
  bool wait_notify(const std::string& what, double seconds = 30) const {
    if (sock_ < 0) return false;
    for (int i = 0; i < static_cast<int>(seconds * 10); ++i) {
      pollfd p{sock_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[512];
      const ssize_t n = ::recv(sock_, buf, sizeof buf - 1, 0);
      if (n > 0 && std::string(buf, static_cast<size_t>(n)).find(what) != std::string::npos) return true;
    }
    return false;
  }

  // Sends `sig` and waits for the exit: the exit code, or -1 when it did not exit normally.
  int stop(int sig = SIGTERM) {
    if (pid_ <= 0) return -1;
    if (running()) {
      kill(pid_, sig);
      int st = 0;
      if (waitpid(pid_, &st, 0) != pid_) return -1;
      exited_ = true;
      status_ = st;
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }

 private:
  pid_t pid_ = -1;
  int sock_ = -1;
  mutable bool exited_ = false;
  mutable int status_ = 0;
};

}  // namespace baotin::testing
