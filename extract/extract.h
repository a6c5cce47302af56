// Extraction pipeline for one page: bytes -> UTF-8 -> gumbo/pugixml -> template (or generic) -> Article.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/article.h"
#include "extract/template.h"

namespace baotin {

struct ExtractOptions {
  const TemplateRegistry* templates = nullptr;  // may be null: generic only
  std::string site;                             // force a template by name (else chosen by URL host)
  bool allow_generic = true;                    // generic fallback for missing fields
  size_t max_bytes = 16 * 1024 * 1024;
  std::string feed_published;  // the feed item's date: the record's date when the page shows none
  int64_t now = 0;             // epoch seconds of the fetch: dates later than this (+15 min) are wrong; 0 = no check
  bool prescan = true;         // HtmlParseOptions::prescan (off only to compare: the record is the same)
};

// Never throws on bad input: empty/binary/truncated pages give a record with partial=true and warnings.
Article extract_article(std::string_view raw_bytes, std::string_view url, std::string_view content_type,
                        const ExtractOptions& opts);

}  // namespace baotin
