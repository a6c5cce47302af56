#include "store/export.h"

#include <spdlog/spdlog.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/date.h"
#include "core/text.h"
#include "store/bytes.h"

namespace baotin {

namespace {

using Family = Store::Family;

// --- Change events, read without a JSON parser: the store writes them itself (store.cpp to_json(ChangeEvent)),
// with plain string values (hex ids, template names or hosts, ISO times). Anything else falls back to nlohmann.

struct LiteEvent {
  uint64_t seq = 0;
  uint32_t version = 0;
  std::string type, id, site, original, at;
};

// `pat` is the key with its quotes and colon: "\"id\":".
bool plain_string_field(std::string_view js, std::string_view pat, std::string& out) {
  const size_t p = js.find(pat);
  if (p == std::string_view::npos) return false;
  size_t i = p + pat.size();
  if (js.compare(i, 4, "null") == 0) {
    out.clear();
    return true;
  }
  if (i >= js.size() || js[i] != '"') return false;
  const size_t e = js.find('"', i + 1);
  if (e == std::string_view::npos) return false;
  const std::string_view v = js.substr(i + 1, e - i - 1);
  if (v.find('\\') != std::string_view::npos) return false;  // escapes: let the real parser do it
  out.assign(v);
  return true;
}

bool uint_field(std::string_view js, std::string_view pat, uint64_t& out) {
  const size_t p = js.find(pat);
  if (p == std::string_view::npos) return false;
  size_t i = p + pat.size();
  if (i >= js.size() || js[i] < '0' || js[i] > '9') return false;
  uint64_t v = 0;
  for (; i < js.size() && js[i] >= '0' && js[i] <= '9'; ++i) v = v * 10 + static_cast<uint64_t>(js[i] - '0');
  out = v;
  return true;
}

bool parse_event(std::string_view key, std::string_view value, LiteEvent& e) {
  if (key.size() != 8) return false;
  e.seq = read_be(key);
  uint64_t v = 0;
  e.original.clear();
  if (plain_string_field(value, "\"type\":", e.type) && plain_string_field(value, "\"id\":", e.id) &&
      plain_string_field(value, "\"site\":", e.site) && uint_field(value, "\"version\":", v) && v <= UINT32_MAX) {
    e.version = static_cast<uint32_t>(v);
    if (value.find("\"original\":") != std::string_view::npos &&
        !plain_string_field(value, "\"original\":", e.original))
      goto slow;
    return true;
  }
slow:
  auto j = nlohmann::json::parse(value.begin(), value.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    spdlog::error("export: change event {} is not valid JSON; skipped", e.seq);
    return false;
  }
  auto str = [&](const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  e.type = str("type");
  e.id = str("id");
  e.site = str("site");
  e.original = str("original");
  e.at = str("at");
  auto it = j.find("version");
  e.version = it != j.end() && it->is_number_unsigned() ? it->get<uint32_t>() : 0;
  return true;
}

// The export pass needs the id and version of every event, the site only with --site and the type only in
// versions mode: a lean read of just those (the full parse_event() when anything looks unusual).
bool parse_event_for_export(std::string_view key, std::string_view value, bool need_site, bool need_type, LiteEvent& e) {
  if (key.size() != 8) return false;
  uint64_t v = 0;
  if (plain_string_field(value, "\"id\":", e.id) && uint_field(value, "\"version\":", v) && v <= UINT32_MAX &&
      (!need_site || plain_string_field(value, "\"site\":", e.site)) &&
      (!need_type || plain_string_field(value, "\"type\":", e.type))) {
    e.seq = read_be(key);
    e.version = static_cast<uint32_t>(v);
    return true;
  }
  return parse_event(key, value, e);
}

// --- Records

bool ascii_iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool content_filters(const ExportOptions& o) {
  return !o.category.empty() || !o.language.empty() || o.from || o.to_exclusive || o.one_per_cluster;
}

std::string json_string(const nlohmann::json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool record_passes(const nlohmann::json& j, const ExportOptions& o) {
  if (!o.category.empty() && json_string(j, "category") != o.category) return false;
  if (!o.language.empty() && !ascii_iequal(json_string(j, "language"), o.language)) return false;
  if (o.one_per_cluster && !json_string(j, "duplicate_of").empty()) return false;
  if (o.from || o.to_exclusive) {
    const std::string p = json_string(j, "published");
    auto t = p.empty() ? std::nullopt : iso_to_epoch(p);
    if (!t) return false;
    if (o.from && *t < *o.from) return false;
    if (o.to_exclusive && *t >= *o.to_exclusive) return false;
  }
  return true;
}

std::string json_array(const std::vector<std::string>& v) {
  return nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string images_json(const std::vector<Image>& images) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& im : images) arr.push_back({{"url", im.url}, {"caption", im.caption}});
  return arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void write_csv_row(std::ostream& out, const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) line += ',';
    line += csv_field(fields[i]);
  }
  line += "\r\n";
  out.write(line.data(), static_cast<std::streamsize>(line.size()));
}

std::vector<std::string> csv_row(const Article& a, uint64_t seq) {
  return {std::to_string(seq),
          a.id,
          std::to_string(a.version),
          a.url,
          a.canonical_url,
          a.site,
          a.feed,
          a.title,
          a.lead,
          body_text(a),
          json_array(a.authors),
          a.published,
          a.updated,
          a.fetched_at,
          a.category,
          json_array(a.tags),
          images_json(a.images),
          a.language,
          a.content_hash,
          a.template_name,
          a.extractor,
          json_array(a.fields),
          a.partial ? "true" : "false",
          json_array(a.warnings),
          a.duplicate_of,
          a.cluster,
          a.reason};
}

// The stored JSON object without its closing brace (and trailing whitespace), or nullopt when it is not an
// object. `empty` says it was "{}".
std::optional<std::string_view> open_object(std::string_view js, bool& empty) {
  while (!js.empty() && (js.back() == '\n' || js.back() == ' ' || js.back() == '\r' || js.back() == '\t'))
    js.remove_suffix(1);
  if (js.size() < 2 || js.front() != '{' || js.back() != '}') return std::nullopt;
  js.remove_suffix(1);
  size_t i = 1;
  while (i < js.size() && (js[i] == ' ' || js[i] == '\n')) ++i;
  empty = i == js.size();
  return js;
}

// Writes one record (stored JSON `value`) with its change seq; false when it was filtered out or unreadable.
class Emitter {
 public:
  Emitter(const ExportOptions& o, std::ostream& out) : o_(o), out_(out), csv_(o.format == "csv"), filters_(content_filters(o)) {}

