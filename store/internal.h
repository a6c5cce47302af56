// Store internals shared by store.cpp, verify.cpp and rebuild.cpp: meta keys, record (de)coding helpers. Not
// part of the store's interface; include only from store/*.cpp.
#pragma once
#include <rocksdb/status.h>
#include <zstd.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/article.h"
#include "store/bytes.h"
#include "store/dedup.h"

namespace baotin::store_internal {

inline constexpr const char* kMetaSchema = "schema_version";
inline constexpr const char* kMetaLastSeq = "last_seq";
inline constexpr const char* kMetaDedupFormat = "dedup_index_format";
// Resumable duplicate-index rebuild: present while a rebuild is unfinished. Cursor = the last article key whose
// index entries are written ("" = none yet); indexed = articles indexed so far.
inline constexpr const char* kMetaRebuildCursor = "dedup_rebuild_cursor";
inline constexpr const char* kMetaRebuildIndexed = "dedup_rebuild_indexed";

inline constexpr size_t kMaxRawBytes = 256u << 20;  // refuse to decompress anything claiming more than this

inline std::string version_key(const std::string& id, uint32_t version) { return id + be32(version); }

inline std::optional<nlohmann::json> parse_json(std::string_view s) {
  auto j = nlohmann::json::parse(s.begin(), s.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

inline std::optional<std::string> zstd_decompress(std::string_view in) {
  const unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > kMaxRawBytes) return std::nullopt;
  std::string out(static_cast<size_t>(size), '\0');
  const size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n) || n != size) return std::nullopt;
  return out;
}

inline std::string status_text(const rocksdb::Status& s) { return s.ToString(); }

// Whether an article takes part in duplicate detection. Title-only stubs ("Video", failed extractions) must not
// all become copies of each other.
inline bool dedupable(const Article& a, const std::string& fp, const NearSketch& sketch) {
  return !fp.empty() && (!a.body.empty() || sketch.indexable());
}

}  // namespace baotin::store_internal
