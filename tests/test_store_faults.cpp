// Storage faults (issue 14, items 6 and 7): a damaged WAL, damaged or missing SST files, read errors in the
// duplicate index, a full disk, and a duplicate-index rebuild interrupted half way. Real RocksDB throughout;
// faults are made by editing the store's files, or by a FileSystem wrapper that fails writes with ENOSPC.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/metadata.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "store/dedup.h"
#include "store/export.h"
#include "store/store.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace baotin;

namespace {

struct TempDir : baotin::testing::TempDir {
  TempDir() : baotin::testing::TempDir("baotin-faults") {}
  std::string str() const { return (path / "db").string(); }
};

Article make(int n) {
  Article a;
  a.url = a.canonical_url = "https://faults.test/bai-" + std::to_string(n) + ".html";
  a.site = "faults";
  a.title = "Bài " + std::to_string(n) + " " + baotin::testing::vn_words(n, 10);
  a.lead = baotin::testing::vn_words(n * 7 + 1, 20);
  a.body = {baotin::testing::vn_words(n * 7 + 2, 80), baotin::testing::vn_words(n * 7 + 3, 80)};
  a.published = "2026-03-07T08:00:00+07:00";
  return a;
}

std::string html(int n) { return "<html><body><p>" + baotin::testing::vn_words(n * 13 + 5, 200) + "</p></body></html>"; }

std::unique_ptr<Store> open_store(const std::string& path, std::string* err = nullptr, bool defer = false,
                                  rocksdb::Env* env = nullptr) {
  StoreOptions o;
  o.path = path;
  o.defer_dedup_rebuild = defer;
  o.env = env;
  std::string e;
  auto st = Store::open(o, &e);
  if (err) *err = e;
  return st;
}

// Opens a closed store read-only with plain RocksDB (every column family) and calls fn(db, names, handles).
template <typename F>
void with_raw_db(const std::string& path, F&& fn) {
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const auto& n : names) descs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> hs;
  rocksdb::DB* db = nullptr;
  auto s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, descs, &hs, &db);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return;
  fn(*db, names, hs);
  for (auto* h : hs) db->DestroyColumnFamilyHandle(h);
  delete db;
}

// SST files of each column family of a closed store.
std::map<std::string, std::vector<std::string>> sst_files(const std::string& path) {
  std::map<std::string, std::vector<std::string>> out;
  with_raw_db(path, [&](rocksdb::DB& db, const std::vector<std::string>&, const auto&) {
    std::vector<rocksdb::LiveFileMetaData> files;
    db.GetLiveFilesMetaData(&files);
    for (const auto& f : files) out[f.column_family_name].push_back(f.db_path + f.name);
  });
  return out;
}

// Every key/value of one column family of a closed store.
std::vector<std::pair<std::string, std::string>> dump_family(const std::string& path, const std::string& family) {
  std::vector<std::pair<std::string, std::string>> out;
  with_raw_db(path, [&](rocksdb::DB& db, const std::vector<std::string>& names, const auto& hs) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] != family) continue;
      std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), hs[i]));
      for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace_back(it->key().ToString(), it->value().ToString());
      EXPECT_TRUE(it->status().ok());
    }
  });
  return out;
}

// XORs `n` bytes at `offset` (negative: from the end) of a file.
void flip_bytes(const std::string& file, long offset, size_t n) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f) << file;
  f.seekg(0, std::ios::end);
  const long size = static_cast<long>(f.tellg());
  const long at = offset < 0 ? size + offset : offset;
  ASSERT_GE(at, 0);
  ASSERT_LE(at + static_cast<long>(n), size) << file;
  std::string buf(n, '\0');
  f.seekg(at);
  f.read(buf.data(), static_cast<std::streamsize>(n));
  for (auto& c : buf) c = static_cast<char>(c ^ 0x5A);
  f.seekp(at);
  f.write(buf.data(), static_cast<std::streamsize>(n));
}

