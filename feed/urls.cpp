#include "feed/machine.h"

namespace baotin::feed_internal {

// ---------------------------------------------------------------------------------------------
// URL joining (Python urllib.parse.urljoin semantics, as feedparser uses them)
// ---------------------------------------------------------------------------------------------

namespace {

struct SplitUrl {
  std::string scheme, netloc, path, query, fragment;
  bool has_netloc = false, has_query = false, has_fragment = false;
  bool invalid = false;
};

SplitUrl url_split(std::string_view s, std::string_view default_scheme) {
  SplitUrl u;
  u.scheme = std::string(default_scheme);
  auto colon = s.find(':');
  if (colon != std::string_view::npos && colon > 0 && std::isalpha(static_cast<unsigned char>(s[0]))) {
    bool ok = true;
    for (size_t i = 0; i < colon; ++i) {
      char c = s[i];
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.')) { ok = false; break; }
    }
    if (ok) {
      u.scheme = lower(s.substr(0, colon));
      s.remove_prefix(colon + 1);
    }
  }
  if (starts_with(s, "//")) {
    s.remove_prefix(2);
    auto e = s.find_first_of("/?#");
    u.netloc = std::string(s.substr(0, e));
    u.has_netloc = true;
    // Python raises ValueError("Invalid IPv6 URL") here; feedparser then uses ""
    if ((u.netloc.find('[') == std::string::npos) != (u.netloc.find(']') == std::string::npos)) u.invalid = true;
    s = e == std::string_view::npos ? std::string_view() : s.substr(e);
  }
  if (auto h = s.find('#'); h != std::string_view::npos) {
    u.fragment = std::string(s.substr(h + 1));
    u.has_fragment = true;
    s = s.substr(0, h);
  }
  if (auto q = s.find('?'); q != std::string_view::npos) {
    u.query = std::string(s.substr(q + 1));
    u.has_query = true;
    s = s.substr(0, q);
  }
  u.path = std::string(s);
  return u;
}

std::string url_unsplit(const SplitUrl& u) {
  std::string out;
  std::string url = u.path;
  if (!u.netloc.empty() || (!u.scheme.empty() && u.has_netloc && (url.empty() || url[0] == '/'))) {
    if (!url.empty() && url[0] != '/') url = "/" + url;
    url = "//" + u.netloc + url;
  } else if (!u.netloc.empty()) {
    url = "//" + u.netloc + url;
  }
  if (!u.scheme.empty()) out = u.scheme + ":";
  out += url;
  if (!u.query.empty()) out += "?" + u.query;
  if (!u.fragment.empty()) out += "#" + u.fragment;
  return out;
}

bool uses_relative(const std::string& s) {
  static const std::set<std::string> v = {"", "ftp", "http", "gopher", "nntp", "imap", "wais", "file", "https",
                                          "shttp", "mms", "prospero", "rtsp", "rtspu", "sftp", "svn", "svn+ssh",
                                          "ws", "wss"};
  return v.count(s) > 0;
}

std::string py_urljoin(std::string_view base, std::string_view url) {
  if (base.empty()) return std::string(url);
  if (url.empty()) return std::string(base);
  // The usual case without splitting: an absolute http(s) URL with a host is returned as it is (whether or not
  // the base has the same scheme), unless a bracket makes either side invalid (then the full path decides).
  if ((starts_with(url, "http://") || starts_with(url, "https://")) && base.find_first_of("[]") == std::string_view::npos) {
    const size_t p = url[4] == ':' ? 7 : 8;
    if (p < url.size() && url[p] != '/' && url[p] != '?' && url[p] != '#') {
      std::string_view netloc = url.substr(p, url.find_first_of("/?#", p) - p);
      if (netloc.find_first_of("[]") == std::string_view::npos) return std::string(url);
    }
  }
  SplitUrl b = url_split(base, "");
  SplitUrl u = url_split(url, b.scheme);
  if (b.invalid || u.invalid) return {};
  if (u.scheme != b.scheme || !uses_relative(u.scheme)) return std::string(url);
  if (u.has_netloc && !u.netloc.empty()) return std::string(url);
  u.netloc = b.netloc;
  u.has_netloc = b.has_netloc;
  if (u.path.empty()) {
    u.path = b.path;
    if (!u.has_query || u.query.empty()) u.query = b.query;
    return url_unsplit(u);
  }
  std::vector<std::string> base_parts = py_split(b.path, '/');
  if (!base_parts.empty() && !base_parts.back().empty()) base_parts.pop_back();
  std::vector<std::string> segments;
  if (u.path[0] == '/') {
    segments = py_split(u.path, '/');
  } else {
    segments = base_parts;
    for (auto& p : py_split(u.path, '/')) segments.push_back(p);
    if (segments.size() > 2) {
      std::vector<std::string> mid;
      for (size_t i = 1; i + 1 < segments.size(); ++i)
        if (!segments[i].empty()) mid.push_back(segments[i]);
      std::vector<std::string> s2{segments.front()};
      s2.insert(s2.end(), mid.begin(), mid.end());
      s2.push_back(segments.back());
      segments = std::move(s2);
    }
  }
  std::vector<std::string> resolved;
  for (const auto& seg : segments) {
    if (seg == "..") {
      if (!resolved.empty()) resolved.pop_back();
    } else if (seg == ".") {
      continue;
    } else {
      resolved.push_back(seg);
    }
  }
  if (!segments.empty() && (segments.back() == "." || segments.back() == "..")) resolved.push_back("");
  std::string path;
  for (size_t i = 0; i < resolved.size(); ++i) {
    if (i) path += '/';
    path += resolved[i];
  }
  u.path = path.empty() ? "/" : path;
  return url_unsplit(u);
}

}  // namespace

// feedparser's _urljoin: collapses extra slashes after "scheme://" first.
std::string fp_urljoin(std::string_view base, std::string_view uri) {
  std::string u(uri);
  // ^([A-Za-z][A-Za-z0-9+\-.]*://)(/*) -> $1
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  if (!u.empty() && alpha(u[0])) {
    size_t i = 1;
    while (i < u.size() && (alpha(u[i]) || (u[i] >= '0' && u[i] <= '9') || u[i] == '+' || u[i] == '-' || u[i] == '.')) ++i;
    if (u.compare(i, 3, "://") == 0) {
      size_t j = i + 3, k = j;
      while (k < u.size() && u[k] == '/') ++k;
      u.erase(j, k - j);
    }
  }
  return py_urljoin(base, u);
}

namespace {

bool acceptable_scheme(std::string_view uri) {
  static const std::set<std::string> schemes = {
      "file", "ftp", "gopher", "h323", "hdl", "http", "https", "imap", "magnet", "mailto", "mms", "news", "nntp",
      "prospero", "rsync", "rtsp", "rtspu", "sftp", "shttp", "sip", "sips", "snews", "svn", "svn+ssh", "telnet",
      "wais", "aim", "callto", "cvs", "facetime", "feed", "git", "gtalk", "irc", "ircs", "irc6", "itms", "msnim",
      "skype", "ssh", "smb", "ymsg"};
  std::string s = py_strip(uri);
  return schemes.count(s.substr(0, s.find(':'))) > 0;
}

}  // namespace

std::string make_safe_absolute_uri(std::string_view base, std::string_view rel) {
  if (base.empty()) return std::string(rel);
  if (rel.empty()) {
    SplitUrl b = url_split(base, "");
    if (b.scheme.empty() || acceptable_scheme(b.scheme + ":")) return std::string(base);
    return {};
  }
  std::string uri = fp_urljoin(base, rel);
  if (!acceptable_scheme(uri)) return {};
  return uri;
}

}  // namespace baotin::feed_internal
