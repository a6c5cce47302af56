// Versioned article store over RocksDB.
//
// Column families:
//   articles  id -> latest version (Article JSON)
//   versions  id + big-endian uint32 version -> Article JSON of that version
//   urls      canonical URL / fetched URL / every alias (raw and canonicalised) -> id
//   feeds     feed URL -> FeedState JSON (opaque to the store)
//   raw       id + big-endian uint32 version -> zstd-compressed raw HTML of that version
//   changes   big-endian uint64 sequence -> {seq, type: new|updated|duplicate, id, version, site, at}
//   dedup     owned by DedupIndex (store/dedup.h)
//   meta      schema_version, last_seq, counters
//
// Every put_article is one atomic WriteBatch (record, version, raw HTML, URL map, dedup index, change
// event and last_seq together); with sync_writes the WAL is fsynced before put_article returns, so an
// acknowledged write survives a crash (kill -9, power loss). Concurrent writers share fsyncs (group commit:
// the batch is appended to the WAL under the write lock, the fsync happens after it, one thread syncing for
// every writer whose batch precedes the sync).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/article.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Env;
class Status;
class WriteBatch;
struct WriteOptions;
}  // namespace rocksdb

namespace baotin {

class DedupIndex;
struct StoreMemory;

// What the store's RocksDB holds in memory (Store::memory_usage), in bytes.
struct StoreMemoryUsage {
  size_t cache_capacity = 0;  // the block cache's capacity (the store's budget)
  size_t cache_usage = 0;     // everything in or charged to the cache (rocksdb.block-cache-usage)
  size_t cache_pinned = 0;    // of it pinned (in use) right now
  size_t memtables = 0;       // all memtables of all families (MemoryUtil kMemTableTotal)
  size_t table_readers = 0;   // table readers outside the cache (MemoryUtil kTableReadersTotal)
  size_t write_buffer_manager = 0;  // what the WriteBufferManager counts (0 without one)
};

// Thrown by write operations when RocksDB fails (disk full, I/O error), on writes to a secondary
// (read-only) instance, and for articles that cannot be stored (no URL at all).
struct StoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What open() does with a write-ahead log that does not read back cleanly (see README, "WAL recovery").
enum class WalRecovery {
  // Default. RocksDB kTolerateCorruptedTailRecords: a damaged WAL record (checksum mismatch, bad length, a
  // broken record in the middle) refuses the open with an error naming the WAL file and the bytes RocksDB would
  // drop. Only a record cut short at the very end of the log is dropped: the write a SIGKILL or power cut
  // interrupted, which was never fsynced, so never acknowledged (tests/test_crash.cpp).
  Strict,
  // Operator escape hatch (`baotin verify --salvage-wal`): copy the live WAL files to
  // <store>/wal-salvage-<unix time>/, then open with RocksDB point-in-time recovery (replay up to the first
  // damaged record, drop the rest) and log, at critical level, each file and the bytes dropped.
  Salvage,
};

struct StoreOptions {
  std::string path;
  bool sync_writes = true;  // WAL fsynced before a write returns: acknowledged == durable
  // With sync_writes: concurrent writers share one WAL fsync (group commit). false = the former behaviour, one
  // fsync per write under the write lock (bench/store_bench compares the two).
  bool group_commit = true;
  // Raw pages in RocksDB blob files (integrated BlobDB), out of compaction (the default for every writer). RocksDB
  // does not support blob files with secondary instances (Debian's 7.8.3 crashes reading a blob through one), so
  // open_secondary() leaves the `raw` family out; open() and open_readonly() read inline and blob values alike.
  // false: new raw pages stay inline in the SSTs (the former layout; bench/store_bench --amp compares the two).
  bool raw_blob_files = true;
  // The store's memory in MiB (README "Storage", memory budget; store/options.h StoreMemory): one LRU cache
  // shared by all column families for data, index and filter blocks, charged with the table readers and the
  // memtables (a quarter of it). The daemon sets it from the config (daemon.memory_mb / block_cache_mb). Larger
  // caches speed up duplicate look-ups at a million articles (bench/dedup_bench). Ignored when `memory` is set.
  size_t block_cache_mb = 128;
  // A budget shared with other stores of the process (StoreMemory::make); null: open() makes one of
  // block_cache_mb.
  std::shared_ptr<StoreMemory> memory = nullptr;
  // bench/rss_bench only: open with the options before issue 12 (store_family_options_pre12: index and filter
  // blocks outside the cache, unbounded memtables, every table file open), the baseline of the RSS figures.
  bool pre12_memory_options = false;
  WalRecovery wal_recovery = WalRecovery::Strict;
  // When the duplicate index must be rebuilt (older format, or an interrupted rebuild), open() does it before
  // returning unless this is set; then the caller runs continue_dedup_rebuild() (serve: in a background
  // thread after READY=1).
  bool defer_dedup_rebuild = false;
  // Tests only: a RocksDB Env (e.g. a fault-injecting FileSystem). Not owned; must outlive the store.
  rocksdb::Env* env = nullptr;
};

// Write health of a primary store (see Store::health()).
struct StoreHealth {
  bool ok = true;
  std::string reason;  // last write / background error while !ok
};

struct DedupRebuildProgress {
  bool pending = false;   // the index is incomplete (a rebuild is needed or running)
  bool running = false;   // continue_dedup_rebuild() is in progress
  uint64_t indexed = 0;   // articles (re)indexed so far, including before a restart
};

// Caps of the duplicate index hit since the store was opened (DedupIndex::cap_stats(), store/dedup.h).
struct DedupCapCounters {
  uint64_t lookups = 0;         // near-duplicate look-ups
  uint64_t capped_scans = 0;    // prefix scans that stopped at DedupIndex::kMaxBucketScan entries of their window
  uint64_t capped_lookups = 0;  // look-ups that dropped candidates beyond DedupIndex::kMaxVerify
};

enum class PutKind { New, Updated, Unchanged, Duplicate };
const char* put_kind_name(PutKind k);  // "new", "updated", "unchanged", "duplicate"

struct PutResult {
  // Records that now point at this one as their original (it was published before the cluster's former
  // original): one "cluster_original_moved" change event each.
  std::vector<std::string> moved;
  PutKind kind = PutKind::Unchanged;
  std::string id;
  uint32_t version = 0;    // version now stored as the latest
  uint64_t seq = 0;        // change-log sequence written by this put; 0 for Unchanged
  std::string duplicate_of, cluster;
};

struct ChangeEvent {
  uint64_t seq = 0;
  // "new" | "updated" | "duplicate" | "cluster_original_moved": a copy stored earlier lost its place as the
  // cluster's original to a copy published before it (`id`/`version` name the re-pointed record, `original` the
  // new original; the record's duplicate_of now says so).
  std::string type;
  std::string id;
  std::string original;  // cluster_original_moved only
  std::string reason;    // "updated" by `baotin reprocess`: "reprocess" ("" otherwise)
  uint32_t version = 0;
  std::string site;
  std::string at;  // ISO 8601, +07:00
};

nlohmann::json to_json(const ChangeEvent& e);

class Store {
 public:
  static constexpr int kSchemaVersion = 1;

