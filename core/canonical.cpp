#include "core/canonical.h"

#include <arpa/inet.h>
#include <unicode/uidna.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>
#include <vector>

#include "core/limits.h"
#include "core/text.h"
#include "core/url.h"

namespace baotin {
namespace {

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

// Normalises percent-encoding of a path segment / query component. `keep` are ASCII characters left raw.
std::string normalise_escapes(std::string_view s, std::string_view keep) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      unsigned char v = static_cast<unsigned char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      if (is_unreserved(v)) {
        out += static_cast<char>(v);
      } else {
        out += '%';
        out += hex[v >> 4];
        out += hex[v & 15];
      }
      i += 2;
      continue;
    }
    if (c == '%') {  // stray '%': escape it
      out += "%25";
      continue;
    }
    if (c > 0x20 && c < 0x7F && c != '"' && c != '<' && c != '>' && c != '\\' && c != '^' && c != '`' && c != '{' &&
        c != '|' && c != '}') {
      out += static_cast<char>(c);
      continue;
    }
    if (c < 0x80 && keep.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
      continue;
    }
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool is_ip_literal(std::string_view host) {
  if (host.find(':') != std::string_view::npos) return true;  // IPv6
  if (host.empty()) return false;
  return std::all_of(host.begin(), host.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; });
}

// UTS #46 to ASCII; on failure the input lower-cased.
std::string idna_host(std::string_view host) {
  bool ascii = std::all_of(host.begin(), host.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii && host.find("xn--") == std::string_view::npos) return ascii_lower(host);
  UErrorCode err = U_ZERO_ERROR;
  UIDNA* idna = uidna_openUTS46(UIDNA_NONTRANSITIONAL_TO_ASCII, &err);
  if (U_FAILURE(err) || !idna) return ascii_lower(host);
  std::array<char, 512> buf{};
  UIDNAInfo info = UIDNA_INFO_INITIALIZER;
  int32_t n = uidna_nameToASCII_UTF8(idna, host.data(), static_cast<int32_t>(host.size()), buf.data(),
                                     static_cast<int32_t>(buf.size()), &info, &err);
  uidna_close(idna);
  // Hyphen placement errors (e.g. "a--b") are tolerated: real hosts use them.
  const uint32_t fatal = info.errors & ~static_cast<uint32_t>(UIDNA_ERROR_HYPHEN_3_4 | UIDNA_ERROR_LEADING_HYPHEN |
                                                            UIDNA_ERROR_TRAILING_HYPHEN);
  if (U_FAILURE(err) || fatal || n <= 0 || n > static_cast<int32_t>(buf.size())) return ascii_lower(host);
  return ascii_lower(std::string_view(buf.data(), static_cast<size_t>(n)));
}

constexpr std::string_view kTwoLevelSuffixes[] = {
    "com.vn", "net.vn", "org.vn", "gov.vn", "edu.vn", "ac.vn", "info.vn", "biz.vn", "name.vn", "pro.vn",
    "health.vn", "int.vn", "co.uk", "org.uk", "ac.uk", "gov.uk", "com.au", "net.au", "org.au", "co.jp",
    "ne.jp", "or.jp", "com.cn", "com.sg", "com.tw", "com.hk", "co.kr", "co.th", "com.my", "co.id", "co.nz",
    "com.br", "co.in", "com.kh", "com.la"};

bool is_public_suffix(std::string_view s) {
  if (s.find('.') == std::string_view::npos) return true;  // a TLD
  return std::find(std::begin(kTwoLevelSuffixes), std::end(kTwoLevelSuffixes), s) != std::end(kTwoLevelSuffixes);
}

// Strips leading www./m./mobile./amp. labels while a registrable domain remains.
std::string desktop_host(std::string host) {
  if (is_ip_literal(host)) return host;
  for (;;) {
    bool stripped = false;
    for (std::string_view p : {"www.", "m.", "mobile.", "amp."}) {
      if (host.size() > p.size() && host.compare(0, p.size(), p) == 0) {
        std::string rest = host.substr(p.size());
        if (!is_public_suffix(rest)) {
          host = std::move(rest);
          stripped = true;
        }
        break;
      }
    }
    if (!stripped) return host;
  }
}

