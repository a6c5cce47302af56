// Helpers shared by the tests.
#pragma once
#include <stdlib.h>
#include <sys/wait.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace baotin::testing {

// A shell command's exit code (-1 when it did not exit normally) and standard output.
struct CmdResult {
  int status = -1;
  std::string out;
};
// Runs `cmd` through /bin/sh, capturing its stdout (stderr goes where the test's goes, unless `cmd` redirects it).
inline CmdResult run_command(const std::string& cmd) {
  CmdResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// The bytes of a file ("" when it cannot be read).
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "baotin-test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// Deterministic pseudo-Vietnamese text: `n` syllables drawn by an xorshift seeded with `seed`.
inline std::string vn_words(uint64_t seed, int n) {
  static const char* kSyl[] = {"người", "dân", "thành", "phố", "chuẩn", "bị", "đón", "Tết", "kinh", "tế",
                               "tăng", "trưởng", "giá", "vàng", "bóng", "đá", "thời", "tiết", "mưa", "bão",
                               "giáo", "dục", "học", "sinh", "bệnh", "viện", "giao", "thông", "xe", "máy"};
  uint64_t x = seed * 0x9E3779B97F4A7C15ull | 1;
  std::string s;
  for (int i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    if (i) s += ' ';
    s += kSyl[x % (sizeof kSyl / sizeof *kSyl)];
  }
  return s;
}

}  // namespace baotin::testing