  // Read-write (the daemon). Creates the store (and parent directories) if missing.
  // Returns nullptr and sets *error (if given) on failure, e.g. when another process holds the lock.
  static std::unique_ptr<Store> open(const StoreOptions& opts, std::string* error);
  // Read-only view that can run while the daemon holds the store open (RocksDB secondary instance).
  // `secondary_dir` is a private scratch directory for the secondary's info log (created if missing).
  // Call catch_up() to see writes the primary made after the open. The `raw` family (raw pages, in blob files)
  // is not opened: RocksDB secondaries cannot read blob files, so raw_html() throws and verify() skips raw pages
  // (raw_pages_readable() is false).
  static std::unique_ptr<Store> open_secondary(const std::string& path, const std::string& secondary_dir,
                                               std::string* error);

  // Read-only view of a store that no process has open (DB::OpenForReadOnly): every SST file the manifest lists
  // must open and the WAL is replayed with the same strict recovery as open(). Used by `verify` when no daemon
  // runs; a secondary skips unreadable or missing SST files (it shows the last state whose files all open).
  static std::unique_ptr<Store> open_readonly(const std::string& path, std::string* error);
  // Whether a process holds the store's lock (a running daemon).
  static bool in_use(const std::string& path);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Stores an extracted article. id = hex xxh3-64 of the canonicalised canonical_url (or url), unless
  // one of its URLs (canonical, fetched, aliases) already maps to a stored article, whose id is reused.
  // Sets id, version, canonical_url (canonicalised), content_hash, duplicate_of and cluster.
  // A new version is written only when content_hash changes. New articles are checked against the
  // dedup index (exact fingerprint + verified near-duplicates, store/dedup.h); a copy keeps its own
  // record and gets duplicate_of = the earliest-published match (published, then fetched_at, then id)
  // and that match's cluster (kind Duplicate). Articles without body text that are too short for
  // near-duplicate detection (title-only stubs) are not deduplicated. Updates keep duplicate_of/cluster.
  // Thread-safe. Throws StoreError on write failure, on a secondary, or when the article has no URL.
  PutResult put_article(Article a, std::string_view raw_html, const std::vector<std::string>& alias_urls = {});

