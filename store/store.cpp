#include "store/store.h"

#include "store/bytes.h"
#include "store/options.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>
#include <xxhash.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "parse/canonical.h"
#include "store/dedup.h"

namespace baotin {

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

constexpr const char* kMetaSchema = "schema_version";
constexpr const char* kMetaLastSeq = "last_seq";
constexpr const char* kMetaDedupFormat = "dedup_index_format";

constexpr size_t kMaxRawBytes = 256u << 20;  // refuse to decompress anything claiming more than this

std::string version_key(const std::string& id, uint32_t version) { return id + be32(version); }

std::string hex64(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string dump(const nlohmann::json& j) {
  // Never throw on invalid UTF-8 coming from the web: replace it.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<nlohmann::json> parse_json(std::string_view s) {
  auto j = nlohmann::json::parse(s.begin(), s.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string now_iso() {
  using namespace std::chrono;
  const int64_t secs = duration_cast<seconds>(system_clock::now().time_since_epoch()).count() + 7 * 3600;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S+07:00", &tm);
  return buf;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|+HHMM)" -> epoch seconds; no offset == +07:00.
std::optional<int64_t> iso_epoch(std::string_view s) {
  auto num = [&](size_t pos, size_t len) -> std::optional<int> {
    if (pos + len > s.size()) return std::nullopt;
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2);
  if (!y || !mo || !d || s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  if (*mo < 1 || *mo > 12 || *d < 1 || *d > 31) return std::nullopt;
  int hh = 0, mi = 0, ss = 0;
  size_t pos = 10;
  if (s.size() >= 16 && (s[10] == 'T' || s[10] == ' ')) {
    auto h = num(11, 2), m = num(14, 2);
    if (!h || !m) return std::nullopt;
    hh = *h;
    mi = *m;
    pos = 16;
    if (pos < s.size() && s[pos] == ':') {
      auto sec = num(17, 2);
      if (!sec) return std::nullopt;
      ss = *sec;
      pos = 19;
    }
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    }
  }
  while (pos < s.size() && s[pos] == ' ') ++pos;
  int offset = 7 * 3600;
  if (pos < s.size()) {
    if (s[pos] == 'Z' || s[pos] == 'z') {
      offset = 0;
    } else if (s[pos] == '+' || s[pos] == '-') {
      const int sign = s[pos] == '-' ? -1 : 1;
      auto oh = num(pos + 1, 2);
      if (!oh) return std::nullopt;
      size_t mp = pos + 3;
      if (mp < s.size() && s[mp] == ':') ++mp;
      auto om = num(mp, 2);
      offset = sign * (*oh * 3600 + (om ? *om : 0) * 60);
    }
  }
  return days_from_civil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d)) * 86400 + hh * 3600 + mi * 60 +
         ss - offset;
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

Age age_of(const Article& a) {
  return {iso_epoch(a.published).value_or(INT64_MAX), iso_epoch(a.fetched_at).value_or(INT64_MAX), a.id};
}

std::string zstd_compress(std::string_view in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  if (ZSTD_isError(n)) throw StoreError(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

std::optional<std::string> zstd_decompress(std::string_view in) {
  const unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > kMaxRawBytes) return std::nullopt;
  std::string out(static_cast<size_t>(size), '\0');
  const size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n) || n != size) return std::nullopt;
  return out;
}

std::string status_text(const rocksdb::Status& s) { return s.ToString(); }

}  // namespace

rocksdb::ColumnFamilyOptions store_family_options(const std::string& name, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  const auto supported = rocksdb::GetSupportedCompressions();
  auto has = [&](rocksdb::CompressionType t) { return std::find(supported.begin(), supported.end(), t) != supported.end(); };
  if (name == kRaw) {
    o.compression = rocksdb::kNoCompression;  // values are zstd frames already
  } else if (name == kVersions && has(rocksdb::kZSTD)) {
    o.compression = rocksdb::kZSTD;  // cold history
  } else if (has(rocksdb::kLZ4Compression)) {
    o.compression = rocksdb::kLZ4Compression;
  }
  rocksdb::BlockBasedTableOptions t;
  if (name == kArticles || name == kUrls || name == kDedup || name == kFeeds)
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Index and filter blocks stay in the table readers (RocksDB's default): charged to a cache they compete with
  // data blocks and a 64 MiB cache at a million articles made duplicate look-ups ~1.6x slower (dedup_bench).
  if (cache) t.block_cache = cache;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

namespace {

// Whether an article takes part in duplicate detection. Title-only stubs ("Video", failed extractions) must not
// all become copies of each other.
bool dedupable(const Article& a, const std::string& fp, const NearSketch& sketch) {
  return !fp.empty() && (!a.body.empty() || sketch.indexable());
}

std::string canonical_or_raw(const std::string& url) {
  if (url.empty()) return {};
  std::string c = canonicalize_url(url);
  return c.empty() ? url : c;
}

}  // namespace

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
  return {{"seq", e.seq}, {"type", e.type}, {"id", e.id}, {"version", e.version}, {"site", e.site}, {"at", e.at}};
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

  std::vector<std::string> names;
  auto ls = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), opts.path, &names);
  if (!ls.ok()) names.clear();  // new store
  std::vector<std::string> all = {rocksdb::kDefaultColumnFamilyName};
  for (const char* n : kOurFamilies) all.emplace_back(n);
  for (const auto& n : names)  // RocksDB requires every existing family to be opened
    if (std::find(all.begin(), all.end(), n) == all.end()) all.push_back(n);

  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  std::shared_ptr<rocksdb::Cache> cache =
      rocksdb::NewLRUCache(std::max<size_t>(opts.block_cache_mb, 1) << 20);
  for (const auto& n : all) descs.emplace_back(n, store_family_options(n, cache));

