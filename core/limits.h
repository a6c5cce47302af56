// Size limits applied to remote input before it reaches a parser (issue 14, "hostile web").
//
// Every value here comes from a server baotin does not control. A value over its limit is rejected (or, for
// titles, truncated) and the feed is marked bozo; it is never handed to a date, URL or regex parser. The
// numbers are far above anything seen from real outlets (the longest item link in the corpus is < 600 bytes,
// the longest date < 60), and low enough that no parser can be made to do much work on one value.
#pragma once
#include <cstddef>

namespace baotin::limits {

// URLs: item links, feed links, enclosure/media URLs, sitemap <loc>, URLs matched against template rules and
// canonicalised. Longer URLs are dropped (a real article URL is well under 2 KiB; browsers cap near 64 KiB).
inline constexpr size_t kMaxUrlBytes = 8 * 1024;
// A date string (RSS pubDate, Atom updated, sitemap lastmod) is not parsed when longer than this.
inline constexpr size_t kMaxDateBytes = 256;
// Free text searched for a date (normalize_date on page text: bylines, "Cập nhật lúc ..."): only the first
// kMaxDateTextBytes are searched.
inline constexpr size_t kMaxDateTextBytes = 2000;
// Titles (feed, items) are cut to this many bytes, at a UTF-8 character boundary.
inline constexpr size_t kMaxTitleBytes = 4 * 1024;
// HTTP validators (ETag, Last-Modified) are stored and sent back; longer ones are ignored.
inline constexpr size_t kMaxValidatorBytes = 1024;
// Internal DTD entities: all references together may expand to at most kEntityExpansionFactor times the size of
// the document, and never more than kMaxEntityExpansionBytes; references past that expand to nothing (bozo).
inline constexpr size_t kEntityExpansionFactor = 4;
inline constexpr size_t kMaxEntityExpansionBytes = size_t{64} << 20;
// Items of one feed: the first kMaxFeedItems are kept, the rest are ignored (bozo). Real outlet feeds carry
// 20-200 items; a parsed item costs about 2 KB, so a 200,000-item feed would otherwise take ~500 MB.
inline constexpr size_t kMaxFeedItems = 10000;

}  // namespace baotin::limits