// A store with `n` articles (and raw pages), flushed to SST files by a clean close.
void fill(const std::string& path, int n) {
  auto st = open_store(path);
  ASSERT_TRUE(st);
  for (int i = 0; i < n; ++i) st->put_article(make(i), html(i));
  st->put_feed_state("https://faults.test/rss", R"({"url":"https://faults.test/rss"})");
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// 6a: WAL damage after a SIGKILL is never recovered silently.

TEST(StoreFaults, DamagedWalRefusesToOpenAndNamesTheFile) {
  TempDir d;
  const std::string path = d.str();
  const int kArticles = 120;
  fflush(nullptr);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // acknowledged (fsynced) writes, then SIGKILL: everything is in the WAL only
    auto st = open_store(path);
    if (!st) _exit(3);
    for (int i = 0; i < kArticles; ++i) st->put_article(make(i), html(i));
    raise(SIGKILL);
    _exit(4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;

  std::vector<fs::path> wals;
  for (const auto& e : fs::directory_iterator(path))
    if (e.path().extension() == ".log") wals.push_back(e.path());
  ASSERT_FALSE(wals.empty());
  std::sort(wals.begin(), wals.end(), [](const auto& a, const auto& b) { return fs::file_size(a) > fs::file_size(b); });
  const fs::path wal = wals.front();
  const auto wal_size = fs::file_size(wal);
  ASSERT_GT(wal_size, 100000u);
  flip_bytes(wal.string(), static_cast<long>(fs::file_size(wal) / 2), 64);  // 64 bytes in the middle

  // serve's open refuses, naming the file and the way out; nothing is changed.
  std::string err;
  EXPECT_FALSE(open_store(path, &err));
  EXPECT_NE(err.find(wal.filename().string()), std::string::npos) << err;
  EXPECT_NE(err.find("--salvage-wal"), std::string::npos) << err;
  EXPECT_TRUE(fs::exists(wal));
  // verify's read-only opens agree (with and without a running daemon).
  std::string err2;
  EXPECT_FALSE(Store::open_secondary(path, (d.path / "sec").string(), &err2));
  EXPECT_NE(err2.find("Corruption"), std::string::npos) << err2;
  EXPECT_FALSE(Store::open_readonly(path, &err2));
  EXPECT_NE(err2.find(wal.filename().string()), std::string::npos) << err2;
  // Refusing again and again changes nothing.
  EXPECT_FALSE(open_store(path, &err));

  // The operator's escape hatch: a copy of the WAL is kept, the store recovers up to the damage, loudly.
  StoreOptions so;
  so.path = path;
  so.wal_recovery = WalRecovery::Salvage;
  std::string err3;
  auto st = Store::open(so, &err3);
  ASSERT_TRUE(st) << err3;
  EXPECT_LT(st->last_seq(), static_cast<uint64_t>(kArticles));  // records after the damage are gone
  EXPECT_TRUE(st->verify().empty());
  st->close();
  bool kept = false;
  for (const auto& e : fs::directory_iterator(path))
    if (e.path().filename().string().rfind("wal-salvage-", 0) == 0)
      kept = fs::exists(e.path() / wal.filename()) && fs::file_size(e.path() / wal.filename()) == wal_size;
  EXPECT_TRUE(kept);
  // After the salvage the store opens normally.
  auto again = open_store(path, &err);
  ASSERT_TRUE(again) << err;
  EXPECT_TRUE(again->verify().empty());
}

// ---------------------------------------------------------------------------------------------------------------
// 6b: verify reads everything with checksums and reports read errors.

TEST(StoreFaults, VerifyReportsDamagedDataBlockInEveryFamily) {
  for (const std::string family : {"raw", "feeds", "dedup", "versions"}) {
    SCOPED_TRACE(family);
    TempDir d;
    fill(d.str(), 40);
    auto files = sst_files(d.str());
    ASSERT_FALSE(files[family].empty());
    flip_bytes(files[family].front(), 40, 16);  // inside the first data block
    // A secondary does not open `raw` (RocksDB secondaries cannot read blob files): raw is checked read-only.
    auto st = family == "raw" ? Store::open_readonly(d.str(), nullptr)
                              : Store::open_secondary(d.str(), (d.path / "sec").string(), nullptr);
    ASSERT_TRUE(st);
    auto problems = st->verify();
    ASSERT_FALSE(problems.empty());
    std::string all;
    for (const auto& p : problems) all += p + "\n";
    EXPECT_NE(all.find("Corruption"), std::string::npos) << all;
  }
}

// Raw pages in blob files (integrated BlobDB, StoreOptions::raw_blob_files: on by default). A store written
// before (raw values inline in SSTs) opens with blob files on and keeps both kinds readable, also through a
// read-only open. Secondaries do not open the raw family (RocksDB does not support blob files there).
namespace {
std::string big_page(int n) { return "<html><body><p>" + baotin::testing::vn_words(n * 17 + 3, 2000) + "</p></body></html>"; }
std::unique_ptr<Store> open_with_blobs(const std::string& path, bool blobs = true) {
  StoreOptions o;
  o.path = path;
  o.raw_blob_files = blobs;
  std::string err;
  auto st = Store::open(o, &err);
  EXPECT_TRUE(st) << err;
  return st;
}
std::vector<std::string> blob_files(const std::string& path) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(path))
    if (e.path().extension() == ".blob") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

TEST(StoreFaults, RawPagesMoveToBlobFilesAndOldInlinePagesStayReadable) {
  TempDir d;
  {
    auto st = open_with_blobs(d.str(), false);  // the former layout: inline
    ASSERT_TRUE(st);
    for (int i = 0; i < 10; ++i) st->put_article(make(i), big_page(i));
  }
  EXPECT_TRUE(blob_files(d.str()).empty());
  {
    auto st = open_store(d.str());  // the default: blob files
    ASSERT_TRUE(st);
    for (int i = 10; i < 20; ++i) st->put_article(make(i), big_page(i));
    for (int i = 0; i < 20; ++i) {
      auto id = st->id_for_url(make(i).url);
      ASSERT_TRUE(id);
      EXPECT_EQ(st->raw_html(*id, 1), big_page(i)) << i;
    }
  }
  ASSERT_FALSE(blob_files(d.str()).empty());
  {
    // verify without a daemon opens read-only: it reads blobs too. (Not a secondary: unsupported by RocksDB.)
    std::string err;
    auto ro = Store::open_readonly(d.str(), &err);
    ASSERT_TRUE(ro) << err;
    for (int i = 0; i < 20; ++i) {
      auto id = ro->id_for_url(make(i).url);
      ASSERT_TRUE(id);
      EXPECT_EQ(ro->raw_html(*id, 1), big_page(i)) << i;
    }
    EXPECT_TRUE(ro->verify().empty());
  }
  auto st = open_with_blobs(d.str(), false);  // and back: blob values stay readable
  ASSERT_TRUE(st);
  for (int i = 0; i < 20; ++i) {
    auto id = st->id_for_url(make(i).url);
    ASSERT_TRUE(id);
    EXPECT_EQ(st->raw_html(*id, 1), big_page(i)) << i;
  }
  EXPECT_TRUE(st->verify().empty()) << st->verify().front();
}

// A running daemon (the primary, here in this process) with raw pages in blob files, inline values and unflushed
// writes, and a secondary beside it (every read-only command's open): the secondary reads everything but raw
// pages and says it cannot read those. Debian's RocksDB 7.8.3 crashed when a secondary read a blob value; now
// the secondary never opens the raw family: a damaged blob file goes unnoticed through it and is found by the
// read-only open once the primary is closed.
TEST(StoreFaults, SecondaryBesideABlobPrimaryReadsAllButRawPages) {
  TempDir d;
  {
    auto st = open_with_blobs(d.str(), false);
    ASSERT_TRUE(st);
    for (int i = 0; i < 5; ++i) st->put_article(make(i), big_page(i));  // inline
  }
  {
    auto st = open_store(d.str());
    ASSERT_TRUE(st);
    for (int i = 5; i < 20; ++i) st->put_article(make(i), big_page(i));  // blob files at close (flush)
  }
  const auto blobs = blob_files(d.str());
  ASSERT_FALSE(blobs.empty());
  auto primary = open_store(d.str());
  ASSERT_TRUE(primary);
  for (int i = 20; i < 25; ++i) primary->put_article(make(i), big_page(i));  // in the WAL and memtable only
  primary->put_feed_state("https://faults.test/rss", "{}");
  flip_bytes(blobs.front(), static_cast<long>(fs::file_size(blobs.front()) / 2), 16);  // never read below

  std::string err;
  auto sec = Store::open_secondary(d.str(), (d.path / "sec").string(), &err);
  ASSERT_TRUE(sec) << err;
  EXPECT_FALSE(sec->raw_pages_readable());
  EXPECT_EQ(sec->last_seq(), 25u);
  for (int i = 0; i < 25; ++i) {
    auto id = sec->id_for_url(make(i).url);
    ASSERT_TRUE(id) << i;
    ASSERT_TRUE(sec->get(*id)) << i;
    EXPECT_THROW(sec->raw_html(*id, 1), StoreError) << i;
  }
  EXPECT_EQ(sec->get_feed_state("https://faults.test/rss"), "{}");
  std::ostringstream out;
  ExportOptions eo;
  export_records(*sec, eo, out);
  size_t lines = 0;
  for (char c : out.str()) lines += c == '\n';
  EXPECT_EQ(lines, 25u);
  auto problems = sec->verify();
  EXPECT_TRUE(problems.empty()) << problems.front();
  // More writes, flushed into a new blob file by a restart of the primary, and one after it; the secondary
  // catches up. (Without a write after the restart, RocksDB 7.8's secondary keeps serving the memtables it
  // replayed from the old WAL, e.g. meta last_seq 25, over the flushed files: it seals an active memtable only
  // when a newer WAL writes to that family. Nothing to do with blob files.)
  for (int i = 25; i < 30; ++i) primary->put_article(make(i), big_page(i));
  primary.reset();
  primary = open_store(d.str());
  ASSERT_TRUE(primary);
  primary->put_article(make(30), big_page(30));
  ASSERT_TRUE(sec->catch_up(&err)) << err;
  EXPECT_EQ(sec->last_seq(), 31u);
  ASSERT_TRUE(sec->id_for_url(make(29).url));
  ASSERT_TRUE(sec->id_for_url(make(30).url));
  problems = sec->verify();
  EXPECT_TRUE(problems.empty()) << problems.front();
  sec.reset();
  primary.reset();

  // The daemon stopped: verify's read-only open reads the raw pages and finds the damaged blob.
  auto ro = Store::open_readonly(d.str(), &err);
  ASSERT_TRUE(ro) << err;
  EXPECT_TRUE(ro->raw_pages_readable());
  problems = ro->verify();
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  EXPECT_NE(all.find("raw page of "), std::string::npos) << all;
  EXPECT_EQ(ro->raw_html(*ro->id_for_url(make(29).url), 1), big_page(29));
}

// RocksDB 7.8's VerifyChecksum does not read blob files: verify checks each blob file the manifest lists
// (present, recorded size) and every blob record's checksum through the full read of the raw family.
TEST(StoreFaults, VerifyReportsDamagedTruncatedOrMissingBlobFile) {
  for (const std::string fault : {"damaged", "truncated", "missing"}) {
    SCOPED_TRACE(fault);
    TempDir d;
    {
      auto st = open_with_blobs(d.str());
      ASSERT_TRUE(st);
      for (int i = 0; i < 20; ++i) st->put_article(make(i), big_page(i));
    }
    const auto blobs = blob_files(d.str());
    ASSERT_FALSE(blobs.empty());
    const std::string victim = blobs.front();
    const std::string number = fs::path(victim).stem().string();
    if (fault == "damaged") flip_bytes(victim, static_cast<long>(fs::file_size(victim) / 2), 16);
    else if (fault == "truncated") fs::resize_file(victim, fs::file_size(victim) - 100);
    else fs::remove(victim);
    // Whichever way the store is opened for verify, the fault is reported (or the open fails, naming the file).
    std::string err;
    auto ro = Store::open_readonly(d.str(), &err);
    if (!ro) {
      EXPECT_NE(err.find(number), std::string::npos) << err;
    } else {
      auto problems = ro->verify();
      ASSERT_FALSE(problems.empty());
      std::string all;
      for (const auto& p : problems) all += p + "\n";
      if (fault == "damaged") {  // the damaged page is named
        EXPECT_NE(all.find("Corruption"), std::string::npos) << all;
        EXPECT_NE(all.find("raw page of "), std::string::npos) << all;
      } else {
        EXPECT_NE(all.find("blob file"), std::string::npos) << all;
        EXPECT_NE(all.find(number), std::string::npos) << all;
      }
    }
  }
}

TEST(StoreFaults, DamagedFooterOrDeletedSstFailsClearly) {
  for (const bool remove : {false, true}) {
    SCOPED_TRACE(remove ? "deleted SST" : "damaged footer");
    TempDir d;
    fill(d.str(), 20);
    auto files = sst_files(d.str());
    ASSERT_FALSE(files["feeds"].empty());
    const std::string victim = files["feeds"].front();
    if (remove) fs::remove(victim);
    else flip_bytes(victim, -48, 48);  // block handles, format version and magic number
    // verify without a daemon (read-only open) and serve's open both fail, naming the file.
    const std::string number = fs::path(victim).stem().string();  // RocksDB names 000028.sst or .ldb
    std::string err;
    EXPECT_FALSE(Store::open_readonly(d.str(), &err));
    EXPECT_NE(err.find(remove ? number : "Corruption"), std::string::npos) << err;
    EXPECT_FALSE(open_store(d.str(), &err));
    EXPECT_NE(err.find(remove ? number : "Corruption"), std::string::npos) << err;
    EXPECT_EQ(err.find("write-ahead log"), std::string::npos) << err;
  }
}

TEST(StoreFaults, DedupReadErrorIsAnErrorNotANewArticle) {
  TempDir d;
  fill(d.str(), 30);
  auto files = sst_files(d.str());
  ASSERT_FALSE(files["dedup"].empty());
  for (const auto& f : files["dedup"]) flip_bytes(f, 40, 16);
  auto st = open_store(d.str());
  ASSERT_TRUE(st);
  Article copy = make(3);  // a copy of article 3 under another URL: the look-up must read the damaged index
  copy.url = copy.canonical_url = "https://other.test/ban-sao-3.html";
  EXPECT_THROW(st->put_article(copy, ""), StoreError);
  EXPECT_FALSE(st->id_for_url(copy.url));
}

// ---------------------------------------------------------------------------------------------------------------
// 6d: a full disk fails the write (not acknowledged), marks the store unhealthy, and heals without a restart.

namespace {

// A disk that fills up: while `full`, every data write (append) fails with ENOSPC, as a real full file system
// does; creating (empty) files still works.
class FullDisk : public rocksdb::FileSystemWrapper {
 public:
  explicit FullDisk(const std::shared_ptr<rocksdb::FileSystem>& base) : rocksdb::FileSystemWrapper(base) {}
  const char* Name() const override { return "FullDisk"; }
  std::atomic<bool> full{false};
  std::atomic<int> refused{0};

  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile>&& f, FullDisk* fs)
        : rocksdb::FSWritableFileOwnerWrapper(std::move(f)), fs_(fs) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      if (fs_->full) return fs_->refuse();
      return rocksdb::FSWritableFileOwnerWrapper::Append(data, o, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& v, rocksdb::IODebugContext* dbg) override {
      if (fs_->full) return fs_->refuse();
      return rocksdb::FSWritableFileOwnerWrapper::Append(data, o, v, dbg);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t off, const rocksdb::IOOptions& o,
                                       rocksdb::IODebugContext* dbg) override {
      if (fs_->full) return fs_->refuse();
      return rocksdb::FSWritableFileOwnerWrapper::PositionedAppend(data, off, o, dbg);
    }

   private:
    FullDisk* fs_;
  };

  rocksdb::IOStatus refuse() {
    ++refused;
    return rocksdb::IOStatus::NoSpace("injected ENOSPC");
  }
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r, rocksdb::IODebugContext* dbg) override {
    auto s = target()->NewWritableFile(f, o, r, dbg);
    if (s.ok()) r->reset(new File(std::move(*r), this));
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override {
    auto s = target()->ReopenWritableFile(f, o, r, dbg);
    if (s.ok()) r->reset(new File(std::move(*r), this));
    return s;
  }
};

}  // namespace

TEST(StoreFaults, DiskFullIsUnhealthyAndRecoversWithoutRestart) {
  TempDir d;
  auto disk = std::make_shared<FullDisk>(rocksdb::FileSystem::Default());
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(disk);
  {
    auto st = open_store(d.str(), nullptr, false, env.get());
    ASSERT_TRUE(st);
    EXPECT_EQ(st->put_article(make(1), html(1)).kind, PutKind::New);
    EXPECT_TRUE(st->health().ok);

    disk->full = true;
    EXPECT_THROW(st->put_article(make(2), html(2)), StoreError);  // not acknowledged
    EXPECT_GT(disk->refused.load(), 0);
    EXPECT_FALSE(st->health().ok);
    EXPECT_NE(st->health().reason.find("space"), std::string::npos) << st->health().reason;
    EXPECT_THROW(st->put_article(make(3), html(3)), StoreError);
    EXPECT_FALSE(st->try_recover());
    EXPECT_FALSE(st->id_for_url(make(2).url));

    disk->full = false;  // space freed
    EXPECT_TRUE(st->try_recover()) << st->health().reason;
    EXPECT_TRUE(st->health().ok);
    EXPECT_EQ(st->put_article(make(4), html(4)).kind, PutKind::New);
    EXPECT_EQ(st->put_article(make(2), html(2)).kind, PutKind::New);

    // Full again, and healed by the next write itself (no explicit recovery call).
    disk->full = true;
    EXPECT_THROW(st->put_feed_state("https://faults.test/rss", "{}"), StoreError);
    EXPECT_FALSE(st->health().ok);
    disk->full = false;
    EXPECT_EQ(st->put_article(make(5), html(5)).kind, PutKind::New);
    EXPECT_TRUE(st->health().ok);
    EXPECT_TRUE(st->verify().empty());
  }  // clean close
  auto st = open_store(d.str());
  ASSERT_TRUE(st);
  for (int n : {1, 2, 4, 5}) EXPECT_TRUE(st->id_for_url(make(n).url)) << n;
  EXPECT_FALSE(st->id_for_url(make(3).url));
  EXPECT_TRUE(st->verify().empty());
}

TEST(StoreFaults, CloseWhileDiskStaysFullKeepsAcknowledgedWrites) {
  TempDir d;
  auto disk = std::make_shared<FullDisk>(rocksdb::FileSystem::Default());
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(disk);
  {
    auto st = open_store(d.str(), nullptr, false, env.get());
    ASSERT_TRUE(st);
    for (int i = 0; i < 5; ++i) st->put_article(make(i), html(i));
    disk->full = true;
    EXPECT_THROW(st->put_article(make(9), html(9)), StoreError);
    st->close();  // must not abort
  }
  disk->full = false;
  std::string err;
  auto st = open_store(d.str(), &err);
  ASSERT_TRUE(st) << err;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(st->id_for_url(make(i).url)) << i;
  EXPECT_TRUE(st->verify().empty());
}

// ---------------------------------------------------------------------------------------------------------------
// Group commit: concurrent writers share WAL fsyncs; a failed fsync acknowledges nothing.

namespace {

// Counts the WAL's appends and fsyncs; can fail them (`fail_sync`) or hold the first fsync after `hold` is set
// until `hold_until` more WAL appends have happened (every writer has appended its batch), so the test can
// count how many fsyncs the writers needed without depending on timing.
class WalSyncs : public rocksdb::FileSystemWrapper {
 public:
  explicit WalSyncs(const std::shared_ptr<rocksdb::FileSystem>& base) : rocksdb::FileSystemWrapper(base) {}
  const char* Name() const override { return "WalSyncs"; }
  std::atomic<bool> fail_sync{false};
  std::atomic<bool> fail_with_enospc{false};  // else EIO
  std::atomic<int> fail_next{0};  // the next N syncs fail, later ones succeed (as a second fsync on Linux can)
  std::atomic<int> syncs{0}, appends{0};
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false;
  int hold_until = 0;

  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile>&& f, WalSyncs* fs)
        : rocksdb::FSWritableFileOwnerWrapper(std::move(f)), fs_(fs) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      auto s = rocksdb::FSWritableFileOwnerWrapper::Append(data, o, dbg);
      fs_->appended();
      return s;
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& v, rocksdb::IODebugContext* dbg) override {
      auto s = rocksdb::FSWritableFileOwnerWrapper::Append(data, o, v, dbg);
      fs_->appended();
      return s;
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (auto s = fs_->synced(); !s.ok()) return s;
      return rocksdb::FSWritableFileOwnerWrapper::Sync(o, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (auto s = fs_->synced(); !s.ok()) return s;
      return rocksdb::FSWritableFileOwnerWrapper::Fsync(o, dbg);
    }

   private:
    WalSyncs* fs_;
  };

  void appended() {
    std::lock_guard lk(mu);
    ++appends;
    cv.notify_all();
  }
  rocksdb::IOStatus synced() {
    ++syncs;
    {
      std::unique_lock lk(mu);
      if (hold) {  // a generous guard instead of a hang if the writers never get there
        cv.wait_for(lk, std::chrono::seconds(30), [&] { return appends.load() >= hold_until; });
        hold = false;
      }
    }
    if (fail_next > 0) {
      --fail_next;
      return fail_with_enospc ? rocksdb::IOStatus::NoSpace("injected fsync failure")
                              : rocksdb::IOStatus::IOError("injected fsync failure");
    }
    if (fail_sync)
      return fail_with_enospc ? rocksdb::IOStatus::NoSpace("injected fsync failure")
                              : rocksdb::IOStatus::IOError("injected fsync failure");
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r, rocksdb::IODebugContext* dbg) override {
    auto s = target()->NewWritableFile(f, o, r, dbg);
    if (s.ok() && f.size() > 4 && f.compare(f.size() - 4, 4, ".log") == 0) r->reset(new File(std::move(*r), this));
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override {
    auto s = target()->ReopenWritableFile(f, o, r, dbg);
    if (s.ok() && f.size() > 4 && f.compare(f.size() - 4, 4, ".log") == 0) r->reset(new File(std::move(*r), this));
    return s;
  }
};

}  // namespace

