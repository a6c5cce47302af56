// Site templates: one TOML file per outlet under sites/, XPath rules evaluated by pugixml.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "core/article.h"
#include "core/identity.h"
#include "core/regex.h"

namespace baotin {

struct TemplateError {
  std::string file;
  int line = 0;
  std::string message;
  std::string str() const;  // "file:line: message"
};

// One field: XPath expressions tried in order; the first that yields a non-empty value wins.
struct FieldRule {
  std::vector<std::string> sources;
  std::vector<std::shared_ptr<pugi::xpath_query>> queries;
  int line = 0;
  bool empty() const { return queries.empty(); }
};

// One earlier (or alternative) page layout of an outlet (`[[layout]]` in the template): when `detect` matches the
// page, its fields replace the template's fields of the same name and its `remove` rules run after the
// template's. Layouts are tried in order; the first that matches applies (Fundus's versioned parsers).
struct TemplateLayout {
  std::string name;
  FieldRule detect;   // XPaths: the layout applies when one selects a node (or is a true/non-empty value)
  FieldRule remove;
  std::map<std::string, FieldRule> fields;
  int line = 0;
};

struct SiteTemplate {
  std::string name;
  int revision = 0;
  std::string path;                     // file it was loaded from
  std::vector<std::string> hosts;       // "vnexpress.net" matches the host and its subdomains
  std::vector<std::string> feeds;       // default feeds of the outlet
  std::vector<std::string> sitemaps;    // sitemap (index) URLs, for `baotin backfill --from/--to`
  std::string language = "vi";          // language of the template's pages ...
  std::map<std::string, std::string> language_by_host;  // ... except on these hosts (and their subdomains)
  // Former domains of the outlet: a URL on the alias host is the same page as the same URL on the target host
  // (both hosts in canonical form: lower-case, no "www."/"m." label). Exact host match, no subdomains.
  std::map<std::string, std::string> host_aliases;
  // URL rules: RE2 syntax (no lookaround, no backreferences; see core/regex.h), searched anywhere in the URL,
  // byte-wise. RE2 matches in linear time, so no rule can stall the daemon on a hostile URL.
  std::vector<std::string> skip_url_sources;  // regexes for non-article URLs
  std::vector<Regex> skip_urls;
  std::vector<std::string> article_url_sources;  // if set, only URLs matching one are articles
  std::vector<Regex> article_urls;
  std::map<std::string, FieldRule> fields;  // see kTemplateFields
  FieldRule remove;                         // nodes removed before extraction (boilerplate)
  std::vector<TemplateLayout> layouts;      // [[layout]]: other layouts of the outlet's pages
  size_t min_body_chars = 200;              // shorter bodies count as "short" for template health

  std::string id() const { return name + "@" + std::to_string(revision); }
  // false for URLs longer than limits::kMaxUrlBytes (core/limits.h), which are never articles.
  bool is_article_url(std::string_view url) const;
  // Language of a page at `url`: the language_by_host entry whose host is the most specific match of the
  // URL's host, else `language`.
  std::string language_for(std::string_view url) const;
  // The outlet's hosts and former domains, for core/identity.h (a view of `hosts` and `host_aliases`).
  OutletHosts outlet() const { return {&hosts, &host_aliases}; }
  // `url` canonicalised (core/canonical.h) and moved to the target host when its host is one of host_aliases;
  // "" when no alias applies (or `url` is no http(s) URL). Same as baotin::unalias(url, outlet()).
  std::string unalias_url(std::string_view url) const;
};

// Field names a template may define.
inline constexpr const char* kTemplateFields[] = {"title", "lead", "body", "authors", "published", "updated",
                                                  "category", "tags", "images", "image_caption", "canonical", "source"};

// Loads and validates one template file; on failure returns nullptr and appends errors (file:line).
std::shared_ptr<const SiteTemplate> load_template(const std::string& path, std::vector<TemplateError>& errors);
std::shared_ptr<const SiteTemplate> parse_template(std::string_view toml_text, const std::string& path,
                                                   std::vector<TemplateError>& errors);

class TemplateRegistry {
 public:
  // Loads every *.toml in `dir`. Broken files are reported in `errors` and skipped.
  void load_dir(const std::string& dir, std::vector<TemplateError>& errors);
  void add(std::shared_ptr<const SiteTemplate> t);
  std::shared_ptr<const SiteTemplate> for_url(std::string_view url) const;
  std::shared_ptr<const SiteTemplate> by_name(std::string_view name) const;
  const std::vector<std::shared_ptr<const SiteTemplate>>& all() const { return templates_; }

 private:
  std::vector<std::shared_ptr<const SiteTemplate>> templates_;
};

// Applies a template to a parsed page (the document is modified: `remove` nodes are deleted).
// Fills the content fields of `out` it finds and records their names in out.fields.
// Returns the name of the [[layout]] that applied ("" = the template's own fields).
std::string apply_template(const SiteTemplate& t, pugi::xml_document& doc, std::string_view page_url, Article& out);

}  // namespace baotin
