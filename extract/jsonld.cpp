#include "extract/jsonld.h"

#include <cstring>

#include "core/text.h"
#include "core/url.h"
#include "extract/html.h"

namespace baotin {

namespace {

// Pre-order walk without recursion (parent pointers), calling f(element) for every element.
template <typename F>
void for_each_element(pugi::xml_node root, F&& f) {
  pugi::xml_node n = root.first_child();
  while (n) {
    if (n.type() == pugi::node_element) f(n);
    if (n.first_child()) {
      n = n.first_child();
      continue;
    }
    while (n && n != root && !n.next_sibling()) n = n.parent();
    if (!n || n == root) break;
    n = n.next_sibling();
  }
}

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string text_of(const nlohmann::json& v) {
  if (v.is_string()) return clean_text(decode_entities(v.get_ref<const std::string&>()));
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_object()) {
    for (const char* k : {"name", "@value", "text"})
      if (auto it = v.find(k); it != v.end() && it->is_string()) return text_of(*it);
  }
  if (v.is_array() && !v.empty()) return text_of(v.front());
  return {};
}

void add_unique(std::vector<std::string>& v, std::string s) {
  if (s.empty()) return;
  for (const auto& e : v)
    if (e == s) return;
  v.push_back(std::move(s));
}

void split_list(std::string_view s, std::vector<std::string>& out) {
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find_first_of(",;", start);
    if (end == std::string_view::npos) end = s.size();
    add_unique(out, clean_text(s.substr(start, end - start)));
    start = end + 1;
  }
}

bool is_article_type(std::string_view t) {
  static const char* const kTypes[] = {"NewsArticle",     "Article",           "ReportageNews",
                                       "BlogPosting",     "AnalysisNewsArticle", "OpinionNewsArticle",
                                       "LiveBlogPosting", "BackgroundNewsArticle", "ReviewNewsArticle",
                                       "TechArticle",     "ScholarlyArticle",  "Report", "SocialMediaPosting",
                                       "VideoObject_NOT"};
  if (auto slash = t.rfind('/'); slash != std::string_view::npos) t.remove_prefix(slash + 1);  // full IRIs
  if (auto colon = t.rfind(':'); colon != std::string_view::npos) t.remove_prefix(colon + 1);  // schema:Article
  for (const char* k : kTypes)
    if (ieq(t, k)) return true;
  return false;
}

bool has_article_type(const nlohmann::json& obj) {
  auto it = obj.find("@type");
  if (it == obj.end()) return false;
  if (it->is_string()) return is_article_type(it->get_ref<const std::string&>());
  if (it->is_array())
    for (const auto& t : *it)
      if (t.is_string() && is_article_type(t.get_ref<const std::string&>())) return true;
  return false;
}

const nlohmann::json* find_article(const nlohmann::json& v, int depth) {
  if (depth > 8) return nullptr;
  if (v.is_array()) {
    for (const auto& e : v)
      if (const auto* r = find_article(e, depth + 1)) return r;
    return nullptr;
  }
  if (!v.is_object()) return nullptr;
  if (has_article_type(v)) return &v;
  for (const char* k : {"@graph", "mainEntity", "mainEntityOfPage", "itemListElement", "hasPart"}) {
    auto it = v.find(k);
    if (it != v.end() && (it->is_array() || it->is_object()))
      if (const auto* r = find_article(*it, depth + 1)) return r;
  }
  return nullptr;
}

void add_images(const nlohmann::json& v, std::string_view base, std::vector<Image>& out, int depth = 0) {
  if (depth > 4) return;
  if (v.is_string()) {
    std::string u = clean_text(v.get_ref<const std::string&>());
    if (!u.empty()) {
      u = resolve_url(base, u);
      for (const auto& im : out)
        if (im.url == u) return;
      out.push_back({u, {}});
    }
  } else if (v.is_array()) {
    for (const auto& e : v) add_images(e, base, out, depth + 1);
  } else if (v.is_object()) {
    std::string u;
    for (const char* k : {"url", "contentUrl", "@id"})
      if (auto it = v.find(k); it != v.end() && it->is_string()) {
        u = clean_text(it->get_ref<const std::string&>());
        if (!u.empty()) break;
      }
    if (u.empty()) return;
    u = resolve_url(base, u);
    for (const auto& im : out)
      if (im.url == u) return;
    std::string cap;
    for (const char* k : {"caption", "description", "name"})
      if (auto it = v.find(k); it != v.end()) {
        cap = text_of(*it);
        if (!cap.empty()) break;
      }
    out.push_back({u, cap});
  }
}

