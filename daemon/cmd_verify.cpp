// `baotin verify`: check the store's consistency (checksums, records, versions, change log, indexes).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/commands.h"

namespace baotin::cli {

namespace {

// The report on stdout: text lines and a summary, or with --json one object
//   {"db": PATH, "consistent": BOOL, "last_seq": N|null, "salvaged_wal": BOOL, "problems": [STRING...]}
// (last_seq is null when the store could not be opened).
// raw_checked false: the store was checked through a secondary (a running daemon), which cannot read raw pages.
int report(const VerifyArgs& args, const std::vector<std::string>& problems, std::optional<uint64_t> last_seq,
           bool raw_checked = true) {
  const bool ok = problems.empty();
  if (args.json) {
    nlohmann::json j{{"db", args.db},
                     {"consistent", ok},
                     {"last_seq", last_seq ? nlohmann::json(*last_seq) : nlohmann::json(nullptr)},
                     {"salvaged_wal", args.salvage_wal},
                     {"raw_pages_checked", raw_checked},
                     {"problems", problems}};
    std::cout << j.dump(2) << "\n";
  } else {
    for (const auto& p : problems) std::printf("%s\n", p.c_str());
    if (!raw_checked)
      std::printf("raw pages: checked only with the daemon stopped (RocksDB secondaries cannot read blob files)\n");
    if (!last_seq)
      std::printf("%s: PROBLEMS FOUND (cannot open)\n", args.db.c_str());
    else
      std::printf("%s: %s%s (last seq %llu)\n", args.db.c_str(), ok ? "consistent" : "PROBLEMS FOUND",
                  args.salvage_wal ? " after WAL salvage" : "", (unsigned long long)*last_seq);
  }
  return ok ? 0 : 1;
}

// The store does not open (a damaged WAL, a missing file): a problem found, exit 1.
int cannot_open(const VerifyArgs& args, const std::string& err) {
  if (args.json) std::fprintf(stderr, "verify: %s\n", err.c_str());  // the text report prints it on stdout
  return report(args, {"cannot open: " + err}, std::nullopt);
}

// --salvage-wal: recover the store up to the damage in its WAL (a copy is kept), then verify. Needs the daemon
// stopped (a read-write open).
int verify_after_salvage(const VerifyArgs& args) {
  const std::string& db = args.db;
  std::string err;
  StoreOptions so;
  so.path = db;
  so.wal_recovery = WalRecovery::Salvage;
  auto st = Store::open(so, &err);
  if (!st) return cannot_open(args, err);
  try {
    auto problems = st->verify();
    const uint64_t seq = st->last_seq();
    st->close();
    return report(args, problems, seq);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "verify: %s\n", ex.what());
    return 1;
  }
}

}  // namespace

int cmd_verify(const VerifyArgs& args) {
  const std::string& db = args.db;
  // No store there: say so, and never create one (a read-write open, as --salvage-wal does, would).
  if (!store_exists(db)) return no_store("verify", db);
  if (args.salvage_wal) return verify_after_salvage(args);
  std::unique_ptr<Store> store;
  if (!Store::in_use(db)) {
    // No daemon: a read-only open checks every SST file and the WAL (a secondary skips unreadable files).
    std::string err;
    store = Store::open_readonly(db, &err);
    if (!store) return cannot_open(args, err);
  } else {
    store = open_reader(db);
  }
  if (!store) return 1;
  return run_on_store("verify", *store, [&](Store& s) { return report(args, s.verify(), s.last_seq(), s.raw_pages_readable()); });
}

}  // namespace baotin::cli