TEST(StoreFaults, ConcurrentWritersShareOneWalFsync) {
  TempDir d;
  auto disk = std::make_shared<WalSyncs>(rocksdb::FileSystem::Default());
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(disk);
  auto st = open_store(d.str(), nullptr, false, env.get());
  ASSERT_TRUE(st);
  ASSERT_EQ(st->put_article(make(0), html(0)).kind, PutKind::New);
  constexpr int kWriters = 8;
  {
    std::lock_guard lk(disk->mu);
    disk->hold = true;  // the first fsync waits until every writer has appended its batch to the WAL
    disk->hold_until = disk->appends.load() + kWriters;
  }
  const int syncs_before = disk->syncs.load();
  const uint64_t group_syncs_before = st->wal_syncs();
  std::vector<std::thread> ts;
  std::vector<PutResult> results(kWriters);
  for (int t = 0; t < kWriters; ++t)
    ts.emplace_back([&, t] {
      if (t % 2) {
        st->put_feed_state("https://faults.test/rss-" + std::to_string(t), "{}");
        results[t].kind = PutKind::Unchanged;
      } else {
        results[t] = st->put_article(make(100 + t), html(100 + t));
      }
    });
  for (auto& t : ts) t.join();
  // The first fsync covers what was appended before it started, the next one everything else: 8 acknowledged
  // writes, at most 2 fsyncs (without group commit: 8, each under the write lock).
  EXPECT_LE(disk->syncs.load() - syncs_before, 2);
  EXPECT_GE(disk->syncs.load() - syncs_before, 1);
  EXPECT_EQ(st->wal_syncs() - group_syncs_before, static_cast<uint64_t>(disk->syncs.load() - syncs_before));
  for (int t = 0; t < kWriters; t += 2) EXPECT_EQ(results[t].kind, PutKind::New);
  EXPECT_EQ(st->last_seq(), 1u + kWriters / 2);
  st.reset();
  st = open_store(d.str());
  ASSERT_TRUE(st);
  for (int t = 0; t < kWriters; t += 2) EXPECT_TRUE(st->id_for_url(make(100 + t).url)) << t;
  for (int t = 1; t < kWriters; t += 2) EXPECT_TRUE(st->get_feed_state("https://faults.test/rss-" + std::to_string(t)));
  EXPECT_TRUE(st->verify().empty());
}