  // Bulk fill for benchmarks (bench/rss_bench --fill bulk): stores each (article, raw page) as a NEW article,
  // encoded exactly as put_article encodes a new article that is no copy (record, version 1, zstd raw page, URL
  // keys, "new" change event, last_seq, duplicate index entries), but without put_article's look-ups: no duplicate
  // search, no check that an id or URL is already stored, and the duplicate index written in bulk-load mode (exact
  // fingerprints without a read, as the index rebuild does). The caller guarantees that every URL is new and
  // distinct and that the texts are distinct. Fingerprints, sketches, JSON and zstd run outside the write lock,
  // so several threads may call it at once; one WriteBatch per call, never fsynced (close() flushes it). Returns
  // the number of articles stored. Throws StoreError as put_article does.
  size_t bulk_put_new(std::vector<std::pair<Article, std::string>> items);

  // `baotin reprocess` (daemon/reprocess.h): `a` is a new extraction of the stored page of version `based_on` of
  // article `id`. Under the write lock: Missing when the article is gone, Stale when its latest version is no longer
  // `based_on` (the daemon stored a newer one meanwhile, extracted by the running templates), Unchanged when
  // same_extraction() says the extraction equals the latest record; otherwise version based_on + 1 is written with
  // reason "reprocess": identity, provenance (url, feed, fetched_at, content_type) and duplicate links are the
  // stored record's, the extracted fields are `a`'s, the raw page of `based_on` is copied to the new version, a new
  // canonical URL is mapped to the id (when no other article claims it), the duplicate index gets the new text, and
  // an "updated" change event with reason "reprocess" goes with it, in one atomic batch. Throws StoreError.
  enum class ReprocessOutcome { Changed, Unchanged, Stale, Missing };
  struct ReprocessResult {
    ReprocessOutcome outcome = ReprocessOutcome::Unchanged;
    uint32_t version = 0;  // the latest version after the call
    uint64_t seq = 0;      // the change event written (Changed only)
  };
  ReprocessResult put_reprocessed(const std::string& id, uint32_t based_on, Article a);

  std::optional<Article> get(const std::string& id) const;
  std::optional<std::string> id_for_url(const std::string& url) const;  // any alias or canonical
  std::vector<Article> versions(const std::string& id) const;            // oldest first
  std::optional<Article> version(const std::string& id, uint32_t version) const;
  // Throws StoreError through a secondary (see open_secondary()).
  std::optional<std::string> raw_html(const std::string& id, uint32_t version) const;
  // false for a secondary: raw pages cannot be read (nor checked by verify()) while the daemon runs.
  bool raw_pages_readable() const { return raw_ != nullptr; }
  // The stored JSON text of one version, unparsed (fast path for JSONL export).
  std::optional<std::string> version_json(const std::string& id, uint32_t version) const;

  // Change events with seq > after_seq, in order. `fn` returns false to stop.
  // On a primary, events past last_seq() may show up for the moment between a write and its WAL sync (not yet
  // acknowledged); a consumer that must see only durable events stops at last_seq().
  void scan_changes(uint64_t after_seq, const std::function<bool(const ChangeEvent&)>& fn) const;
  // The last acknowledged (durable) change-log seq; on a secondary the last one it has caught up with.
  uint64_t last_seq() const;

  // Sequential reads for export (store/export.cpp): the stored bytes of one column family in key order, from
  // `from` (inclusive; "" = the first key) to `to` (exclusive; "" = past the last key), without parsing and
  // without filling the block cache (a full scan would evict the working set of a running daemon). `fn` gets the
  // key and the value (valid only during the call) and returns false to stop. Read errors throw StoreError.
  enum class Family { Articles, Versions, Changes };
  void scan_family(Family family, std::string_view from, std::string_view to,
                   const std::function<bool(std::string_view key, std::string_view value)>& fn) const;
  // RocksDB's estimate of the number of keys in a family ("rocksdb.estimate-num-keys"); 0 when unknown.
  uint64_t estimate_keys(Family family) const;

