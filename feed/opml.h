// OPML 2.0 (http://opml.org/spec2.opml) subscription lists: the feed-list exchange format of every feed reader
// (Miniflux, FreshRSS, Feedly, Inoreader, NetNewsWire). `baotin feeds --opml` writes one (write_opml); a config's
// `[[feeds]] opml = "FILE"` imports one (parse_opml, daemon/config.cpp).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace baotin {

// One subscription: an <outline> with an xmlUrl attribute.
struct OpmlFeed {
  std::string xml_url;   // the feed URL (attribute xmlUrl; any case: xmlurl, XMLURL occur in the wild)
  std::string title;     // title, else text (HTML entities decoded); may be empty
  std::string html_url;  // the site's page (htmlUrl); may be empty
  std::string folder;    // enclosing outlines' text joined with " / " ("" at top level)
  std::string site;      // baotin:site: the template name baotin wrote; "" when absent
  int line = 0;          // 1-based line of the <outline> in the file
};

struct OpmlLimits {
  size_t max_bytes = size_t{16} << 20;  // a larger file is refused before parsing
  size_t max_feeds = 100000;            // outlines with xmlUrl per file
  int max_depth = 64;                   // nesting of <outline>
};

struct OpmlParseResult {
  std::vector<OpmlFeed> feeds;  // in document order
  std::string error;            // "" = ok; else why the file was refused (nothing is returned then)
  int error_line = 0;           // 1-based line of the error, 0 when it has none
};

// Parses an OPML 1.0/2.0 document. Every <outline> with a non-empty xmlUrl is a feed, at any depth (folders are
// outlines without xmlUrl); type is not required (many exporters leave it out or write "RSS"/"atom"). Not
// well-formed XML, a root other than <opml>, no <body>, nesting or counts over the limits are errors: the whole
// file is refused.
OpmlParseResult parse_opml(std::string_view bytes, const OpmlLimits& limits = {});

// An OPML 2.0 document listing `feeds` (xml_url, title: text and title, html_url when set; site: category and
// baotin:site, which parse_opml reads back), flat, in order. `title` is the <head><title>.
std::string write_opml(const std::vector<OpmlFeed>& feeds, std::string_view title);

// The XML namespace of the baotin:site attribute.
inline constexpr const char* kOpmlBaotinNamespace = "urn:baotin:opml:1";

}  // namespace baotin
