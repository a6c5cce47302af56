// Minimal RFC 3986 URL handling: parse, resolve relative references, host.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace baotin {

struct Url {
  std::string scheme;  // lower-case
  std::string host;    // lower-case, no brackets for IPv6
  std::string port;    // "" when absent
  std::string path;    // "" or starting with '/'
  std::string query;   // without '?', has_query tells "?" from absent
  std::string fragment;
  bool has_query = false;
  bool has_fragment = false;
  std::string str() const;
};

std::optional<Url> parse_url(std::string_view s);
// Resolves `ref` against `base` (RFC 3986 section 5). Returns ref unchanged if base is not absolute.
std::string resolve_url(std::string_view base, std::string_view ref);
// Lower-case host of an absolute URL, or "".
std::string url_host(std::string_view url);
// True when `host` equals `pattern` or, for "*.example.com" / "example.com", is a subdomain of it.
bool host_matches(std::string_view host, std::string_view pattern);

}  // namespace baotin
