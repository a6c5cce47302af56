// Duplicate detection: exact fingerprints and near-duplicate search over a RocksDB index.
//
// Text model. title + lead + body paragraphs are NFC-normalised, lower-cased (ICU, Vietnamese locale) and cut into
// tokens = maximal runs of letters/digits/combining marks; for Vietnamese a token is one syllable. Punctuation,
// quote style, whitespace, NBSP/zero-width characters and NFD/NFC differences therefore never change anything.
// Image captions are not part of the text.
//
// Exact duplicates: exact_fingerprint() = hex XXH3-128 of the token stream (title, lead, body). Empty text -> "".
//
// Near duplicates (see NearSketch): 3-syllable shingles, each hashed to 64 bits.
//  * SimHash (64 bit, weighted: shingle frequency, title shingles x2) indexed in 4 bands of 16 bits, so every
//    entry within Hamming distance <= 3 shares at least one band with the query (pigeonhole).
//  * SimHash alone misses realistic copies: on RSS-length texts an appended "Theo TTXVN" line moves ~4 bits on
//    average, a byline ~5, a trimmed last sentence 10+ (measured on the corpus, see tests/test_dedup.cpp). So the
//    index also keeps, per article, its kMinSamples smallest 64-bit shingle hashes ("min-samples", a bottom-k LSH):
//    two texts whose shingle sets overlap by Jaccard J share one of them with probability ~1-(1-J)^8.
//  * Every candidate (from either index) is verified with a bottom-k sketch (the kSketchSize smallest 32-bit
//    shingle hashes, exact for texts of <= 128 shingles) and the title's token set; see verify().
//  * Texts with fewer than kMinTokens tokens (titles-only items, one-line briefs) are too short for Jaccard
//    estimates to be reliable: a 12-syllable title with an added "Theo TTXVN" line or byline shares only ~70% of its
//    shingles with the original. Two mechanisms cover them (see verify()):
//      - the core: hash of the title + lead (sapo) token stream. Syndicated copies keep headline and sapo and add
//        or drop body lines (source line, byline, captions); an identical core of >= kMinCoreTokens tokens is a
//        copy. Used only when at least one of the two texts is short: long texts have the full rule.
//      - the short containment rule: titles agree closely and the smaller text's shingles are (almost) all in the
//        larger one (a trimmed sapo).
//    Texts with fewer than kMinShortTokens tokens only ever match exactly (exact_fingerprint).
//
// Recall model (formats 3 and 4). Candidate keys (SimHash bands, min-samples, cores) carry the article's day
// (dedup_day(): the Vietnam-local calendar day of `published`, else of `fetched_at`, else 0 = undated), after the
// hash, so all entries of one hash are contiguous and ordered by day, newest first. A look-up reads, for each of its
// hashes, only the entries whose day is within kDedupWindowDays of its own day (one seek and a forward pass per
// hash); undated articles only meet undated ones. Copies of a news story appear within hours or days of each
// other, so:
//   * a copy is a candidate iff |day(a) - day(b)| <= kDedupWindowDays and it shares a SimHash band (guaranteed for
//     Hamming <= 3), a min-sample (probability ~1-(1-J)^8) or the core, and no scan it was in hit its cap;
//   * what a look-up reads depends on the articles published in its (2W+1)-day window, never on the size of the
//     archive: with R articles a day, a SimHash band bucket holds ~(2W+1)R/65536 entries (23 at R = 100,000),
//     a min-sample bucket holds the articles that share that exact 64-bit shingle (no hash collisions: ~800M
//     samples at 100M articles in a 2^64 space) - copies, and boilerplate shingles (see below);
//   * caps, each counted when hit (cap_stats(), exported by the daemon as baotin_dedup_*_total): a prefix scan
//     reads at most kMaxBucketScan entries of the window, the query's own day, then later days nearest first, then
//     earlier days newest first, within a day in id order (a bucket of a boilerplate shingle: a site footer, a
//     templated series); a look-up verifies at most kMaxVerify candidates, of which at most kMaxCommonVerify
//     found only through common buckets (SimHash and core candidates first, then by shared min-samples, scan
//     order).
//     A copy lost to a cap is one whose only shared keys are such crowded buckets; the counters say how often a
//     look-up was truncated at all, not how often a copy was lost.
//   * not found: copies published more than kDedupWindowDays apart (an old story re-run weeks later), or whose
//     dates are wrong by more than that (a page showing a wrong date); the exact fingerprint ('x') has no window.
//
// RocksDB layout (one column family owned by the index; all keys are binary, ids are appended verbatim;
// ~day = 0xFFFF - dedup_day(), 2 bytes big-endian: a bucket's newest day first):
//   'x' fingerprint                        -> id             exact fingerprints (first writer wins on lookup)
//   's' band(1) bandvalue(2) ~day(2) id    -> simhash(8) [+ title digits(5)]   SimHash bands (see EntryDigest)
//   'm' hash(8) ~day(2) id                 -> "" | digest(10)                  min-samples (64-bit shingle hashes)
//   'k' id                                 -> sketch         serialised NearSketch (verification)
//   'c' core(8) ~day(2) id                 -> ""             title+lead cores (texts with a usable core)
//   'l' lead(8, big-endian) core(8, big-endian) -> ""        which titles (cores) use a lead: site-wide leads
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/article.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class SliceTransform;
class WriteBatch;
}  // namespace rocksdb

