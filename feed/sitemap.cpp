#include "feed/sitemap.h"

#include <pugixml.hpp>

#include <cstring>

#include "core/charset.h"
#include "core/limits.h"
#include "core/text.h"
#include "feed/feed.h"

namespace baotin {
namespace {

std::string_view local_name(const char* qn) {
  std::string_view s(qn);
  auto c = s.rfind(':');
  return c == std::string_view::npos ? s : s.substr(c + 1);
}

// Text of a node with CDATA included, trimmed.
std::string node_text(pugi::xml_node n) {
  std::string out;
  for (pugi::xml_node c : n.children())
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out += c.value();
  return std::string(trim(out));
}

std::string norm_date(const std::string& s) {
  if (s.empty()) return {};
  auto t = parse_feed_date(s);
  return t ? format_utc(*t) : std::string();
}

pugi::xml_node child_local(pugi::xml_node n, std::string_view name) {
  for (pugi::xml_node c : n.children())
    if (c.type() == pugi::node_element && local_name(c.name()) == name) return c;
  return {};
}

bool looks_like_url(std::string_view s) {
  return s.substr(0, 7) == "http://" || s.substr(0, 8) == "https://";
}

ParsedSitemap parse_text_sitemap(std::string_view text) {
  ParsedSitemap out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = trim(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    if (!line.empty()) {
      if (line.size() > limits::kMaxUrlBytes) {
        if (out.error.empty())
          out.error = "text sitemap: URL longer than " + std::to_string(limits::kMaxUrlBytes) + " bytes skipped";
      } else if (looks_like_url(line) && line.find_first_of(" \t<>\"") == std::string_view::npos) {
        out.entries.push_back({std::string(line), {}, {}, {}});
      } else if (out.error.empty()) {
        out.error = "text sitemap: line is not an absolute http(s) URL: " + std::string(line.substr(0, 80));
      }
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  if (out.entries.empty() && out.error.empty()) out.error = "empty sitemap";
  return out;
}

}  // namespace

ParsedSitemap parse_sitemap(std::string_view bytes) {
  ParsedSitemap out;
  std::string text;
  if (bytes.size() >= 3 && std::memcmp(bytes.data(), "\xEF\xBB\xBF", 3) == 0) bytes.remove_prefix(3);
  if (is_valid_utf8(bytes)) text.assign(bytes);
  else text = decode_to_utf8(bytes, "application/xml");
  std::string_view body = trim(text);
  if (body.empty()) {
    out.error = "empty sitemap";
    return out;
  }
  if (body.front() != '<') return parse_text_sitemap(body);

  pugi::xml_document doc;
  pugi::xml_parse_result r = doc.load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!r) out.error = std::string("XML error at offset ") + std::to_string(r.offset) + ": " + r.description();
  pugi::xml_node root;
  for (pugi::xml_node c : doc.children())
    if (c.type() == pugi::node_element) { root = c; break; }
  if (!root) {
    if (out.error.empty()) out.error = "no root element";
    return out;
  }
  std::string_view rn = local_name(root.name());
  std::string_view item_name;
  if (rn == "sitemapindex") {
    out.is_index = true;
    item_name = "sitemap";
  } else if (rn == "urlset") {
    item_name = "url";
  } else {
    out.error = "not a sitemap: root element <" + std::string(root.name()) + ">";
    return out;
  }
  for (pugi::xml_node it : root.children()) {
    if (it.type() != pugi::node_element || local_name(it.name()) != item_name) continue;
    SitemapEntry e;
    e.loc = node_text(child_local(it, "loc"));
    if (e.loc.empty()) continue;
    if (e.loc.size() > limits::kMaxUrlBytes) {  // core/limits.h: never handed on
      if (out.error.empty()) out.error = "sitemap: <loc> longer than " + std::to_string(limits::kMaxUrlBytes) + " bytes skipped";
      continue;
    }
    e.lastmod = norm_date(node_text(child_local(it, "lastmod")));
    if (pugi::xml_node news = child_local(it, "news")) {
      e.news_title = clean_text(node_text(child_local(news, "title")));
      e.news_published = norm_date(node_text(child_local(news, "publication_date")));
    }
    out.entries.push_back(std::move(e));
  }
  return out;
}

}  // namespace baotin
