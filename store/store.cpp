#include "store/store.h"

#include "store/bytes.h"
#include "store/internal.h"
#include "store/options.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/iterator.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/utilities/memory_util.h>
#include <spdlog/spdlog.h>
#include <zstd.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/canonical.h"
#include "core/date.h"
#include "core/identity.h"
#include "store/dedup.h"

namespace baotin {

using namespace store_internal;

namespace {

constexpr const char* kArticles = "articles";
constexpr const char* kVersions = "versions";
constexpr const char* kUrls = "urls";
constexpr const char* kFeeds = "feeds";
constexpr const char* kRaw = "raw";
constexpr const char* kChanges = "changes";
constexpr const char* kDedup = "dedup";
constexpr const char* kMeta = "meta";
constexpr const char* kOurFamilies[] = {kArticles, kVersions, kUrls, kFeeds, kRaw, kChanges, kDedup, kMeta};

bool reserved_meta(const std::string& key) {
  return key == kMetaSchema || key == kMetaLastSeq || key == kMetaDedupFormat || key == kMetaRebuildCursor ||
         key == kMetaRebuildIndexed;
}

std::string dump(const nlohmann::json& j) {
  // Never throw on invalid UTF-8 coming from the web: replace it.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Order for "earliest published": published date, then fetch time, then id (deterministic).
struct Age {
  int64_t published;
  int64_t fetched;
  std::string id;
  bool operator<(const Age& o) const {
    if (published != o.published) return published < o.published;
    if (fetched != o.fetched) return fetched < o.fetched;
    return id < o.id;
  }
};

// Dates through parse/date.h like everywhere else. Records hold normalize_date output and now_iso_vn stamps,
// on which the store's former private parser agreed; a date that is no calendar date (2023-02-29, 25:00,
// year 0001) is unknown here, so it no longer wins "earliest published".
Age age_of(const Article& a) {
  return {iso_to_epoch(a.published).value_or(INT64_MAX), iso_to_epoch(a.fetched_at).value_or(INT64_MAX), a.id};
}

std::string zstd_compress(std::string_view in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  if (ZSTD_isError(n)) throw StoreError(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

// Forwards RocksDB's info log to the usual LOG file and keeps the lines about damaged WAL records ("<wal file>:
// dropping N bytes; Corruption: ...", "Point in time recovered to ..."), so that open() can name the file and
// report what was dropped.
class WalReportLogger : public rocksdb::LoggerWrapper {
 public:
  explicit WalReportLogger(std::shared_ptr<rocksdb::Logger> target)
      : rocksdb::LoggerWrapper(target.get()), target_(std::move(target)) {}
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    va_list copy;
    va_copy(copy, ap);
    char buf[1024];
    std::vsnprintf(buf, sizeof buf, format, copy);
    va_end(copy);
    std::string_view line(buf);
    if (!line.empty() && line[0] == '[' && line.find("] ") != std::string_view::npos)  // "[db/x.cc:982] "
      line.remove_prefix(line.find("] ") + 2);
    if (line.find("dropping") != std::string_view::npos || line.find("Point in time recovered") != std::string_view::npos ||
        (line.find(".log") != std::string_view::npos && line.find("orruption") != std::string_view::npos)) {
      std::lock_guard lk(mu_);
      if (lines_.size() < 20) lines_.emplace_back(line);
    }
    rocksdb::LoggerWrapper::Logv(level, format, ap);
  }
  std::vector<std::string> lines() const {
    std::lock_guard lk(mu_);
    return lines_;
  }

 private:
  std::shared_ptr<rocksdb::Logger> target_;
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

// Live WAL files of a store (<number>.log), oldest first.
std::vector<std::filesystem::path> wal_files(const std::string& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".log" && e.is_regular_file(ec)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : sep) + x;
  return out;
}

// The info logger for a store's open: RocksDB's default LOG file wrapped in a WalReportLogger.
std::shared_ptr<WalReportLogger> wal_report_logger(const std::string& log_dir, rocksdb::DBOptions& dbo) {
  std::shared_ptr<rocksdb::Logger> base;
  dbo.info_log.reset();
  if (!rocksdb::CreateLoggerFromOptions(log_dir, dbo, &base).ok() || !base) return nullptr;
  auto l = std::make_shared<WalReportLogger>(std::move(base));
  dbo.info_log = l;
  return l;
}

}  // namespace

struct Store::Listener : rocksdb::EventListener {
  Store* st;
  explicit Listener(Store* s) : st(s) {}
  void OnBackgroundError(rocksdb::BackgroundErrorReason, rocksdb::Status* bg_error) override {
    if (bg_error && !bg_error->ok()) st->set_health(false, "RocksDB background error: " + bg_error->ToString());
  }
  // RocksDB's own recovery from "no space" (SstFileManager polling free space) races with Resume() (Busy) and,
  // when its flush fails again, can leave a fatal error that only a restart clears. The store recovers itself
  // instead: Resume() on the next write and on try_recover().
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status, bool* auto_recovery) override {
    if (auto_recovery) *auto_recovery = false;
  }
  void OnErrorRecoveryEnd(const rocksdb::BackgroundErrorRecoveryInfo& info) override {
    if (info.new_bg_error.ok()) {
      spdlog::info("store: recovered from background error ({})", info.old_bg_error.ToString());
      st->set_health(true, "");
    }
  }
};

namespace {
// Where index and filter blocks and table-reader memory go (store/options.h StoreMemory): partitioned index and
// filters in the block cache at high priority, the top level of each and all of L0's pinned there, and the
// memory RocksDB keeps outside the cache charged to it. (Before issue 12 they stayed in the table readers,
// outside any budget: +82 B per article of RSS.)
void set_table_memory_options(rocksdb::BlockBasedTableOptions& t) {
  t.cache_index_and_filter_blocks = true;
  t.cache_index_and_filter_blocks_with_high_priority = true;
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  t.pin_top_level_index_and_filter = true;
  t.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  t.partition_filters = t.filter_policy != nullptr;
  t.optimize_filters_for_memory = true;
  using rocksdb::CacheEntryRole;
  using Charge = rocksdb::CacheEntryRoleOptions::Decision;
  for (auto role : {CacheEntryRole::kBlockBasedTableReader, CacheEntryRole::kFileMetadata, CacheEntryRole::kFilterConstruction})
    t.cache_usage_options.options_overrides.insert({role, {Charge::kEnabled}});
}
}  // namespace

rocksdb::ColumnFamilyOptions store_family_options(const std::string& name, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  const auto supported = rocksdb::GetSupportedCompressions();
  auto has = [&](rocksdb::CompressionType t) { return std::find(supported.begin(), supported.end(), t) != supported.end(); };
  if (name == kRaw) {
    o.compression = rocksdb::kNoCompression;  // values are zstd frames already
    // Blob files (integrated BlobDB) keep raw pages out of compaction; Store::open turns them on unless
    // StoreOptions::raw_blob_files is false. They only decide where new values go: values inline in SSTs and in
    // blob files are read alike. Secondaries never open this family (RocksDB does not support blob files there).
    o.enable_blob_files = false;
    o.min_blob_size = 512;
    o.blob_file_size = 256u << 20;
    o.blob_compression_type = rocksdb::kNoCompression;
    // No garbage collection: raw pages are never deleted or overwritten (one key per version), so collecting would
    // only copy live pages into new blob files again (measured: bench/store_bench --amp).
    o.enable_blob_garbage_collection = false;
  } else if (name == kVersions && has(rocksdb::kZSTD)) {
    o.compression = rocksdb::kZSTD;  // cold history
  } else if (has(rocksdb::kLZ4Compression)) {
    o.compression = rocksdb::kLZ4Compression;
  }
  rocksdb::BlockBasedTableOptions t;
  if (name == kArticles || name == kUrls || name == kDedup || name == kFeeds)
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // The duplicate index's look-ups are ~13 bucket scans (a Seek each, forward and back) for one sketch read: with
  // its bucket prefixes in the filters too, a Seek skips the table files that hold no entry of the bucket.
  if (name == kDedup) o.prefix_extractor = dedup_prefix_extractor();
  if (cache) t.block_cache = cache;
  set_table_memory_options(t);
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

rocksdb::ColumnFamilyOptions store_family_options(const std::string& name, const StoreMemory& memory) {
  rocksdb::ColumnFamilyOptions o = store_family_options(name, memory.cache);
  // The WriteBufferManager flushes the largest memtable when all of them together near memtable_bytes; a
  // family's own limit keeps one busy family from taking it all, and small arena blocks keep the eight idle
  // memtables from each holding (and charging) a large first block.
  o.write_buffer_size = std::clamp<size_t>(memory.memtable_bytes / 4, size_t{1} << 20, size_t{64} << 20);
  o.arena_block_size = std::min<size_t>(o.write_buffer_size / 8, size_t{1} << 20);
  o.max_write_buffer_number = 2;
  return o;
}

rocksdb::ColumnFamilyOptions store_family_options_pre12(const std::string& name, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o = store_family_options(name, cache);
  rocksdb::BlockBasedTableOptions t = *o.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
  const rocksdb::BlockBasedTableOptions defaults;
  t.cache_index_and_filter_blocks = defaults.cache_index_and_filter_blocks;
  t.pin_l0_filter_and_index_blocks_in_cache = defaults.pin_l0_filter_and_index_blocks_in_cache;
  t.index_type = defaults.index_type;
  t.partition_filters = defaults.partition_filters;
  t.optimize_filters_for_memory = defaults.optimize_filters_for_memory;
  t.cache_usage_options = defaults.cache_usage_options;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

std::shared_ptr<StoreMemory> StoreMemory::make(size_t cache_mb) {
  auto m = std::make_shared<StoreMemory>();
  m->cache_bytes = std::max<size_t>(cache_mb, 8) << 20;
  m->memtable_bytes = m->cache_bytes / 4;
  rocksdb::LRUCacheOptions co;
  co.capacity = m->cache_bytes;
  co.strict_capacity_limit = false;  // options.h: a strict limit turns a full cache into read errors
  co.high_pri_pool_ratio = 0.5;      // index and filter blocks (high priority) keep up to half of it
  m->cache = rocksdb::NewLRUCache(co);
  // Memtable memory is charged to the cache (dummy entries): what the memtables hold, data blocks cannot.
  m->write_buffers = std::make_shared<rocksdb::WriteBufferManager>(m->memtable_bytes, m->cache, /*allow_stall=*/false);
  return m;
}

void apply_store_memory(rocksdb::DBOptions& dbo, const StoreMemory& memory) {
  dbo.write_buffer_manager = memory.write_buffers;
  dbo.max_open_files = 512;  // systemd/baotin.service: LimitNOFILE=65536, and sockets need descriptors too
}

const char* put_kind_name(PutKind k) {
  switch (k) {
    case PutKind::New: return "new";
    case PutKind::Updated: return "updated";
    case PutKind::Unchanged: return "unchanged";
    case PutKind::Duplicate: return "duplicate";
  }
  return "unknown";
}

nlohmann::json to_json(const ChangeEvent& e) {
  nlohmann::json j = {{"seq", e.seq}, {"type", e.type}, {"id", e.id}, {"version", e.version}, {"site", e.site}, {"at", e.at}};
  if (!e.original.empty()) j["original"] = e.original;
  if (!e.reason.empty()) j["reason"] = e.reason;
  return j;
}

// ---------------------------------------------------------------------------------------------------------------
// Open / close

std::unique_ptr<Store> Store::open(const StoreOptions& opts, std::string* error) {
  auto fail = [&](const std::string& msg) -> std::unique_ptr<Store> {
    if (error) *error = msg;
    return nullptr;
  };
  if (opts.path.empty()) return fail("store path is empty");
  std::error_code ec;
  std::filesystem::create_directories(opts.path, ec);
  if (ec) return fail("cannot create store directory " + opts.path + ": " + ec.message());

  rocksdb::DBOptions dbo;
  dbo.create_if_missing = true;
  dbo.create_missing_column_families = true;
  dbo.max_background_jobs = 2;
  dbo.keep_log_file_num = 5;
  dbo.max_total_wal_size = 256u << 20;
  if (opts.env) dbo.env = opts.env;
  // WAL recovery (README, "WAL recovery"): refuse any damaged record unless the operator salvages.
  dbo.wal_recovery_mode = opts.wal_recovery == WalRecovery::Salvage ? rocksdb::WALRecoveryMode::kPointInTimeRecovery
                                                                    : rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  auto wal_log = wal_report_logger(opts.path, dbo);

  std::vector<std::string> names;
  auto ls = rocksdb::DB::ListColumnFamilies(dbo, opts.path, &names);
  if (!ls.ok()) names.clear();  // new store
  std::vector<std::string> all = {rocksdb::kDefaultColumnFamilyName};
  for (const char* n : kOurFamilies) all.emplace_back(n);
  for (const auto& n : names)  // RocksDB requires every existing family to be opened
    if (std::find(all.begin(), all.end(), n) == all.end()) all.push_back(n);

  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  std::shared_ptr<StoreMemory> memory = opts.memory;
  if (opts.pre12_memory_options) {
    memory = std::make_shared<StoreMemory>();
    memory->cache_bytes = std::max<size_t>(opts.block_cache_mb, 1) << 20;
    memory->cache = rocksdb::NewLRUCache(memory->cache_bytes);
    for (const auto& n : all) descs.emplace_back(n, store_family_options_pre12(n, memory->cache));
  } else {
    if (!memory) memory = StoreMemory::make(opts.block_cache_mb);
    apply_store_memory(dbo, *memory);
    for (const auto& n : all) descs.emplace_back(n, store_family_options(n, *memory));
  }
  if (opts.raw_blob_files)
    for (auto& d : descs)
      if (d.name == kRaw) d.options.enable_blob_files = true;

  std::unique_ptr<Store> st(new Store());
  st->memory_ = memory;
  st->path_ = opts.path;
  st->sync_writes_ = opts.sync_writes;
  st->group_commit_ = opts.group_commit;
  st->listener_ = std::make_shared<Listener>(st.get());
  dbo.listeners.push_back(st->listener_);

  std::string salvage_dir;
  if (opts.wal_recovery == WalRecovery::Salvage) {
    // Keep the WAL exactly as found: point-in-time recovery drops everything after the first damaged record.
    const auto wals = wal_files(opts.path);
    if (!wals.empty()) {
      salvage_dir = (std::filesystem::path(opts.path) /
                     ("wal-salvage-" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                          std::chrono::system_clock::now().time_since_epoch())
                                                          .count())))
                        .string();
      std::filesystem::create_directories(salvage_dir, ec);
      for (const auto& w : wals)
        if (!ec) std::filesystem::copy_file(w, std::filesystem::path(salvage_dir) / w.filename(),
                                            std::filesystem::copy_options::overwrite_existing, ec);
      if (ec) return fail("cannot keep a copy of the WAL in " + salvage_dir + ": " + ec.message() + " (nothing changed)");
    }
  }

  rocksdb::Status s = rocksdb::DB::Open(dbo, opts.path, descs, &st->handles_, &st->db_);
  if (!s.ok()) {
    std::string msg = "cannot open store " + opts.path + ": " + status_text(s);
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos)
      msg += " (is another baotin process using it? read-only commands open it as a secondary)";
    const std::vector<std::string> where = wal_log ? wal_log->lines() : std::vector<std::string>{};
    if (s.IsCorruption() && opts.wal_recovery == WalRecovery::Strict && !where.empty()) {
      msg += "; damaged write-ahead log (" + join(where, "; ") +
             "): acknowledged records may be lost, so the store is not opened and nothing was changed. To recover "
             "what precedes the damage (a copy of the WAL is kept), run: baotin verify --db " + opts.path +
             " --salvage-wal";
    }
    return fail(msg);
  }
  st->assign_handles(all);
  if (opts.wal_recovery == WalRecovery::Salvage) {
    const auto lines = wal_log ? wal_log->lines() : std::vector<std::string>{};
    for (const auto& l : lines) spdlog::critical("store: WAL salvage: {}", l);
    if (lines.empty()) spdlog::warn("store: WAL salvage: the WAL read back without damage; nothing was dropped");
    else spdlog::critical("store: WAL salvage: records after the damage are gone; the original WAL files are in {}",
                          salvage_dir);
  }

