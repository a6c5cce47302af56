// Extraction pipeline for one page: bytes -> UTF-8 -> gumbo/pugixml -> template (or generic) -> Article.
#pragma once
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
};

// Never throws on bad input: empty/binary/truncated pages give a record with partial=true and warnings.
Article extract_article(std::string_view raw_bytes, std::string_view url, std::string_view content_type,
                        const ExtractOptions& opts);

}  // namespace baotin
