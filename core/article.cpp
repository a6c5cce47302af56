#include "core/article.h"

#include <xxhash.h>

#include <cstdio>

#include "core/text.h"

namespace baotin {

namespace {
// Missing is null (not ""), so that pandas / DuckDB / jq see a missing date as missing, not as text.
nlohmann::json opt(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }
}  // namespace

nlohmann::json to_json(const Article& a) {
  nlohmann::json images = nlohmann::json::array();
  for (const auto& im : a.images) images.push_back({{"url", im.url}, {"caption", opt(im.caption)}});
  nlohmann::json j = {
      {"id", a.id},
      {"version", a.version},
      {"url", a.url},
      {"canonical_url", opt(a.canonical_url)},
      {"site", a.site},
      {"feed", opt(a.feed)},
      {"title", opt(a.title)},
      {"lead", opt(a.lead)},
      {"body", a.body},
      {"authors", a.authors},
      {"source", opt(a.source)},
      {"published", opt(a.published)},
      {"published_source", opt(a.published_source)},
      {"updated", opt(a.updated)},
      {"fetched_at", opt(a.fetched_at)},
      {"category", opt(a.category)},
      {"tags", a.tags},
      {"images", images},
      {"language", opt(a.language)},
      {"content_hash", opt(a.content_hash)},
      {"template", opt(a.template_name)},
      {"extractor", a.extractor},
      {"fields", a.fields},
      {"partial", a.partial},
      {"warnings", a.warnings},
      {"reason", opt(a.reason)},
      {"content_type", opt(a.content_type)},
      {"duplicate_of", opt(a.duplicate_of)},
      {"cluster", opt(a.cluster)},
  };
  return j;
}

Article article_from_json(const nlohmann::json& j) {
  Article a;
  auto str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string(); };
  auto strs = [&](const char* k) {
    std::vector<std::string> v;
    if (j.contains(k) && j[k].is_array())
      for (const auto& e : j[k])
        if (e.is_string()) v.push_back(e.get<std::string>());
    return v;
  };
  a.id = str("id");
  a.version = j.value("version", 0u);
  a.url = str("url");
  a.canonical_url = str("canonical_url");
  a.site = str("site");
  a.feed = str("feed");
  a.title = str("title");
  a.lead = str("lead");
  a.body = strs("body");
  a.authors = strs("authors");
  a.source = str("source");
  a.published = str("published");
  a.published_source = str("published_source");
  a.updated = str("updated");
  a.fetched_at = str("fetched_at");
  a.category = str("category");
  a.tags = strs("tags");
  if (j.contains("images") && j["images"].is_array())
    for (const auto& im : j["images"])
      if (im.is_object())
        a.images.push_back({im.contains("url") && im["url"].is_string() ? im["url"].get<std::string>() : "",
                            im.contains("caption") && im["caption"].is_string() ? im["caption"].get<std::string>() : ""});
  a.language = j.contains("language") && j["language"].is_string() ? j["language"].get<std::string>() : "vi";
  a.content_hash = str("content_hash");
  a.template_name = str("template");
  a.extractor = str("extractor");
  a.fields = strs("fields");
  a.partial = j.value("partial", false);
  a.warnings = strs("warnings");
  a.reason = str("reason");
  a.content_type = str("content_type");
  a.duplicate_of = str("duplicate_of");
  a.cluster = str("cluster");
  return a;
}

bool same_extraction(const Article& a, const Article& b) {
  return a.title == b.title && a.lead == b.lead && a.body == b.body && a.authors == b.authors &&
         a.source == b.source && a.published == b.published && a.published_source == b.published_source &&
         a.updated == b.updated && a.category == b.category && a.tags == b.tags && a.images == b.images &&
         a.language == b.language && a.canonical_url == b.canonical_url && a.partial == b.partial;
}

std::string body_text(const Article& a) {
  std::string out;
  for (const auto& p : a.body) {
    if (!out.empty()) out += "\n\n";
    out += p;
  }
  return out;
}

std::string content_hash(const Article& a) {
  // Normalise again (idempotent) so that hashes never depend on how a field was assembled.
  std::string buf = clean_text(a.title);
  buf += '\x1f';
  buf += clean_text(a.lead);
  for (const auto& p : a.body) {
    buf += '\x1e';
    buf += clean_text(p);
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(XXH3_64bits(buf.data(), buf.size())));
  return hex;
}

}  // namespace baotin
