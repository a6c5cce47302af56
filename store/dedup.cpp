#include "store/dedup.h"

#include "core/text.h"
#include "store/bytes.h"
#include "core/date.h"
#include "store/store.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/write_batch.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <memory>
#include <set>
#include <unordered_map>

namespace baotin {
namespace {

constexpr uint64_t kSeedToken = 0x9E3779B97F4A7C15ULL;
constexpr size_t kMaxTitleHashes = 64;

uint64_t mix64(uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x;
}

// Calls f(const char16_t*, len) for each token of the normalised text (NFC, lower-case).
template <class F>
void for_each_token(std::string_view utf8, F&& f) {
  if (utf8.empty()) return;
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(err);
  if (U_SUCCESS(err) && nfc) {
    UErrorCode e2 = U_ZERO_ERROR;
    if (!nfc->isNormalized(u, e2) || U_FAILURE(e2)) {
      e2 = U_ZERO_ERROR;
      icu::UnicodeString n = nfc->normalize(u, e2);
      if (U_SUCCESS(e2)) u = std::move(n);
    }
  }
  static const icu::Locale vi("vi");
  u.toLower(vi);
  const char16_t* buf = u.getBuffer();
  const int32_t len = u.length();
  int32_t start = -1;
  int32_t i = 0;
  while (i < len) {
    int32_t at = i;
    UChar32 c;
    U16_NEXT(buf, i, len, c);
    bool word = u_isalnum(c) || (U_GET_GC_MASK(c) & U_GC_M_MASK) != 0;
    if (word) {
      if (start < 0) start = at;
    } else if (start >= 0) {
      f(buf + start, static_cast<size_t>(at - start));
      start = -1;
    }
  }
  if (start >= 0) f(buf + start, static_cast<size_t>(len - start));
}

uint64_t token_hash(const char16_t* p, size_t n) { return XXH3_64bits_withSeed(p, n * sizeof(char16_t), kSeedToken); }

struct TextTokens {
  std::vector<uint64_t> hashes;  // token hashes in order: title, lead, body
  size_t title_tokens = 0;
  size_t core_tokens = 0;  // title + lead
  std::array<uint8_t, 10> title_digits{};
};

TextTokens article_tokens(const Article& a) {
  TextTokens t;
  auto add = [&](const std::string& s) { for_each_token(s, [&](const char16_t* p, size_t n) { t.hashes.push_back(token_hash(p, n)); }); };
  add(a.title);
  t.title_tokens = t.hashes.size();
  for (unsigned char c : a.title)  // ASCII digits (the tokenizer keeps other scripts' digits as letters of tokens)
    if (c >= '0' && c <= '9' && t.title_digits[c - '0'] < 255) ++t.title_digits[c - '0'];
  add(a.lead);
  t.core_tokens = t.hashes.size();
  for (const auto& p : a.body) add(p);
  return t;
}

// 3-token shingle hash; `pos` = index of the first token.
uint64_t shingle_hash(const std::vector<uint64_t>& h, size_t pos) {
  return mix64(h[pos] ^ mix64(h[pos + 1] + 0x632BE59BD9B4E019ULL) ^ mix64(mix64(h[pos + 2]) + 0x8CB92BA72F3D8DD7ULL));
}

// (shingle hash, weight) for an article: title shingles weigh 2.
std::vector<std::pair<uint64_t, int>> shingles_of(const TextTokens& t) {
  std::vector<std::pair<uint64_t, int>> out;
  const auto& h = t.hashes;
  if (h.empty()) return out;
  if (h.size() < 3) {
    uint64_t x = h[0];
    for (size_t i = 1; i < h.size(); ++i) x = mix64(x ^ h[i]);
    out.emplace_back(x, 1);
    return out;
  }
  out.reserve(h.size() - 2);
  for (size_t i = 0; i + 2 < h.size(); ++i) out.emplace_back(shingle_hash(h, i), i + 2 < t.title_tokens ? 2 : 1);
  return out;
}

uint64_t simhash_of(const std::vector<std::pair<uint64_t, int>>& sh) {
  if (sh.empty()) return 0;
  std::array<int64_t, 64> v{};
  for (auto [x, w] : sh)
    for (int b = 0; b < 64; ++b) v[b] += ((x >> b) & 1) ? w : -w;
  uint64_t out = 0;
  for (int b = 0; b < 64; ++b)
    if (v[b] > 0) out |= 1ULL << b;
  return out;
}

template <class T>
void put_le(std::string& s, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  s.append(b, sizeof(T));
}
template <class T>
bool get_le(std::string_view& s, T& v) {
  if (s.size() < sizeof(T)) return false;
  std::memcpy(&v, s.data(), sizeof(T));
  s.remove_prefix(sizeof(T));
  return true;
}

std::string band_prefix(int band, uint64_t simhash) {
  std::string k = "s";
  k += static_cast<char>(band);
  put_be16(k, static_cast<uint16_t>(simhash >> (16 * band)));
  return k;
}
std::string sample_prefix(uint64_t h) {
  std::string k = "m";
  put_be64(k, h);
  return k;
}
// Full candidate key: prefix, day (descending: 0xFFFF - day, so a bucket's newest day comes first), id.
uint16_t day_key(uint16_t day) { return static_cast<uint16_t>(0xFFFF - day); }
std::string dated_key(std::string prefix, uint16_t day, const std::string& id) {
  put_be16(prefix, day_key(day));
  prefix += id;
  return prefix;
}
std::string core_prefix(uint64_t core) {
  std::string k = "c";
  put_be64(k, core);
  return k;
}
std::string lead_prefix(uint64_t lead) {
  std::string k = "l";
  put_be64(k, lead);
  return k;
}
uint64_t hash_range(const std::vector<uint64_t>& h, size_t from, size_t to) {
  uint64_t c = 0x2545F4914F6CDD1DULL;
  for (size_t i = from; i < to; ++i) c = mix64(c ^ h[i]) + 0x9E3779B97F4A7C15ULL;
  return c ? c : 1;
}

// Jaccard of two sorted distinct vectors.
double sorted_jaccard(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  if (a.empty() && b.empty()) return 1.0;
  size_t i = 0, j = 0, both = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) ++both, ++i, ++j;
    else if (a[i] < b[j]) ++i;
    else ++j;
  }
  return static_cast<double>(both) / static_cast<double>(a.size() + b.size() - both);
}