  bool emit(std::string_view value, uint64_t seq, std::string_view extra = {}) {
    if (!csv_ && !filters_) return splice(value, seq, extra);
    auto j = nlohmann::json::parse(value.begin(), value.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      ++unreadable;
      if (unreadable <= 10) spdlog::warn("export: the record of change {} is not valid JSON; skipped", seq);
      return false;
    }
    if (!record_passes(j, o_)) return false;
    if (!csv_) return splice(value, seq, extra);
    write_csv_row(out_, csv_row(article_from_json(j), seq));
    return true;
  }

  size_t unreadable = 0;

 private:
  bool splice(std::string_view value, uint64_t seq, std::string_view extra) {
    bool empty = false;
    auto body = open_object(value, empty);
    if (!body) {
      ++unreadable;
      if (unreadable <= 10) spdlog::warn("export: the record of change {} is not a JSON object; skipped", seq);
      return false;
    }
    out_.write(body->data(), static_cast<std::streamsize>(body->size()));
    line_.assign(empty ? "\"seq\":" : ",\"seq\":");
    char num[24];
    const int k = std::snprintf(num, sizeof num, "%llu", static_cast<unsigned long long>(seq));
    line_.append(num, static_cast<size_t>(k));
    line_ += extra;
    line_ += "}\n";
    out_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
    return true;
  }

