// Page metadata readers: JSON-LD (schema.org NewsArticle & co.), OpenGraph / article:* / twitter: meta
// tags, plain <meta name=...>, <link rel=canonical> and <title>. Used by the generic extractor.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "core/article.h"

namespace baotin {

// Everything the metadata sources of a page say, before any choice between them. All strings are
// cleaned (clean_text); URLs are resolved against the page URL. Empty when absent.
struct PageMeta {
  // JSON-LD article object (the first NewsArticle/Article/ReportageNews/BlogPosting/... found).
  bool has_jsonld_article = false;
  std::string ld_type;
  std::string ld_headline;
  std::string ld_description;
  std::string ld_published;
  std::string ld_modified;
  std::vector<std::string> ld_authors;
  std::string ld_section;
  std::vector<std::string> ld_keywords;
  std::vector<Image> ld_images;
  std::string ld_body;  // articleBody, if the site embeds it
  std::string ld_url;

  // OpenGraph / article:* / twitter:.
  std::string og_title, og_description, og_url, og_site_name, og_type;
  std::vector<Image> og_images;
  std::string article_published, article_modified, article_section;
  std::vector<std::string> article_tags, article_authors;
  std::string twitter_title, twitter_description, twitter_image;

  // Plain meta / link / title.
  std::string meta_description, meta_keywords, meta_news_keywords, meta_author, meta_pubdate, meta_moddate;
  std::string itemprop_published, itemprop_modified;
  std::string canonical;
  std::string html_title;
  std::string language;  // <html lang>, lower-case primary subtag ("vi", "en")
};

// Reads every metadata source of the page. Never throws; malformed JSON-LD blocks are skipped
// (after one lenient retry that strips raw control characters).
PageMeta read_page_meta(const pugi::xml_document& doc, std::string_view page_url);
// The page's modification time as its metadata gives it (JSON-LD dateModified, article:modified_time,
// itemprop dateModified, meta lastmod, in that order), unparsed; "" when none.
const std::string& page_modified(const PageMeta& m);

// All JSON values of the <script type="application/ld+json"> blocks of the page (parsed; broken ones skipped).
std::vector<nlohmann::json> jsonld_blocks(const pugi::xml_document& doc);

// The first object in `blocks` (searching arrays, @graph, mainEntity, nested values) whose @type is an
// article type. Returns nullptr when none.
const nlohmann::json* find_jsonld_article(const std::vector<nlohmann::json>& blocks);

// Names from a schema.org author value: "Name", {"name": ...}, or an array of those.
std::vector<std::string> jsonld_names(const nlohmann::json& v);

}  // namespace baotin