// Threshold of a bottom-k sketch: every shingle hash <= this is in the sketch iff it is in the set.
uint64_t sketch_limit(const NearSketch& s) {
  return s.bottom.size() < kSketchSize ? UINT64_MAX : static_cast<uint64_t>(s.bottom.back());
}

// Share of `small`'s sampled shingles (those decidable against `big`) present in `big`; -1 if undecidable.
double contained(const NearSketch& small, const NearSketch& big) {
  const uint64_t lim = sketch_limit(big);
  size_t total = 0, in = 0, j = 0;
  for (uint32_t x : small.bottom) {
    if (x > lim) break;
    ++total;
    while (j < big.bottom.size() && big.bottom[j] < x) ++j;
    if (j < big.bottom.size() && big.bottom[j] == x) ++in;
  }
  if (total < 8 && total < small.bottom.size()) return -1;  // too few decidable samples
  return total ? static_cast<double>(in) / static_cast<double>(total) : -1;
}

}  // namespace

std::vector<std::string> dedup_tokens(std::string_view utf8) {
  std::vector<std::string> out;
  for_each_token(utf8, [&](const char16_t* p, size_t n) {
    std::string s;
    icu::UnicodeString(false, p, static_cast<int32_t>(n)).toUTF8String(s);
    out.push_back(std::move(s));
  });
  return out;
}

int hamming(uint64_t a, uint64_t b) { return std::popcount(a ^ b); }

uint64_t simhash_article(const Article& a) { return simhash_of(shingles_of(article_tokens(a))); }

uint16_t dedup_day(const Article& a) {
  std::optional<int64_t> t = iso_to_epoch(a.published);
  if (!t) t = iso_to_epoch(a.fetched_at);
  if (!t) return 0;
  constexpr int64_t kVietnam = 7 * 3600;  // calendar day in Vietnam (UTC+7, no daylight saving)
  int64_t x = *t + kVietnam;
  int64_t d = x >= 0 ? x / 86400 : -((-x + 86399) / 86400);
  return static_cast<uint16_t>(std::clamp<int64_t>(d + 1, 1, 65535));
}