namespace baotin {

// Format of the index (keys and sketches). A store whose index has an older format rebuilds it on open.
//   1: SimHash bands, min-samples, sketches without core; 2: + cores, leads, title digits;
//   3: 64-bit min-samples, day-bucketed candidate keys (see the recall model above), sketches with day + samples;
//   4: the day in candidate keys descending (0xFFFF - day), so that a window is read in one forward pass.
inline constexpr int kDedupIndexFormat = 4;

// Candidate keys of two articles meet when their days (dedup_day()) differ by at most this many days.
inline constexpr int kDedupWindowDays = 7;

// Minimum number of tokens (syllables) of title+lead+body for near-duplicate detection.
inline constexpr size_t kMinTokens = 24;
// Minimum tokens of a short text for the short containment rule, and of title+lead for the core rule.
inline constexpr size_t kMinShortTokens = 8;
inline constexpr size_t kMinCoreTokens = 10;
// Leads (sapo / description) of at least this many tokens are tracked for boilerplate detection.
inline constexpr size_t kMinLeadTokens = 8;
// Bottom-k sketch size and number of min-samples indexed per article.
inline constexpr size_t kSketchSize = 128;
inline constexpr size_t kMinSamples = 8;

// Verification thresholds (see verify()). Set from the similarity of known copies vs same-topic pairs and validated
// by the corpus evaluation in tests/test_dedup.cpp: on 541 RSS summaries (multi__1.csv) x 7 kinds of edited
// copies, precision 1.000 / recall 0.977 over 7.2M negative pairs; on 4,757 title+description records
// (multi__1.json) precision 0.980 (0.995 after adjudicating the corpus's own cross-outlet copies) / recall 0.996.
// SimHash <= 3 alone finds only 46-51% of those copies.
inline constexpr double kJaccardDuplicate = 0.60;    // J >= this: duplicate (when titles agree)
inline constexpr double kJaccardStrong = 0.85;       // J >= this: duplicate whatever the titles
inline constexpr double kContainmentDuplicate = 0.85;  // smaller text inside the larger one
inline constexpr double kMinSizeRatio = 0.30;        // smaller/larger shingle count for the containment rule
inline constexpr double kTitleAgreement = 0.50;      // Jaccard of title token sets
inline constexpr double kTitleBoilerplate = 0.80;    // title agreement required when the overlap is boilerplate
inline constexpr double kShortTitle = 0.80;          // short rule: Jaccard of title token sets
inline constexpr double kShortContainment = 0.90;    // short rule: smaller text's shingles inside the larger
inline constexpr double kShortSizeRatio = 0.50;      // short rule: smaller/larger shingle count

// Tokens of a text: NFC, lower-case, runs of letters/digits. Exposed for tests and tools.
std::vector<std::string> dedup_tokens(std::string_view utf8);

uint64_t simhash_article(const Article&);       // 0 for texts without tokens
// Day of an article for the candidate keys: days since 1970-01-01 (Vietnam local time, UTC+7) of `published`, else
// of `fetched_at`, plus 1 and capped to 1..65535; 0 when neither parses (undated).
uint16_t dedup_day(const Article&);
std::string exact_fingerprint(const Article&);  // "" for texts without tokens
int hamming(uint64_t a, uint64_t b);

// Everything near-duplicate detection needs to know about one article (~0.6 KiB serialised).
struct NearSketch {
  uint64_t simhash = 0;
  uint32_t tokens = 0;              // token count of title+lead+body
  uint32_t shingles = 0;            // distinct shingles (32-bit hashes)
  std::vector<uint32_t> bottom;     // kSketchSize smallest shingle hashes, ascending, distinct
  std::vector<uint32_t> title;      // distinct title token hashes, ascending (at most 64)
  uint64_t core = 0;                // hash of the title + lead token stream (0: none)
  uint32_t core_tokens = 0;         // its token count
  uint64_t lead = 0;                // hash of the lead token stream (0: no lead or shorter than kMinLeadTokens)
  std::array<uint8_t, 10> title_digits{};  // how often each digit 0-9 occurs in the title (capped at 255)
  uint16_t day = 0;                 // dedup_day() of the article (0: undated)
  std::vector<uint64_t> samples;    // kMinSamples smallest distinct 64-bit shingle hashes, ascending (min-samples)
  // Long enough for the full near-duplicate rule (tokens >= kMinTokens).
  bool eligible() const { return tokens >= kMinTokens && !bottom.empty(); }
  // Long enough for the short containment rule.
  bool short_eligible() const { return tokens >= kMinShortTokens && !bottom.empty(); }
  // Title + lead long enough for the core rule.
  bool core_eligible() const { return core != 0 && core_tokens >= kMinCoreTokens; }
  // Indexed for near-duplicate search at all.
  bool indexable() const { return short_eligible() || core_eligible(); }
  std::string serialize() const;
  static std::optional<NearSketch> deserialize(std::string_view bytes);  // nullopt on corrupt input
};

NearSketch near_sketch(const Article&);

// The index family's prefix extractor (store_family_options): a key's bucket prefix - 's' band(1) value(2),
// 'm'/'c'/'l' hash(8) - so that the bucket scans' Seeks use prefix bloom filters; 'x' and 'k' keys (point
// look-ups, whole-key filters) are outside its domain. Every Seek of the index stays within one prefix.
std::shared_ptr<const rocksdb::SliceTransform> dedup_prefix_extractor();

struct Similarity {
  double jaccard = 0;      // estimated Jaccard of the shingle sets
  double containment = 0;  // estimated share of the smaller text's shingles found in the larger one
  double size_ratio = 0;   // smaller / larger shingle count
  double title = 0;        // Jaccard of the title token sets (1 when both titles are empty)
  int hamming = 64;        // SimHash distance
};

Similarity similarity(const NearSketch& a, const NearSketch& b);

// Titles whose numbers disagree: each title has a digit the other lacks (compared as digit counts, so "5.000" and
// "5000", "23/10" and "23-10", reordered numbers and a dropped year never disagree). "Tập 7" / "Tập 8",
// "Bản tin 18h ngày 03/10" / "Bản tin 6h ngày 04/10", "tiết 1" / "tiết 2": episodes of a series share everything
// but the number; such pairs are never duplicates.
bool numbers_conflict(const NearSketch& a, const NearSketch& b);

// Near-duplicate decision. Never when numbers_conflict(). Otherwise, when both sketches are eligible() (long texts), a and b are duplicates when
//   J >= kJaccardStrong, or
//   title >= kTitleAgreement and (J >= kJaccardDuplicate or
//                                 (containment >= kContainmentDuplicate and size_ratio >= kMinSizeRatio)).
// When at least one is short, they are duplicates when
//   both are core_eligible() with the same core (same headline and sapo), or
//   both are short_eligible(), title >= kShortTitle, containment >= kShortContainment and
//   size_ratio >= kShortSizeRatio.
// The title condition keeps apart different items sharing a site's boilerplate description and templated series
// ("X được giới thiệu ứng cử ..."); the containment rule accepts trimmed copies and copies with added
// bylines / source lines / captions. Symmetric.
// `boilerplate` (set by DedupIndex::find_near): the two texts share a lead that many other titles use too (a site
// writing its slogan or legal notice into every description), or overlap only through shingles that many indexed
// articles share (a site-wide description, a "Phật sự online: ..." or "Ninh Bình TV ..." footer, a templated
// series). Then the titles must agree much more (>= kTitleBoilerplate) for a match.
bool verify(const NearSketch& a, const NearSketch& b, Similarity* out = nullptr, bool boilerplate = false);

// What a candidate key's value says of the article that wrote it (format 3 entries written by this version):
// enough to reject, without reading its sketch, a candidate that verify() would reject.
//   * 's' (SimHash band) values: simhash(8) + title digits (5: a 4-bit count per digit 0-9, capped at 15);
//   * 'm' (min-sample) values: title digits (5) + a 32-bit title bitmap (one bit per distinct title token) +
//     1 byte (distinct title tokens | eligible() << 7).
// Entries written before digests existed (values "" and simhash alone) have none: their candidates are read.
// Both tests are bounds, never estimates: numbers_may_agree() is false only when numbers_conflict() is true (the
// same cap on both sides only hides conflicts), and title_jaccard_bound() is >= the Jaccard similarity() computes
// of the two titles (a bitmap bit set on one side only is at least one token the other side lacks).
// The digest describes the version of the article that wrote the entry; find_near() uses a candidate's digest
// only when all its digest-carrying entries agree.
struct EntryDigest {
  bool has_digits = false, has_title = false;
  std::array<uint8_t, 10> digits{};
  uint32_t title_bits = 0;
  uint8_t title_count = 0;
  bool eligible = false;