// ENOSPC from fsync: recovered without a restart. EIO: RocksDB treats a failed WAL fsync as fatal (the kernel
// may have dropped the pages), so the store stays unhealthy until it is reopened; nothing acknowledged is lost.
TEST(StoreFaults, FailedWalFsyncIsNotAcknowledged) {
  for (const bool enospc : {true, false}) {
  SCOPED_TRACE(enospc ? "ENOSPC" : "EIO");
  TempDir d;
  auto disk = std::make_shared<WalSyncs>(rocksdb::FileSystem::Default());
  disk->fail_with_enospc = enospc;
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(disk);
  {
    auto st = open_store(d.str(), nullptr, false, env.get());
    ASSERT_TRUE(st);
    const auto first = st->put_article(make(1), html(1));
    ASSERT_EQ(first.kind, PutKind::New);
    disk->fail_sync = true;
    EXPECT_THROW(st->put_article(make(2), html(2)), StoreError);  // appended, but its fsync failed
    EXPECT_FALSE(st->health().ok);
    EXPECT_NE(st->health().reason.find("injected fsync failure"), std::string::npos) << st->health().reason;
    EXPECT_EQ(st->last_seq(), first.seq);  // not acknowledged
    EXPECT_THROW(st->put_meta("note", "x"), StoreError);
    EXPECT_THROW(st->put_feed_state("https://faults.test/rss", "{}"), StoreError);

    disk->fail_sync = false;
    if (!enospc) {
      EXPECT_FALSE(st->try_recover());
      EXPECT_FALSE(st->health().ok);
      st->close();  // must not abort; the restart below clears the error
      st = open_store(d.str(), nullptr, false, env.get());
      ASSERT_TRUE(st);
    }
    EXPECT_TRUE(st->try_recover()) << st->health().reason;
    const auto r3 = st->put_article(make(3), html(3));
    EXPECT_EQ(r3.kind, PutKind::New);
    EXPECT_TRUE(st->health().ok);
    EXPECT_EQ(st->last_seq(), r3.seq);
    EXPECT_TRUE(st->verify().empty()) << st->verify().front();
  }
  // Acknowledged writes survive; the unacknowledged one may or may not (it reached the memtable, and recovery
  // flushes memtables), but the store is consistent either way.
  auto st = open_store(d.str());
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->id_for_url(make(1).url));
  EXPECT_TRUE(st->id_for_url(make(3).url));
  EXPECT_TRUE(st->verify().empty());
  }
}