std::string exact_fingerprint(const Article& a) {
  XXH3_state_t* st = XXH3_createState();
  if (!st) return {};
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> guard(st, XXH3_freeState);
  XXH3_128bits_reset(st);
  size_t n = 0;
  auto add = [&](const std::string& s) {
    for_each_token(s, [&](const char16_t* p, size_t len) {
      if (n++) XXH3_128bits_update(st, u" ", sizeof(char16_t));
      XXH3_128bits_update(st, p, len * sizeof(char16_t));
    });
  };
  add(a.title);
  add(a.lead);
  for (const auto& p : a.body) add(p);
  if (n == 0) return {};
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits_digest(st));
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (unsigned char b : c.digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

// Entry digest: a few bytes of the sketch carried in the values of its candidate keys ('s': after the SimHash,
// 'm': the whole value), so that find_near() can drop a candidate verify() would reject without reading its
// sketch (see EntryDigest in dedup.h). Entries written before digests existed have none and are always read.
constexpr size_t kDigitsBytes = 5;             // title_digits, 4 bits a digit, capped at 15
constexpr size_t kSampleDigestBytes = kDigitsBytes + 4 + 1;  // + title bits + (title count | eligible << 7)

void put_digits(std::string& v, const NearSketch& s) {
  for (size_t d = 0; d < 10; d += 2)
    v += static_cast<char>(std::min<int>(s.title_digits[d], 15) | (std::min<int>(s.title_digits[d + 1], 15) << 4));
}
uint32_t title_bitmap(const std::vector<uint32_t>& title) {
  uint32_t bits = 0;
  for (uint32_t h : title) bits |= 1u << (mix64(h) >> 59);
  return bits;
}
void put_sample_digest(std::string& v, const NearSketch& s) {
  put_digits(v, s);
  put_le(v, title_bitmap(s.title));
  v += static_cast<char>(std::min<size_t>(s.title.size(), kMaxTitleHashes) | (s.eligible() ? 0x80 : 0));
}
EntryDigest digest_of_digits(const char* p) {
  EntryDigest d;
  d.has_digits = true;
  for (size_t i = 0; i < kDigitsBytes; ++i) {
    d.digits[2 * i] = static_cast<uint8_t>(p[i]) & 15;
    d.digits[2 * i + 1] = static_cast<uint8_t>(p[i]) >> 4;
  }
  return d;
}

NearSketch near_sketch(const Article& a) {
  NearSketch s;
  TextTokens t = article_tokens(a);
  s.tokens = static_cast<uint32_t>(std::min<size_t>(t.hashes.size(), UINT32_MAX));
  auto sh = shingles_of(t);
  s.simhash = simhash_of(sh);
  std::vector<uint64_t> all64;
  all64.reserve(sh.size());
  for (auto [x, w] : sh) all64.push_back(x);
  std::sort(all64.begin(), all64.end());
  all64.erase(std::unique(all64.begin(), all64.end()), all64.end());
  s.samples.assign(all64.begin(), all64.begin() + static_cast<std::ptrdiff_t>(std::min(kMinSamples, all64.size())));
  std::vector<uint32_t> all;  // 32-bit hashes for the sketch: the high halves, sorted because all64 is
  all.reserve(all64.size());
  for (uint64_t x : all64) all.push_back(static_cast<uint32_t>(x >> 32));
  all.erase(std::unique(all.begin(), all.end()), all.end());
  s.shingles = static_cast<uint32_t>(all.size());
  all.resize(std::min(all.size(), kSketchSize));
  s.bottom = std::move(all);
  for (size_t i = 0; i < t.title_tokens; ++i) s.title.push_back(static_cast<uint32_t>(t.hashes[i] >> 32));
  std::sort(s.title.begin(), s.title.end());
  s.title.erase(std::unique(s.title.begin(), s.title.end()), s.title.end());
  if (s.title.size() > kMaxTitleHashes) s.title.resize(kMaxTitleHashes);
  s.title_digits = t.title_digits;
  if (t.core_tokens > 0) {
    s.core = hash_range(t.hashes, 0, t.core_tokens);
    s.core_tokens = static_cast<uint32_t>(std::min<size_t>(t.core_tokens, UINT32_MAX));
  }
  if (t.core_tokens - t.title_tokens >= kMinLeadTokens) s.lead = hash_range(t.hashes, t.title_tokens, t.core_tokens);
  s.day = dedup_day(a);
  return s;
}

std::string NearSketch::serialize() const {
  std::string out;
  out.reserve(1 + 8 + 4 + 4 + 8 + 4 + 8 + 10 + 2 + 2 + 1 + 1 + 4 * (bottom.size() + title.size()) + 8 * samples.size());
  out += '\x03';  // format version (1: without core; 2: without day and 64-bit samples)
  put_le(out, simhash);
  put_le(out, tokens);
  put_le(out, shingles);
  put_le(out, core);
  put_le(out, core_tokens);
  put_le(out, lead);
  out.append(reinterpret_cast<const char*>(title_digits.data()), title_digits.size());
  put_le(out, day);
  put_le(out, static_cast<uint16_t>(bottom.size()));
  put_le(out, static_cast<uint8_t>(title.size()));
  const size_t ns = std::min(samples.size(), kMinSamples);
  put_le(out, static_cast<uint8_t>(ns));
  for (uint32_t x : bottom) put_le(out, x);
  for (uint32_t x : title) put_le(out, x);
  for (size_t i = 0; i < ns; ++i) put_le(out, samples[i]);
  return out;
}

std::optional<NearSketch> NearSketch::deserialize(std::string_view in) {
  if (in.empty() || (in[0] != '\x01' && in[0] != '\x02' && in[0] != '\x03')) return std::nullopt;
  const bool has_core = in[0] != '\x01';
  const bool has_samples = in[0] == '\x03';
  in.remove_prefix(1);
  NearSketch s;
  uint16_t nb = 0;
  uint8_t nt = 0, ns = 0;
  if (!get_le(in, s.simhash) || !get_le(in, s.tokens) || !get_le(in, s.shingles)) return std::nullopt;
  if (has_core) {
    if (!get_le(in, s.core) || !get_le(in, s.core_tokens) || !get_le(in, s.lead) || in.size() < s.title_digits.size()) return std::nullopt;
    std::memcpy(s.title_digits.data(), in.data(), s.title_digits.size());
    in.remove_prefix(s.title_digits.size());
  }
  if (has_samples && !get_le(in, s.day)) return std::nullopt;
  if (!get_le(in, nb) || !get_le(in, nt)) return std::nullopt;
  if (has_samples && !get_le(in, ns)) return std::nullopt;
  if (nb > kSketchSize || nt > kMaxTitleHashes || ns > kMinSamples || in.size() != 4u * (nb + nt) + 8u * ns)
    return std::nullopt;
  s.bottom.resize(nb);
  s.title.resize(nt);
  s.samples.resize(ns);
  for (auto& x : s.bottom) get_le(in, x);
  for (auto& x : s.title) get_le(in, x);
  for (auto& x : s.samples) get_le(in, x);
  if (!std::is_sorted(s.bottom.begin(), s.bottom.end())) return std::nullopt;
  if (!std::is_sorted(s.samples.begin(), s.samples.end())) return std::nullopt;
  return s;
}

Similarity similarity(const NearSketch& a, const NearSketch& b) {
  Similarity r;
  r.hamming = hamming(a.simhash, b.simhash);
  r.title = sorted_jaccard(a.title, b.title);
  if (a.bottom.empty() || b.bottom.empty()) return r;
  // Jaccard (Broder): among the k smallest hashes of the union, the share present in both.
  size_t i = 0, j = 0, seen = 0, both = 0;
  const size_t k = kSketchSize;
  while (seen < k && (i < a.bottom.size() || j < b.bottom.size())) {
    uint64_t x = i < a.bottom.size() ? a.bottom[i] : UINT64_MAX;
    uint64_t y = j < b.bottom.size() ? b.bottom[j] : UINT64_MAX;
    uint64_t v = std::min(x, y);
    // A value beyond a truncated sketch's limit cannot be decided; stop there.
    if (v > sketch_limit(a) || v > sketch_limit(b)) break;
    if (x == y) ++both, ++i, ++j;
    else if (x < y) ++i;
    else ++j;
    ++seen;
  }
  r.jaccard = seen ? static_cast<double>(both) / static_cast<double>(seen) : 0.0;
  const NearSketch& small = a.shingles <= b.shingles ? a : b;
  const NearSketch& big = a.shingles <= b.shingles ? b : a;
  r.size_ratio = big.shingles ? static_cast<double>(small.shingles) / big.shingles : 0.0;
  double c = contained(small, big);
  if (c < 0) {  // fall back to the Jaccard-derived estimate |A∩B| / |small|
    double inter = r.jaccard * (a.shingles + b.shingles) / (1.0 + r.jaccard);
    c = small.shingles ? std::min(1.0, inter / small.shingles) : 0.0;
  }
  r.containment = c;
  return r;
}

bool numbers_conflict(const NearSketch& a, const NearSketch& b) {
  bool a_more = false, b_more = false;
  for (size_t d = 0; d < 10; ++d) {
    a_more |= a.title_digits[d] > b.title_digits[d];
    b_more |= b.title_digits[d] > a.title_digits[d];
  }
  return a_more && b_more;
}

bool verify(const NearSketch& a, const NearSketch& b, Similarity* out, bool boilerplate) {
  Similarity s = similarity(a, b);
  if (out) *out = s;
  if (numbers_conflict(a, b)) return false;
  if (!a.eligible() || !b.eligible()) {  // at least one short text
    if (a.core_eligible() && b.core_eligible() && a.core == b.core && a.core_tokens == b.core_tokens) return true;
    if (!a.short_eligible() || !b.short_eligible() || boilerplate) return false;
    return s.title >= kShortTitle && s.containment >= kShortContainment && s.size_ratio >= kShortSizeRatio;
  }
  if (boilerplate && s.title < kTitleBoilerplate) return false;
  if (s.jaccard >= kJaccardStrong) return true;
  if (s.title < kTitleAgreement) return false;
  return s.jaccard >= kJaccardDuplicate || (s.containment >= kContainmentDuplicate && s.size_ratio >= kMinSizeRatio);
}

EntryDigest EntryDigest::of(const NearSketch& s) {
  std::string v;
  put_sample_digest(v, s);
  return *from_sample_value(v);
}

std::optional<EntryDigest> EntryDigest::from_sample_value(std::string_view v) {
  if (v.size() != kSampleDigestBytes) return std::nullopt;
  EntryDigest d = digest_of_digits(v.data());
  v.remove_prefix(kDigitsBytes);
  get_le(v, d.title_bits);
  d.has_title = true;
  d.title_count = static_cast<uint8_t>(v[0]) & 0x7F;
  d.eligible = (static_cast<uint8_t>(v[0]) & 0x80) != 0;
  return d;
}

std::optional<EntryDigest> EntryDigest::from_band_value(std::string_view v) {
  if (v.size() != 8 + kDigitsBytes) return std::nullopt;
  return digest_of_digits(v.data() + 8);
}

bool EntryDigest::numbers_may_agree(const NearSketch& q) const {
  if (!has_digits) return true;
  bool q_more = false, d_more = false;
  for (size_t i = 0; i < 10; ++i) {
    const int a = std::min<int>(q.title_digits[i], 15);  // the same cap on both sides: a capped count never conflicts
    q_more |= a > digits[i];
    d_more |= digits[i] > a;
  }
  return !(q_more && d_more);
}

double EntryDigest::title_jaccard_bound(const EntryDigest& q) const {
  if (!has_title) return 1.0;
  const uint32_t qb = q.title_bits;
  const size_t nq = q.title_count, nd = title_count;
  if (nq == 0 && nd == 0) return 1.0;  // sorted_jaccard() of two empty titles
  // A bit set on one side only stands for at least one token the other side lacks.
  const size_t only_q = static_cast<size_t>(std::popcount(qb & ~title_bits));
  const size_t only_d = static_cast<size_t>(std::popcount(title_bits & ~qb));
  const size_t cap_q = nq > only_q ? nq - only_q : 0, cap_d = nd > only_d ? nd - only_d : 0;
  const size_t both = std::min(cap_q, cap_d);
  return static_cast<double>(both) / static_cast<double>(nq + nd - both);
}

bool EntryDigest::same(const EntryDigest& o) const {
  return has_digits == o.has_digits && digits == o.digits && has_title == o.has_title &&
         (!has_title || (title_bits == o.title_bits && title_count == o.title_count && eligible == o.eligible));
}

namespace {
class DedupPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "baotin.DedupBucketPrefix.1"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override { return {key.data(), length(key)}; }
  bool InDomain(const rocksdb::Slice& key) const override { return length(key) != 0; }

 private:
  static size_t length(const rocksdb::Slice& key) {
    if (key.empty()) return 0;
    const size_t n = key[0] == 's' ? 4 : (key[0] == 'm' || key[0] == 'c' || key[0] == 'l') ? 9 : 0;
    return key.size() >= n ? n : 0;
  }
};
}  // namespace

