#include "daemon/commands.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace baotin::cli {

namespace {
std::filesystem::path reader_scratch() {
  return std::filesystem::temp_directory_path() / ("baotin-reader-" + std::to_string(::getpid()));
}
}  // namespace

bool read_whole_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

std::unique_ptr<Store> open_reader(const std::string& db) {
  if (!std::filesystem::exists(std::filesystem::path(db) / "CURRENT")) {
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
  auto store = open_reader(db);
  if (!store) return 1;
  return run_on_store(command, *store, fn);
}

}  // namespace baotin::cli