  static EntryDigest of(const NearSketch&);  // what add() writes into an 'm' value
  static std::optional<EntryDigest> from_sample_value(std::string_view);
  static std::optional<EntryDigest> from_band_value(std::string_view);
  bool numbers_may_agree(const NearSketch& query) const;
  double title_jaccard_bound(const EntryDigest& query) const;  // `query`: EntryDigest::of(the query's sketch)
  bool same(const EntryDigest& other) const;
};

struct NearMatch {
  std::string id;
  Similarity sim;
};

class DedupIndex {
 public:
  // cf == nullptr means the default column family. The DB must outlive the index.
  DedupIndex(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf);

  // Article id of the first article added with this exact fingerprint.
  std::optional<std::string> find_exact(const std::string& fp) const;
  // Ids whose SimHash is within max_distance (0..3: the band index guarantees completeness only up to 3;
  // larger values are accepted but only find entries sharing a band) and whose day is within kDedupWindowDays of
  // `day` (0: undated entries only).
  std::vector<std::string> near_candidates(uint64_t simhash, int max_distance = 3, uint16_t day = 0) const;
  // Indexes exact fingerprint (if non-empty) and SimHash bands (if simhash != 0) under `day`. No sketch: entries
  // added this way are found by near_candidates() but not by find_near().
  void add(rocksdb::WriteBatch& batch, const std::string& id, const std::string& exact_fp, uint64_t simhash,
           uint16_t day = 0);