std::shared_ptr<const rocksdb::SliceTransform> dedup_prefix_extractor() {
  static const auto p = std::make_shared<const DedupPrefix>();
  return p;
}

DedupIndex::DedupIndex(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf)
    : db_(db), cf_(cf ? cf : (db ? db->DefaultColumnFamily() : nullptr)) {}

namespace {
// RocksDB's per-thread perf counters (PerfLevel::kEnableCount by default) off for the duration of a look-up: each
// entry a scan steps over bumps several of them through thread-local storage (with the level check, ~6 % of a
// templated look-up's instructions under callgrind), and nothing reads them. The caller's level is restored.
class PerfCountersOff {
 public:
  PerfCountersOff() : saved_(rocksdb::GetPerfLevel()) { rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable); }
  ~PerfCountersOff() { rocksdb::SetPerfLevel(saved_); }
  PerfCountersOff(const PerfCountersOff&) = delete;
  PerfCountersOff& operator=(const PerfCountersOff&) = delete;

 private:
  rocksdb::PerfLevel saved_;
};

// Prefix scans over one iterator (creating an iterator costs more than a seek; a lookup makes up to 12 scans).
class PrefixScanner {
 public:
  PrefixScanner(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) : it_(db->NewIterator(read_options(), cf)) {}
  // Calls f(id, value) for up to `limit` keys starting with `prefix`.
  template <class F>
  void scan(const std::string& prefix, size_t limit, F&& f) {
    size_t n = 0;
    for (it_->Seek(prefix); it_->Valid() && n < limit; it_->Next(), ++n) {
      rocksdb::Slice k = it_->key();
      if (!k.starts_with(prefix)) break;
      f(std::string_view(k.data() + prefix.size(), k.size() - prefix.size()), it_->value());
    }
    check();
  }
  // Whether the later days of a window, whose first kEstimateAfter entries (those kept so far, the farthest day's
  // first ones) are in later_, hold more than `limit` entries: an estimate from where the last of them falls in the
  // id space. Article ids (article_id()) are hashes in hex, uniform over that space, and a day's entries are in id
  // order, so k entries that reach the fraction x of the space stand for ~k/x entries that day. It only decides
  // whether to read the window day by day at once instead of after `limit` entries: both give the same entries in
  // the same order. Other ids (not hex) give no estimate.
  static constexpr size_t kEstimateAfter = 16;
  bool crowded_later(std::string_view id, int d, int day, size_t limit) const {
    if (later_.size() != kEstimateAfter || later_.front().day != d || id.size() < 8) return false;
    uint32_t x = 0;
    for (size_t i = 0; i < 8; ++i) {
      const int v = hex_value(id[i]);
      if (v < 0) return false;
      x = (x << 4) | static_cast<uint32_t>(v);
    }
    const double per_day = static_cast<double>(kEstimateAfter) * 4294967296.0 / (static_cast<double>(x) + 1.0);
    return per_day * (d - day) > static_cast<double>(limit);
  }