std::optional<nlohmann::json> parse_lenient(std::string_view text) {
  auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (!j.is_discarded()) return j;
  // Common breakage: raw newlines/tabs inside strings, HTML comments or CDATA wrappers around the JSON.
  std::string s;
  s.reserve(text.size());
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    s += (u < 0x20) ? ' ' : c;
  }
  for (const char* junk : {"<!--", "-->", "<![CDATA[", "]]>"}) {
    for (size_t p; (p = s.find(junk)) != std::string::npos;) s.erase(p, std::strlen(junk));
  }
  // Trailing semicolon.
  std::string_view t = trim(s);
  while (!t.empty() && t.back() == ';') t.remove_suffix(1);
  j = nlohmann::json::parse(t.begin(), t.end(), nullptr, false);
  if (!j.is_discarded()) return j;
  return std::nullopt;
}

}  // namespace

std::vector<std::string> jsonld_names(const nlohmann::json& v) {
  std::vector<std::string> out;
  if (v.is_array()) {
    for (const auto& e : v)
      for (auto& n : jsonld_names(e)) add_unique(out, std::move(n));
  } else if (v.is_string()) {
    std::string s = clean_text(decode_entities(v.get_ref<const std::string&>()));
    // A URL is not a name.
    if (s.rfind("http://", 0) != 0 && s.rfind("https://", 0) != 0) add_unique(out, std::move(s));
  } else if (v.is_object()) {
    auto it = v.find("name");
    if (it != v.end()) {
      for (auto& n : jsonld_names(*it)) add_unique(out, std::move(n));
    }
  }
  return out;
}

std::vector<nlohmann::json> jsonld_blocks(const pugi::xml_document& doc) {
  std::vector<nlohmann::json> out;
  for_each_element(doc, [&](pugi::xml_node n) {
    if (std::strcmp(n.name(), "script") != 0) return;
    std::string_view type = n.attribute("type").value();
    if (!ieq(trim(type), "application/ld+json")) return;
    std::string text;
    for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling())
      if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) text += c.value();
    if (trim(text).empty() || text.size() > 8 * 1024 * 1024) return;
    if (auto j = parse_lenient(text)) out.push_back(std::move(*j));
  });
  return out;
}

const nlohmann::json* find_jsonld_article(const std::vector<nlohmann::json>& blocks) {
  for (const auto& b : blocks)
    if (const auto* r = find_article(b, 0)) return r;
  return nullptr;
}

const std::string& page_modified(const PageMeta& m) {
  for (const std::string* s : {&m.ld_modified, &m.article_modified, &m.itemprop_modified, &m.meta_moddate})
    if (!s->empty()) return *s;
  return m.meta_moddate;
}