  try {
    // Schema version.
    auto schema = st->get_raw(st->meta_, kMetaSchema);
    if (!schema) {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      s = st->db_->Put(wo, st->meta_, kMetaSchema, std::to_string(kSchemaVersion));
      if (!s.ok()) return fail("cannot initialise store " + opts.path + ": " + status_text(s));
    } else {
      int v = 0;
      try {
        v = std::stoi(*schema);
      } catch (...) {
        return fail("store " + opts.path + " has an unreadable schema_version '" + *schema + "'");
      }
      if (v > kSchemaVersion)
        return fail("store " + opts.path + " has schema version " + std::to_string(v) + ", newer than this build (" +
                    std::to_string(kSchemaVersion) + ")");
    }

    // Sequence: the change log is authoritative; meta last_seq is written in the same batch.
    uint64_t seq = 0;
    if (auto m = st->get_raw(st->meta_, kMetaLastSeq)) {
      try {
        seq = std::stoull(*m);
      } catch (...) {
        seq = 0;
      }
    }
    {
      std::unique_ptr<rocksdb::Iterator> it(st->db_->NewIterator(rocksdb::ReadOptions(), st->changes_));
      it->SeekToLast();
      if (it->Valid() && it->key().size() == 8) seq = std::max(seq, read_be(it->key().ToStringView()));
      if (!it->status().ok()) return fail("cannot read the change log of " + opts.path + ": " + status_text(it->status()));
    }
    st->last_seq_ = seq;
    st->durable_seq_ = seq;
    if (opts.wal_recovery == WalRecovery::Salvage)
      spdlog::critical("store: WAL salvage: the store now ends at change {}", seq);
    st->dedup_ = std::make_unique<DedupIndex>(st->db_, st->dedup_cf_);

    // Duplicate index format: rebuild an older index (or one of a store written before the format was
    // recorded); continue an interrupted rebuild.
    int format = 0;
    const auto recorded = st->get_raw(st->meta_, kMetaDedupFormat);
    if (const auto& f = recorded) {
      try {
        format = std::stoi(*f);
      } catch (...) {
        format = 0;
      }
    } else if (seq == 0) {
      format = kDedupIndexFormat;  // a new store
    }
    const bool interrupted = st->get_raw(st->meta_, kMetaRebuildCursor).has_value();
    if (format != kDedupIndexFormat || interrupted) {
      if (interrupted) {
        st->rebuild_pending_ = true;
        if (auto n = st->get_raw(st->meta_, kMetaRebuildIndexed)) st->rebuild_indexed_ = std::strtoull(n->c_str(), nullptr, 10);
        spdlog::info("store: continuing the interrupted duplicate index rebuild ({} articles done)",
                     st->rebuild_indexed_.load());
      } else {
        spdlog::info("store: duplicate index format {} != {}: rebuilding it from the stored articles", format,
                     kDedupIndexFormat);
        st->begin_dedup_rebuild();
      }
      if (!opts.defer_dedup_rebuild) {
        auto t0 = std::chrono::steady_clock::now();
        st->continue_dedup_rebuild();
        spdlog::info("store: duplicate index rebuilt: {} articles in {:.1f} s", st->rebuild_indexed_.load(),
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
    } else if (!recorded) {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      s = st->db_->Put(wo, st->meta_, kMetaDedupFormat, std::to_string(kDedupIndexFormat));
      if (!s.ok()) return fail("cannot initialise store " + opts.path + ": " + status_text(s));
    }
  } catch (const StoreError& e) {
    return fail(std::string("cannot open store ") + opts.path + ": " + e.what());
  }
  return st;
}

namespace {
// The column families of the store at `path`, for a read-only or secondary open: "" when it is a baotin store
// (every family of ours present), else why it cannot be opened.
std::string store_families(const std::string& path, std::vector<std::string>& names) {
  auto s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
  if (!s.ok()) return "cannot open store " + path + " read-only: " + status_text(s);
  for (const char* n : kOurFamilies)
    if (std::find(names.begin(), names.end(), n) == names.end())
      return "store " + path + " is not a baotin store (column family '" + std::string(n) + "' missing)";
  return "";
}
}  // namespace

std::unique_ptr<Store> Store::open_secondary(const std::string& path, const std::string& secondary_dir,
                                             std::string* error) {
  auto fail = [&](const std::string& msg) -> std::unique_ptr<Store> {
    if (error) *error = msg;
    return nullptr;
  };
  std::vector<std::string> names;
  if (std::string why = store_families(path, names); !why.empty()) return fail(why);
  std::error_code ec;
  std::filesystem::create_directories(secondary_dir, ec);
  if (ec) return fail("cannot create secondary directory " + secondary_dir + ": " + ec.message());

  rocksdb::DBOptions dbo;
  dbo.max_open_files = -1;  // required for secondaries
  // The same WAL recovery as the primary's open (verify and serve agree): a damaged record fails the open.
  dbo.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  auto wal_log = wal_report_logger(secondary_dir, dbo);
  // Every family but `raw`: RocksDB secondaries do not support blob files (7.8.3's ReactiveVersionSet hands
  // BlobSource references to temporary db_id strings: reading a blob crashes). OpenAsSecondary takes a subset.
  names.erase(std::remove(names.begin(), names.end(), std::string(kRaw)), names.end());
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  // A CLI process's own budget (exports scan; little reuse). A secondary needs every table file open
  // (max_open_files = -1); their index and filter blocks are in the cache all the same.
  auto memory = StoreMemory::make(32);
  for (const auto& n : names) descs.emplace_back(n, store_family_options(n, *memory));
  dbo.write_buffer_manager = memory->write_buffers;
  std::unique_ptr<Store> st(new Store());
  st->memory_ = memory;
  st->secondary_ = true;
  st->path_ = path;
  rocksdb::Status s = rocksdb::DB::OpenAsSecondary(dbo, path, secondary_dir, descs, &st->handles_, &st->db_);
  if (!s.ok()) {
    std::string msg = "cannot open store " + path + " as secondary: " + status_text(s);
    if (s.IsCorruption() && wal_log && !wal_log->lines().empty())
      msg += "; damaged write-ahead log (" + join(wal_log->lines(), "; ") +
             "): acknowledged records may be lost; see `baotin verify --salvage-wal` in the README";
    return fail(msg);
  }
  st->assign_handles(names);
  try {
    if (auto schema = st->get_raw(st->meta_, kMetaSchema)) {
      int v = 0;
      try {
        v = std::stoi(*schema);
      } catch (...) {
      }
      if (v > kSchemaVersion)
        return fail("store " + path + " has schema version " + *schema + ", newer than this build (" +
                    std::to_string(kSchemaVersion) + ")");
    }
  } catch (const StoreError& e) {
    return fail("cannot open store " + path + " read-only: " + e.what());
  }
  std::string err;
  if (!st->catch_up(&err)) return fail(err);
  st->dedup_ = std::make_unique<DedupIndex>(st->db_, st->dedup_cf_);
  return st;
}

std::unique_ptr<Store> Store::open_readonly(const std::string& path, std::string* error) {
  auto fail = [&](const std::string& msg) -> std::unique_ptr<Store> {
    if (error) *error = msg;
    return nullptr;
  };
  std::vector<std::string> names;
  if (std::string why = store_families(path, names); !why.empty()) return fail(why);
  rocksdb::DBOptions dbo;
  dbo.max_open_files = -1;  // open (and check) every table file now
  dbo.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  // The info log of a read-only open goes to a scratch file next to the store's LOG, not over it.
  dbo.db_log_dir = (std::filesystem::temp_directory_path() / ("baotin-verify-" + std::to_string(::getpid()))).string();
  std::error_code ec;
  std::filesystem::create_directories(dbo.db_log_dir, ec);
  auto wal_log = wal_report_logger(path, dbo);
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  auto memory = StoreMemory::make(32);
  for (const auto& n : names) descs.emplace_back(n, store_family_options(n, *memory));
  std::unique_ptr<Store> st(new Store());
  st->memory_ = memory;
  st->secondary_ = true;
  st->read_only_ = true;
  st->path_ = path;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(dbo, path, descs, &st->handles_, &st->db_);
  std::filesystem::remove_all(dbo.db_log_dir, ec);
  if (!s.ok()) {
    std::string msg = "cannot open store " + path + " read-only: " + status_text(s);
    if (s.IsCorruption() && wal_log && !wal_log->lines().empty())
      msg += "; damaged write-ahead log (" + join(wal_log->lines(), "; ") +
             "): acknowledged records may be lost; see `baotin verify --salvage-wal` in the README";
    return fail(msg);
  }
  st->assign_handles(names);
  st->dedup_ = std::make_unique<DedupIndex>(st->db_, st->dedup_cf_);
  return st;
}

bool Store::in_use(const std::string& path) {
  const std::string lock = (std::filesystem::path(path) / "LOCK").string();
  int fd = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  const bool held = ::fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

bool Store::catch_up(std::string* error) {
  if (read_only_ && db_) return true;
  if (!secondary_ || !db_) {
    if (error) *error = "catch_up: not a secondary store";
    return false;
  }
  auto s = db_->TryCatchUpWithPrimary();
  if (!s.ok()) {
    if (error) *error = "cannot catch up with primary " + path_ + ": " + status_text(s);
    return false;
  }
  return true;
}

Store::~Store() { close(); }

StoreMemoryUsage Store::memory_usage() const {
  StoreMemoryUsage u;
  std::lock_guard lk(write_mu_);  // close() deletes db_ under it
  if (!db_ || !memory_) return u;
  u.cache_capacity = memory_->cache->GetCapacity();
  u.cache_usage = memory_->cache->GetUsage();
  u.cache_pinned = memory_->cache->GetPinnedUsage();
  if (memory_->write_buffers) u.write_buffer_manager = memory_->write_buffers->memory_usage();
  std::map<rocksdb::MemoryUtil::UsageType, uint64_t> by_type;
  std::unordered_set<const rocksdb::Cache*> caches;  // the cache is counted above, not here
  if (rocksdb::MemoryUtil::GetApproximateMemoryUsageByType({db_}, caches, &by_type).ok()) {
    u.memtables = by_type[rocksdb::MemoryUtil::kMemTableTotal];
    u.table_readers = by_type[rocksdb::MemoryUtil::kTableReadersTotal];
  }
  return u;
}

void Store::close() {
  std::lock_guard lk(write_mu_);
  if (!db_) return;
  dedup_.reset();
  {
    // No sync may run on the closing database: wait for the one in progress; later waiters are settled below.
    std::unique_lock sl(sync_mu_);
    sync_cv_.wait(sl, [&] { return !syncing_; });
    closing_ = true;
  }
  bool wal_synced = secondary_;
  std::string close_error = "store is closed";
  if (!secondary_) {
    // A write or background error (disk full) must be cleared before flushing; if it cannot be, skip the
    // flush: everything acknowledged is in the fsynced WAL and is replayed on the next open.
    bool ok = true;
    if (unhealthy_) {
      auto r = db_->Resume();
      ok = r.ok();
      if (!ok) spdlog::error("store: closing with an unrecovered write error ({}); not flushing", r.ToString());
    }
    if (ok) {
      rocksdb::FlushOptions fo;
      fo.wait = true;
      auto s = db_->Flush(fo, handles_);
      if (!s.ok()) spdlog::warn("store: flush on close failed: {}", s.ToString());
      s = db_->SyncWAL();
      if (!s.ok() && !s.IsNotSupported()) spdlog::warn("store: WAL sync on close failed: {}", s.ToString());
      wal_synced = s.ok();
      if (!s.ok()) close_error = "WAL sync on close failed: " + status_text(s);
    } else {
      close_error = "store closed with an unrecovered write error";
    }
  }
  {
    // Writers still waiting for their sync: durable if the final sync worked, else not acknowledged.
    std::lock_guard sl(sync_mu_);
    if (wal_synced) synced_ticket_ = std::max(synced_ticket_, written_ticket_);
    else if (synced_ticket_ < written_ticket_) failed_syncs_.push_back({synced_ticket_, written_ticket_, close_error});
    sync_cv_.notify_all();
  }
  for (auto* h : handles_) {
    auto s = db_->DestroyColumnFamilyHandle(h);
    if (!s.ok()) spdlog::warn("store: destroying column family handle failed: {}", s.ToString());
  }
  handles_.clear();
  if (!secondary_) {
    auto s = db_->Close();
    if (!s.ok()) spdlog::warn("store: close failed: {}", s.ToString());
  }
  delete db_;
  db_ = nullptr;
  articles_ = versions_ = urls_ = feeds_ = raw_ = changes_ = dedup_cf_ = meta_ = nullptr;
}

// handles_[i] is the column family named names[i] (the order they were opened in).
void Store::assign_handles(const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    const auto& n = names[i];
    auto* h = handles_[i];
    if (n == kArticles) articles_ = h;
    else if (n == kVersions) versions_ = h;
    else if (n == kUrls) urls_ = h;
    else if (n == kFeeds) feeds_ = h;
    else if (n == kRaw) raw_ = h;
    else if (n == kChanges) changes_ = h;
    else if (n == kDedup) dedup_cf_ = h;
    else if (n == kMeta) meta_ = h;
  }
}

void Store::require_writable(const char* what) const {
  if (!db_) throw StoreError(std::string(what) + ": store is closed");
  if (secondary_) throw StoreError(std::string(what) + ": store is opened read-only (secondary)");
}

void Store::note_durable(uint64_t seq) {
  for (uint64_t d = durable_seq_.load(); d < seq && !durable_seq_.compare_exchange_weak(d, seq);) {
  }
}

void Store::set_health(bool ok, const std::string& reason) {
  std::lock_guard lk(health_mu_);
  if (ok && !health_.ok) spdlog::info("store: writes work again");
  if (!ok && (health_.ok || health_.reason != reason)) spdlog::error("store: unhealthy: {}", reason);
  health_.ok = ok;
  health_.reason = ok ? std::string() : reason;
  unhealthy_ = !ok;
}

StoreHealth Store::health() const {
  std::lock_guard lk(health_mu_);
  return health_;
}

bool Store::try_recover() {
  if (!db_ || secondary_) return true;
  if (!unhealthy_) return true;
  // Resume() clears a background error (flushes the memtables and starts a new WAL); OK when there is none.
  auto s = db_->Resume();
  if (!s.ok()) {
    set_health(false, "store write failed, recovery failed: " + status_text(s));
    return false;
  }
  {
    // The memtables are flushed: what the damaged WAL held is in synced table files now. Appends up to here stay
    // unacknowledged (their writers were told so); later ones are synced normally.
    std::lock_guard sl(sync_mu_);
    if (wal_poisoned_) {
      if (poisoned_after_ < written_ticket_) failed_syncs_.push_back({poisoned_after_, written_ticket_, poison_error_});
      synced_ticket_ = std::max(synced_ticket_, written_ticket_);
      wal_poisoned_ = false;
      sync_cv_.notify_all();
    }
  }
  set_health(true, "");
  return true;
}

void Store::write_or_throw(const rocksdb::WriteOptions& wo, rocksdb::WriteBatch& batch) {
  if (unhealthy_ && !try_recover()) throw StoreError("store write failed: " + health().reason);
  auto s = db_->Write(wo, &batch);
  if (!s.ok()) {
    set_health(false, "store write failed: " + status_text(s));
    throw StoreError("store write failed: " + status_text(s));
  }
  if (unhealthy_) set_health(true, "");
}

// Group commit (README "Storage", docs/store_format.md "Writes and atomicity"). Under write_mu_ the batch is
// appended to the WAL and the memtables without an fsync, so the next writer's duplicate look-ups, version
// numbers and URL map see it at once; the fsync comes after the lock is released, and one SyncWAL covers every
// write appended before it. The WAL is one sequential log, so a write that survives a crash has every earlier
// write with it.
uint64_t Store::write_locked(rocksdb::WriteBatch& batch) {
  rocksdb::WriteOptions wo;
  const bool grouped = sync_writes_ && group_commit_;
  wo.sync = sync_writes_ && !grouped;
  write_or_throw(wo, batch);
  if (!grouped) return 0;
  std::lock_guard sl(sync_mu_);
  return ++written_ticket_;
}

void Store::wait_durable(uint64_t ticket) {
  if (ticket == 0) return;
  std::unique_lock sl(sync_mu_);
  for (;;) {
    for (const auto& f : failed_syncs_)  // before synced_ticket_: a later sync does not make it acknowledged
      if (ticket > f.after && ticket <= f.through) throw StoreError("store write failed: " + f.error);
    // After a failed sync every later append shares the damaged WAL (the kernel may have dropped its pages, and a
    // second fsync of the file can report success): nothing after the failure is acknowledged until recovery.
    if (wal_poisoned_ && ticket > poisoned_after_) throw StoreError("store write failed: " + poison_error_);
    if (synced_ticket_ >= ticket) return;
    if (!syncing_ && !closing_) break;
    sync_cv_.wait(sl);
  }
  // This thread syncs for every write appended so far (their Write() calls have returned).
  syncing_ = true;
  const uint64_t target = written_ticket_;
  sl.unlock();
  const rocksdb::Status s = db_->SyncWAL();
  ++wal_syncs_;
  sl.lock();
  syncing_ = false;
  if (s.ok()) {
    synced_ticket_ = std::max(synced_ticket_, target);
  } else {
    // Never acknowledged, even if a later sync succeeds: after a failed fsync the kernel may have dropped
    // the pages, of this group and of every write appended since. RocksDB turns the failure into a background
    // error; recovery (Resume) flushes the memtables and starts a new WAL, and only then do appends count again.
    if (synced_ticket_ < target) failed_syncs_.push_back({synced_ticket_, target, "WAL sync failed: " + status_text(s)});
    if (!wal_poisoned_) {
      wal_poisoned_ = true;
      poisoned_after_ = synced_ticket_;
      poison_error_ = "WAL sync failed: " + status_text(s);
    }
  }
  sync_cv_.notify_all();
  sl.unlock();
  if (!s.ok()) {
    set_health(false, "store write failed: WAL sync failed: " + status_text(s));
    throw StoreError("store write failed: WAL sync failed: " + status_text(s));
  }
}

void Store::commit_batch(rocksdb::WriteBatch& batch) {
  uint64_t ticket = 0;
  {
    std::lock_guard lk(write_mu_);
    require_writable("store write");
    ticket = write_locked(batch);
  }
  wait_durable(ticket);
}

std::optional<std::string> Store::get_raw(rocksdb::ColumnFamilyHandle* cf, const std::string& key) const {
  if (!db_ || !cf) return std::nullopt;
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), cf, key, &v);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) throw StoreError("store read failed: " + status_text(s));
  return v;
}

