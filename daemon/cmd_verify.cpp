// `baotin verify`: check the store's consistency (checksums, records, versions, change log, indexes).
#include <cstdio>
#include <filesystem>

#include "daemon/commands.h"

namespace baotin::cli {

namespace {

// --salvage-wal: recover the store up to the damage in its WAL (a copy is kept), then verify. Needs the daemon
// stopped (a read-write open).
int verify_after_salvage(const std::string& db) {
  std::string err;
  StoreOptions so;
  so.path = db;
  so.wal_recovery = WalRecovery::Salvage;
  auto st = Store::open(so, &err);
  if (!st) {
    std::fprintf(stderr, "verify: %s\n", err.c_str());
    return 1;
  }
  try {
    auto problems = st->verify();
    for (const auto& p : problems) std::printf("%s\n", p.c_str());
    std::printf("%s: %s after WAL salvage (last seq %llu)\n", db.c_str(),
                problems.empty() ? "consistent" : "PROBLEMS FOUND", (unsigned long long)st->last_seq());
    st->close();
    return problems.empty() ? 0 : 1;
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "verify: %s\n", ex.what());
    return 1;
  }
}

}  // namespace

int cmd_verify(const VerifyArgs& args) {
  const std::string& db = args.db;
  if (args.salvage_wal) return verify_after_salvage(db);
  std::unique_ptr<Store> store;
  if (!Store::in_use(db) && std::filesystem::exists(std::filesystem::path(db) / "CURRENT")) {
    // No daemon: a read-only open checks every SST file and the WAL (a secondary skips unreadable files).
    std::string err;
    store = Store::open_readonly(db, &err);
    if (!store) {
      std::fprintf(stderr, "verify: %s\n", err.c_str());
      std::printf("%s: PROBLEMS FOUND (cannot open)\n", db.c_str());
      return 1;
    }
  } else {
    store = open_reader(db);
  }
  if (!store) return 1;
  return run_on_store("verify", *store, [&](Store& s) {
    auto problems = s.verify();
    for (const auto& p : problems) std::printf("%s\n", p.c_str());
    std::printf("%s: %s (last seq %llu)\n", db.c_str(), problems.empty() ? "consistent" : "PROBLEMS FOUND",
                (unsigned long long)s.last_seq());
    return problems.empty() ? 0 : 1;
  });
}

}  // namespace baotin::cli
