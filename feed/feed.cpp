#include "feed/feed.h"

#include <pugixml.hpp>
#include <unicode/ucnv.h>
#include <unicode/ucnv_err.h>
#include <unicode/ucsdet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <stdexcept>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/charset.h"
#include "core/limits.h"
#include "core/text.h"
#include "feed/machine.h"

namespace baotin {
using namespace feed_internal;
namespace {

// ---------------------------------------------------------------------------------------------
// Result assembly
// ---------------------------------------------------------------------------------------------

std::string kv_get(const Ctx& c, const char* k, bool* has = nullptr) {
  auto it = c.kv.find(k);
  if (has) *has = it != c.kv.end();
  return it == c.kv.end() ? std::string() : it->second;
}

// As kv_get, moving the value out of a context that is read once (the machine is dropped after the result
// is assembled; item texts can be large).
std::string kv_take(Ctx& c, const char* k, bool* has = nullptr) {
  auto it = c.kv.find(k);
  if (has) *has = it != c.kv.end();
  return it == c.kv.end() ? std::string() : std::move(it->second);
}

std::string detail_of(const Ctx& c, const char* k) {
  auto it = c.detail_type.find(k);
  return it == c.detail_type.end() ? std::string() : it->second;
}

std::vector<std::string> tag_terms(const Ctx& c) {
  std::vector<std::string> out;
  for (const auto& t : c.tags)
    if (t.term && !t.term->empty()) out.push_back(*t.term);
  return out;
}

void fill_author(const Ctx& c, std::string& author, bool& has, std::string* name, std::string* email,
                 std::vector<std::string>* authors) {
  author = kv_get(c, "author", &has);
  if (name && c.has_author_detail) {
    auto n = c.author_detail.find("name");
    if (n != c.author_detail.end()) *name = n->second;
    auto e = c.author_detail.find("email");
    if (e != c.author_detail.end() && email) *email = e->second;
  }
  if (authors) {
    std::vector<std::string> names;
    for (const auto& a : c.authors) {
      if (a.empty()) continue;
      auto n = a.find("name");
      auto e = a.find("email");
      if (n != a.end() && !n->second.empty()) names.push_back(n->second);
      else if (e != a.end() && !e->second.empty()) names.push_back(e->second);
      else names.push_back("");
    }
    if (names.size() > 1) *authors = names;
  }
}

// core/limits.h, applied to what the parser produced: over-long URLs and dates are dropped, titles cut; each
// kind of excess is named once in bozo_exception.
void apply_limits(ParsedFeed& out) {
  std::set<std::string> hits;
  auto url = [&](std::string& u, const char* what) {
    if (u.size() <= limits::kMaxUrlBytes) return;
    u.clear();
    hits.insert(std::string(what) + " longer than " + std::to_string(limits::kMaxUrlBytes) + " bytes dropped");
  };
  auto date = [&](std::string& d, const char* what) {
    if (d.size() <= limits::kMaxDateBytes) return;
    d.clear();
    hits.insert(std::string(what) + " longer than " + std::to_string(limits::kMaxDateBytes) + " bytes dropped");
  };
  auto title = [&](std::string& t) {
    if (t.size() <= limits::kMaxTitleBytes) return;
    size_t n = limits::kMaxTitleBytes;
    while (n > 0 && (static_cast<unsigned char>(t[n]) & 0xC0) == 0x80) --n;  // keep whole UTF-8 characters
    t.resize(n);
    hits.insert("title longer than " + std::to_string(limits::kMaxTitleBytes) + " bytes truncated");
  };
  url(out.link, "feed link");
  title(out.title);
  for (FeedItem& it : out.items) {
    url(it.link, "item link");
    title(it.title);
    date(it.published_raw, "item date");
    date(it.updated_raw, "item date");
    for (auto& e : it.enclosures) url(e.href, "enclosure URL");
    for (auto& m : it.media_content) url(m.url, "media URL");
    std::erase_if(it.media_thumbnails, [&](std::string& u) {
      url(u, "media URL");
      return u.empty();
    });
  }
  if (hits.empty()) return;
  std::string msg = "LimitExceeded: ";
  for (const auto& h : hits) msg += (msg.size() > 15 ? "; " : "") + h;
  out.bozo = true;
  out.bozo_exception = out.bozo_exception.empty() ? msg : out.bozo_exception + "; " + msg;
}

}  // namespace

ParsedFeed parse_feed(std::string_view bytes, const FeedHttpHeaders& headers, std::string_view base_url) {
  ParsedFeed out;
  if (bytes.empty()) {
    out.bozo = true;
    out.bozo_exception = "NotAFeed: empty document";
    return out;
  }
  Decoded dec = convert_to_utf8(bytes, headers);
  out.encoding = dec.encoding;
  if (!dec.error.empty()) {
    out.bozo = true;
    out.bozo_exception = dec.error;
  }
  std::string text = std::move(dec.text);
  Doctype dt = replace_doctype(text);

  std::string baseuri;
  std::string href(base_url);
  std::string contentloc = headers.content_location;
  baseuri = make_safe_absolute_uri(href, contentloc);
  if (baseuri.empty()) baseuri = make_safe_absolute_uri(contentloc, "");
  if (baseuri.empty()) baseuri = href;

  std::unique_ptr<FeedMachine> machine;
  bool strict_ok = false;
  EntityBudget budget;
  budget.limit = std::min(limits::kMaxEntityExpansionBytes, limits::kEntityExpansionFactor * bytes.size());
  if (!dec.encoding.empty()) {
    machine = std::make_unique<FeedMachine>(baseuri, headers.content_language, false, dt.entities, budget);
    // The strict reader parses `text` in place. A small document is copied first (cheaper than decoding it
    // again should it not be well-formed); a large one is decoded again only if the loose reader needs it.
    constexpr size_t kCopyBelow = 16 * 1024;
    std::string spare;
    if (text.size() < kCopyBelow) spare = text;
    // replace_doctype only removes whole declarations: a text that was clean stays clean
    std::string err = run_strict_reader(*machine, dt.entities, budget, text, dec.xml_chars_ok);
    if (err.empty()) {
      strict_ok = true;
    } else {
      out.bozo = true;
      out.bozo_exception = "SAXParseException: " + err;
      if (text.size() < kCopyBelow) {
        text = std::move(spare);
      } else {
        text = convert_to_utf8(bytes, headers, &dec).text;
        reapply_doctype(text, dt);
      }
    }
  }
  if (!strict_ok) {
    budget.restart();
    machine = std::make_unique<FeedMachine>(baseuri, headers.content_language, true, dt.entities, budget);
    run_loose_reader(*machine, text);
  }
  FeedMachine& m = *machine;
  if (budget.exceeded) {
    out.bozo = true;
    out.bozo_exception = "EntityExpansionLimit: internal entity references expand to more than " +
                         std::to_string(budget.limit) + " bytes (" + std::to_string(limits::kEntityExpansionFactor) +
                         "x the document, at most " + std::to_string(limits::kMaxEntityExpansionBytes >> 20) +
                         " MiB); the references past the limit were dropped";
  }
  out.items_dropped = m.items_dropped;
  if (m.items_dropped) {
    out.bozo = true;
    std::string why = "ItemLimit: " + std::to_string(m.items_dropped) + " items past the first " +
                      std::to_string(limits::kMaxFeedItems) + " were ignored";
    out.bozo_exception = out.bozo_exception.empty() ? why : out.bozo_exception + "; " + why;
  }
  out.format = !dt.version.empty() ? dt.version : m.version;
  if (out.format.empty() && !out.bozo) {
    // feedparser reports such documents as clean; callers need to know there was no feed in it
    out.bozo = true;
    out.bozo_exception = m.first_tag.empty() ? "NotAFeed: no element found"
                                             : "NotAFeed: root element <" + m.first_tag + "> is not RSS, RDF or Atom";
  }

  const Ctx& f = m.feed_;
  out.title = kv_get(f, "title", &out.has_title);
  out.title_type = detail_of(f, "title");
  out.link = kv_get(f, "link", &out.has_link);
  out.id = kv_get(f, "id", &out.has_id);
  out.subtitle = kv_get(f, "subtitle", &out.has_subtitle);
  if (f.published_parsed && *f.published_parsed) out.published = format_utc(**f.published_parsed);
  if (f.updated_parsed && *f.updated_parsed) out.updated = format_utc(**f.updated_parsed);
  out.language = kv_get(f, "language", &out.has_language);
  fill_author(f, out.author, out.has_author, nullptr, nullptr, nullptr);
  out.categories = tag_terms(f);

  out.items.reserve(m.entries.size());
  for (Ctx& e : m.entries) {
    FeedItem it;
    it.title = kv_take(e, "title", &it.has_title);
    it.title_type = detail_of(e, "title");
    it.link = kv_take(e, "link", &it.has_link);
    it.id = kv_take(e, "id", &it.has_id);
    if (e.published_parsed && *e.published_parsed) it.published = format_utc(**e.published_parsed);
    if (e.updated_parsed && *e.updated_parsed) it.updated = format_utc(**e.updated_parsed);
    it.published_raw = kv_take(e, "published", &it.has_published);
    it.updated_raw = kv_take(e, "updated", &it.has_updated);
    it.summary = kv_take(e, "summary", &it.has_summary);
    it.summary_type = detail_of(e, "summary");
    if (!e.content.empty()) {
      it.has_content = true;
      it.content_type = e.content[0].type;
      if (e.content.size() > 1) {
        it.contents.reserve(e.content.size());
        for (auto& c : e.content) it.contents.push_back(std::move(c.value));
        it.content = it.contents[0];
      } else {
        it.content = std::move(e.content[0].value);
      }
      it.summary_copied_from_content = it.has_summary && it.summary == it.content;
    }
    fill_author(e, it.author, it.has_author, &it.author_name, &it.author_email, &it.authors);
    it.categories = tag_terms(e);
    for (const auto& l : e.links) {
      const std::string* rel = attr_get(l, "rel");
      if (!rel || *rel != "enclosure") continue;
      FeedEnclosure enc;
      if (auto* h = attr_get(l, "href")) enc.href = *h;
      if (auto* t = attr_get(l, "type")) enc.type = *t;
      if (auto* n = attr_get(l, "length")) enc.length = *n;
      it.enclosures.push_back(enc);
    }
    for (const auto& t : e.media_thumbnail)
      if (auto* u = attr_get(t, "url"); u && !u->empty()) it.media_thumbnails.push_back(*u);
    for (const auto& c : e.media_content) {
      FeedMediaContent mc;
      if (auto* u = attr_get(c, "url")) mc.url = *u;
      if (auto* t = attr_get(c, "type")) mc.type = *t;
      if (auto* md = attr_get(c, "medium")) mc.medium = *md;
      it.media_content.push_back(mc);
    }
    if (e.guidislink) {
      it.has_guidislink = true;
      it.guidislink = *e.guidislink;
    }
    out.items.push_back(std::move(it));
  }
  apply_limits(out);
  return out;
}

ParsedFeed parse_feed(std::string_view bytes, std::string_view content_type, std::string_view base_url) {
  FeedHttpHeaders h;
  if (!content_type.empty()) {
    h.present = true;
    h.content_type = std::string(content_type);
  }
  return parse_feed(bytes, h, base_url);
}

}  // namespace baotin