  // Full near-duplicate path: indexes the exact fingerprint; for indexable sketches the sketch itself, the core
  // (core_eligible) and the min-samples (short_eligible); for eligible (long) sketches also the SimHash bands.
  void add(rocksdb::WriteBatch& batch, const std::string& id, const std::string& exact_fp, const NearSketch& sketch);
  // Verified near duplicates of `sketch` (candidates from SimHash bands within distance 3, shared min-samples
  // and the same core, each checked with verify()), most similar first. Empty for sketches that are not
  // indexable().
  // `exclude_id` (e.g. the article's own id when re-indexing a new version) is skipped.
  // Bulk (re)build mode: add() no longer checks whether an exact fingerprint is already indexed before writing
  // it (no read per article; the last writer wins). Only for rebuilding the index from data whose fingerprints
  // the caller has already de-duplicated, e.g. a full rebuild from the store or a benchmark fill.
  void set_bulk_load(bool on) { bulk_load_ = on; }

  // What one find_near() did (for benchmarks and diagnostics).
  struct LookupInfo {
    size_t candidates = 0;     // distinct candidates collected
    size_t verified = 0;       // candidates whose sketch was loaded and verified
    size_t prefiltered = 0;    // candidates rejected by their entries' digests, without reading the sketch
    size_t capped_scans = 0;   // prefix scans that stopped at kMaxBucketScan
    bool verify_capped = false;  // candidates beyond kMaxVerify were dropped
  };
  std::vector<NearMatch> find_near(const NearSketch& sketch, std::string_view exclude_id = {},
                                   LookupInfo* info = nullptr) const;
  // Counters since this index was created: every cap hit is counted.
  struct CapStats {
    uint64_t lookups = 0;          // find_near() / near_candidates() calls that read the index
    uint64_t capped_scans = 0;     // prefix scans that stopped at kMaxBucketScan entries
    uint64_t capped_lookups = 0;   // look-ups that dropped candidates beyond kMaxVerify
  };
  CapStats cap_stats() const;
  // Whether the sketch's lead counts as site-wide boilerplate (used by >= kCommonLead titles). For tests.
  bool common_lead_for_test(const NearSketch& sketch) const { return common_lead(sketch); }
  // Unverified candidate ids for a sketch (the union find_near() checks). For diagnostics and benchmarks.
  std::vector<std::string> sketch_candidates(const NearSketch& sketch) const;
  std::optional<NearSketch> load_sketch(const std::string& id) const;
  // Tests compare find_near() with and without the digest prefilter (the results must be the same).
  void set_prefilter_for_test(bool on) { prefilter_ = on; }