// ---------------------------------------------------------------------------------------------------------------
// Articles

std::string Store::resolve_id_locked(const std::vector<std::string>& url_keys, const std::string& canonical) const {
  for (const auto& k : url_keys)
    if (auto id = get_raw(urls_, k)) return *id;
  return article_id(canonical);
}

PutResult Store::put_article(Article a, std::string_view raw_html, const std::vector<std::string>& alias_urls) {
  require_writable("put_article");

  // --- Work that needs no lock: URL canonicalisation, hashes, fingerprints, compression.
  // Identity (core/identity.h): the canonical URL, and the `urls` keys in look-up order (the canonical URL
  // decides the identity first).
  RecordKeys rk = record_keys(a.canonical_url, a.url, alias_urls);
  std::string canonical = std::move(rk.canonical);
  if (canonical.empty()) throw StoreError("put_article: article has neither url nor canonical_url");
  a.canonical_url = canonical;
  const std::vector<std::string> url_keys = std::move(rk.keys);
  a.content_hash = content_hash(a);
  // Fingerprints and the compressed page are only needed when a version is written; an unchanged
  // re-fetch (the common case when feeds are re-polled) skips them. Prepared here, outside the lock,
  // when the lock-free look-up says the content changed; the decision is re-checked under the lock.
  std::string fp;
  NearSketch sketch;
  bool is_dedupable = false;
  bool prepared = false;
  std::optional<std::string> packed;
  auto prepare = [&] {
    if (prepared) return;
    prepared = true;
    fp = exact_fingerprint(a);
    sketch = near_sketch(a);
    is_dedupable = dedupable(a, fp, sketch);
    if (!raw_html.empty()) packed = zstd_compress(raw_html);
  };
  {
    std::string tentative = resolve_id_locked(url_keys, canonical);
    auto cur = get_raw(articles_, tentative);
    if (!cur || cur->find("\"content_hash\":\"" + a.content_hash + "\"") == std::string::npos) prepare();
  }

  // The read-modify-write (id, existing version, duplicate look-ups, URL map) and the WAL append happen under
  // write_mu_; the fsync after it (wait_durable), shared with the other writers.
  std::unique_lock lk(write_mu_);
  require_writable("put_article");
  const std::string id = resolve_id_locked(url_keys, canonical);
  a.id = id;

  rocksdb::WriteBatch batch;
  auto map_urls = [&] {
    size_t added = 0;
    for (const auto& k : url_keys) {
      if (get_raw(urls_, k)) continue;  // first claimant keeps a URL
      batch.Put(urls_, k, id);
      ++added;
    }
    return added;
  };
  uint64_t ticket = 0;
  auto commit = [&] { ticket = write_locked(batch); };

  PutResult r;
  r.id = id;
  std::optional<Article> existing;
  if (auto cur = get_raw(articles_, id)) {
    if (auto j = parse_json(*cur)) {
      existing = article_from_json(*j);
    } else {
      // Never overwrite history: continue after the newest readable version.
      auto vs = versions(id);
      spdlog::error("store: latest record of {} is not valid JSON; continuing after version {}", id,
                    vs.empty() ? 0u : vs.back().version);
      if (!vs.empty()) {
        existing = std::move(vs.back());
        existing->content_hash.clear();  // force a new version that repairs the latest record
      }
    }
  }

  if (existing && existing->content_hash == a.content_hash) {
    r.kind = PutKind::Unchanged;
    r.version = existing->version;
    r.duplicate_of = existing->duplicate_of;
    r.cluster = existing->cluster;
    if (map_urls() > 0) commit();
    // "Unchanged" may rest on a record another writer appended but has not synced yet: wait for that too.
    if (ticket == 0 && sync_writes_ && group_commit_) {
      std::lock_guard sl(sync_mu_);
      ticket = written_ticket_;
    }
    lk.unlock();
    wait_durable(ticket);
    return r;
  }

  prepare();  // no-op unless the lock-free look-up guessed "unchanged" and was wrong
  std::vector<Article> moved_records;  // re-pointed at this article (it is the cluster's new original)
  if (existing) {
    r.kind = PutKind::Updated;
    a.version = existing->version + 1;
    a.duplicate_of = existing->duplicate_of;
    a.cluster = existing->cluster.empty() ? id : existing->cluster;
  } else {
    r.kind = PutKind::New;
    a.version = 1;
    a.duplicate_of.clear();
    a.cluster = id;
    if (is_dedupable) {
      std::vector<std::string> matches;
      if (auto m = dedup_->find_exact(fp)) matches.push_back(*m);
      if (sketch.indexable())
        for (auto& m : dedup_->find_near(sketch, id)) matches.push_back(std::move(m.id));
      std::optional<Article> best;
      std::optional<Age> best_age;
      std::unordered_set<std::string> seen;
      std::vector<Article> considered;
      auto consider = [&](const std::string& mid) -> std::optional<Article> {
        if (mid == id || !seen.insert(mid).second) return std::nullopt;
        auto raw = get_raw(articles_, mid);
        if (!raw) return std::nullopt;
        auto j = parse_json(*raw);
        if (!j) return std::nullopt;
        Article m = article_from_json(*j);
        Age ag = age_of(m);
        if (!best_age || ag < *best_age) {
          best_age = ag;
          best = m;
        }
        considered.push_back(m);
        return m;
      };
      for (const auto& mid : matches) {
        auto m = consider(mid);
        // The match may itself be a copy: its original competes too.
        if (m && !m->duplicate_of.empty()) consider(m->duplicate_of);
      }
      Article self = a;
      self.id = id;
      const Age mine = age_of(self);
      // Only a time of day can move the original: a date from the URL or one without a time (00:00:00) is too
      // coarse to say which copy came first, and a minute or less is the precision of the sources.
      auto precise = [](const Article& x) {
        return x.published_source != "url" && x.published.size() >= 19 && x.published.compare(11, 8, "00:00:00") != 0;
      };
      if (best && mine.published != INT64_MAX && best_age->published != INT64_MAX && precise(self) &&
          precise(*best) && mine.published + 60 < best_age->published) {
        // Published before the cluster's original (an aggregator's copy was polled first): this copy becomes the
        // original; the former original and the copies found pointing at it are re-pointed here, each with a
        // "cluster_original_moved" event. (Copies not found by this look-up keep pointing at the former
        // original, whose duplicate_of now names this one.)
        a.cluster = best->cluster.empty() ? best->id : best->cluster;
        for (auto& m : considered) {
          if (m.id != best->id && m.duplicate_of != best->id) continue;
          m.duplicate_of = id;
          m.cluster = a.cluster;
          moved_records.push_back(std::move(m));
        }
      } else if (best) {
        r.kind = PutKind::Duplicate;
        a.duplicate_of = best->id;
        a.cluster = best->cluster.empty() ? best->id : best->cluster;
      }
    }
  }

  const uint64_t seq = last_seq_.load() + 1;
  ChangeEvent ev;
  ev.seq = seq;
  ev.type = r.kind == PutKind::New ? "new" : r.kind == PutKind::Updated ? "updated" : "duplicate";
  ev.id = id;
  ev.version = a.version;
  ev.site = a.site;
  ev.at = now_iso_vn();

  const std::string json = dump(to_json(a));
  batch.Put(articles_, id, json);
  batch.Put(versions_, version_key(id, a.version), json);
  if (packed) batch.Put(raw_, version_key(id, a.version), *packed);
  map_urls();
  batch.Put(changes_, be64(seq), dump(to_json(ev)));
  uint64_t last = seq;
  for (const auto& m : moved_records) {
    // Metadata of the latest version, not content: the record and its latest version say the new original.
    const std::string mj = dump(to_json(m));
    batch.Put(articles_, m.id, mj);
    batch.Put(versions_, version_key(m.id, m.version), mj);
    ChangeEvent mv;
    mv.seq = ++last;
    mv.type = "cluster_original_moved";
    mv.id = m.id;
    mv.version = m.version;
    mv.site = m.site;
    mv.at = ev.at;
    mv.original = id;
    batch.Put(changes_, be64(mv.seq), dump(to_json(mv)));
    r.moved.push_back(m.id);
  }
  batch.Put(meta_, kMetaLastSeq, std::to_string(last));
  if (is_dedupable) dedup_->add(batch, id, fp, sketch);
  commit();
  last_seq_ = last;
  lk.unlock();
  wait_durable(ticket);  // throws when the sync fails: not acknowledged
  note_durable(last);

  r.version = a.version;
  r.seq = seq;
  r.duplicate_of = a.duplicate_of;
  r.cluster = a.cluster;
  return r;
}