// A write appended while a sync that fails is under way is not covered by that sync's range, and the next fsync of
// the same file may report success although the kernel dropped the pages: it must not be acknowledged either. Only
// after recovery (Resume: memtables flushed, a new WAL) do writes count again.
TEST(StoreFaults, WriteAppendedDuringAFailedSyncIsNotAcknowledged) {
  TempDir d;
  auto disk = std::make_shared<WalSyncs>(rocksdb::FileSystem::Default());
  disk->fail_with_enospc = true;
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(disk);
  auto st = open_store(d.str(), nullptr, false, env.get());
  ASSERT_TRUE(st);
  const auto first = st->put_article(make(0), html(0));
  ASSERT_EQ(first.kind, PutKind::New);
  const int base = disk->appends.load();
  {
    std::lock_guard lk(disk->mu);
    disk->hold = true;  // writer 1's fsync waits until writer 2 has appended too
    disk->hold_until = base + 2;
  }
  disk->fail_next = 1;  // writer 1's fsync fails; writer 2's own fsync would succeed
  std::atomic<int> threw{0};
  std::thread w1([&] {
    try {
      st->put_article(make(1), html(1));
    } catch (const StoreError&) {
      ++threw;
    }
  });
  {
    std::unique_lock lk(disk->mu);
    disk->cv.wait_for(lk, std::chrono::seconds(30), [&] { return disk->appends.load() >= base + 1; });
  }
  std::thread w2([&] {
    try {
      st->put_article(make(2), html(2));
    } catch (const StoreError&) {
      ++threw;
    }
  });
  w1.join();
  w2.join();
  EXPECT_EQ(threw.load(), 2);
  EXPECT_EQ(st->last_seq(), first.seq);  // neither acknowledged
  // Recovery: RocksDB may raise the failed sync's background error once more at the next write (after a Resume
  // that ran before the error was recorded); that write fails unacknowledged and the next recovery clears it.
  std::optional<PutResult> r3;
  for (int attempt = 0; attempt < 5 && !r3; ++attempt) {
    if (!st->try_recover()) continue;
    try {
      r3 = st->put_article(make(3), html(3));
    } catch (const StoreError&) {
    }
  }
  ASSERT_TRUE(r3) << st->health().reason;
  EXPECT_EQ(r3->kind, PutKind::New);
  EXPECT_EQ(st->last_seq(), r3->seq);
  EXPECT_TRUE(st->health().ok);
}

