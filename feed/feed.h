// RSS / Atom / RDF feed parsing, modelled on Universal Feed Parser (feedparser 6.0.10) so that the
// output agrees with it field by field (see /work/shared/corpus/feeds and bench/feed_conformance).
//
// Pipeline: bytes -> character set (HTTP header > BOM > XML declaration > sniffing; legacy Vietnamese
// TCVN3/VISCII decoded with real tables) -> strict XML parse with pugixml (namespace-aware event
// stream). If the document is not well-formed (raw '&', HTML entities without a DTD, truncation,
// mismatched tags, unbound prefixes...), it is re-read by a forgiving SGML-style tokenizer and
// `bozo` is set with the reason. Both readers feed the same element handlers. Never throws.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace baotin {

struct FeedEnclosure {
  std::string href, type, length;
};

struct FeedMediaContent {
  std::string url, type, medium;
};

struct FeedItem {
  std::string title, title_type, link, id;
  std::string published;  // UTC "YYYY-MM-DDTHH:MM:SSZ" or "" (pubDate, atom:published, dcterms:issued)
  std::string updated;    // UTC or "" (atom:updated, dc:date, dcterms:modified)
  std::string published_raw, updated_raw;
  std::string summary, summary_type, content, content_type;
  std::string author;                   // "Name (email)", "Name" or "email"
  std::string author_name, author_email;  // author_detail
  std::vector<std::string> authors;     // every author (name or email) when there are several
  std::vector<std::string> categories;
  std::vector<FeedEnclosure> enclosures;
  std::vector<std::string> media_thumbnails;
  std::vector<FeedMediaContent> media_content;
  std::vector<std::string> contents;    // every content element when there are several (contents[0] == content)
  bool has_title = false, has_link = false, has_id = false, has_summary = false, has_content = false,
       has_author = false, has_published = false, has_updated = false;
  bool guidislink = false, has_guidislink = false;
  bool summary_copied_from_content = false;  // no summary element: summary == content
};

struct ParsedFeed {
  std::string format;  // rss20|rss10|rss090|rss091u|rss091n|rss092|rss093|rss094|rss|atom10|atom03|atom|""
  std::string encoding;  // charset used to decode, as named by the document / header
  bool bozo = false;     // the document was not clean (not well-formed, charset override, ...)
  std::string bozo_exception;  // "Type: message"
  std::string title, title_type, link, id, subtitle, published, updated, language, author;
  bool has_title = false, has_link = false, has_id = false, has_subtitle = false, has_language = false,
       has_author = false;
  std::vector<std::string> categories;
  std::vector<FeedItem> items;
  size_t items_dropped = 0;  // items past limits::kMaxFeedItems, not in `items` (bozo says so)
};

// `content_type` is the HTTP Content-Type header value if known (it may carry the charset and, as
// feedparser does per RFC 3023, text/* without charset means us-ascii). `base_url` is the document
// URL (or Content-Location) used to resolve relative links.
ParsedFeed parse_feed(std::string_view bytes, std::string_view content_type = {}, std::string_view base_url = {});

// Full form: HTTP response headers (lower- or mixed-case names): content-type, content-location,
// content-language. An empty list means "no HTTP context" (a local file).
struct FeedHttpHeaders {
  bool present = false;  // headers were supplied (even if content-type is missing)
  std::string content_type, content_location, content_language;
};
ParsedFeed parse_feed(std::string_view bytes, const FeedHttpHeaders& headers, std::string_view base_url = {});

// Headers from a JSON object such as the conformance manifests' http_headers column
// ({"Content-type": "text/xml; charset=..."}); as feedparser's test server does, a missing
// Content-type becomes application/xml. Throws std::invalid_argument on malformed JSON.
FeedHttpHeaders feed_headers_from_json(std::string_view json_object);

// The oracle JSON shape of /work/shared/corpus/feeds/README.md (null for absent values).
nlohmann::json feed_to_oracle_json(const ParsedFeed&);

// feedparser's date dispatcher: RFC 822/1123 (2-digit years, named zones), W3CDTF / ISO 8601 (also
// compact and ordinal forms), asctime, perforce, Greek and Hungarian month names, Korean OnBlog/Nate.
// Out-of-range fields roll over like feedparser's ISO 8601 reader. Returns UTC epoch seconds.
std::optional<int64_t> parse_feed_date(std::string_view s);
// Epoch seconds -> "YYYY-MM-DDTHH:MM:SSZ".
std::string format_utc(int64_t epoch);

}  // namespace baotin
