// Export of stored articles as JSON Lines or CSV: a sequential scan of the store (bounded memory), driven by the
// change log for the cursor; and the change stream of `export --follow`.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace baotin {

struct ExportOptions {
  std::string format = "jsonl";  // "jsonl" or "csv"
  uint64_t since = 0;            // change-log cursor: only records changed after this seq
  std::string site;              // only this site (empty = all)
  std::string category;          // only records with exactly this category (empty = all)
  std::string language;          // only records with this language, ASCII case-insensitive (empty = all)
  // Published time window, epoch seconds: from <= published < to_exclusive. A record without a (parseable)
  // published time is left out when either bound is set.
  std::optional<int64_t> from, to_exclusive;
  bool versions = false;         // every version changed after `since`, not only the latest
  bool one_per_cluster = false;  // leave copies (duplicate_of set) out: the original stands for its cluster
  bool bom = false;              // CSV: start with a UTF-8 byte order mark (spreadsheets)
  // Memory bound: at most this many changed records are held (id -> change seq, ~100 B each) per pass over the
  // store; more take further passes over the id range (each pass re-reads the change log).
  size_t pass_records = 2'000'000;
};

// Writes the selected records to `out` and returns the last change-log seq examined (pass it as
// `since` next time to get only what changed in between); returns `since` when nothing is newer.
//
// Latest mode (versions=false): each article changed after `since` appears once, as its latest version (the
// version named by its last change event), with "seq" = that event. Versions mode: one record per new/updated/
// duplicate version event after `since`, "seq" = that event.
// How it reads: one pass over the change log after `since` collects the changed ids (and their last seq) of a
// range of ids, bounded by pass_records; then, when those are a sizeable part of the store, the records are read
// by one sequential scan of the id range (output in id order), else by point reads in change order (a small
// `--since` increment). A change log larger than pass_records splits the id range into several passes.
// JSONL: one Article JSON object (+ "seq") per line, the stored bytes unchanged. CSV: RFC 4180 (CRLF, quoted when
// needed) with a header row; body paragraphs joined with "\n\n" (a paragraph never holds a newline); list fields
// (authors, tags, fields, warnings) and images ([{"url","caption"}]) as JSON arrays in the cell.
// Throws std::invalid_argument for an unknown format, StoreError on a read error.
uint64_t export_records(const Store& store, const ExportOptions& opts, std::ostream& out);

// `export --follow`: writes each change event with seq > after (in order) as one JSONL line: the record of the
// version the event names, with "seq" and "change" (new|updated|duplicate|cluster_original_moved; "original" too
// for a move) added. Filters of `opts` (site, category, language, published window, one_per_cluster) apply;
// format, versions and since are ignored. The stream is flushed after each line. Returns the last seq examined
// (every event up to it was written or filtered out); stops early when `stop` becomes true or `out` fails.
// `progress` (when given) is set to that seq after every event, so that a read error thrown mid-way (StoreError)
// leaves the caller knowing where to resume without repeating a line.
uint64_t write_changes(const Store& store, uint64_t after, const ExportOptions& opts, std::ostream& out,
                       const std::atomic<bool>* stop = nullptr, uint64_t* progress = nullptr);

// Whether any change event of the store names `site` (a scan of the change log, stopped at the first match).
bool store_has_site(const Store& store, const std::string& site);

// Parses an --from/--to bound: "YYYY-MM-DD" (a day in +07:00: --from = its start, --to = its end, inclusive) or
// "YYYY-MM-DDTHH:MM[:SS]" with an optional offset ("Z", "+HH:MM", "-HH:MM"; none = +07:00). Returns the epoch of
// the bound's first second for `from`, of the first second after it for `to` (to_exclusive); nullopt if invalid.
std::optional<int64_t> parse_export_bound(std::string_view text, bool is_to);

// The CSV columns, in order.
const std::vector<std::string>& csv_columns();

// One RFC 4180 field: quoted (with doubled quotes) when it contains , " CR or LF.
std::string csv_field(const std::string& s);

// An output buffer over a file descriptor (1 MiB), for export: write errors keep their errno (EPIPE: the reader
// went away). Does not close the descriptor.
class FdOutBuf : public std::streambuf {
 public:
  explicit FdOutBuf(int fd);
  ~FdOutBuf() override;
  int error() const { return errno_; }  // errno of the first failed write (0 = none)

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

 private:
  bool drain();
  int fd_;
  int errno_ = 0;
  std::vector<char> buf_;
};

// Streaming zstd compression onto another streambuf: constant memory (libzstd's streaming buffers), one zstd
// frame per stream, ended by finish() (also done by the destructor). pubsync() flushes a block (ZSTD_e_flush), so
// a reader of a followed stream gets each line without waiting for the frame's end. The output is readable by
// `zstd -d`.
class ZstdOutBuf : public std::streambuf {
 public:
  explicit ZstdOutBuf(std::streambuf* sink, int level = 3);
  ~ZstdOutBuf() override;
  bool finish();  // ends the frame and flushes the sink; false on a compression or write error
  bool failed() const { return failed_; }

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

 private:
  bool compress(const char* data, size_t n, int mode);
  std::streambuf* sink_;
  void* cctx_ = nullptr;  // ZSTD_CCtx
  std::vector<char> in_, out_;
  bool failed_ = false, finished_ = false;
};

}  // namespace baotin