  // Entries of the day window read per prefix scan at most (boilerplate shingles can make a min-sample bucket
  // huge); a scan that stops here is counted (cap_stats().capped_scans).
  static constexpr size_t kMaxBucketScan = 256;
  // Candidates verified per look-up at most (a sketch read each); more are dropped and counted
  // (cap_stats().capped_lookups). Bounds a templated series whose every sample bucket is crowded.
  static constexpr size_t kMaxVerify = 256;
  // ... of which candidates found only through common buckets (>= kCommonBucket entries, see find_near()) at most
  // this many: they can only match with nearly identical titles, and a random article sharing one boilerplate
  // shingle would otherwise load a few hundred sketches.
  static constexpr size_t kMaxCommonVerify = 64;
  // A min-sample bucket with at least this many articles in the day window marks a common (boilerplate) shingle.
  // The decision therefore depends on what the index already holds: the first few copies of a boilerplate text
  // are compared with the normal rule.
  static constexpr size_t kCommonBucket = 64;
  // A lead used by at least this many distinct titles (cores) is a site-wide boilerplate lead (when it makes up
  // at least half of both texts). Agency sapos under rewritten headlines are shared by a few outlets' copies.
  static constexpr size_t kCommonLead = 5;

 private:
  struct Candidate {
    explicit Candidate(std::string id_, bool simhash_ = false, bool core_ = false)
        : id(std::move(id_)), simhash(simhash_), core(core_) {}
    std::string id;
    bool simhash = false;       // found through a SimHash band within distance 3
    bool core = false;          // found through the core index
    int shared_samples = 0;     // query min-samples whose bucket holds the candidate
    int common_samples = 0;     // ... of which are common buckets (>= kCommonBucket entries)
    EntryDigest digest;         // from the entries that found it (see EntryDigest)
    bool digest_mixed = false;  // those entries disagree (versions of the article): the digest is not used
    void note(const EntryDigest& d);
  };
  std::vector<Candidate> collect(const NearSketch& sketch, size_t* capped_scans) const;
  // add() without / with a sketch: `digits` (when given) puts the title digits into the SimHash band values.
  void add_entries(rocksdb::WriteBatch& batch, const std::string& id, const std::string& exact_fp, uint64_t simhash,
                   uint16_t day, const NearSketch* digits) const;
  // Latest sketches of `ids` in one MultiGet (nullopt: missing or corrupt).
  std::vector<std::optional<NearSketch>> load_sketches(const std::vector<const std::string*>& ids) const;
  // The sketch's lead is used by at least kCommonLead distinct titles (including its own).
  bool common_lead(const NearSketch& sketch) const;

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  bool bulk_load_ = false;
  bool prefilter_ = true;
  mutable std::atomic<uint64_t> lookups_{0}, capped_scans_{0}, capped_lookups_{0};
};

}  // namespace baotin