size_t Store::bulk_put_new(std::vector<std::pair<Article, std::string>> items) {
  require_writable("bulk_put_new");
  struct Prepared {
    std::string id, json, packed, fp, site;
    std::vector<std::string> url_keys;
    NearSketch sketch;
    bool dedupable = false;
  };
  // Outside the lock, as in put_article: identity, hashes, fingerprints, compression, the record's JSON.
  std::vector<Prepared> ps;
  ps.reserve(items.size());
  for (auto& [a, raw] : items) {
    RecordKeys rk = record_keys(a.canonical_url, a.url, {});
    if (rk.canonical.empty()) throw StoreError("bulk_put_new: article has neither url nor canonical_url");
    Prepared p;
    a.canonical_url = std::move(rk.canonical);
    p.url_keys = std::move(rk.keys);
    a.content_hash = content_hash(a);
    p.fp = exact_fingerprint(a);
    p.sketch = near_sketch(a);
    p.dedupable = dedupable(a, p.fp, p.sketch);
    if (!raw.empty()) p.packed = zstd_compress(raw);
    p.id = article_id(a.canonical_url);
    a.id = p.id;
    a.version = 1;
    a.duplicate_of.clear();
    a.cluster = p.id;
    p.json = dump(to_json(a));
    p.site = a.site;
    ps.push_back(std::move(p));
  }
  std::unique_lock lk(write_mu_);
  require_writable("bulk_put_new");
  const std::string at = now_iso_vn();
  rocksdb::WriteBatch batch;
  uint64_t seq = last_seq_.load();
  struct BulkMode {
    DedupIndex& d;
    explicit BulkMode(DedupIndex& x) : d(x) { d.set_bulk_load(true); }
    ~BulkMode() { d.set_bulk_load(false); }
  };
  {
    BulkMode bulk(*dedup_);
    for (const auto& p : ps) {
      batch.Put(articles_, p.id, p.json);
      batch.Put(versions_, version_key(p.id, 1), p.json);
      if (!p.packed.empty()) batch.Put(raw_, version_key(p.id, 1), p.packed);
      for (const auto& k : p.url_keys) batch.Put(urls_, k, p.id);
      ChangeEvent ev;
      ev.seq = ++seq;
      ev.type = "new";
      ev.id = p.id;
      ev.version = 1;
      ev.site = p.site;
      ev.at = at;
      batch.Put(changes_, be64(seq), dump(to_json(ev)));
      if (p.dedupable) dedup_->add(batch, p.id, p.fp, p.sketch);
    }
  }
  batch.Put(meta_, kMetaLastSeq, std::to_string(seq));
  write_or_throw(rocksdb::WriteOptions(), batch);
  last_seq_ = seq;
  note_durable(seq);
  return ps.size();
}