  std::unique_ptr<Store> st(new Store());
  st->path_ = opts.path;
  st->sync_writes_ = opts.sync_writes;
  rocksdb::Status s = rocksdb::DB::Open(dbo, opts.path, descs, &st->handles_, &st->db_);
  if (!s.ok()) {
    std::string msg = "cannot open store " + opts.path + ": " + status_text(s);
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos)
      msg += " (is another baotin process using it? read-only commands open it as a secondary)";
    return fail(msg);
  }
  st->assign_handles(all);

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
  }
  st->last_seq_ = seq;
  st->dedup_ = std::make_unique<DedupIndex>(st->db_, st->dedup_cf_);

  // Duplicate index format: rebuild an older index (or one of a store written before the format was recorded).
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
  try {
    if (format != kDedupIndexFormat) {
      spdlog::info("store: duplicate index format {} != {}: rebuilding it from the stored articles", format,
                   kDedupIndexFormat);
      auto t0 = std::chrono::steady_clock::now();
      size_t n = st->rebuild_dedup_index();
      spdlog::info("store: duplicate index rebuilt: {} articles in {:.1f} s", n,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    } else if (!recorded) {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      s = st->db_->Put(wo, st->meta_, kMetaDedupFormat, std::to_string(kDedupIndexFormat));
      if (!s.ok()) return fail("cannot initialise store " + opts.path + ": " + status_text(s));
    }
  } catch (const StoreError& e) {
    return fail(std::string("cannot rebuild the duplicate index of ") + opts.path + ": " + e.what());
  }
  return st;
}

size_t Store::rebuild_dedup_index() {
  std::lock_guard lk(write_mu_);
  require_writable("rebuild_dedup_index");
  rocksdb::WriteOptions wo;
  wo.sync = false;
  auto check = [](const rocksdb::Status& s) {
    if (!s.ok()) throw StoreError("store write failed: " + status_text(s));
  };
  // Every index key starts with a letter below 0xFF.
  check(db_->DeleteRange(wo, dedup_cf_, rocksdb::Slice(""), rocksdb::Slice("\xFF", 1)));
  size_t n = 0;
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), articles_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto j = parse_json(it->value().ToStringView());
    if (!j) continue;  // reported by verify()
    Article a = article_from_json(*j);
    const std::string fp = exact_fingerprint(a);
    const NearSketch sketch = near_sketch(a);
    if (!dedupable(a, fp, sketch)) continue;
    dedup_->add(batch, it->key().ToString(), fp, sketch);
    ++n;
    if (batch.Count() >= 10000) {
      check(db_->Write(wo, &batch));
      batch.Clear();
    }
  }
  check(it->status());
  batch.Put(meta_, kMetaDedupFormat, std::to_string(kDedupIndexFormat));
  wo.sync = true;
  check(db_->Write(wo, &batch));
  return n;
}