  const ExportOptions& o_;
  std::ostream& out_;
  const bool csv_, filters_;
  std::string line_;
};

struct Hit {
  uint64_t seq = 0;
  uint32_t version = 0;
  bool done = false;
};

// Keys looked up by string_view (the scanned key) without building a string per record.
using HitMap = std::unordered_map<std::string, Hit, StringViewHash, std::equal_to<>>;

}  // namespace

const std::vector<std::string>& csv_columns() {
  static const std::vector<std::string> cols = {
      "seq",       "id",         "version",  "url",          "canonical_url", "site",      "feed",
      "title",     "lead",       "body",     "authors",      "published",     "updated",   "fetched_at",
      "category",  "tags",       "images",   "language",     "content_hash",  "template",  "extractor",
      "fields",    "partial",    "warnings", "duplicate_of", "cluster",   "reason"};
  return cols;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

uint64_t export_records(const Store& store, const ExportOptions& opts, std::ostream& out) {
  const bool csv = opts.format == "csv";
  if (!csv && opts.format != "jsonl")
    throw std::invalid_argument("unknown export format '" + opts.format + "' (use jsonl or csv)");
  if (opts.since == UINT64_MAX) return opts.since;
  const Family family = opts.versions ? Family::Versions : Family::Articles;
  const size_t budget = std::max<size_t>(opts.pass_records, 16);

  if (csv) {
    if (opts.bom) out.write("\xEF\xBB\xBF", 3);
    write_csv_row(out, csv_columns());
  }
  Emitter emitter(opts, out);

  uint64_t cursor = opts.since;   // the last change examined (fixed by the first pass)
  bool cursor_fixed = false;
  std::string lo;                 // this pass's id range: [lo, hi), hi "" = unbounded
  HitMap hits;
  hits.reserve(std::min<size_t>(budget + 1, opts.since == 0 ? store.estimate_keys(Family::Changes) + 16 : 1024));
  size_t missing = 0;
  LiteEvent e;
  for (;;) {
    std::string hi;
    bool split = false;
    hits.clear();
    // 1. The change log after `since` (up to the cursor fixed by the first pass): the last change of every
    //    selected record whose key is in [lo, hi).
    const std::string log_from = be64(opts.since + 1);
    const std::string log_to = cursor_fixed && cursor < UINT64_MAX ? be64(cursor + 1) : std::string();
    store.scan_family(Family::Changes, log_from, log_to, [&](std::string_view k, std::string_view v) {
      if (!parse_event_for_export(k, v, !opts.site.empty(), opts.versions, e)) return true;
      if (!cursor_fixed) cursor = std::max(cursor, e.seq);
      if (!opts.site.empty() && e.site != opts.site) return true;
      if (opts.versions && e.type == "cluster_original_moved") return true;  // names no new version
      if (opts.versions) put_be32(e.id, e.version);  // the key in `versions`: id + big-endian version
      const std::string& key = e.id;
      if (key < lo || (!hi.empty() && key >= hi)) return true;
      auto found = hits.find(std::string_view(key));
      Hit& h = found != hits.end() ? found->second : hits.emplace(key, Hit{}).first->second;
      h.seq = e.seq;
      h.version = e.version;
      if (hits.size() > budget) {
        // Over the memory bound: keep the lower half of the id range for this pass, the rest for the next.
        std::vector<std::string_view> keys;
        keys.reserve(hits.size());
        for (const auto& [hk, _] : hits) keys.emplace_back(hk);
        auto mid = keys.begin() + static_cast<std::ptrdiff_t>(keys.size() / 2);
        std::nth_element(keys.begin(), mid, keys.end());
        std::string new_hi(*mid);
        for (auto it = hits.begin(); it != hits.end();) it = it->first >= new_hi ? hits.erase(it) : std::next(it);
        hi = std::move(new_hi);
        split = true;
      }
      return true;
    });
    cursor_fixed = true;

    // 2. The records: one sequential scan of [lo, hi) when the selection is a sizeable part of the store, else
    //    point reads in change order.
    const uint64_t est = store.estimate_keys(family);
    const bool scan = split || !lo.empty() || opts.since == 0 || est == 0 || hits.size() * 8 >= est;
    if (!hits.empty() && scan) {
      size_t left = hits.size();
      store.scan_family(family, lo, hi, [&](std::string_view k, std::string_view v) {
        auto it = hits.find(k);
        if (it == hits.end() || it->second.done) return true;
        it->second.done = true;
        emitter.emit(v, it->second.seq);
        return --left > 0;
      });
    } else if (!hits.empty()) {
      std::vector<std::pair<uint64_t, const std::string*>> order;
      order.reserve(hits.size());
      for (const auto& [k, h] : hits) order.emplace_back(h.seq, &k);
      std::sort(order.begin(), order.end());
      for (const auto& [seq, k] : order) {
        Hit& h = hits[*k];
        const std::string id = opts.versions ? k->substr(0, k->size() - 4) : *k;
        auto js = store.version_json(id, h.version);
        if (!js) continue;
        h.done = true;
        emitter.emit(*js, seq);
      }
    }
    for (const auto& [k, h] : hits) {
      if (h.done) continue;
      if (++missing <= 10)
        spdlog::warn("export: the record of change {} ({}) is missing; skipped", h.seq,
                     opts.versions ? k.substr(0, k.size() - 4) : k);
    }
    if (!out) break;
    if (!split) break;
    lo = hi;
  }
  if (missing > 10) spdlog::warn("export: {} records named by the change log are missing", missing);
  out.flush();
  return cursor;
}

uint64_t write_changes(const Store& store, uint64_t after, const ExportOptions& opts, std::ostream& out,
                       const std::atomic<bool>* stop, uint64_t* progress) {
  if (progress) *progress = after;
  if (after == UINT64_MAX) return after;
  ExportOptions o = opts;
  o.format = "jsonl";
  Emitter emitter(o, out);
  uint64_t last = after;
  LiteEvent e;
  std::string extra;
  store.scan_family(Family::Changes, be64(after + 1), "", [&](std::string_view k, std::string_view v) {
    if (stop && stop->load()) return false;
    if (!parse_event(k, v, e)) {
      last = read_be(k);
      if (progress) *progress = last;
      return true;
    }
    if (!opts.site.empty() && e.site != opts.site) {
      last = e.seq;
      if (progress) *progress = last;
      return true;
    }
    extra = ",\"change\":" + nlohmann::json(e.type).dump();
    if (!e.original.empty()) extra += ",\"original\":" + nlohmann::json(e.original).dump();
    auto js = store.version_json(e.id, e.version);
    if (js) {
      emitter.emit(*js, e.seq, extra);
    } else {
      // The event is never dropped silently: it is written without its record.
      nlohmann::json j = {{"id", e.id}, {"version", e.version}, {"site", e.site}, {"seq", e.seq},
                          {"change", e.type}, {"record_missing", true}};
      if (!e.original.empty()) j["original"] = e.original;
      spdlog::warn("export: the record of change {} ({} v{}) is missing", e.seq, e.id, e.version);
      out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    }
    out.flush();
    if (!out) return false;
    last = e.seq;
    if (progress) *progress = last;
    return true;
  });
  return last;
}

bool store_has_site(const Store& store, const std::string& site) {
  bool found = false;
  LiteEvent e;
  store.scan_family(Family::Changes, "", "", [&](std::string_view k, std::string_view v) {
    if (parse_event(k, v, e) && e.site == site) found = true;
    return !found;
  });
  return found;
}

std::optional<int64_t> parse_export_bound(std::string_view t, bool is_to) {
  auto digits = [&](size_t pos, size_t n) {
    if (pos + n > t.size()) return false;
    for (size_t i = pos; i < pos + n; ++i)
      if (t[i] < '0' || t[i] > '9') return false;
    return true;
  };
  if (!digits(0, 4) || t.size() < 10 || t[4] != '-' || !digits(5, 2) || t[7] != '-' || !digits(8, 2)) return std::nullopt;
  const int month = std::stoi(std::string(t.substr(5, 2))), day = std::stoi(std::string(t.substr(8, 2)));
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  std::string iso(t.substr(0, 10));
  if (t.size() == 10) {
    auto start = iso_to_epoch(iso + "T00:00:00+07:00");
    if (!start) return std::nullopt;
    // The day's calendar check: 2026-02-31 is not a day.
    if (epoch_to_iso_vn(*start).compare(0, 10, iso) != 0) return std::nullopt;
    return is_to ? *start + 86400 : *start;
  }
  if (t[10] != 'T' && t[10] != ' ') return std::nullopt;
  if (!digits(11, 2) || t.size() < 16 || t[13] != ':' || !digits(14, 2)) return std::nullopt;
  std::string time(t.substr(11, 5));
  size_t i = 16;
  if (i < t.size() && t[i] == ':') {
    if (!digits(17, 2)) return std::nullopt;
    time += std::string(t.substr(16, 3));
    i = 19;
  } else {
    time += ":00";
  }
  std::string off = "+07:00";
  const std::string_view rest = t.substr(i);
  if (rest == "Z") {
    off = "+00:00";
  } else if (!rest.empty()) {
    if (rest.size() != 6 || (rest[0] != '+' && rest[0] != '-') || !digits(i + 1, 2) || rest[3] != ':' || !digits(i + 4, 2))
      return std::nullopt;
    off = std::string(rest);
  }
  if (std::stoi(time.substr(0, 2)) > 23 || std::stoi(time.substr(3, 2)) > 59 || std::stoi(time.substr(6, 2)) > 59)
    return std::nullopt;
  auto start = iso_to_epoch(iso + "T" + time + off);
  if (!start) return std::nullopt;
  auto day_start = iso_to_epoch(iso + "T00:00:00+07:00");
  if (!day_start || epoch_to_iso_vn(*day_start).compare(0, 10, iso) != 0) return std::nullopt;
  return is_to ? *start + 1 : *start;
}

// --- Output buffers

FdOutBuf::FdOutBuf(int fd) : fd_(fd), buf_(1u << 20) { setp(buf_.data(), buf_.data() + buf_.size()); }

FdOutBuf::~FdOutBuf() { drain(); }

bool FdOutBuf::drain() {
  const char* p = pbase();
  size_t n = static_cast<size_t>(pptr() - pbase());
  setp(buf_.data(), buf_.data() + buf_.size());
  if (errno_) return false;
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      errno_ = errno;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

FdOutBuf::int_type FdOutBuf::overflow(int_type c) {
  if (!drain()) return traits_type::eof();
  if (!traits_type::eq_int_type(c, traits_type::eof())) {
    *pptr() = traits_type::to_char_type(c);
    pbump(1);
  }
  return traits_type::not_eof(c);
}

std::streamsize FdOutBuf::xsputn(const char* s, std::streamsize n) {
  if (errno_) return 0;
  const auto room = epptr() - pptr();
  if (n <= room) {
    std::memcpy(pptr(), s, static_cast<size_t>(n));
    pbump(static_cast<int>(n));
    return n;
  }
  if (!drain()) return 0;
  if (n < static_cast<std::streamsize>(buf_.size())) {
    std::memcpy(pptr(), s, static_cast<size_t>(n));
    pbump(static_cast<int>(n));
    return n;
  }
  size_t left = static_cast<size_t>(n);
  while (left > 0) {
    const ssize_t w = ::write(fd_, s, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      errno_ = errno;
      return n - static_cast<std::streamsize>(left);
    }
    s += w;
    left -= static_cast<size_t>(w);
  }
  return n;
}

int FdOutBuf::sync() { return drain() ? 0 : -1; }

ZstdOutBuf::ZstdOutBuf(std::streambuf* sink, int level)
    : sink_(sink), in_(ZSTD_CStreamInSize()), out_(ZSTD_CStreamOutSize()) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  cctx_ = c;
  if (!c || ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level)) ||
      ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)))
    failed_ = true;
  setp(in_.data(), in_.data() + in_.size());
}