Store::ReprocessResult Store::put_reprocessed(const std::string& id, uint32_t based_on, Article a) {
  require_writable("put_reprocessed");
  // Outside the lock: the new text's fingerprints and the canonical URL's key.
  std::string canonical;
  if (!a.canonical_url.empty()) canonical = record_keys(a.canonical_url, "", {}).canonical;
  a.content_hash = content_hash(a);
  const std::string fp = exact_fingerprint(a);
  const NearSketch sketch = near_sketch(a);
  const bool is_dedupable = dedupable(a, fp, sketch);

  std::unique_lock lk(write_mu_);
  require_writable("put_reprocessed");
  ReprocessResult r;
  auto cur_raw = get_raw(articles_, id);
  if (!cur_raw) {
    r.outcome = ReprocessOutcome::Missing;
    return r;
  }
  auto j = parse_json(*cur_raw);
  if (!j) throw StoreError("put_reprocessed: latest record of " + id + " is not valid JSON");
  const Article cur = article_from_json(*j);
  r.version = cur.version;
  if (cur.version != based_on) {
    r.outcome = ReprocessOutcome::Stale;
    return r;
  }
  // The stored record's identity, provenance and duplicate links; the new extraction's fields.
  a.id = id;
  a.url = cur.url;
  a.canonical_url = canonical.empty() ? cur.canonical_url : canonical;
  a.feed = cur.feed;
  a.fetched_at = cur.fetched_at;
  a.content_type = cur.content_type;
  a.duplicate_of = cur.duplicate_of;
  a.cluster = cur.cluster.empty() ? id : cur.cluster;
  if (same_extraction(a, cur)) {
    r.outcome = ReprocessOutcome::Unchanged;
    lk.unlock();
    // The record compared against may have been appended by a writer that has not synced yet.
    if (sync_writes_ && group_commit_) {
      uint64_t ticket;
      {
        std::lock_guard sl(sync_mu_);
        ticket = written_ticket_;
      }
      wait_durable(ticket);
    }
    return r;
  }
  a.version = cur.version + 1;
  a.reason = "reprocess";
  if (a.content_hash != cur.content_hash) {
    // The new text decides this record's copy link (a broken template that extracted the same boilerplate from many
    // pages made them "copies" of each other): a link the new text still verifies is kept; otherwise the earliest
    // verified match published before this record becomes its original, or it has none (its own cluster). Records
    // that point at this one keep doing so (their own re-extraction checks them).
    std::vector<std::string> matches;
    if (is_dedupable) {
      if (auto m = dedup_->find_exact(fp); m && *m != id) matches.push_back(*m);
      if (sketch.indexable())
        for (auto& m : dedup_->find_near(sketch, id)) matches.push_back(std::move(m.id));
    }
    const bool kept = !cur.duplicate_of.empty() &&
                      std::find(matches.begin(), matches.end(), cur.duplicate_of) != matches.end();
    if (!kept) {
      const Age mine = age_of(a);
      std::optional<Article> best;
      std::optional<Age> best_age;
      std::unordered_set<std::string> seen{id};
      auto load = [&](const std::string& mid) -> std::optional<Article> {
        auto raw = get_raw(articles_, mid);
        auto mj = raw ? parse_json(*raw) : std::nullopt;
        if (!mj) return std::nullopt;
        return article_from_json(*mj);
      };
      // A record whose chain of originals leads back here is a copy of this one: never its original (no loop).
      auto copy_of_this = [&](const Article& m) {
        std::string next = m.duplicate_of;
        for (int hop = 0; hop < 16 && !next.empty(); ++hop) {
          if (next == id) return true;
          auto up = load(next);
          if (!up) return false;
          next = up->duplicate_of;
        }
        return !next.empty();  // a chain too long to follow: not trusted as an original
      };
      auto consider = [&](const std::string& mid) -> std::optional<Article> {
        if (!seen.insert(mid).second) return std::nullopt;
        std::optional<Article> loaded = load(mid);
        if (!loaded || copy_of_this(*loaded)) return std::nullopt;
        Article m = std::move(*loaded);
        const Age ag = age_of(m);
        if (ag < mine && (!best_age || ag < *best_age)) {
          best_age = ag;
          best = m;
        }
        return m;
      };
      for (const auto& mid : matches)
        if (auto m = consider(mid); m && !m->duplicate_of.empty()) consider(m->duplicate_of);
      if (best) {
        a.duplicate_of = best->id;
        a.cluster = best->cluster.empty() ? best->id : best->cluster;
      } else if (!a.duplicate_of.empty()) {
        a.duplicate_of.clear();
        a.cluster = id;
      }
    }
  }

  rocksdb::WriteBatch batch;
  const std::string json = dump(to_json(a));
  batch.Put(articles_, id, json);
  batch.Put(versions_, version_key(id, a.version), json);
  if (raw_)
    if (auto packed = get_raw(raw_, version_key(id, based_on))) batch.Put(raw_, version_key(id, a.version), *packed);
  if (!canonical.empty() && !get_raw(urls_, canonical)) batch.Put(urls_, canonical, id);
  const uint64_t seq = last_seq_.load() + 1;
  ChangeEvent ev;
  ev.seq = seq;
  ev.type = "updated";
  ev.id = id;
  ev.version = a.version;
  ev.site = a.site;
  ev.at = now_iso_vn();
  ev.reason = a.reason;
  batch.Put(changes_, be64(seq), dump(to_json(ev)));
  batch.Put(meta_, kMetaLastSeq, std::to_string(seq));
  if (is_dedupable && a.content_hash != cur.content_hash) dedup_->add(batch, id, fp, sketch);
  const uint64_t ticket = write_locked(batch);
  last_seq_ = seq;
  lk.unlock();
  wait_durable(ticket);  // throws when the sync fails: not acknowledged
  note_durable(seq);
  r.outcome = ReprocessOutcome::Changed;
  r.version = a.version;
  r.seq = seq;
  return r;
}