std::unique_ptr<Store> Store::open_secondary(const std::string& path, const std::string& secondary_dir,
                                             std::string* error) {
  auto fail = [&](const std::string& msg) -> std::unique_ptr<Store> {
    if (error) *error = msg;
    return nullptr;
  };
  std::vector<std::string> names;
  auto s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
  if (!s.ok()) return fail("cannot open store " + path + " read-only: " + status_text(s));
  for (const char* n : kOurFamilies)
    if (std::find(names.begin(), names.end(), n) == names.end())
      return fail("store " + path + " is not a baotin store (column family '" + std::string(n) + "' missing)");
  std::error_code ec;
  std::filesystem::create_directories(secondary_dir, ec);
  if (ec) return fail("cannot create secondary directory " + secondary_dir + ": " + ec.message());

  rocksdb::DBOptions dbo;
  dbo.max_open_files = -1;  // required for secondaries
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(32u << 20);  // exports scan; little reuse
  for (const auto& n : names) descs.emplace_back(n, store_family_options(n, cache));
  std::unique_ptr<Store> st(new Store());
  st->secondary_ = true;
  st->path_ = path;
  s = rocksdb::DB::OpenAsSecondary(dbo, path, secondary_dir, descs, &st->handles_, &st->db_);
  if (!s.ok()) return fail("cannot open store " + path + " as secondary: " + status_text(s));
  st->assign_handles(names);
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
  std::string err;
  if (!st->catch_up(&err)) return fail(err);
  st->dedup_ = std::make_unique<DedupIndex>(st->db_, st->dedup_cf_);
  return st;
}

bool Store::catch_up(std::string* error) {
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

void Store::close() {
  std::lock_guard lk(write_mu_);
  if (!db_) return;
  dedup_.reset();
  if (!secondary_) {
    rocksdb::FlushOptions fo;
    fo.wait = true;
    auto s = db_->Flush(fo, handles_);
    if (!s.ok()) spdlog::warn("store: flush on close failed: {}", s.ToString());
    s = db_->SyncWAL();
    if (!s.ok() && !s.IsNotSupported()) spdlog::warn("store: WAL sync on close failed: {}", s.ToString());
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
  return hex64(XXH3_64bits(canonical.data(), canonical.size()));
}

PutResult Store::put_article(Article a, std::string_view raw_html, const std::vector<std::string>& alias_urls) {
  require_writable("put_article");

  // --- Work that needs no lock: URL canonicalisation, hashes, fingerprints, compression.
  std::string canonical = canonical_or_raw(!a.canonical_url.empty() ? a.canonical_url : a.url);
  if (canonical.empty()) throw StoreError("put_article: article has neither url nor canonical_url");
  a.canonical_url = canonical;
  // Lookup order matters: the canonical URL decides the identity first.
  std::vector<std::string> url_keys;
  auto add_key = [&](const std::string& u) {
    if (!u.empty() && std::find(url_keys.begin(), url_keys.end(), u) == url_keys.end()) url_keys.push_back(u);
  };
  add_key(canonical);
  add_key(a.url);
  add_key(canonical_or_raw(a.url));
  for (const auto& al : alias_urls) {
    add_key(al);
    add_key(canonical_or_raw(al));
  }
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

  std::lock_guard lk(write_mu_);
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
  rocksdb::WriteOptions wo;
  wo.sync = sync_writes_;
  auto commit = [&] {
    auto s = db_->Write(wo, &batch);
    if (!s.ok()) throw StoreError("store write failed: " + status_text(s));
  };

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
    return r;
  }

  prepare();  // no-op unless the lock-free look-up guessed "unchanged" and was wrong
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
        return m;
      };
      for (const auto& mid : matches) {
        auto m = consider(mid);
        // The match may itself be a copy: its original competes too.
        if (m && !m->duplicate_of.empty()) consider(m->duplicate_of);
      }
      if (best) {
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
  ev.at = now_iso();

  const std::string json = dump(to_json(a));
  batch.Put(articles_, id, json);
  batch.Put(versions_, version_key(id, a.version), json);
  if (packed) batch.Put(raw_, version_key(id, a.version), *packed);
  map_urls();
  batch.Put(changes_, be64(seq), dump(to_json(ev)));
  batch.Put(meta_, kMetaLastSeq, std::to_string(seq));
  if (is_dedupable) dedup_->add(batch, id, fp, sketch);
  commit();
  last_seq_ = seq;

  r.version = a.version;
  r.seq = seq;
  r.duplicate_of = a.duplicate_of;
  r.cluster = a.cluster;
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
  if (url.empty()) return std::nullopt;
  if (auto id = get_raw(urls_, url)) return id;
  std::string c = canonical_or_raw(url);
  if (c != url) return get_raw(urls_, c);
  return std::nullopt;
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
    if (!fn(e)) return;
  }
  if (!it->status().ok()) throw StoreError("store read failed: " + status_text(it->status()));
}

uint64_t Store::last_seq() const {
  if (!secondary_) return last_seq_.load();
  if (!db_) return 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), changes_));
  it->SeekToLast();
  return it->Valid() && it->key().size() == 8 ? read_be(it->key().ToStringView()) : 0;
}

void Store::scan_articles(const std::function<bool(const Article&)>& fn) const {
  if (!db_) return;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), articles_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto j = parse_json(it->value().ToStringView());
    if (!j) {
      spdlog::error("store: record {} is not valid JSON", it->key().ToString());
      continue;
    }
    if (!fn(article_from_json(*j))) return;
  }
  if (!it->status().ok()) throw StoreError("store read failed: " + status_text(it->status()));
}