  std::optional<std::string> get_feed_state(const std::string& feed_url) const;
  void put_feed_state(const std::string& feed_url, const std::string& json);
  std::vector<std::pair<std::string, std::string>> all_feed_states() const;

  // Rebuilds the duplicate index from the latest record of every article (drops the old index first). Done by
  // open() when the store's index has an older format than kDedupIndexFormat. Returns the articles indexed.
  // Duplicate links already stored (duplicate_of, cluster) are kept; the rebuilt index serves new articles.
  size_t rebuild_dedup_index();

  // Resumable rebuild. Works in chunks of `chunk` articles; each chunk's index entries and the last article
  // key indexed ("dedup_rebuild_cursor" in meta) are one atomic batch, so a rebuild interrupted by a crash or
  // a restart continues after the last chunk instead of starting over. A chunk's records are read and
  // their sketches computed without the write lock (a record changed meanwhile is computed again under it); the
  // lock is held only to check and write the chunk's batch: put_article() runs between chunks (its duplicate look-ups then see a partial index: copies of
  // articles not yet re-indexed are stored as new). Returns true when the index is complete (also when no
  // rebuild was pending); false when `stop` became true or `max_articles` (a test hook; 0 = no limit) were
  // indexed first.
  bool continue_dedup_rebuild(const std::atomic<bool>* stop = nullptr, size_t max_articles = 0, size_t chunk = 1000);
  // Tests: called with the article keys of each rebuild chunk after its index entries were computed and before they
  // are written (without the write lock, as concurrent writers would run).
  void set_rebuild_chunk_hook_for_test(std::function<void(const std::vector<std::string>&)> f) {
    rebuild_chunk_hook_ = std::move(f);
  }
  // Starts a rebuild from scratch (drops the index, resets the cursor) without running it.
  void begin_dedup_rebuild();
  DedupRebuildProgress dedup_rebuild_progress() const;
  DedupCapCounters dedup_cap_counters() const;

  // Write health. A failed write (ENOSPC, I/O error) or a RocksDB background error makes the store unhealthy
  // with the error as reason; later writes first try to recover (DB::Resume()) and a successful write or
  // recovery makes it healthy again. try_recover() does that without a write (serve calls it periodically).
  StoreHealth health() const;
  bool try_recover();

  // Free-form metadata. Keys "schema_version", "last_seq" and "dedup_index_format" are reserved (StoreError).
  void put_meta(const std::string& key, const std::string& value);
  std::optional<std::string> get_meta(const std::string& key) const;
  // `meta` keys under a caller's own prefix (the re-visit schedule, daemon/revisit.h): puts and deletes in one
  // atomic batch (reserved keys refused), and an ordered scan of the keys in [from, to) (`fn` returns false to
  // stop). Throws StoreError on a write or read failure.
  void write_meta(const std::vector<std::pair<std::string, std::string>>& puts, const std::vector<std::string>& deletes);
  void scan_meta(const std::string& from, const std::string& to,
                 const std::function<bool(std::string_view key, std::string_view value)>& fn) const;

  // Secondary only: applies the primary's new writes. Returns false (and *error) on failure.
  bool catch_up(std::string* error = nullptr);
  bool is_secondary() const { return secondary_; }

  // Consistency check (fsck): every block of every SST file matches its checksum (DB::VerifyChecksum); every
  // column family (articles, versions, urls, feeds, raw, changes, dedup, meta) is read in full with checksums
  // on and any read error is a problem; every record parses, versions are contiguous and match the latest
  // record, content hashes match, every version has a change event and vice versa, URL entries and raw pages
  // belong to stored articles/versions and raw pages decompress, feed states are JSON, last_seq matches the
  // change log. Returns the problems found (empty == OK). (A damaged WAL already fails the open.)
  std::vector<std::string> verify(size_t max_problems = 100) const;

  // Memory held by this store's RocksDB and its cache (shared with other stores opened with the same memory).
  StoreMemoryUsage memory_usage() const;

  // Flushes memtables and closes the database. Idempotent; also done by the destructor.
  void close();