std::optional<Article> Store::get(const std::string& id) const {
  auto raw = get_raw(articles_, id);
  if (!raw) return std::nullopt;
  auto j = parse_json(*raw);
  if (!j) {
    spdlog::error("store: record {} is not valid JSON", id);
    return std::nullopt;
  }
  return article_from_json(*j);
}

std::optional<std::string> Store::id_for_url(const std::string& url) const {
  return find_known(url, {}, [&](const std::string& k) { return get_raw(urls_, k); });
}

std::vector<Article> Store::versions(const std::string& id) const {
  std::vector<Article> out;
  if (!db_ || id.empty()) return out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), versions_));
  for (it->Seek(id); it->Valid(); it->Next()) {
    auto k = it->key().ToStringView();
    if (k.size() != id.size() + 4 || k.substr(0, id.size()) != id) {
      if (k.substr(0, std::min(k.size(), id.size())) != id) break;
      continue;
    }
    auto j = parse_json(it->value().ToStringView());
    if (!j) {
      spdlog::error("store: version {} of {} is not valid JSON", read_be(k.substr(id.size())), id);
      continue;
    }
    out.push_back(article_from_json(*j));
  }
  if (!it->status().ok()) throw StoreError("store read failed: " + status_text(it->status()));
  return out;
}

std::optional<Article> Store::version(const std::string& id, uint32_t v) const {
  auto raw = get_raw(versions_, version_key(id, v));
  if (!raw) return std::nullopt;
  auto j = parse_json(*raw);
  if (!j) return std::nullopt;
  return article_from_json(*j);
}

