// RocksDB options of the store's column families, shared with the benchmarks so that they measure what the
// daemon runs.
#pragma once
#include <rocksdb/cache.h>
#include <rocksdb/options.h>
#include <rocksdb/write_buffer_manager.h>

#include <cstddef>
#include <memory>
#include <string>

namespace baotin {

// The store's memory (README "Storage", memory budget): one LRU cache of `cache_bytes` that holds the data
// blocks and the index and filter blocks of every column family, and is charged with what RocksDB allocates
// outside it — table readers (CacheEntryRole::kBlockBasedTableReader), file metadata, filter construction
// during flushes and compactions, and the memtables (one WriteBufferManager of `memtable_bytes` = a quarter
// of the cache, charged to it). Shared by every column family and by every store a process opens with it
// (StoreOptions::memory), so the total stays one budget however many families or stores there are.
//
// The cache is not strict (LRUCacheOptions::strict_capacity_limit = false): with a strict limit RocksDB fails a
// read whose block cannot be inserted (Status::MemoryLimit / "Insert failed due to LRU cache being full") and
// the opening of a table whose reader does not fit, which the store would report as read errors. Without it
// the cache goes over its capacity only by what is pinned at that moment (blocks held by live iterators, the
// L0 index/filter blocks, the top level of partitioned indexes); rss_bench measures that.
struct StoreMemory {
  std::shared_ptr<rocksdb::Cache> cache;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers;
  size_t cache_bytes = 0;
  size_t memtable_bytes = 0;
  // cache_mb >= 8 (smaller values are raised to 8).
  static std::shared_ptr<StoreMemory> make(size_t cache_mb);
};

// Options of one column family ("articles", "versions", "urls", "feeds", "raw", "changes", "dedup", "meta"):
// compression by family (none for raw, which holds zstd frames; zstd for the cold version history; LZ4 else), a
// bloom filter for the point-lookup families, and `cache` (may be null: RocksDB's default 8 MiB cache) as block
// cache. Index and filter blocks are partitioned and live in the cache (high priority; the top level and L0's
// pinned), and table-reader memory, file metadata and filter construction are charged to it.
rocksdb::ColumnFamilyOptions store_family_options(const std::string& family, const std::shared_ptr<rocksdb::Cache>& cache);
// The same with the memtable size of one family set for the budget (write_buffer_size = memtables / 4, at most
// 64 MiB; arena blocks of 1 MiB at most), as Store::open uses it.
rocksdb::ColumnFamilyOptions store_family_options(const std::string& family, const StoreMemory& memory);
// The store's DBOptions memory settings: the shared WriteBufferManager, max_open_files (512: table readers
// beyond it are closed; their index/filter blocks are in the cache anyway).
void apply_store_memory(rocksdb::DBOptions& dbo, const StoreMemory& memory);

// The options before issue 12 (baseline of bench/rss_bench only): index and filter blocks in the table readers
// outside the cache, all table files open (max_open_files = -1), 64 MiB memtables per family, no
// WriteBufferManager.
rocksdb::ColumnFamilyOptions store_family_options_pre12(const std::string& family, const std::shared_ptr<rocksdb::Cache>& cache);

}  // namespace baotin
