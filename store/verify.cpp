// fsck: what `baotin verify` checks. Store::verify reads every record of every column family under one snapshot
// (SST checksums, change log order, articles and their versions, URL map, raw pages, feed states, the duplicate
// index and meta) and reports each inconsistency as one line.
#include "store/store.h"

#include "store/bytes.h"
#include "store/internal.h"

#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/article.h"

namespace baotin {

using namespace store_internal;

// ---------------------------------------------------------------------------------------------------------------
// fsck

std::vector<std::string> Store::verify(size_t max_problems) const {
  std::vector<std::string> problems;
  auto problem = [&](std::string p) {
    if (problems.size() < max_problems) problems.push_back(std::move(p));
  };
  if (!db_) return {"store is closed"};
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.fill_cache = false;
  const rocksdb::Snapshot* snap = secondary_ ? nullptr : db_->GetSnapshot();
  ro.snapshot = snap;
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* s;
    ~Release() {
      if (s) db->ReleaseSnapshot(s);
    }
  } release{db_, snap};

  // Every SST file the store's manifest lists: present, of the recorded size, and every block matches its
  // checksum (also blocks that no record read below touches). A secondary skips files it cannot open, so a
  // missing file would otherwise read as "no data".
  {
    // A primary's compactions must not delete files while they are checked (a secondary re-checks instead).
    const bool paused = !secondary_ && db_->DisableFileDeletions().ok();
    struct Resume {
      rocksdb::DB* db;
      bool on;
      ~Resume() {
        if (on) db->EnableFileDeletions(/*force=*/false).PermitUncheckedError();
      }
    } resume{db_, paused};
    std::vector<rocksdb::LiveFileMetaData> files;
    db_->GetLiveFilesMetaData(&files);
    for (const auto& f : files) {
      const std::string file = f.db_path + f.name;
      const std::string what = "SST file " + file + " (" + f.column_family_name + ")";
      std::error_code ec;
      const auto size = std::filesystem::file_size(file, ec);
      if (ec) {
        bool still_live = true;
        if (secondary_ && !read_only_ && db_->TryCatchUpWithPrimary().ok()) {  // compacted away by a running primary?
          std::vector<rocksdb::LiveFileMetaData> now;
          db_->GetLiveFilesMetaData(&now);
          still_live = std::any_of(now.begin(), now.end(), [&](const auto& g) { return g.name == f.name; });
        }
        if (still_live) problem(what + " is missing: " + ec.message());
        continue;
      }
      if (size != f.size) {
        problem(what + " has " + std::to_string(size) + " bytes, the manifest says " + std::to_string(f.size));
        continue;
      }
      auto cs = rocksdb::VerifySstFileChecksum(rocksdb::Options(), rocksdb::EnvOptions(), ro, file, f.largest_seqno);
      if (!cs.ok()) problem(what + ": " + status_text(cs));
    }
    // Blob files (raw pages): RocksDB 7.8's VerifyChecksum skips them, so every blob file the live version
    // lists must exist with the recorded size; each blob record's checksum is checked when the raw family is
    // read in full below (ro.verify_checksums; the file's header and footer when it is opened).
    for (auto* h : handles_) {
      rocksdb::ColumnFamilyMetaData cf;
      db_->GetColumnFamilyMetaData(h, &cf);
      for (const auto& b : cf.blob_files) {
        std::string file = b.blob_file_path;
        if (!file.empty() && file.back() != '/' && (b.blob_file_name.empty() || b.blob_file_name.front() != '/'))
          file += '/';
        file += b.blob_file_name;
        const std::string what = "blob file " + file + " (" + cf.name + ")";
        std::error_code ec;
        const auto size = std::filesystem::file_size(file, ec);
        if (ec) {
          bool still_live = true;
          if (secondary_ && !read_only_ && db_->TryCatchUpWithPrimary().ok()) {  // removed by a running primary?
            rocksdb::ColumnFamilyMetaData now;
            db_->GetColumnFamilyMetaData(h, &now);
            still_live = std::any_of(now.blob_files.begin(), now.blob_files.end(),
                                     [&](const auto& g) { return g.blob_file_number == b.blob_file_number; });
          }
          if (still_live) problem(what + " is missing: " + ec.message());
          continue;
        }
        if (size != b.blob_file_size)
          problem(what + " has " + std::to_string(size) + " bytes, the manifest says " +
                  std::to_string(b.blob_file_size));
      }
    }
  }
  auto read_error = [&](const char* family, const rocksdb::Iterator& it) {
    if (!it.status().ok()) problem(std::string(family) + ": read error: " + status_text(it.status()));
  };
  // Point read: true when found; a read error (not "not found") is a problem.
  auto get = [&](rocksdb::ColumnFamilyHandle* cf, const char* family, const std::string& key, std::string* v) {
    auto s = db_->Get(ro, cf, key, v);
    if (s.ok()) return true;
    if (!s.IsNotFound()) problem(std::string(family) + ": read error: " + status_text(s));
    return false;
  };