 private:
  Store() = default;
  void assign_handles(const std::vector<std::string>& names);
  void require_writable(const char* what) const;
  std::optional<std::string> get_raw(rocksdb::ColumnFamilyHandle* cf, const std::string& key) const;
  std::string resolve_id_locked(const std::vector<std::string>& url_keys, const std::string& canonical) const;

  void note_write_status(const rocksdb::Status& s);
  // db_->Write, recovering first when unhealthy; records the outcome in health_; throws StoreError on failure.
  void write_or_throw(const rocksdb::WriteOptions& wo, rocksdb::WriteBatch& batch);
  // Group commit. With write_mu_ held: appends the batch to the WAL and the memtables (visible to the next
  // writer's reads), fsynced only when group commit is off; returns the write's ticket (0: nothing to wait for).
  uint64_t write_locked(rocksdb::WriteBatch& batch);
  // Without write_mu_: returns once the write with `ticket` is durable (one thread fsyncs the WAL for every
  // write appended before its sync; a write already covered returns at once); throws StoreError when the
  // sync that covers it fails (the write is then not acknowledged).
  void wait_durable(uint64_t ticket);
  // write_locked + wait_durable for a batch without read-modify-write.
  void commit_batch(rocksdb::WriteBatch& batch);
  void set_health(bool ok, const std::string& reason);
  // Changes up to `seq` are acknowledged (durable): last_seq() reports at least `seq` (concurrent writers may ack
  // out of order).
  void note_durable(uint64_t seq);
  bool dedup_rebuild_chunk(size_t chunk, size_t* done);

  struct Listener;
  std::shared_ptr<Listener> listener_;
  mutable std::mutex health_mu_;
  StoreHealth health_;
  std::atomic<bool> unhealthy_{false};
  std::atomic<bool> rebuild_pending_{false}, rebuild_running_{false};
  std::function<void(const std::vector<std::string>&)> rebuild_chunk_hook_;
  std::atomic<uint64_t> rebuild_indexed_{0};

  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // all opened handles (owned)
  rocksdb::ColumnFamilyHandle* articles_ = nullptr;
  rocksdb::ColumnFamilyHandle* versions_ = nullptr;
  rocksdb::ColumnFamilyHandle* urls_ = nullptr;
  rocksdb::ColumnFamilyHandle* feeds_ = nullptr;
  rocksdb::ColumnFamilyHandle* raw_ = nullptr;
  rocksdb::ColumnFamilyHandle* changes_ = nullptr;
  rocksdb::ColumnFamilyHandle* dedup_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  std::unique_ptr<DedupIndex> dedup_;
  bool secondary_ = false;  // secondary or read-only: no writes
  bool read_only_ = false;  // open_readonly(): no catch-up either
  bool sync_writes_ = true;
  bool group_commit_ = true;
  std::shared_ptr<StoreMemory> memory_;  // the cache and WriteBufferManager the DB was opened with
  std::string path_;
  mutable std::mutex write_mu_;  // serialises put_article / dedup rebuild read-modify-writes and every WAL append
  std::atomic<uint64_t> last_seq_{0};     // last change-log seq written (under write_mu_; maybe not yet durable)
  std::atomic<uint64_t> durable_seq_{0};  // last change-log seq acknowledged (durable): last_seq()
  // Group commit state (wait_durable): tickets number the WAL appends in order (assigned under write_mu_).
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  uint64_t written_ticket_ = 0;  // last ticket appended (write_mu_ and sync_mu_)
  uint64_t synced_ticket_ = 0;   // every ticket <= this is durable
  struct FailedSync {
    uint64_t after, through;  // tickets in (after, through] were covered by a failed sync: never acknowledged
    std::string error;
  };
  std::vector<FailedSync> failed_syncs_;  // rare (each failure makes the store unhealthy); kept for late waiters
  bool syncing_ = false;  // a thread is in SyncWAL
  // A sync failed: every ticket after poisoned_after_ fails until try_recover() succeeds (sync_mu_).
  bool wal_poisoned_ = false;
  uint64_t poisoned_after_ = 0;
  std::string poison_error_;
  bool closing_ = false;  // close() owns the WAL; it settles every waiting ticket
  std::atomic<uint64_t> wal_syncs_{0};

 public:
  // WAL fsyncs done by the group commit (SyncWAL calls); for bench/store_bench.
  uint64_t wal_syncs() const { return wal_syncs_.load(); }
};

}  // namespace baotin
