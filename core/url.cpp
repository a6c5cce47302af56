#include "core/url.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "core/text.h"

namespace baotin {

std::string Url::str() const {
  std::string out = scheme + "://" + host;
  if (host.find(':') != std::string::npos) out = scheme + "://[" + host + "]";
  if (!port.empty()) out += ":" + port;
  out += path.empty() ? "/" : path;
  if (has_query) out += "?" + query;
  if (has_fragment) out += "#" + fragment;
  return out;
}

std::optional<Url> parse_url(std::string_view s) {
  s = trim(s);
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  for (size_t i = 0; i < colon; ++i) {
    char c = s[i];
    bool ok = std::isalpha(static_cast<unsigned char>(c)) || (i > 0 && (std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.'));
    if (!ok) return std::nullopt;
  }
  Url u;
  u.scheme = ascii_lower(s.substr(0, colon));
  std::string_view rest = s.substr(colon + 1);
  if (rest.substr(0, 2) != "//") return std::nullopt;
  rest.remove_prefix(2);
  auto auth_end = rest.find_first_of("/?#");
  std::string_view auth = rest.substr(0, auth_end);
  rest = auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);
  if (auto at = auth.rfind('@'); at != std::string_view::npos) auth.remove_prefix(at + 1);
  if (!auth.empty() && auth.front() == '[') {
    auto close = auth.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = ascii_lower(auth.substr(1, close - 1));
    // After "]" only ":port" may follow ("[::1]]:80" or "[::1]x" are not URLs).
    if (close + 1 < auth.size()) {
      if (auth[close + 1] != ':') return std::nullopt;
      u.port = std::string(auth.substr(close + 2));
    }
    if (u.host.find_first_of("[]") != std::string::npos) return std::nullopt;
  } else {
    auto pc = auth.rfind(':');
    if (pc != std::string_view::npos) {
      u.port = std::string(auth.substr(pc + 1));
      auth = auth.substr(0, pc);
    }
    u.host = ascii_lower(auth);
    // An IPv6 address must be bracketed; brackets only delimit one ("Z::1]:8080" is not a host and port).
    if (u.host.find_first_of(":[]") != std::string::npos) return std::nullopt;
  }
  if (u.host.empty()) return std::nullopt;
  for (char c : u.port)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  if (auto h = rest.find('#'); h != std::string_view::npos) {
    u.fragment = std::string(rest.substr(h + 1));
    u.has_fragment = true;
    rest = rest.substr(0, h);
  }
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    u.query = std::string(rest.substr(q + 1));
    u.has_query = true;
    rest = rest.substr(0, q);
  }
  u.path = std::string(rest);
  return u;
}

static std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> out;
  bool leading = !path.empty() && path.front() == '/';
  bool trailing = false;
  size_t i = leading ? 1 : 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    trailing = false;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing = true;
    } else if (seg == ".") {
      trailing = true;
    } else {
      out.push_back(seg);
    }
    i = j + 1;
  }
  std::string r = leading ? "/" : "";
  for (size_t k = 0; k < out.size(); ++k) {
    if (k) r += '/';
    r += out[k];
  }
  if (trailing && (r.empty() || r.back() != '/')) r += '/';
  return r;
}

