// RocksDB options of the store's column families, shared with the benchmarks so that they measure what the
// daemon runs.
#pragma once
#include <rocksdb/cache.h>
#include <rocksdb/options.h>

#include <memory>
#include <string>

namespace baotin {

// Options of one column family ("articles", "versions", "urls", "feeds", "raw", "changes", "dedup", "meta"):
// compression by family (none for raw, which holds zstd frames; zstd for the cold version history; LZ4 else), a
// bloom filter for the point-lookup families, and `cache` (may be null: RocksDB's default) as block cache for data
// blocks. Index and filter blocks are held by the table readers outside the cache (about 4% of the data size).
rocksdb::ColumnFamilyOptions store_family_options(const std::string& family, const std::shared_ptr<rocksdb::Cache>& cache);

}  // namespace baotin