bool is_tracking_param(std::string_view name_raw, std::string_view value) {
  std::string name = ascii_lower(percent_decode(name_raw));
  static constexpr std::string_view exact[] = {
      "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid", "igshid",
      "zarsrc", "zacc", "gidzl", "_ga", "_gl", "_hsenc", "_hsmi", "mc_cid", "mc_eid", "ref", "ref_src",
      "ref_url", "cmpid", "ocid", "ncid", "s_cid", "spm", "fb_action_ids", "fb_action_types", "fb_source",
      "fb_ref", "mkt_tok", "xtor", "amp"};
  if (std::find(std::begin(exact), std::end(exact), name) != std::end(exact)) return true;
  for (std::string_view p : {"utm_", "itm_", "vn_", "at_"})
    if (name.size() > p.size() && name.compare(0, p.size(), p) == 0) return true;
  if (name == "outputtype" && ascii_lower(percent_decode(value)) == "amp") return true;
  return false;
}

std::string canonical_path(std::string_view raw) {
  // Split into segments (escapes normalised per segment so that "%2F" stays a literal inside a segment).
  std::vector<std::string> segs;
  size_t i = 0;
  bool trailing_slash = false;
  while (i <= raw.size()) {
    size_t j = raw.find('/', i);
    if (j == std::string_view::npos) j = raw.size();
    std::string seg = normalise_escapes(raw.substr(i, j - i), "");
    trailing_slash = j < raw.size() && j + 1 == raw.size();
    if (seg.empty() || seg == ".") {
      // collapsed
    } else if (seg == "..") {
      if (!segs.empty()) segs.pop_back();
    } else if (ascii_lower(seg) == "amp") {
      // AMP path segment
    } else {
      segs.push_back(std::move(seg));
    }
    i = j + 1;
  }
  (void)trailing_slash;  // trailing slashes are normalised away
  // ".amp" suffix of the last segment. What is left must again be an ordinary last segment, or the next
  // canonicalisation would change it ("..amp" -> "." -> dropped; "a.amp.amp" -> "a.amp" -> "a"): found by
  // fuzz_canonical, c(c(x)) == c(x) must hold.
  while (!segs.empty()) {
    std::string& last = segs.back();
    if (last.size() > 4 && ascii_lower(std::string_view(last).substr(last.size() - 4)) == ".amp") {
      last.resize(last.size() - 4);
    } else if (last.empty() || last == "." || ascii_lower(last) == "amp") {
      segs.pop_back();
    } else if (last == "..") {
      segs.pop_back();
      if (!segs.empty()) segs.pop_back();
    } else {
      break;
    }
  }
  std::string out;
  for (const auto& s : segs) out += "/" + s;
  return out.empty() ? "/" : out;
}

std::string canonical_query(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t i = 0;
  while (i <= q.size()) {
    size_t j = q.find('&', i);
    if (j == std::string_view::npos) j = q.size();
    std::string_view p = q.substr(i, j - i);
    i = j + 1;
    if (p.empty()) continue;
    auto eq = p.find('=');
    std::string_view name = p.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : p.substr(eq + 1);
    if (name.empty() || is_tracking_param(name, value)) continue;
    std::string n = normalise_escapes(name, "");
    std::string v = eq == std::string_view::npos ? std::string() : "=" + normalise_escapes(value, "");
    params.emplace_back(std::move(n), std::move(v));
  }
  std::stable_sort(params.begin(), params.end());
  std::string out;
  for (const auto& [n, v] : params) {
    if (!out.empty()) out += '&';
    out += n + v;
  }
  return out;
}

// True when `ref` starts with a URI scheme ("javascript:", "mailto:", "http:"), i.e. is not a relative reference.
bool has_scheme(std::string_view ref) {
  auto colon = ref.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  for (size_t i = 0; i < colon; ++i) {
    unsigned char c = static_cast<unsigned char>(ref[i]);
    if (!(std::isalpha(c) || (i > 0 && (std::isdigit(c) || c == '+' || c == '-' || c == '.')))) return false;
  }
  return true;
}

}  // namespace

