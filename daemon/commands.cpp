#include "daemon/commands.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace baotin::cli {

namespace {
std::atomic<bool> g_stop{false};
extern "C" void baotin_cli_on_stop_signal(int) { g_stop = true; }

std::filesystem::path reader_scratch() {
  return std::filesystem::temp_directory_path() / ("baotin-reader-" + std::to_string(::getpid()));
}
}  // namespace

std::atomic<bool>& stop_flag() { return g_stop; }

std::atomic<bool>& install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = baotin_cli_on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  return g_stop;
}

bool read_whole_file(const std::string& path, std::string& out) {
  std::ostringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
    if (std::cin.bad()) return false;
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    // An empty file leaves failbit set by operator<< (nothing inserted): not an error.
    if (in.peek() != std::ifstream::traits_type::eof()) ss << in.rdbuf();
    if (in.bad()) return false;
  }
  out = ss.str();
  return true;
}

bool store_exists(const std::string& db) {
  std::error_code ec;
  return std::filesystem::is_regular_file(std::filesystem::path(db) / "CURRENT", ec);
}

int no_store(const char* command, const std::string& db) {
  std::fprintf(stderr, "%s: no baotin store at %s\n", command, db.c_str());
  return 2;
}

std::unique_ptr<Store> open_reader(const std::string& db) {
  if (!store_exists(db)) {
    std::fprintf(stderr, "no baotin store at %s\n", db.c_str());
    return nullptr;
  }
  std::string scratch = reader_scratch().string();
  std::string err;
  auto s = Store::open_secondary(db, scratch, &err);
  if (!s) std::fprintf(stderr, "cannot open store %s: %s\n", db.c_str(), err.c_str());
  return s;
}

void cleanup_reader() {
  std::error_code ec;
  std::filesystem::remove_all(reader_scratch(), ec);
}

int run_on_store(const char* command, Store& store, const std::function<int(Store&)>& fn) {
  try {
    struct Cleanup {
      ~Cleanup() { cleanup_reader(); }
    } cleanup;
    return fn(store);
  } catch (const std::exception& ex) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: %s\n", command, ex.what());
    return 1;
  }
}

int with_reader(const char* command, const std::string& db, const std::function<int(Store&)>& fn) {
  if (!store_exists(db)) return no_store(command, db);
  auto store = open_reader(db);
  if (!store) return 1;
  return run_on_store(command, *store, fn);
}

}  // namespace baotin::cli
