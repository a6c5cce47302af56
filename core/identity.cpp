#include "core/identity.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>

#include "core/canonical.h"
#include "core/url.h"

namespace baotin {

namespace {

void add_once(std::vector<std::string>& v, std::string s) {
  if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
}

// The page's canonical URL against the URL it was served from: choose_canonical's rule (same registrable site,
// not the homepage of a non-homepage), widened to the outlet's other hosts. `rejected` when the page named one
// that is not used.
std::string choose_page_canonical(std::string_view page_url, std::string_view page_canonical, const OutletHosts& outlet,
                                  bool& rejected) {
  const std::string given = canonicalize_url(resolve_url(page_url, page_canonical));
  std::string chosen = choose_canonical(page_url, page_canonical, "");
  if (outlet.hosts && !given.empty() && chosen != given) {
    auto gp = parse_url(given), fp = parse_url(canonicalize_url(page_url));
    const bool homepage = gp && fp && gp->path == "/" && !gp->has_query && fp->path != "/";
    if (gp && !homepage)
      for (const auto& h : *outlet.hosts)
        if (host_matches(gp->host, h)) chosen = given;
  }
  if (chosen.empty()) return url_key(page_canonical);  // nothing usable at all: the page's spelling as given
  rejected = chosen != given;
  return chosen;
}

}  // namespace

std::string url_key(std::string_view url) {
  if (url.empty()) return {};
  std::string c = canonicalize_url(url);
  return c.empty() ? std::string(url) : c;
}

std::string article_id(std::string_view canonical_url) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(XXH3_64bits(canonical_url.data(), canonical_url.size())));
  return buf;
}

std::string unalias(std::string_view url, const OutletHosts& outlet) {
  if (!outlet.aliases || outlet.aliases->empty()) return {};
  std::string c = canonicalize_url(url);
  auto u = c.empty() ? std::nullopt : parse_url(c);
  if (!u) return {};
  auto it = outlet.aliases->find(u->host);
  if (it == outlet.aliases->end()) return {};
  u->host = it->second;
  return u->str();
}

ArticleUrls identify(std::string_view fetched, std::string_view final_url, std::string_view page_canonical,
                     const OutletHosts& outlet) {
  ArticleUrls r;
  const std::string_view page_url = final_url.empty() ? fetched : final_url;
  r.canonical = page_canonical.empty() ? url_key(page_url)
                                       : choose_page_canonical(page_url, page_canonical, outlet, r.canonical_rejected);
  if (std::string m = unalias(r.canonical, outlet); !m.empty()) {
    r.canonical = std::move(m);
    r.moved = true;
  }
  if (!r.canonical.empty()) r.id = article_id(r.canonical);
  add_once(r.aliases, std::string(fetched));
  add_once(r.aliases, std::string(final_url));
  for (size_t i = 0, n = r.aliases.size(); i < n; ++i) add_once(r.aliases, unalias(r.aliases[i], outlet));
  return r;
}

RecordKeys record_keys(std::string_view canonical_url, std::string_view url, const std::vector<std::string>& aliases) {
  RecordKeys k;
  k.canonical = url_key(!canonical_url.empty() ? canonical_url : url);
  add_once(k.keys, k.canonical);
  add_once(k.keys, std::string(url));
  add_once(k.keys, url_key(url));
  for (const auto& a : aliases) {
    add_once(k.keys, a);
    add_once(k.keys, url_key(a));
  }
  return k;
}

std::optional<std::string> find_known(std::string_view url, const OutletHosts& outlet, const UrlLookup& lookup) {
  if (url.empty()) return std::nullopt;
  std::vector<std::string> keys;
  add_once(keys, std::string(url));
  add_once(keys, url_key(url));
  add_once(keys, unalias(url, outlet));
  for (const auto& k : keys)
    if (auto id = lookup(k)) return id;
  return std::nullopt;
}

}  // namespace baotin