std::string url_scheme(std::string_view s) {
  s = trim(s);
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return "";
  for (size_t i = 0; i < colon; ++i) {
    char c = s[i];
    bool ok = std::isalpha(static_cast<unsigned char>(c)) ||
              (i > 0 && (std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.'));
    if (!ok) return "";
  }
  return ascii_lower(s.substr(0, colon));
}

bool is_http_url(std::string_view s) {
  auto u = parse_url(s);
  return u && (u->scheme == "http" || u->scheme == "https");
}

std::string resolve_url(std::string_view base_s, std::string_view ref_s) {
  ref_s = trim(ref_s);
  if (auto r = parse_url(ref_s)) {
    r->path = remove_dot_segments(r->path);
    return r->str();
  }
  // A reference with a scheme is absolute (RFC 3986 4.3), even one without "//": never merge it as a path.
  if (!url_scheme(ref_s).empty()) return std::string(ref_s);
  auto base = parse_url(base_s);
  if (!base) return std::string(ref_s);
  Url t;
  t.scheme = base->scheme;
  std::string_view ref = ref_s;
  if (ref.substr(0, 2) == "//") {
    if (auto r = parse_url(base->scheme + ":" + std::string(ref))) {
      r->path = remove_dot_segments(r->path);
      return r->str();
    }
    return std::string(ref_s);
  }
  std::string_view frag, query;
  bool has_frag = false, has_query = false;
  if (auto h = ref.find('#'); h != std::string_view::npos) {
    frag = ref.substr(h + 1);
    has_frag = true;
    ref = ref.substr(0, h);
  }
  if (auto q = ref.find('?'); q != std::string_view::npos) {
    query = ref.substr(q + 1);
    has_query = true;
    ref = ref.substr(0, q);
  }
  t.host = base->host;
  t.port = base->port;
  if (ref.empty()) {
    t.path = base->path;
    if (has_query) {
      t.query = std::string(query);
      t.has_query = true;
    } else {
      t.query = base->query;
      t.has_query = base->has_query;
    }
  } else {
    if (ref.front() == '/') {
      t.path = remove_dot_segments(ref);
    } else {
      std::string merged = base->path.empty() ? "/" : base->path.substr(0, base->path.rfind('/') + 1);
      merged += ref;
      t.path = remove_dot_segments(merged);
    }
    t.query = std::string(query);
    t.has_query = has_query;
  }
  t.fragment = std::string(frag);
  t.has_fragment = has_frag;
  return t.str();
}

std::string url_host(std::string_view url) {
  auto u = parse_url(url);
  return u ? u->host : std::string();
}

namespace {

// Parameter names whose values are credentials. Compared after lower-casing and dropping '-', '_' and '.'.
bool credential_param(std::string_view name) {
  std::string n;
  for (char c : name) {
    if (c == '-' || c == '_' || c == '.') continue;
    n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  static const char* const kExact[] = {"key",  "sig",  "pwd",     "pass",      "auth", "authorization",
                                       "hash", "session", "sessionid", "sid",  "jwt", "hmac", "otp"};
  for (const char* k : kExact)
    if (n == k) return true;
  static const char* const kPart[] = {"token", "secret", "passw", "apikey", "signature", "credential", "accesskey",
                                      "privatekey", "licensekey", "clientkey", "authkey", "appkey", "sessionkey"};
  for (const char* k : kPart)
    if (n.find(k) != std::string::npos) return true;
  return false;
}

bool url_char(char c) {
  return !(std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`');
}

}  // namespace

std::string redact_url(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t sep = s.find("://", i);
    if (sep == std::string_view::npos) break;
    // The URL runs from "://" to the first character that cannot be in one (space, quote, angle bracket).
    size_t end = sep + 3;
    while (end < s.size() && url_char(s[end])) ++end;
    out.append(s.substr(i, sep + 3 - i));
    std::string_view rest = s.substr(sep + 3, end - sep - 3);
    // Authority: user:password@ -> user:REDACTED@
    size_t auth_end = rest.find_first_of("/?#");
    std::string_view auth = rest.substr(0, auth_end);
    if (auto at = auth.rfind('@'); at != std::string_view::npos) {
      std::string_view userinfo = auth.substr(0, at);
      if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
        out.append(userinfo.substr(0, colon + 1));
        out += "REDACTED";
        out.append(auth.substr(at));
      } else {
        out.append(auth);
      }
    } else {
      out.append(auth);
    }
    rest = auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);
    size_t q = rest.find('?');
    size_t frag = rest.find('#');
    if (q == std::string_view::npos || (frag != std::string_view::npos && frag < q)) {
      out.append(rest);
    } else {
      out.append(rest.substr(0, q + 1));
      std::string_view query = rest.substr(q + 1, frag == std::string_view::npos ? std::string_view::npos : frag - q - 1);
      size_t p = 0;
      while (p <= query.size()) {
        size_t amp = query.find('&', p);
        if (amp == std::string_view::npos) amp = query.size();
        std::string_view param = query.substr(p, amp - p);
        size_t eq = param.find('=');
        if (eq != std::string_view::npos && eq + 1 < param.size() && credential_param(param.substr(0, eq))) {
          out.append(param.substr(0, eq + 1));
          out += "REDACTED";
        } else {
          out.append(param);
        }
        if (amp < query.size()) out += '&';
        p = amp + 1;
      }
      if (frag != std::string_view::npos) out.append(rest.substr(frag));
    }
    i = end;
  }
  out.append(s.substr(std::min(i, s.size())));
  return out;
}

bool host_matches(std::string_view host, std::string_view pattern) {
  if (pattern.substr(0, 2) == "*.") pattern.remove_prefix(2);
  if (host == pattern) return true;
  return host.size() > pattern.size() && host.substr(host.size() - pattern.size()) == pattern &&
         host[host.size() - pattern.size() - 1] == '.';
}

}  // namespace baotin
