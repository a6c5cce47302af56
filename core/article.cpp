#include "core/article.h"

#include <xxhash.h>

#include <cstdio>

#include "core/text.h"

namespace baotin {

nlohmann::json to_json(const Article& a) {
  nlohmann::json images = nlohmann::json::array();
  for (const auto& im : a.images) images.push_back({{"url", im.url}, {"caption", im.caption}});
  nlohmann::json j = {
      {"id", a.id},
      {"version", a.version},
      {"url", a.url},
      {"canonical_url", a.canonical_url},
      {"site", a.site},
      {"feed", a.feed},
      {"title", a.title},
      {"lead", a.lead},
      {"body", a.body},
      {"authors", a.authors},
      {"published", a.published},
      {"updated", a.updated},
      {"fetched_at", a.fetched_at},
      {"category", a.category},
      {"tags", a.tags},
      {"images", images},
      {"language", a.language},
      {"content_hash", a.content_hash},
      {"template", a.template_name},
      {"extractor", a.extractor},
      {"fields", a.fields},
      {"partial", a.partial},
      {"warnings", a.warnings},
      {"duplicate_of", a.duplicate_of},
      {"cluster", a.cluster},
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
  a.published = str("published");
  a.updated = str("updated");
  a.fetched_at = str("fetched_at");
  a.category = str("category");
  a.tags = strs("tags");
  if (j.contains("images") && j["images"].is_array())
    for (const auto& im : j["images"])
      if (im.is_object()) a.images.push_back({im.value("url", ""), im.value("caption", "")});
  a.language = j.value("language", "vi");
  a.content_hash = str("content_hash");
  a.template_name = str("template");
  a.extractor = str("extractor");
  a.fields = strs("fields");
  a.partial = j.value("partial", false);
  a.warnings = strs("warnings");
  a.duplicate_of = str("duplicate_of");
  a.cluster = str("cluster");
  return a;
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
