// Article identity: which URL and which id an article has, and under which URLs the store knows it. The one
// home of these decisions; extract, the pipeline, backfill, the CLI and the store all call it.
//
//   fetched URL ──redirects──> final URL ──page──> canonical (<link rel=canonical> / og:url, resolved by extract)
//                                   │                    │  accepted when same site (or another host of the outlet)
//                                   │                    │  and not the homepage; else the page's own URL
//                                   └──────────────┬─────┘
//                                           canonicalize_url, then moved from a former domain (host aliases)
//                                                  │
//                                    canonical URL ─> id = hex xxh3-64 of it
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace baotin {

// The hosts of one outlet (a view of SiteTemplate::hosts / host_aliases; no outlet when both are null).
struct OutletHosts {
  const std::vector<std::string>* hosts = nullptr;                  // host and its subdomains belong to the outlet
  const std::map<std::string, std::string>* aliases = nullptr;      // former host -> current host, canonical form
};

// The key of a URL for URL rules, the pipeline's in-flight and failure sets and the store's `urls` keys: its
// canonical form (canonicalize_url), else the URL as given (no http(s) URL: never rewritten). "" for "".
std::string url_key(std::string_view url);

// Article id: hex xxh3-64 (16 lower-case hex digits) of the canonical URL.
std::string article_id(std::string_view canonical_url);

// `url` canonicalised and moved to the current host when its host is a former one (exact host, no
// subdomains); "" when no alias applies or `url` is no http(s) URL.
std::string unalias(std::string_view url, const OutletHosts& outlet);

struct ArticleUrls {
  std::string canonical;             // canonical form, becomes the id (url_key: as given when no http(s) URL)
  std::string id;                    // article_id(canonical), "" with it
  std::vector<std::string> aliases;  // fetched, final (when different), then their moved spellings; no repeats
  bool canonical_rejected = false;   // the page named a canonical URL that was ignored (another site, homepage)
  bool moved = false;                // `canonical` was moved from a former domain of the outlet
};

// Identity of the page fetched at `fetched` and served (after redirects) from `final_url` ("" = no redirect),
// whose own canonical URL is `page_canonical` ("" = none). The page's canonical is used when choose_canonical
// accepts it against the served URL, or when it lies on another host of the outlet and is not its homepage;
// otherwise the served URL is. The result is canonicalised and then moved off a former domain.
ArticleUrls identify(std::string_view fetched, std::string_view final_url, std::string_view page_canonical,
                     const OutletHosts& outlet = {});

// What the store records for an article: `canonical` (url_key of canonical_url, else of url) and the `urls`
// keys in look-up order: the canonical first (it decides the identity), then url and each alias, each as given
// and as url_key.
struct RecordKeys {
  std::string canonical;
  std::vector<std::string> keys;
};
RecordKeys record_keys(std::string_view canonical_url, std::string_view url, const std::vector<std::string>& aliases);

// "Is this URL already known?": `lookup` (e.g. a read of the store's `urls` column family) is asked for `url`,
// its url_key, then its spelling on the outlet's current domain; the first answer wins.
using UrlLookup = std::function<std::optional<std::string>(const std::string& key)>;
std::optional<std::string> find_known(std::string_view url, const OutletHosts& outlet, const UrlLookup& lookup);

}  // namespace baotin