  // Keys `prefix` ~day(2) id (dated_key(): newest day first) with day within kDedupWindowDays of `day` (day 0:
  // undated keys only): calls f(id, value) for up to `limit` of them, in this order: the query's day, later days
  // nearest first, earlier days newest first; within a day in id order. Returns whether entries of the window were
  // left unread (the cap was hit).
  //
  // One forward pass from the window's newest day reads later days (kept aside, and passed on once the query's day
  // has been), the query's day, then earlier days: one Seek and no backward steps, which cost RocksDB ~1.4 times a
  // forward one. Where the later days alone hold more than `limit` entries (a crowded bucket in a backfill behind
  // the archive's newest day), those read are the farthest ones: the window is then read again day by day.
  template <class F>
  bool scan_window(const std::string& prefix, uint16_t day, size_t limit, F&& f) {
    const int lo = day == 0 ? 0 : std::max(1, day - kDedupWindowDays);
    const int hi = day == 0 ? 0 : std::min(65535, day + kDedupWindowDays);
    const size_t off = prefix.size() + 2;
    // The day of an entry of the bucket; -1 for keys outside it (another prefix, or too short to be an entry).
    auto day_of = [&](const rocksdb::Slice& k) {
      if (!k.starts_with(prefix) || k.size() <= off) return -1;
      return static_cast<int>(day_key(static_cast<uint16_t>((static_cast<unsigned char>(k[prefix.size()]) << 8) |
                                                             static_cast<unsigned char>(k[prefix.size() + 1]))));
    };
    auto id_of = [&](const rocksdb::Slice& k) { return std::string_view(k.data() + off, k.size() - off); };
    auto seek = [&](int d) {
      std::string start = prefix;
      put_be16(start, day_key(static_cast<uint16_t>(d)));
      it_->Seek(start);
    };
    size_t n = 0;
    // Passes the iterator's entries on while their day is in [from, to]; false once the cap is hit.
    auto read_days = [&](int from, int to) {
      for (; it_->Valid(); it_->Next()) {
        const int d = day_of(it_->key());
        if (d < from || d > to) break;
        if (n == limit) return false;
        f(id_of(it_->key()), it_->value());
        ++n;
      }
      check();
      return true;
    };
    later_.clear();
    later_bytes_.clear();
    // Passes the kept later entries on, nearest day first (they were read newest day first).
    auto pass_later = [&] {
      for (size_t end = later_.size(); end > 0;) {
        size_t begin = end;
        while (begin > 0 && later_[begin - 1].day == later_[end - 1].day) --begin;
        for (size_t i = begin; i < end; ++i) {
          if (n == limit) return false;
          const Kept& e = later_[i];
          const char* at = later_bytes_.data() + e.at;
          f(std::string_view(at, e.id), rocksdb::Slice(at + e.id, e.value));
          ++n;
        }
        end = begin;
      }
      later_.clear();
      return true;
    };
    // The later days, newest first, are kept until the query's day has been passed on.
    bool overflow = false;
    seek(hi);
    for (; it_->Valid(); it_->Next()) {
      const rocksdb::Slice k = it_->key();
      const int d = day_of(k);
      if (d <= day) break;  // the query's day, earlier, or out of the bucket (-1)
      const std::string_view id = id_of(k);
      if (later_.size() == limit || crowded_later(id, d, day, limit)) {
        overflow = true;
        break;
      }
      later_.push_back({static_cast<uint16_t>(d), later_bytes_.size(), id.size(), it_->value().size()});
      later_bytes_.append(id);
      later_bytes_.append(it_->value().data(), it_->value().size());
    }
    check();
    if (!overflow) {
      if (!read_days(day, day) || !pass_later()) return true;
    } else {
      // More later entries than the cap (none was passed on yet: they come first): the query's day, each later
      // day from the nearest, then the earlier days.
      later_.clear();
      seek(day);
      if (!read_days(day, day)) return true;
      for (int d = day + 1; d <= hi; ++d) {
        seek(d);
        if (!read_days(d, d)) return true;
      }
      if (day > lo) seek(day - 1);
    }
    return day > lo && !read_days(lo, day - 1);
  }