// ---------------------------------------------------------------------------------------------------------------
// 7: the duplicate index rebuild is resumable.

TEST(StoreFaults, InterruptedDedupRebuildResumesAndEqualsAFullRebuild) {
  TempDir d;
  const int kArticles = 250;
  {
    auto st = open_store(d.str());
    ASSERT_TRUE(st);
    for (int i = 0; i < kArticles; ++i) {
      st->put_article(make(i), "");
      if (i % 10 == 0) {  // exact copies under other URLs (same fingerprint)
        Article c = make(i);
        c.url = c.canonical_url = "https://copy.test/" + std::to_string(i);
        st->put_article(c, "");
      }
    }
    st->begin_dedup_rebuild();
    EXPECT_FALSE(st->continue_dedup_rebuild(nullptr, 100, 7));  // "killed" after 100 articles
    EXPECT_TRUE(st->dedup_rebuild_progress().pending);
  }
  const size_t total = dump_family(d.str(), "articles").size();
  ASSERT_GT(total, 200u);
  {
    // A restart continues where the rebuild stopped (a deferred open leaves it to the caller).
    auto st = open_store(d.str(), nullptr, /*defer=*/true);
    ASSERT_TRUE(st);
    auto p = st->dedup_rebuild_progress();
    EXPECT_TRUE(p.pending);
    EXPECT_GE(p.indexed, 90u);
    // Writes go on during the rebuild.
    EXPECT_EQ(st->put_article(make(5000), "").kind, PutKind::New);
    std::atomic<bool> stop{true};
    EXPECT_FALSE(st->continue_dedup_rebuild(&stop));  // a stop request pauses it
    // Less than a full pass is left: it does not start over.
    EXPECT_TRUE(st->continue_dedup_rebuild(nullptr, total + 1 - 100, 13));
    EXPECT_FALSE(st->dedup_rebuild_progress().pending);
    EXPECT_EQ(st->get_meta("dedup_index_format"), std::optional<std::string>(std::to_string(kDedupIndexFormat)));
    EXPECT_FALSE(st->get_meta("dedup_rebuild_cursor"));
  }
  const auto resumed = dump_family(d.str(), "dedup");
  {
    auto st = open_store(d.str());
    ASSERT_TRUE(st);
    st->rebuild_dedup_index();  // in one go
  }
  const auto full = dump_family(d.str(), "dedup");
  EXPECT_EQ(resumed.size(), full.size());
  EXPECT_TRUE(resumed == full);
  // A plain open (CLI tools) finishes an interrupted rebuild before returning.
  {
    auto st = open_store(d.str());
    ASSERT_TRUE(st);
    st->begin_dedup_rebuild();
    EXPECT_FALSE(st->continue_dedup_rebuild(nullptr, 50));
  }
  {
    auto st = open_store(d.str());
    ASSERT_TRUE(st);
    EXPECT_FALSE(st->dedup_rebuild_progress().pending);
    Article c = make(17);
    c.url = c.canonical_url = "https://copy.test/late-17";
    EXPECT_EQ(st->put_article(c, "").kind, PutKind::Duplicate);
  }
}