std::string registrable_domain(std::string_view host_in) {
  std::string host = ascii_lower(host_in);
  while (!host.empty() && host.back() == '.') host.pop_back();
  if (host.empty() || is_ip_literal(host)) return host;
  auto last = host.rfind('.');
  if (last == std::string::npos) return host;
  auto second = host.rfind('.', last - 1);
  if (last == 0 || second == std::string::npos) return host;
  if (is_public_suffix(host.substr(second + 1))) {
    auto third = host.rfind('.', second - 1);
    if (second == 0 || third == std::string::npos) return host;
    return host.substr(third + 1);
  }
  return host.substr(second + 1);
}

std::string canonicalize_url(std::string_view url) {
  url = trim(url);
  if (url.empty() || url.size() > limits::kMaxUrlBytes) return {};
  // Backslashes and raw whitespace inside URLs are never meaningful separators; a URL with raw CR/LF/TAB is
  // treated like browsers do (they are removed).
  std::string cleaned;
  cleaned.reserve(url.size());
  for (char c : url)
    if (c != '\n' && c != '\r' && c != '\t') cleaned += c;
  auto u = parse_url(cleaned);
  if (!u || (u->scheme != "http" && u->scheme != "https")) return {};
  std::string host = percent_decode(u->host);
  while (!host.empty() && host.back() == '.') host.pop_back();
  if (host.empty()) return {};
  bool ipv6 = host.find(':') != std::string::npos;
  if (ipv6) {
    // One spelling per address (RFC 5952: "[0:0::1]" -> "[::1]"); anything inet_pton rejects is no host.
    in6_addr a;
    char buf[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET6, host.c_str(), &a) != 1 || !inet_ntop(AF_INET6, &a, buf, sizeof buf)) return {};
    host = buf;
  } else {
    for (unsigned char c : host)
      if (c < 0x80 && !std::isalnum(c) && c != '-' && c != '.' && c != '_') return {};
    host = idna_host(host);
    host = desktop_host(std::move(host));
  }
  std::string out = u->scheme + "://";
  out += ipv6 ? "[" + host + "]" : host;
  std::string port = u->port;
  while (port.size() > 1 && port.front() == '0') port.erase(0, 1);
  if (!port.empty() && !((u->scheme == "http" && port == "80") || (u->scheme == "https" && port == "443"))) {
    if (port.size() > 5 || std::stoul(port) > 65535) return {};
    out += ":" + port;
  }
  out += canonical_path(u->path);
  if (u->has_query) {
    std::string q = canonical_query(u->query);
    if (!q.empty()) out += "?" + q;
  }
  // The cap applies to the result too: escaping can triple a URL, and c(c(x)) == c(x) must hold.
  if (out.size() > limits::kMaxUrlBytes) return {};
  return out;
}

std::string choose_canonical(std::string_view fetched_url, std::string_view link_canonical, std::string_view og_url) {
  std::string fetched = canonicalize_url(fetched_url);
  auto fetched_parsed = fetched.empty() ? std::nullopt : parse_url(fetched);
  for (std::string_view cand : {link_canonical, og_url}) {
    cand = trim(cand);
    if (cand.empty()) continue;
    if (has_scheme(cand)) {
      std::string scheme = ascii_lower(cand.substr(0, cand.find(':')));
      if (scheme != "http" && scheme != "https") continue;
    }
    std::string c = canonicalize_url(fetched.empty() ? std::string(cand) : resolve_url(fetched_url, cand));
    if (c.empty()) continue;
    if (!fetched_parsed) return c;  // nothing to compare against: an absolute candidate is the best we have
    auto cp = parse_url(c);
    if (!cp) continue;
    if (registrable_domain(cp->host) != registrable_domain(fetched_parsed->host)) continue;
    if (cp->path == "/" && !cp->has_query && fetched_parsed->path != "/") continue;  // canonical -> homepage bug
    return c;
  }
  return fetched;
}

}  // namespace baotin