 private:
  // Every scan stays within its bucket prefix (dedup_prefix_extractor()), so Seeks may use the prefix filters.
  static rocksdb::ReadOptions read_options() {
    rocksdb::ReadOptions ro;
    ro.prefix_same_as_start = true;
    return ro;
  }
  // A read error is no "no candidates": the article would be stored as new although it may be a copy.
  void check() {
    if (!it_->status().ok()) throw StoreError("duplicate index read failed: " + it_->status().ToString());
  }

  std::unique_ptr<rocksdb::Iterator> it_;
  // A window's later entries, kept while the pass reaches the query's day: day, where id and value start in
  // later_bytes_, their sizes.
  struct Kept {
    uint16_t day;
    size_t at, id, value;
  };
  std::vector<Kept> later_;
  std::string later_bytes_;
};
}  // namespace

std::optional<std::string> DedupIndex::find_exact(const std::string& fp) const {
  if (fp.empty() || !db_) return std::nullopt;
  std::string v;
  auto st = db_->Get(rocksdb::ReadOptions(), cf_, "x" + fp, &v);
  if (st.IsNotFound()) return std::nullopt;
  if (!st.ok()) throw StoreError("duplicate index read failed: " + st.ToString());
  return v;
}

std::vector<std::string> DedupIndex::near_candidates(uint64_t simhash, int max_distance, uint16_t day) const {
  std::vector<std::string> out;
  if (!db_ || simhash == 0) return out;
  ++lookups_;
  std::set<std::string, std::less<>> seen;
  const PerfCountersOff perf_off;
  PrefixScanner scanner(db_, cf_);
  for (int band = 0; band < 4; ++band) {
    const bool capped =
        scanner.scan_window(band_prefix(band, simhash), day, kMaxBucketScan, [&](std::string_view id, rocksdb::Slice v) {
          if (v.size() < 8) return;
          uint64_t other;
          std::memcpy(&other, v.data(), 8);
          if (hamming(other, simhash) <= max_distance && !seen.count(id)) {
            seen.emplace(id);
            out.emplace_back(id);
          }
        });
    capped_scans_ += capped;
  }
  return out;
}

void DedupIndex::add(rocksdb::WriteBatch& batch, const std::string& id, const std::string& exact_fp, uint64_t simhash,
                     uint16_t day) {
  add_entries(batch, id, exact_fp, simhash, day, nullptr);
}

void DedupIndex::add_entries(rocksdb::WriteBatch& batch, const std::string& id, const std::string& exact_fp,
                             uint64_t simhash, uint16_t day, const NearSketch* digits) const {
  if (id.empty()) return;
  if (!exact_fp.empty() && (bulk_load_ || !find_exact(exact_fp))) batch.Put(cf_, "x" + exact_fp, id);
  if (simhash != 0) {
    std::string v;
    put_le(v, simhash);
    if (digits) put_digits(v, *digits);
    for (int band = 0; band < 4; ++band) batch.Put(cf_, dated_key(band_prefix(band, simhash), day, id), v);
  }
}

void DedupIndex::add(rocksdb::WriteBatch& batch, const std::string& id, const std::string& exact_fp,
                     const NearSketch& sketch) {
  if (id.empty()) return;
  // Re-indexing (a new version): the previous version's candidate keys go, in this batch and before the new ones
  // are put (a key both versions have is put again after its delete), so a look-up meets the article only through
  // what its latest text shares, judged by the latest digest and sketch. Bulk (re)builds start from an empty index.
  if (!bulk_load_)
    if (auto old = load_sketch(id)) {
      for (int band = 0; band < 4; ++band) batch.Delete(cf_, dated_key(band_prefix(band, old->simhash), old->day, id));
      for (uint64_t h : old->samples) batch.Delete(cf_, dated_key(sample_prefix(h), old->day, id));
      if (old->core != 0) batch.Delete(cf_, dated_key(core_prefix(old->core), old->day, id));
    }
  add_entries(batch, id, exact_fp, sketch.eligible() ? sketch.simhash : 0, sketch.day, &sketch);
  if (!sketch.indexable()) return;
  if (sketch.short_eligible()) {
    std::string digest;
    put_sample_digest(digest, sketch);
    for (size_t i = 0; i < std::min(kMinSamples, sketch.samples.size()); ++i)
      batch.Put(cf_, dated_key(sample_prefix(sketch.samples[i]), sketch.day, id), digest);
  }
  if (sketch.core_eligible()) batch.Put(cf_, dated_key(core_prefix(sketch.core), sketch.day, id), rocksdb::Slice());
  if (sketch.lead != 0 && sketch.core != 0) {
    std::string k = lead_prefix(sketch.lead);
    put_be64(k, sketch.core);
    batch.Put(cf_, k, rocksdb::Slice());
  }
  batch.Put(cf_, "k" + id, sketch.serialize());
}