std::optional<std::string> Store::version_json(const std::string& id, uint32_t v) const {
  return get_raw(versions_, version_key(id, v));
}

std::optional<std::string> Store::raw_html(const std::string& id, uint32_t v) const {
  if (db_ && !raw_)
    throw StoreError("raw pages cannot be read through a secondary instance (RocksDB secondaries cannot read blob "
                     "files); stop the daemon and open the store read-only");
  auto raw = get_raw(raw_, version_key(id, v));
  if (!raw) return std::nullopt;
  auto html = zstd_decompress(*raw);
  if (!html) spdlog::error("store: raw HTML of {} v{} is corrupt", id, v);
  return html;
}

void Store::scan_changes(uint64_t after_seq, const std::function<bool(const ChangeEvent&)>& fn) const {
  if (!db_ || after_seq == UINT64_MAX) return;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), changes_));
  for (it->Seek(be64(after_seq + 1)); it->Valid(); it->Next()) {
    auto k = it->key().ToStringView();
    if (k.size() != 8) continue;
    auto j = parse_json(it->value().ToStringView());
    if (!j || !j->is_object()) {
      spdlog::error("store: change event {} is not valid JSON", read_be(k));
      continue;
    }
    ChangeEvent e;
    e.seq = read_be(k);
    e.type = j->value("type", "");
    e.id = j->value("id", "");
    e.version = j->value("version", 0u);
    e.site = j->value("site", "");
    e.at = j->value("at", "");
    e.original = j->value("original", "");
    e.reason = j->value("reason", "");
    if (!fn(e)) return;
  }
  if (!it->status().ok()) throw StoreError("store read failed: " + status_text(it->status()));
}

