#include "extract/extract.h"

#include <algorithm>

#include "core/canonical.h"
#include "core/charset.h"
#include "core/date.h"
#include "core/identity.h"
#include "core/text.h"
#include "core/url.h"
#include "extract/generic.h"
#include "extract/html.h"
#include "extract/jsonld.h"
#include "extract/record.h"

namespace baotin {

namespace {

bool looks_binary(std::string_view s) {
  std::string_view head = s.substr(0, 4096);
  size_t nul = std::count(head.begin(), head.end(), '\0');
  if (nul > 0 && !(head.size() >= 2 && (head[0] == '\xFF' || head[0] == '\xFE'))) return true;  // UTF-16 has NULs
  // Magic numbers of common non-HTML payloads.
  static const std::string_view kMagic[] = {"\x1F\x8B", "%PDF", "\x89PNG", "GIF8", "\xFF\xD8\xFF", "PK\x03\x04"};
  for (auto m : kMagic)
    if (s.substr(0, m.size()) == m) return true;
  return false;
}

size_t body_chars(const Article& a) {
  size_t n = 0;
  for (const auto& p : a.body) n += p.size();
  return n;
}

void add_field(Article& a, const char* name) {
  if (std::find(a.fields.begin(), a.fields.end(), name) == a.fields.end()) a.fields.push_back(name);
}

// Fills fields the template left empty from the generic extraction.
void merge_missing(Article& a, Article&& g, bool take_body) {
  auto take = [&](auto& dst, auto& src, const char* name) {
    if (dst.empty() && !src.empty()) {
      dst = std::move(src);
      add_field(a, name);
    }
  };
  take(a.title, g.title, "title");
  take(a.lead, g.lead, "lead");
  if (take_body && !g.body.empty()) {
    a.body = std::move(g.body);
    add_field(a, "body");
  }
  take(a.authors, g.authors, "authors");
  if (a.published.empty() && !g.published.empty()) a.published_source = g.published_source;
  take(a.published, g.published, "published");
  take(a.updated, g.updated, "updated");
  take(a.category, g.category, "category");
  take(a.tags, g.tags, "tags");
  // An image URL naming a directory (a broken og:image) is no picture.
  std::erase_if(g.images, [](const Image& im) {
    auto u = parse_url(im.url);
    return !u || u->path.empty() || u->path.back() == '/';
  });
  take(a.images, g.images, "images");
  take(a.canonical_url, g.canonical_url, "canonical");
}

}  // namespace

Article extract_article(std::string_view raw, std::string_view url, std::string_view content_type,
                        const ExtractOptions& opts) {
  Article a;
  a.url = std::string(url);
  a.site = url_host(url);
  if (trim(raw).empty()) {
    a.partial = true;
    a.warnings.push_back("empty page");
    a.extractor = "none";
    return a;
  }
  if (looks_binary(raw)) {
    a.partial = true;
    a.warnings.push_back("not HTML: binary content (" + std::to_string(raw.size()) + " bytes)");
    a.extractor = "none";
    return a;
  }
  std::string charset;
  std::string html = decode_to_utf8(raw, content_type, &charset);
  HtmlParseOptions hopts;
  hopts.max_bytes = opts.max_bytes;
  hopts.prescan = opts.prescan;
  hopts.utf8_checked = true;  // decode_to_utf8 returns valid UTF-8 (invalid sequences become U+FFFD)
  auto doc = parse_html(html, hopts);
  if (doc->truncated) {
    a.partial = true;
    a.warnings.push_back("page larger than " + std::to_string(opts.max_bytes) + " bytes: cut");
  }
  if (doc->depth_limited) a.warnings.push_back("nesting deeper than the limit was flattened");
  {
    // A complete page ends with </html> (perhaps followed by whitespace or comments).
    std::string_view tail = std::string_view(html).substr(html.size() > 2048 ? html.size() - 2048 : 0);
    std::string lower = ascii_lower(tail);
    if (lower.find("</html") == std::string::npos && lower.find("</body") == std::string::npos) {
      a.partial = true;
      a.warnings.push_back("page looks truncated (no </body> or </html>)");
    }
  }

  std::shared_ptr<const SiteTemplate> t;
  if (opts.templates) t = opts.site.empty() ? opts.templates->for_url(url) : opts.templates->by_name(opts.site);
  if (!opts.site.empty() && !t) a.warnings.push_back("no template named '" + opts.site + "'");

  bool template_ok = false;
  if (t) {
    const std::string layout = apply_template(*t, doc->doc, url, a);
    a.site = t->name;
    a.language = t->language_for(url);  // per host; the page's own <html lang> is not trusted (see README)
    a.template_name = t->id() + (layout.empty() ? "" : "/" + layout);  // vietnamnet@3/2019: the layout used
    template_ok = !a.title.empty() && !a.body.empty();
    if (a.body.empty()) a.warnings.push_back("template " + t->id() + ": body empty");
    else if (body_chars(a) < t->min_body_chars)
      a.warnings.push_back("template " + t->id() + ": body short (" + std::to_string(body_chars(a)) + " bytes)");
    if (a.title.empty()) a.warnings.push_back("template " + t->id() + ": title empty");
  }
  // The page's JSON-LD and meta tags, read once for the generic extractor and the record rules (nullopt when they
  // cannot be read: each reader then reads, and handles the failure, as it would alone).
  std::optional<PageMeta> meta;
  try {
    meta = read_page_meta(doc->doc, url);
  } catch (const std::exception&) {
  }
  const bool need_generic = !t || !template_ok || a.published.empty() || a.canonical_url.empty() || a.lead.empty();
  if (opts.allow_generic && need_generic) {
    const bool take_body = !template_ok && a.body.empty();
    // The generic body (DOM scoring) and images are worked out only when the record can take them.
    Article g = extract_generic(doc->doc, url, meta ? &*meta : nullptr, take_body || a.images.empty());
    if (!t && !g.language.empty()) a.language = g.language;  // no template: the page's <html lang>, else "vi"
    merge_missing(a, std::move(g), take_body);
  }
  // A template without an update time of its own takes the page's metadata one (the generic extractor's source,
  // without running it for that alone) - unless it is earlier than the published time: such metadata (a CMS that
  // stamps the draft's creation) is no update, and taking it would only have the record rules drop it again.
  // A template update time that is the published instant says nothing (the record rules drop it); a later one in
  // the metadata then wins (VnExpress: meta lastmod repeats the publication, JSON-LD dateModified has the edit).
  if (t && meta && !page_modified(*meta).empty()) {
    auto epoch = [](const std::string& d) -> std::optional<int64_t> {
      auto iso = normalize_date(d);
      return iso ? iso_to_epoch(*iso) : std::nullopt;
    };
    const auto m = epoch(page_modified(*meta)), p = epoch(a.published);
    if (a.updated.empty()) {
      if (!(m && p && *m < *p - 59)) {  // compared at the minute, as the record rules do
        a.updated = page_modified(*meta);
        add_field(a, "updated");
      }
    } else if (m && p && *m > *p) {
      if (const auto u = epoch(a.updated); u && *u == *p) a.updated = page_modified(*meta);
    }
  }
  {
    // The page's canonical URL becomes the article id only when it is usable (core/identity.h): a canonical on
    // another site or pointing to the homepage (a common CMS bug that would merge every article of the site
    // into one record) is ignored for the fetched URL; other hosts of the same outlet (the template's hosts)
    // are fine. On the outlet's former domain (template host_aliases) the canonical URL, or the page's own URL
    // when it names none, moves to the current host, so both spellings of the article get one id. Otherwise
    // the page's canonical stays as given (the store canonicalises ids).
    const ArticleUrls ids = identify(url, "", a.canonical_url, t ? t->outlet() : OutletHosts{});
    if (ids.canonical_rejected)
      a.warnings.push_back("canonical URL " + a.canonical_url + " ignored (another site or the homepage)");
    if (ids.canonical_rejected || ids.moved) a.canonical_url = ids.canonical;
  }
  {
    RecordContext rc;
    rc.url = std::string(url);
    rc.feed_published = opts.feed_published;
    rc.now = opts.now;
    rc.detect_language = !t;
    if (meta) {
      if (!meta->og_site_name.empty()) rc.site_names.push_back(meta->og_site_name);
      rc.html_lang = meta->language;
    }
    if (t) {
      rc.site_names.push_back(t->name);
      for (const auto& h : t->hosts) rc.site_names.push_back(h);
    }
    if (!rc.detect_language) rc.html_lang.clear();
    apply_record_rules(a, rc);
  }
  a.extractor = template_ok ? "template" : (a.body.empty() && a.title.empty() ? "none" : "generic");
  if (a.body.empty()) {
    a.partial = true;
    a.warnings.push_back("no article body found");
  }
  a.content_hash = content_hash(a);
  return a;
}

}  // namespace baotin