std::vector<std::string> DedupIndex::sketch_candidates(const NearSketch& sketch) const {
  std::vector<std::string> out;
  size_t capped = 0;
  for (auto& c : collect(sketch, &capped)) out.push_back(std::move(c.id));
  return out;
}

DedupIndex::CapStats DedupIndex::cap_stats() const {
  return {lookups_.load(), capped_scans_.load(), capped_lookups_.load()};
}

std::vector<DedupIndex::Candidate> DedupIndex::collect(const NearSketch& sketch, size_t* capped_scans) const {
  std::vector<Candidate> out;
  if (!db_ || !sketch.indexable()) return out;
  ++lookups_;
  // Candidate index of each id. A templated series meets the same few hundred ids in each of its crowded sample
  // buckets (~1,300 entries a look-up at 10M): an id is copied only the first time it is met, and found again
  // through an open-addressing table of (hash tag, position + 1), kept at most half full, so that a look-up
  // allocates nothing per entry.
  struct Slot {
    uint32_t tag = 0, at = 0;  // at = 0: empty
  };
  std::vector<Slot> slots(256);
  auto candidate = [&](std::string_view id) -> size_t {
    const uint64_t h = XXH3_64bits(id.data(), id.size());
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    size_t mask = slots.size() - 1;
    size_t i = h & mask;
    for (; slots[i].at != 0; i = (i + 1) & mask)
      if (slots[i].tag == tag && out[slots[i].at - 1].id == id) return slots[i].at - 1;
    out.emplace_back(std::string(id));
    slots[i] = {tag, static_cast<uint32_t>(out.size())};
    if (2 * out.size() > slots.size()) {  // grow: the slots again, from each candidate's hash
      std::vector<Slot> bigger(2 * slots.size());
      mask = bigger.size() - 1;
      for (size_t k = 0; k < out.size(); ++k) {
        const uint64_t hk = XXH3_64bits(out[k].id.data(), out[k].id.size());
        size_t j = hk & mask;
        while (bigger[j].at != 0) j = (j + 1) & mask;
        bigger[j] = {static_cast<uint32_t>(hk >> 32), static_cast<uint32_t>(k + 1)};
      }
      slots.swap(bigger);
    }
    return out.size() - 1;
  };
  PrefixScanner scanner(db_, cf_);
  size_t capped = 0;
  if (sketch.eligible()) {
    for (int band = 0; band < 4; ++band)
      capped += scanner.scan_window(band_prefix(band, sketch.simhash), sketch.day, kMaxBucketScan,
                                    [&](std::string_view id, rocksdb::Slice v) {
                                      if (v.size() < 8) return;
                                      uint64_t other;
                                      std::memcpy(&other, v.data(), 8);
                                      if (hamming(other, sketch.simhash) > 3) return;
                                      Candidate& c = out[candidate(id)];
                                      c.simhash = true;
                                      if (auto d = EntryDigest::from_band_value(v.ToStringView())) c.note(*d);
                                      else c.digest_mixed = true;  // an entry without digest: read the sketch
                                    });
  }
  if (sketch.core_eligible())
    capped += scanner.scan_window(core_prefix(sketch.core), sketch.day, kMaxBucketScan,
                                  [&](std::string_view id, rocksdb::Slice) { out[candidate(id)].core = true; });
  const size_t samples = sketch.short_eligible() ? std::min(kMinSamples, sketch.samples.size()) : 0;
  std::vector<std::pair<size_t, std::optional<EntryDigest>>> bucket;  // (candidate, digest) in scan order
  for (size_t i = 0; i < samples; ++i) {  // ascending: seeks move forward
    bucket.clear();
    capped += scanner.scan_window(sample_prefix(sketch.samples[i]), sketch.day, kMaxBucketScan,
                                  [&](std::string_view id, rocksdb::Slice v) {
                                    bucket.emplace_back(candidate(id), EntryDigest::from_sample_value(v.ToStringView()));
                                  });
    const bool common = bucket.size() >= kCommonBucket;
    for (auto& [index, digest] : bucket) {
      Candidate& c = out[index];
      ++c.shared_samples;
      c.common_samples += common;
      if (digest) c.note(*digest);
      else c.digest_mixed = true;
    }
  }
  capped_scans_ += capped;
  *capped_scans = capped;
  return out;
}

void DedupIndex::Candidate::note(const EntryDigest& d) {
  if (digest_mixed) return;
  if (!digest.has_digits) {
    digest = d;
  } else if (d.digits != digest.digits) {
    digest_mixed = true;
  } else if (d.has_title) {
    if (!digest.has_title) digest = d;  // a band entry gave the digits; a sample entry adds the title
    else if (!digest.same(d)) digest_mixed = true;
  }
}

std::vector<std::optional<NearSketch>> DedupIndex::load_sketches(const std::vector<const std::string*>& ids) const {
  std::vector<std::optional<NearSketch>> out(ids.size());
  if (!db_ || ids.empty()) return out;
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (const auto* id : ids) keys.push_back("k" + *id);
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), cf_, slices.size(), slices.data(), values.data(), statuses.data());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) throw StoreError("duplicate index read failed: " + statuses[i].ToString());
    out[i] = NearSketch::deserialize(values[i].ToStringView());
  }
  return out;
}

