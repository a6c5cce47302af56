// The article record: what extraction produces and what the store keeps (one per version).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace baotin {

struct Image {
  std::string url;
  std::string caption;
  bool operator==(const Image&) const = default;
};

struct Article {
  // Identity (set by the pipeline/store, not by extraction).
  std::string id;             // stable: hex xxh3-64 of the canonical URL
  uint32_t version = 0;       // 1-based; bumped only when normalised content changes
  std::string url;            // URL the page was fetched from (after redirects)
  std::string canonical_url;  // <link rel=canonical> / og:url, canonicalised
  std::string site;           // template name or host for generic pages
  std::string feed;           // feed URL the article was discovered from (empty for backfill by URL)

  // Content (set by extraction). All text is UTF-8, NFC, whitespace-collapsed.
  std::string title;
  std::string lead;                   // sapo
  std::vector<std::string> body;      // paragraphs, in order
  std::vector<std::string> authors;   // person names only (no outlet, agency or "PV")
  std::string source;                 // credited origin: "Theo TTXVN" -> "TTXVN"; agency of "Minh Anh/VOV.VN"
  std::string published;              // ISO 8601 with offset, e.g. 2026-03-07T08:01:53+07:00
  // Where `published` came from: "page-visible" (the time the page shows), "json-ld", "meta" (meta tags /
  // microdata), "feed" (the feed item's date: the page gave none), "url" (a date in the URL); "" when unknown.
  std::string published_source;
  std::string updated;
  std::string category;
  std::vector<std::string> tags;
  std::vector<Image> images;
  std::string language = "vi";

  // Provenance.
  std::string fetched_at;             // ISO 8601, +07:00
  std::string content_hash;           // hex xxh3-64 of normalised title+lead+body (see content_hash())
  std::string template_name;          // "name@revision" when a template was used
  std::string extractor;              // "template" | "generic"
  std::vector<std::string> fields;    // which fields were filled (template health)
  bool partial = false;               // extraction incomplete (truncated page, missing body...)
  std::vector<std::string> warnings;  // human-readable reasons for partial / fallbacks
  // Why this version was written: "fetch" (a feed item or a backfill), "revisit" (a scheduled re-visit found an
  // edit), "reprocess" (`baotin reprocess` re-extracted the stored page); "" in versions stored before it was kept.
  std::string reason;
  std::string content_type;           // the HTTP Content-Type the page was served with (its charset, for reprocess)

  // Deduplication (set by the store).
  std::string duplicate_of;           // id of the earliest published copy, if this is a copy
  std::string cluster;                // near-duplicate cluster id (id of the cluster's first member)
};

nlohmann::json to_json(const Article& a);
Article article_from_json(const nlohmann::json& j);

// Hash of the normalised content (title, lead, body): equal hashes == same content version.
std::string content_hash(const Article& a);

// Whether two extractions of a page say the same thing: every extracted field (title, lead, body, authors,
// source, dates and their source, category, tags, images, language, canonical URL, partial), not only the
// content hash's title/lead/body. `baotin reprocess` writes a version only when this is false.
bool same_extraction(const Article& a, const Article& b);

// Body joined with "\n\n".
std::string body_text(const Article& a);

}  // namespace baotin
