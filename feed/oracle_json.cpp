// feedparser-shaped JSON of a parsed feed (the conformance oracle's format) and its HTTP headers; used by
// `baotin parse-feed` and the conformance bench and tests.
#include "feed/feed.h"

#include "feed/machine.h"

namespace baotin {
using namespace feed_internal;

FeedHttpHeaders feed_headers_from_json(std::string_view json_object) {
  FeedHttpHeaders h;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_object);
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("http headers: ") + e.what());
  }
  if (!j.is_object()) throw std::invalid_argument("http headers: not a JSON object");
  h.present = true;
  h.content_type = "application/xml";
  for (auto& [k, v] : j.items()) {
    std::string lk = lower(k);
    std::string sv = v.is_string() ? v.get<std::string>() : v.dump();
    if (lk == "content-type") h.content_type = sv;
    else if (lk == "content-location") h.content_location = sv;
    else if (lk == "content-language") h.content_language = sv;
  }
  return h;
}

nlohmann::json feed_to_oracle_json(const ParsedFeed& f) {
  using nlohmann::json;
  auto opt = [](bool has, const std::string& v) { return has ? json(v) : json(nullptr); };
  auto nz = [](const std::string& v) { return v.empty() ? json(nullptr) : json(v); };
  json j;
  j["schema"] = 1;
  j["format"] = f.format;
  j["encoding"] = f.encoding;
  j["bozo"] = f.bozo;
  j["bozo_exception"] = f.bozo ? json(f.bozo_exception) : json(nullptr);
  json feed;
  feed["title"] = opt(f.has_title, f.title);
  feed["title_type"] = nz(f.title_type);
  feed["link"] = opt(f.has_link, f.link);
  feed["id"] = opt(f.has_id, f.id);
  feed["subtitle"] = opt(f.has_subtitle, f.subtitle);
  feed["published"] = nz(f.published);
  feed["updated"] = nz(f.updated);
  feed["language"] = opt(f.has_language, f.language);
  feed["author"] = opt(f.has_author, f.author);
  feed["categories"] = f.categories;
  j["feed"] = feed;
  json items = json::array();
  for (const auto& it : f.items) {
    json o;
    o["title"] = opt(it.has_title, it.title);
    o["title_type"] = nz(it.title_type);
    o["link"] = opt(it.has_link, it.link);
    o["id"] = opt(it.has_id, it.id);
    o["published"] = nz(it.published);
    o["updated"] = nz(it.updated);
    o["summary"] = opt(it.has_summary, it.summary);
    o["summary_type"] = nz(it.summary_type);
    o["content"] = opt(it.has_content, it.content);
    o["content_type"] = it.has_content ? nz(it.content_type) : json(nullptr);
    o["author"] = opt(it.has_author, it.author);
    if (!it.author_name.empty() || !it.author_email.empty()) {
      json d = json::object();
      if (!it.author_name.empty()) d["name"] = it.author_name;
      if (!it.author_email.empty()) d["email"] = it.author_email;
      o["author_detail"] = d;
    }
    if (!it.authors.empty()) o["authors"] = it.authors;
    o["categories"] = it.categories;
    json encs = json::array();
    for (const auto& e : it.enclosures) {
      json x = json::object();
      if (!e.href.empty()) x["href"] = e.href;
      if (!e.type.empty()) x["type"] = e.type;
      if (!e.length.empty()) x["length"] = e.length;
      encs.push_back(x);
    }
    o["enclosures"] = encs;
    o["media_thumbnails"] = it.media_thumbnails;
    json mcs = json::array();
    for (const auto& m : it.media_content) {
      json x = json::object();
      if (!m.url.empty()) x["url"] = m.url;
      if (!m.type.empty()) x["type"] = m.type;
      if (!m.medium.empty()) x["medium"] = m.medium;
      mcs.push_back(x);
    }
    o["media_content"] = mcs;
    json extra = json::object();
    if (it.has_published) extra["published_raw"] = it.published_raw;
    if (it.has_updated) extra["updated_raw"] = it.updated_raw;
    if (it.has_guidislink) extra["guidislink"] = it.guidislink;
    if (it.summary_copied_from_content) extra["summary_copied_from_content"] = true;
    if (it.contents.size() > 1) extra["content_all"] = it.contents;
    o["_extra"] = extra;
    items.push_back(o);
  }
  j["items"] = items;
  return j;
}

}  // namespace baotin