std::optional<NearSketch> DedupIndex::load_sketch(const std::string& id) const {
  if (!db_) return std::nullopt;
  std::string v;
  auto st = db_->Get(rocksdb::ReadOptions(), cf_, "k" + id, &v);
  if (st.IsNotFound()) return std::nullopt;
  if (!st.ok()) throw StoreError("duplicate index read failed: " + st.ToString());
  return NearSketch::deserialize(v);
}

namespace {
// The lead makes up at least half of the text (title + sapo items, briefs): a shared boilerplate lead then
// dominates the similarity. In full articles the body decides and a shared agency sapo does not matter.
bool lead_dominates(const NearSketch& s) {
  const size_t title = s.title.size();  // distinct title tokens: about the title's length
  const size_t lead = s.core_tokens > title ? s.core_tokens - title : 0;
  return s.tokens > 0 && 2 * lead >= s.tokens;
}
}  // namespace

bool DedupIndex::common_lead(const NearSketch& sketch) const {
  if (!db_ || sketch.lead == 0) return false;
  size_t others = 0;  // distinct titles (cores) other than this one using the lead
  std::string mine;
  put_be64(mine, sketch.core);
  PrefixScanner(db_, cf_).scan(lead_prefix(sketch.lead), kCommonLead + 1, [&](std::string_view core, rocksdb::Slice) {
    if (core != mine) ++others;
  });
  return others + 1 >= kCommonLead;
}

std::vector<NearMatch> DedupIndex::find_near(const NearSketch& sketch, std::string_view exclude_id,
                                             LookupInfo* info) const {
  std::vector<NearMatch> out;
  const PerfCountersOff perf_off;
  size_t capped_scans = 0;
  auto candidates = collect(sketch, &capped_scans);
  if (info) {
    *info = {};
    info->candidates = candidates.size();
    info->capped_scans = capped_scans;
  }
  if (candidates.empty()) return out;
  // Candidates found only through common (boilerplate) buckets can only match with nearly identical titles; at
  // most kMaxCommonVerify of them are verified, and at most kMaxVerify in all. Order: SimHash and core
  // candidates, then by shared min-samples; ties keep scan order (nearest days first).
  auto common_only = [](const Candidate& c) {
    return !c.simhash && !c.core && c.shared_samples > 0 && c.common_samples == c.shared_samples;
  };
  // Candidates whose entries' digests already say verify() would reject them are dropped before the caps, so
  // neither their sketch reads nor their places under kMaxVerify / kMaxCommonVerify are spent on them: title
  // numbers that conflict (verify() rejects those first), and, for a candidate found only through common buckets
  // (verify() is then called with boilerplate = true), two long texts whose titles cannot agree kTitleBoilerplate.
  if (prefilter_) {
    const size_t before = candidates.size();
    const EntryDigest mine = EntryDigest::of(sketch);  // the query's own digest, for every candidate's bound
    std::erase_if(candidates, [&](const Candidate& c) {
      if (c.core || c.digest_mixed) return false;  // the same core is the same title; mixed: read the sketch
      if (!c.digest.numbers_may_agree(sketch)) return true;
      return common_only(c) && c.digest.has_title && c.digest.eligible && sketch.eligible() &&
             c.digest.title_jaccard_bound(mine) < kTitleBoilerplate;
    });
    if (info) info->prefiltered = before - candidates.size();
  }
  size_t n_common = 0;
  for (const auto& c : candidates) n_common += common_only(c);
  if (candidates.size() > kMaxVerify || n_common > kMaxCommonVerify) {
    auto rank = [](const Candidate& c) { return (c.simhash || c.core ? 1000 : 0) + c.shared_samples; };
    std::stable_sort(candidates.begin(), candidates.end(),
                     [&](const Candidate& a, const Candidate& b) { return rank(a) > rank(b); });
    std::vector<Candidate> kept;
    size_t common_kept = 0;
    for (auto& c : candidates) {
      if (kept.size() == kMaxVerify) break;
      if (common_only(c) && common_kept++ >= kMaxCommonVerify) continue;
      kept.push_back(std::move(c));
    }
    if (kept.size() < candidates.size()) {
      ++capped_lookups_;
      if (info) info->verify_capped = true;
    }
    candidates = std::move(kept);
  }
  const bool lead_is_common = common_lead(sketch);
  std::erase_if(candidates, [&](const Candidate& c) { return c.id == exclude_id; });
  std::vector<const std::string*> ids;
  ids.reserve(candidates.size());
  for (const auto& c : candidates) ids.push_back(&c.id);
  auto sketches = load_sketches(ids);
  if (info) info->verified += candidates.size();
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    const auto& other = sketches[i];
    if (!other) continue;
    // Overlap through a lead that many titles share, or only through shingles that many indexed articles share:
    // site boilerplate, templated series.
    const bool boilerplate = (lead_is_common && other->lead == sketch.lead && !c.core && lead_dominates(sketch) &&
                              lead_dominates(*other)) ||
                             (!c.core && c.shared_samples > 0 && c.common_samples == c.shared_samples);
    Similarity s;
    if (verify(sketch, *other, &s, boilerplate)) out.push_back({c.id, s});
  }
  std::sort(out.begin(), out.end(), [](const NearMatch& a, const NearMatch& b) {
    if (a.sim.jaccard != b.sim.jaccard) return a.sim.jaccard > b.sim.jaccard;
    return a.id < b.id;
  });
  return out;
}

}  // namespace baotin