  // Change log: (id, version) pairs and seq order.
  std::set<std::pair<std::string, uint32_t>> events;
  uint64_t max_seq = 0, prev = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, changes_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto k = it->key().ToStringView();
      if (k.size() != 8) {
        problem("change log: malformed key of " + std::to_string(k.size()) + " bytes");
        continue;
      }
      const uint64_t seq = read_be(k);
      if (seq <= prev) problem("change log: sequence " + std::to_string(seq) + " out of order");
      prev = seq;
      max_seq = std::max(max_seq, seq);
      auto j = parse_json(it->value().ToStringView());
      if (!j || !j->is_object()) {
        problem("change " + std::to_string(seq) + ": invalid JSON");
        continue;
      }
      const std::string type = j->value("type", "");
      if (type != "new" && type != "updated" && type != "duplicate" && type != "cluster_original_moved")
        problem("change " + std::to_string(seq) + ": unknown type '" + type + "'");
      if (j->value("seq", uint64_t{0}) != seq) problem("change " + std::to_string(seq) + ": seq field mismatch");
      const std::string id = j->value("id", "");
      const uint32_t v = j->value("version", 0u);
      events.emplace(id, v);
      std::string tmp;
      if (!get(versions_, "versions", version_key(id, v), &tmp))
        problem("change " + std::to_string(seq) + ": version " + std::to_string(v) + " of " + id + " missing");
    }
    read_error("changes", *it);
  }
  std::string m;
  if (get(meta_, "meta", kMetaLastSeq, &m)) {
    if (m != std::to_string(max_seq)) problem("meta last_seq " + m + " != last change " + std::to_string(max_seq));
  } else if (max_seq != 0) {
    problem("meta last_seq missing");
  }

  // Articles and their versions.
  std::unordered_map<std::string, uint32_t> ids;  // id -> latest version
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, articles_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string id = it->key().ToString();
      ids[id] = 0;
      auto j = parse_json(it->value().ToStringView());
      if (!j || !j->is_object()) {
        problem("article " + id + ": invalid JSON");
        continue;
      }
      Article latest = article_from_json(*j);
      ids[id] = latest.version;
      if (latest.id != id) problem("article " + id + ": id field is '" + latest.id + "'");
      if (latest.version == 0) problem("article " + id + ": version 0");
      for (uint32_t v = 1; v <= latest.version; ++v) {
        std::string raw;
        if (!get(versions_, "versions", version_key(id, v), &raw)) {
          problem("article " + id + ": version " + std::to_string(v) + " missing");
          continue;
        }
        auto vj = parse_json(raw);
        if (!vj) {
          problem("article " + id + ": version " + std::to_string(v) + " invalid JSON");
          continue;
        }
        Article va = article_from_json(*vj);
        if (va.version != v) problem("article " + id + ": version record " + std::to_string(v) + " says " +
                                     std::to_string(va.version));
        if (va.content_hash != content_hash(va))
          problem("article " + id + ": version " + std::to_string(v) + " content hash mismatch");
        if (v == latest.version && raw != it->value().ToStringView())
          problem("article " + id + ": latest record differs from version " + std::to_string(v));
        if (!events.count({id, v})) problem("article " + id + ": version " + std::to_string(v) + " has no change event");
      }
      std::string extra;
      if (get(versions_, "versions", version_key(id, latest.version + 1), &extra))
        problem("article " + id + ": version " + std::to_string(latest.version + 1) + " exists beyond latest");
    }
    read_error("articles", *it);
  }
  for (const auto& [id, v] : events)
    if (!ids.count(id)) problem("change log refers to unknown article " + id);
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, urls_));
    for (it->SeekToFirst(); it->Valid(); it->Next())
      if (!ids.count(it->value().ToString()))
        problem("url " + it->key().ToString() + " -> unknown article " + it->value().ToString());
    read_error("urls", *it);
  }
  // Keys of `versions` and `raw`: id + big-endian 32-bit version.
  auto versioned_key = [&](std::string_view k,
                           const char* family) -> std::optional<std::pair<std::string, uint32_t>> {
    if (k.size() < 5) {
      problem(std::string(family) + ": malformed key of " + std::to_string(k.size()) + " bytes");
      return std::nullopt;
    }
    return std::pair{std::string(k.substr(0, k.size() - 4)), static_cast<uint32_t>(read_be(k.substr(k.size() - 4)))};
  };
  // Every version record (also ones no article points at any more).
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, versions_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto key = versioned_key(it->key().ToStringView(), "versions");
      if (!key) continue;
      const auto& [id, v] = *key;
      auto a = ids.find(id);
      if (a == ids.end()) problem("version " + std::to_string(v) + " of unknown article " + id);
    }
    read_error("versions", *it);
  }
  // Raw pages: belong to a stored version and decompress. Not through a secondary, which does not open the `raw`
  // family (RocksDB secondaries cannot read blob files): `verify` says so, see raw_pages_readable().
  if (raw_) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, raw_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto key = versioned_key(it->key().ToStringView(), "raw");
      if (!key) continue;
      const auto& [id, v] = *key;
      auto a = ids.find(id);
      if (a == ids.end() || v == 0 || v > a->second)
        problem("raw page of " + id + " v" + std::to_string(v) + " has no stored version");
      if (!zstd_decompress(it->value().ToStringView()))
        problem("raw page of " + id + " v" + std::to_string(v) + " does not decompress");
    }
    read_error("raw", *it);
    if (!it->status().ok()) {
      // A damaged blob record ends the scan; read every stored version's page one by one to name each damaged one.
      for (const auto& [id, latest] : ids)
        for (uint32_t v = 1; v <= latest; ++v) {
          std::string page;
          auto s = db_->Get(ro, raw_, version_key(id, v), &page);
          if (!s.ok() && !s.IsNotFound())
            problem("raw page of " + id + " v" + std::to_string(v) + ": read error: " + status_text(s));
        }
    }
  }
  // Feed states are JSON objects.
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, feeds_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto j = parse_json(it->value().ToStringView());
      if (!j || !j->is_object()) problem("feed state of " + it->key().ToString() + ": invalid JSON");
    }
    read_error("feeds", *it);
  }
  // The duplicate index and meta: every entry readable.
  for (auto [cf, family] : {std::pair{dedup_cf_, "dedup"}, std::pair{meta_, "meta"}}) {
    rocksdb::ReadOptions all = ro;
    all.total_order_seek = true;  // the dedup family has a prefix extractor
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(all, cf));
    size_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) n += it->value().size() > 0;
    read_error(family, *it);
  }
  return problems;
}

}  // namespace baotin
