// Generic extraction for pages without a template (or where the template yields nothing):
// JSON-LD NewsArticle, OpenGraph and meta tags for metadata; text-density / link-density
// scoring of the DOM for the body.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "core/article.h"
#include "extract/jsonld.h"

namespace baotin {

// Fills every content field it can find into a fresh Article (title, lead, body, authors, published,
// updated, category, tags, images, canonical_url) and lists them in .fields. Never throws.
// `meta`: read_page_meta(doc, page_url) when the caller has it already (extract_article reads it once per page);
// null: read here.
// `with_body` false: no body and no images (the other fields do not depend on them), for a caller that needs
// neither (extract_article, when the template gave the body and images).
Article extract_generic(const pugi::xml_document& doc, std::string_view page_url, const PageMeta* meta = nullptr,
                        bool with_body = true);

// Only the body (paragraphs) by DOM scoring; used by extract_generic and by the benchmark.
std::vector<std::string> generic_body(const pugi::xml_document& doc);

}  // namespace baotin
