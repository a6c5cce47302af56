// Sitemaps (sitemaps.org 0.9): <sitemapindex>, <urlset> and Google News sitemaps (news:news), plus
// plain-text sitemaps (one URL per line). Input is the decoded body (the fetcher un-gzips).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace baotin {

struct SitemapEntry {
  std::string loc;             // absolute URL, whitespace-trimmed, entities decoded
  std::string lastmod;         // UTC "YYYY-MM-DDTHH:MM:SSZ", or "" when absent/unparseable
  std::string news_title;      // <news:news><news:title>
  std::string news_published;  // <news:publication_date>, UTC like lastmod, or ""
};

struct ParsedSitemap {
  bool is_index = false;               // <sitemapindex>: entries are child sitemaps
  std::vector<SitemapEntry> entries;   // in document order; entries without <loc> are skipped
  std::string error;                   // "" when clean; otherwise what went wrong (entries parsed
                                       // before a syntax error are still returned)
};

ParsedSitemap parse_sitemap(std::string_view bytes);

}  // namespace baotin
