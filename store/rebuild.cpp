// The duplicate-index rebuild: resumable, in chunks of articles in key order, with its cursor in meta so that a
// crash or a stop continues where it left off (open() starts one when the index format is older).
#include "store/store.h"

#include "store/dedup.h"
#include "store/internal.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <optional>
#include <unordered_set>
#include <vector>

#include "core/article.h"

namespace baotin {

using namespace store_internal;

void Store::begin_dedup_rebuild() {
  std::lock_guard lk(write_mu_);
  require_writable("begin_dedup_rebuild");
  rocksdb::WriteBatch batch;
  // Every index key starts with a letter below 0xFF. One batch with the cursor: a crash leaves either the old
  // index (and format) or an empty index with a rebuild to continue.
  batch.DeleteRange(dedup_cf_, rocksdb::Slice(""), rocksdb::Slice("\xFF", 1));
  batch.Put(meta_, kMetaRebuildCursor, "");
  batch.Put(meta_, kMetaRebuildIndexed, "0");
  rocksdb::WriteOptions wo;
  wo.sync = true;
  write_or_throw(wo, batch);
  rebuild_indexed_ = 0;
  rebuild_pending_ = true;
}

bool Store::dedup_rebuild_chunk(size_t chunk, size_t* scanned) {
  // Phase 1, without the write lock: read the next chunk of records and compute their index entries (sketches are
  // the expensive part, ~0.35 ms of CPU per article), so that put_article waits only for phase 2.
  std::optional<std::string> cursor;
  {
    std::lock_guard lk(write_mu_);
    require_writable("rebuild_dedup_index");
    cursor = get_raw(meta_, kMetaRebuildCursor);
    if (!cursor) {  // finished meanwhile
      rebuild_pending_ = false;
      return true;
    }
  }
  struct Entry {
    std::string key, value, fp;
    NearSketch sketch;
    bool indexable = false;
  };
  auto compute = [](Entry& e) {
    e.indexable = false;
    auto j = parse_json(e.value);
    if (!j) return;  // reported by verify()
    Article a = article_from_json(*j);
    e.fp = exact_fingerprint(a);
    e.sketch = near_sketch(a);
    e.indexable = dedupable(a, e.fp, e.sketch);
  };
  std::vector<Entry> entries;
  bool done;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), articles_));
    it->Seek(*cursor);
    if (it->Valid() && !cursor->empty() && it->key() == rocksdb::Slice(*cursor)) it->Next();
    for (; it->Valid() && entries.size() < chunk; it->Next()) {
      Entry e;
      e.key = it->key().ToString();
      e.value = it->value().ToString();
      compute(e);
      entries.push_back(std::move(e));
    }
    if (!it->status().ok()) throw StoreError("store read failed: " + status_text(it->status()));
    done = !it->Valid();
  }
  if (rebuild_chunk_hook_) {
    std::vector<std::string> keys;
    for (const auto& e : entries) keys.push_back(e.key);
    rebuild_chunk_hook_(keys);
  }
  // Phase 2, under the write lock: the cursor is still ours (a new rebuild may have started meanwhile), and a record
  // that put_article changed since phase 1 is computed again from what is stored now. Articles stored meanwhile
  // between the cursor and the chunk's end were indexed by put_article itself.
  std::lock_guard lk(write_mu_);
  require_writable("rebuild_dedup_index");
  auto now_cursor = get_raw(meta_, kMetaRebuildCursor);
  if (!now_cursor) {
    rebuild_pending_ = false;
    return true;
  }
  if (*now_cursor != *cursor) return false;  // restarted under us: the next call continues from the new cursor
  rocksdb::WriteBatch batch;
  std::unordered_set<std::string> chunk_fps;  // first article (in key order) with a fingerprint keeps it
  uint64_t indexed = rebuild_indexed_.load();
  for (auto& e : entries) {
    auto current = get_raw(articles_, e.key);
    if (!current) continue;  // deleted meanwhile
    if (*current != e.value) {
      e.value = std::move(*current);
      compute(e);
    }
    if (!e.indexable) continue;
    dedup_->add(batch, e.key, chunk_fps.insert(e.fp).second ? e.fp : std::string(), e.sketch);
    ++indexed;
  }
  rocksdb::WriteOptions wo;
  if (done) {
    batch.Put(meta_, kMetaDedupFormat, std::to_string(kDedupIndexFormat));
    batch.Delete(meta_, kMetaRebuildCursor);
    batch.Delete(meta_, kMetaRebuildIndexed);
    wo.sync = true;
  } else {
    batch.Put(meta_, kMetaRebuildCursor, entries.back().key);
    batch.Put(meta_, kMetaRebuildIndexed, std::to_string(indexed));
    wo.sync = sync_writes_;
  }
  write_or_throw(wo, batch);
  rebuild_indexed_ = indexed;
  *scanned += entries.size();
  if (done) rebuild_pending_ = false;
  return done;
}

bool Store::continue_dedup_rebuild(const std::atomic<bool>* stop, size_t max_articles, size_t chunk) {
  if (!rebuild_pending_) return true;
  struct Running {
    std::atomic<bool>& r;
    explicit Running(std::atomic<bool>& x) : r(x) { r = true; }
    ~Running() { r = false; }
  } running(rebuild_running_);
  size_t scanned = 0;
  chunk = std::max<size_t>(chunk, 1);
  while (true) {
    if (stop && stop->load()) return false;
    if (max_articles && scanned >= max_articles) return false;
    const size_t n = max_articles ? std::min(chunk, max_articles - scanned) : chunk;
    if (dedup_rebuild_chunk(n, &scanned)) return true;
  }
}

DedupRebuildProgress Store::dedup_rebuild_progress() const {
  return {rebuild_pending_.load(), rebuild_running_.load(), rebuild_indexed_.load()};
}

DedupCapCounters Store::dedup_cap_counters() const {
  if (!dedup_) return {};
  const auto c = dedup_->cap_stats();
  return {c.lookups, c.capped_scans, c.capped_lookups};
}

size_t Store::rebuild_dedup_index() {
  begin_dedup_rebuild();
  continue_dedup_rebuild();
  return rebuild_indexed_.load();
}

}  // namespace baotin