// The rebuild computes sketches outside the write lock: a record updated by put_article while its chunk is being
// computed must be indexed as it is now, not as it was read (the sketch entries 'k' of the index equal a full
// rebuild's afterwards). The hook runs between the two phases, as a concurrent writer would.
TEST(StoreFaults, RebuildConcurrentWithUpdatesIndexesTheLatestRecords) {
  TempDir d;
  const int kArticles = 60;
  int updated = 0;
  {
    auto st = open_store(d.str());
    ASSERT_TRUE(st);
    std::map<std::string, int> number;  // article id -> n
    for (int i = 0; i < kArticles; ++i) number[st->put_article(make(i), "").id] = i;
    st->begin_dedup_rebuild();
    st->set_rebuild_chunk_hook_for_test([&](const std::vector<std::string>& keys) {
      for (const auto& k : keys) {
        auto it = number.find(k);
        if (it == number.end() || it->second % 2) continue;
        Article a = make(it->second);
        a.body.push_back(baotin::testing::vn_words(it->second * 31 + 7, 40));  // a new version with other text
        EXPECT_EQ(st->put_article(a, "").kind, PutKind::Updated);
        ++updated;
      }
    });
    EXPECT_TRUE(st->continue_dedup_rebuild(nullptr, 0, 7));
    EXPECT_FALSE(st->dedup_rebuild_progress().pending);
  }
  EXPECT_EQ(updated, kArticles / 2);
  auto sketches = [](const std::vector<std::pair<std::string, std::string>>& all) {
    std::vector<std::pair<std::string, std::string>> k;
    for (const auto& e : all)
      if (!e.first.empty() && e.first[0] == 'k') k.push_back(e);
    return k;
  };
  const auto concurrent = sketches(dump_family(d.str(), "dedup"));
  {
    auto st = open_store(d.str());
    ASSERT_TRUE(st);
    st->rebuild_dedup_index();
  }
  const auto full = sketches(dump_family(d.str(), "dedup"));
  EXPECT_EQ(concurrent.size(), static_cast<size_t>(kArticles));
  EXPECT_TRUE(concurrent == full);
}