// ---------------------------------------------------------------------------------------------------------------
// Feeds and meta

std::optional<std::string> Store::get_feed_state(const std::string& feed_url) const { return get_raw(feeds_, feed_url); }

void Store::put_feed_state(const std::string& feed_url, const std::string& json) {
  require_writable("put_feed_state");
  rocksdb::WriteOptions wo;
  wo.sync = sync_writes_;
  auto s = db_->Put(wo, feeds_, feed_url, json);
  if (!s.ok()) throw StoreError("store write failed: " + status_text(s));
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
  if (key == kMetaSchema || key == kMetaLastSeq || key == kMetaDedupFormat)
    throw StoreError("put_meta: key '" + key + "' is reserved");
  rocksdb::WriteOptions wo;
  wo.sync = sync_writes_;
  auto s = db_->Put(wo, meta_, key, value);
  if (!s.ok()) throw StoreError("store write failed: " + status_text(s));
}

std::optional<std::string> Store::get_meta(const std::string& key) const { return get_raw(meta_, key); }

int64_t Store::add_counter(const std::string& key, int64_t delta) {
  require_writable("add_counter");
  if (key == kMetaSchema || key == kMetaLastSeq || key == kMetaDedupFormat)
    throw StoreError("add_counter: key '" + key + "' is reserved");
  std::lock_guard lk(write_mu_);
  int64_t v = 0;
  if (auto cur = get_raw(meta_, key)) {
    try {
      v = std::stoll(*cur);
    } catch (...) {
      v = 0;
    }
  }
  v += delta;
  rocksdb::WriteOptions wo;
  wo.sync = sync_writes_;
  auto s = db_->Put(wo, meta_, key, std::to_string(v));
  if (!s.ok()) throw StoreError("store write failed: " + status_text(s));
  return v;
}

// ---------------------------------------------------------------------------------------------------------------
// fsck

std::vector<std::string> Store::verify(size_t max_problems) const {
  std::vector<std::string> problems;
  auto problem = [&](std::string p) {
    if (problems.size() < max_problems) problems.push_back(std::move(p));
  };
  if (!db_) return {"store is closed"};
  rocksdb::ReadOptions ro;
  const rocksdb::Snapshot* snap = secondary_ ? nullptr : db_->GetSnapshot();
  ro.snapshot = snap;

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
      if (type != "new" && type != "updated" && type != "duplicate")
        problem("change " + std::to_string(seq) + ": unknown type '" + type + "'");
      if (j->value("seq", uint64_t{0}) != seq) problem("change " + std::to_string(seq) + ": seq field mismatch");
      const std::string id = j->value("id", "");
      const uint32_t v = j->value("version", 0u);
      events.emplace(id, v);
      std::string tmp;
      if (db_->Get(ro, versions_, version_key(id, v), &tmp).IsNotFound())
        problem("change " + std::to_string(seq) + ": version " + std::to_string(v) + " of " + id + " missing");
    }
  }
  std::string m;
  if (db_->Get(ro, meta_, kMetaLastSeq, &m).ok()) {
    if (m != std::to_string(max_seq)) problem("meta last_seq " + m + " != last change " + std::to_string(max_seq));
  } else if (max_seq != 0) {
    problem("meta last_seq missing");
  }

  // Articles and their versions.
  std::unordered_set<std::string> ids;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, articles_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string id = it->key().ToString();
      ids.insert(id);
      auto j = parse_json(it->value().ToStringView());
      if (!j || !j->is_object()) {
        problem("article " + id + ": invalid JSON");
        continue;
      }
      Article latest = article_from_json(*j);
      if (latest.id != id) problem("article " + id + ": id field is '" + latest.id + "'");
      if (latest.version == 0) problem("article " + id + ": version 0");
      for (uint32_t v = 1; v <= latest.version; ++v) {
        std::string raw;
        auto s = db_->Get(ro, versions_, version_key(id, v), &raw);
        if (!s.ok()) {
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
      if (db_->Get(ro, versions_, version_key(id, latest.version + 1), &extra).ok())
        problem("article " + id + ": version " + std::to_string(latest.version + 1) + " exists beyond latest");
    }
  }
  for (const auto& [id, v] : events)
    if (!ids.count(id)) problem("change log refers to unknown article " + id);
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, urls_));
    for (it->SeekToFirst(); it->Valid(); it->Next())
      if (!ids.count(it->value().ToString()))
        problem("url " + it->key().ToString() + " -> unknown article " + it->value().ToString());
  }
  if (snap) db_->ReleaseSnapshot(snap);
  return problems;
}

}  // namespace baotin
