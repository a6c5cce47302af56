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
// Resolves `ref` against `base` (RFC 3986 section 5). Returns ref unchanged if base is not absolute, and
// also when ref has a scheme of its own ("javascript:alert(1)", "mailto:x", "data:..."): such a reference is
// absolute, never a relative path.
std::string resolve_url(std::string_view base, std::string_view ref);
// Lower-case scheme of `s` ("https" for "HTTPS://x", "javascript" for "javascript:alert(1)"), or "" when `s`
// does not start with scheme ":" (a relative reference).
std::string url_scheme(std::string_view s);
// True for an absolute http:// or https:// URL with a host.
bool is_http_url(std::string_view s);
// `s` (a URL, or any text containing URLs such as an error message) with the values of credential-like query
// parameters (token, key, api_key, access_token, sig, signature, password, secret, ...) and userinfo
// passwords replaced by REDACTED. For logs, /status and CLI output; requests keep the real URL.
std::string redact_url(std::string_view s);
// Lower-case host of an absolute URL, or "".
std::string url_host(std::string_view url);
// True when `host` equals `pattern` or, for "*.example.com" / "example.com", is a subdomain of it.
bool host_matches(std::string_view host, std::string_view pattern);

}  // namespace baotin