ZstdOutBuf::~ZstdOutBuf() {
  finish();
  ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(cctx_));
}

bool ZstdOutBuf::compress(const char* data, size_t n, int mode) {
  if (failed_) return false;
  ZSTD_inBuffer in{data, n, 0};
  for (;;) {
    ZSTD_outBuffer o{out_.data(), out_.size(), 0};
    const size_t r = ZSTD_compressStream2(static_cast<ZSTD_CCtx*>(cctx_), &o, &in, static_cast<ZSTD_EndDirective>(mode));
    if (ZSTD_isError(r)) {
      spdlog::error("export: zstd compression failed: {}", ZSTD_getErrorName(r));
      failed_ = true;
      return false;
    }
    if (o.pos > 0 && sink_->sputn(out_.data(), static_cast<std::streamsize>(o.pos)) != static_cast<std::streamsize>(o.pos)) {
      failed_ = true;
      return false;
    }
    if (mode == ZSTD_e_continue ? in.pos == in.size : r == 0) return true;
  }
}

ZstdOutBuf::int_type ZstdOutBuf::overflow(int_type c) {
  if (finished_ || !compress(pbase(), static_cast<size_t>(pptr() - pbase()), ZSTD_e_continue)) return traits_type::eof();
  setp(in_.data(), in_.data() + in_.size());
  if (!traits_type::eq_int_type(c, traits_type::eof())) {
    *pptr() = traits_type::to_char_type(c);
    pbump(1);
  }
  return traits_type::not_eof(c);
}

std::streamsize ZstdOutBuf::xsputn(const char* s, std::streamsize n) {
  std::streamsize done = 0;
  while (done < n) {
    if (pptr() == epptr() && traits_type::eq_int_type(overflow(traits_type::eof()), traits_type::eof())) return done;
    const auto k = std::min<std::streamsize>(n - done, epptr() - pptr());
    std::memcpy(pptr(), s + done, static_cast<size_t>(k));
    pbump(static_cast<int>(k));
    done += k;
  }
  return done;
}

int ZstdOutBuf::sync() {
  if (finished_) return failed_ ? -1 : 0;
  const bool ok = compress(pbase(), static_cast<size_t>(pptr() - pbase()), ZSTD_e_flush);
  setp(in_.data(), in_.data() + in_.size());
  return ok && sink_->pubsync() == 0 ? 0 : -1;
}

bool ZstdOutBuf::finish() {
  if (finished_) return !failed_;
  const bool ok = compress(pbase(), static_cast<size_t>(pptr() - pbase()), ZSTD_e_end);
  setp(in_.data(), in_.data() + in_.size());
  finished_ = true;
  return ok && sink_->pubsync() == 0 && !failed_;
}

}  // namespace baotin