void Store::scan_family(Family family, std::string_view from, std::string_view to,
                        const std::function<bool(std::string_view, std::string_view)>& fn) const {
  if (!db_) return;
  rocksdb::ColumnFamilyHandle* cf = family == Family::Articles ? articles_ : family == Family::Versions ? versions_ : changes_;
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  // RocksDB's automatic readahead for sequential reads (8 KiB growing to 256 KiB per open file): a fixed 2 MiB
  // buffer per file of the merging iterator made peak RSS depend on how many files the store has.
  const std::string upper(to);
  rocksdb::Slice upper_slice(upper);
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf));
  if (from.empty())
    it->SeekToFirst();
  else
    it->Seek(rocksdb::Slice(from.data(), from.size()));
  for (; it->Valid(); it->Next())
    if (!fn(it->key().ToStringView(), it->value().ToStringView())) break;
  if (!it->status().ok()) throw StoreError("store read failed: " + status_text(it->status()));
}

uint64_t Store::estimate_keys(Family family) const {
  if (!db_) return 0;
  rocksdb::ColumnFamilyHandle* cf = family == Family::Articles ? articles_ : family == Family::Versions ? versions_ : changes_;
  uint64_t n = 0;
  return db_->GetIntProperty(cf, "rocksdb.estimate-num-keys", &n) ? n : 0;
}

uint64_t Store::last_seq() const {
  if (!secondary_) return durable_seq_.load();
  if (!db_) return 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), changes_));
  it->SeekToLast();
  if (!it->status().ok()) throw StoreError("store read failed: " + status_text(it->status()));
  return it->Valid() && it->key().size() == 8 ? read_be(it->key().ToStringView()) : 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Feeds and meta

std::optional<std::string> Store::get_feed_state(const std::string& feed_url) const { return get_raw(feeds_, feed_url); }

void Store::put_feed_state(const std::string& feed_url, const std::string& json) {
  require_writable("put_feed_state");
  rocksdb::WriteBatch batch;
  batch.Put(feeds_, feed_url, json);
  commit_batch(batch);
}

std::vector<std::pair<std::string, std::string>> Store::all_feed_states() const {
  std::vector<std::pair<std::string, std::string>> out;
  if (!db_) return out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), feeds_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace_back(it->key().ToString(), it->value().ToString());
  if (!it->status().ok()) throw StoreError("store read failed: " + status_text(it->status()));
  return out;
}

void Store::put_meta(const std::string& key, const std::string& value) {
  require_writable("put_meta");
  if (reserved_meta(key))
    throw StoreError("put_meta: key '" + key + "' is reserved");
  rocksdb::WriteBatch batch;
  batch.Put(meta_, key, value);
  commit_batch(batch);
}

std::optional<std::string> Store::get_meta(const std::string& key) const { return get_raw(meta_, key); }

void Store::write_meta(const std::vector<std::pair<std::string, std::string>>& puts,
                       const std::vector<std::string>& deletes) {
  rocksdb::WriteBatch batch;
  for (const auto& [k, v] : puts) {
    if (reserved_meta(k)) throw StoreError("write_meta: key '" + k + "' is reserved");
    batch.Put(meta_, k, v);
  }
  for (const auto& k : deletes) {
    if (reserved_meta(k)) throw StoreError("write_meta: key '" + k + "' is reserved");
    batch.Delete(meta_, k);
  }
  if (batch.Count() == 0) return;
  commit_batch(batch);  // under the write lock, sharing the group commit's fsync
}

void Store::scan_meta(const std::string& from, const std::string& to,
                      const std::function<bool(std::string_view, std::string_view)>& fn) const {
  if (!db_) return;
  rocksdb::ReadOptions ro;
  const rocksdb::Slice upper(to);
  if (!to.empty()) ro.iterate_upper_bound = &upper;  // "" = to the end
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, meta_));
  for (it->Seek(from); it->Valid(); it->Next())
    if (!fn(it->key().ToStringView(), it->value().ToStringView())) break;
  if (!it->status().ok()) throw StoreError("store read failed: " + status_text(it->status()));
}

}  // namespace baotin