PageMeta read_page_meta(const pugi::xml_document& doc, std::string_view page_url) {
  PageMeta m;
  pugi::xml_node html = doc.document_element();
  {
    std::string lang = ascii_lower(trim(html.attribute("lang").value()));
    if (lang.empty()) lang = ascii_lower(trim(html.attribute("xml:lang").value()));
    if (auto dash = lang.find_first_of("-_"); dash != std::string::npos) lang.resize(dash);
    m.language = lang;
  }

  bool have_title = false;
  for_each_element(doc, [&](pugi::xml_node n) {
    const char* name = n.name();
    if (std::strcmp(name, "meta") == 0) {
      std::string key = ascii_lower(trim(n.attribute("property").value()));
      if (key.empty()) key = ascii_lower(trim(n.attribute("name").value()));
      if (key.empty()) key = ascii_lower(trim(n.attribute("itemprop").value()));
      if (key.empty()) return;
      std::string_view raw = n.attribute("content").value();
      if (raw.empty()) raw = n.attribute("value").value();
      std::string v = clean_text(raw);
      if (v.empty()) return;
      auto set = [&](std::string& dst) {
        if (dst.empty()) dst = v;
      };
      if (key == "og:title") set(m.og_title);
      else if (key == "og:description") set(m.og_description);
      else if (key == "og:url") set(m.og_url);
      else if (key == "og:site_name") set(m.og_site_name);
      else if (key == "og:type") set(m.og_type);
      else if (key == "og:image" || key == "og:image:url" || key == "og:image:secure_url") {
        std::string u = resolve_url(page_url, v);
        bool dup = false;
        for (const auto& im : m.og_images) dup |= im.url == u;
        if (!dup) m.og_images.push_back({u, {}});
      } else if (key == "og:image:alt") {
        if (!m.og_images.empty() && m.og_images.back().caption.empty()) m.og_images.back().caption = v;
      } else if (key == "article:published_time" || key == "og:published_time" || key == "article:published")
        set(m.article_published);
      else if (key == "article:modified_time" || key == "og:updated_time" || key == "article:modified")
        set(m.article_modified);
      else if (key == "article:section") set(m.article_section);
      else if (key == "article:tag") split_list(v, m.article_tags);
      else if (key == "article:author") {
        if (v.rfind("http", 0) != 0) add_unique(m.article_authors, v);
      } else if (key == "twitter:title") set(m.twitter_title);
      else if (key == "twitter:description") set(m.twitter_description);
      else if (key == "twitter:image" || key == "twitter:image:src") set(m.twitter_image);
      else if (key == "description") set(m.meta_description);
      else if (key == "keywords") set(m.meta_keywords);
      else if (key == "news_keywords") set(m.meta_news_keywords);
      else if (key == "author" || key == "dc.creator" || key == "byl") set(m.meta_author);
      else if (key == "pubdate" || key == "publishdate" || key == "publish-date" || key == "date" ||
               key == "dc.date" || key == "dc.date.issued" || key == "article.published" || key == "sailthru.date" ||
               key == "parsely-pub-date" || key == "datepublished")
        set(key == "datepublished" ? m.itemprop_published : m.meta_pubdate);
      else if (key == "lastmod" || key == "last-modified" || key == "dc.date.modified" || key == "article.updated")
        set(m.meta_moddate);
      else if (key == "datemodified") set(m.itemprop_modified);
    } else if (std::strcmp(name, "link") == 0) {
      if (!m.canonical.empty()) return;
      std::string rel = ascii_lower(n.attribute("rel").value());
      if (rel.find("canonical") == std::string::npos) return;
      std::string href = clean_text(n.attribute("href").value());
      if (!href.empty()) m.canonical = resolve_url(page_url, href);
    } else if (std::strcmp(name, "title") == 0 && !have_title) {
      // The document <title> (not an SVG <title> in the body): the first one wins.
      have_title = true;
      m.html_title = clean_text(inner_text(n));
    } else if (std::strcmp(name, "time") == 0 || std::strcmp(name, "span") == 0 || std::strcmp(name, "div") == 0) {
      // Microdata dates in the body.
      std::string_view ip = n.attribute("itemprop").value();
      if (ip.empty()) return;
      std::string v = clean_text(n.attribute("datetime").value());
      if (v.empty()) v = clean_text(n.attribute("content").value());
      if (v.empty()) v = clean_text(inner_text(n));
      if (ip == "datePublished" && m.itemprop_published.empty()) m.itemprop_published = v;
      if (ip == "dateModified" && m.itemprop_modified.empty()) m.itemprop_modified = v;
    }
  });
  if (!m.og_url.empty()) m.og_url = resolve_url(page_url, m.og_url);
  if (!m.twitter_image.empty()) m.twitter_image = resolve_url(page_url, m.twitter_image);

  auto blocks = jsonld_blocks(doc);
  if (const nlohmann::json* a = find_jsonld_article(blocks)) {
    m.has_jsonld_article = true;
    const auto& o = *a;
    auto get = [&](const char* k) -> std::string {
      auto it = o.find(k);
      return it == o.end() ? std::string() : text_of(*it);
    };
    m.ld_type = get("@type");
    m.ld_headline = get("headline");
    if (m.ld_headline.empty()) m.ld_headline = get("name");
    m.ld_description = get("description");
    m.ld_published = get("datePublished");
    if (m.ld_published.empty()) m.ld_published = get("dateCreated");
    m.ld_modified = get("dateModified");
    m.ld_url = get("url");
    if (!m.ld_url.empty()) m.ld_url = resolve_url(page_url, m.ld_url);
    if (auto it = o.find("author"); it != o.end()) m.ld_authors = jsonld_names(*it);
    if (m.ld_authors.empty())
      if (auto it = o.find("creator"); it != o.end()) m.ld_authors = jsonld_names(*it);
    if (auto it = o.find("articleSection"); it != o.end()) m.ld_section = text_of(*it);
    if (auto it = o.find("keywords"); it != o.end()) {
      if (it->is_array()) {
        for (const auto& k : *it)
          if (k.is_string()) split_list(k.get_ref<const std::string&>(), m.ld_keywords);
      } else if (it->is_string()) {
        split_list(it->get_ref<const std::string&>(), m.ld_keywords);
      }
    }
    if (auto it = o.find("image"); it != o.end()) add_images(*it, page_url, m.ld_images);
    if (auto it = o.find("articleBody"); it != o.end() && it->is_string()) {
      // Keep line structure: paragraphs are separated by newlines in the sources that have them.
      m.ld_body = decode_entities(it->get_ref<const std::string&>());
    }
  }
  return m;
}

}  // namespace baotin
