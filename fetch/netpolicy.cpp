#include "fetch/netpolicy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "core/text.h"
#include "core/url.h"

namespace baotin {
namespace {

std::string v4_text(uint32_t a) {
  in_addr in{};
  in.s_addr = htonl(a);
  char buf[INET_ADDRSTRLEN] = {0};
  inet_ntop(AF_INET, &in, buf, sizeof buf);
  return buf;
}

bool in_v4(uint32_t a, uint32_t net, int prefix) {
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return (a & mask) == (net & mask);
}

constexpr uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) { return (a << 24) | (b << 16) | (c << 8) | d; }

std::string v4_reason(uint32_t a) {
  struct Range {
    uint32_t net;
    int prefix;
    const char* why;
  };
  static const Range kRanges[] = {
      {v4(0, 0, 0, 0), 8, "an unspecified (0.0.0.0/8) address"},
      {v4(127, 0, 0, 0), 8, "a loopback address"},
      {v4(10, 0, 0, 0), 8, "a private (RFC 1918) address"},
      {v4(172, 16, 0, 0), 12, "a private (RFC 1918) address"},
      {v4(192, 168, 0, 0), 16, "a private (RFC 1918) address"},
      {v4(100, 64, 0, 0), 10, "a shared (carrier-grade NAT, 100.64.0.0/10) address"},
      {v4(169, 254, 0, 0), 16, "a link-local address"},
      {v4(192, 0, 0, 0), 24, "a reserved (IETF protocol assignments, 192.0.0.0/24) address"},
      {v4(192, 0, 2, 0), 24, "a reserved (documentation) address"},
      {v4(198, 51, 100, 0), 24, "a reserved (documentation) address"},
      {v4(203, 0, 113, 0), 24, "a reserved (documentation) address"},
      {v4(192, 88, 99, 0), 24, "a reserved (6to4 relay anycast) address"},
      {v4(198, 18, 0, 0), 15, "a reserved (benchmarking, 198.18.0.0/15) address"},
      {v4(224, 0, 0, 0), 4, "a multicast address"},
      {v4(255, 255, 255, 255), 32, "a broadcast address"},
      {v4(240, 0, 0, 0), 4, "a reserved (240.0.0.0/4) address"},
  };
  for (const auto& r : kRanges)
    if (in_v4(a, r.net, r.prefix)) return r.why;
  return "";
}

uint32_t v4_at(const uint8_t* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

bool prefix_eq(const uint8_t* a, const uint8_t* b, int bits) {
  int full = bits / 8, rest = bits % 8;
  if (std::memcmp(a, b, full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

std::string v6_reason(const uint8_t* b) {
  static const uint8_t zero[16] = {};
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  static const uint8_t nat64_local[6] = {0, 0x64, 0xff, 0x9b, 0, 1};
  // Forms that carry an IPv4 address: judged by it.
  auto embedded = [](uint32_t a, const char* form) -> std::string {
    std::string why = v4_reason(a);
    return why.empty() ? why : why + " (" + form + " " + v4_text(a) + ")";
  };
  if (std::memcmp(b, mapped, 12) == 0) return embedded(v4_at(b + 12), "IPv4-mapped");
  if (std::memcmp(b, nat64, 12) == 0) return embedded(v4_at(b + 12), "NAT64");
  if (b[0] == 0x20 && b[1] == 0x02) return embedded(v4_at(b + 2), "6to4");
  if (std::memcmp(b, zero, 16) == 0) return "an unspecified address";
  if (std::memcmp(b, zero, 15) == 0 && b[15] == 1) return "a loopback address";
  if (std::memcmp(b, zero, 12) == 0) return "a reserved (IPv4-compatible, ::/96) address";
  if (prefix_eq(b, nat64_local, 48)) return "a private (local-use NAT64, 64:ff9b:1::/48) address";
  if ((b[0] & 0xfe) == 0xfc) return "a private (unique local, fc00::/7) address";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "a link-local address";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "a site-local (fec0::/10) address";
  if (b[0] == 0xff) return "a multicast address";
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return "a reserved (documentation) address";
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02) return "a reserved (IETF protocol assignments / Teredo, 2001::/23) address";
  if ((b[0] & 0xe0) != 0x20) return "a reserved (not global unicast) address";
  return "";
}

std::string addr_text(const sockaddr* a) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (a->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a)->sin_addr, buf, sizeof buf);
  else if (a->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr, buf, sizeof buf);
  return buf;
}

int addr_port(const sockaddr* a) {
  if (a->sa_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(a)->sin_port);
  if (a->sa_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(a)->sin6_port);
  return 0;
}

bool parse_port(std::string_view s, int& port) {
  if (s.empty() || s.size() > 5) return false;
  int p = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    p = p * 10 + (c - '0');
  }
  if (p < 1 || p > 65535) return false;
  port = p;
  return true;
}

bool valid_host_name(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (char c : h)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') return false;
  return h.front() != '.' && h.back() != '.';
}

}  // namespace

std::string non_public_reason(const sockaddr* addr) {
  if (!addr) return "not an address";
  if (addr->sa_family == AF_INET)
    return v4_reason(ntohl(reinterpret_cast<const sockaddr_in*>(addr)->sin_addr.s_addr));
  if (addr->sa_family == AF_INET6)
    return v6_reason(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr.s6_addr);
  return "not an IP address";
}

std::optional<std::string> non_public_reason(std::string_view ip) {
  std::string s(ip);
  sockaddr_in a4{};
  sockaddr_in6 a6{};
  if (inet_pton(AF_INET, s.c_str(), &a4.sin_addr) == 1) {
    a4.sin_family = AF_INET;
    return non_public_reason(reinterpret_cast<const sockaddr*>(&a4));
  }
  if (inet_pton(AF_INET6, s.c_str(), &a6.sin6_addr) == 1) {
    a6.sin6_family = AF_INET6;
    return non_public_reason(reinterpret_cast<const sockaddr*>(&a6));
  }
  return std::nullopt;
}

bool NetAllowList::add(std::string_view entry, std::string* error) {
  auto bad = [&](const std::string& why) {
    if (error) *error = "allow_private entry '" + std::string(entry) + "': " + why;
    return false;
  };
  std::string_view e = entry;
  while (!e.empty() && std::isspace(static_cast<unsigned char>(e.front()))) e.remove_prefix(1);
  while (!e.empty() && std::isspace(static_cast<unsigned char>(e.back()))) e.remove_suffix(1);
  if (e.empty()) return bad("empty");
  if (e == "*") {
    all_ = true;
    return true;
  }
  int port = 0;
  std::string_view addr = e;
  if (e.front() == '[') {  // [v6] or [v6]:port or [v6/len]...
    auto close = e.find(']');
    if (close == std::string_view::npos) return bad("missing ']'");
    addr = e.substr(1, close - 1);
    std::string_view rest = e.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !parse_port(rest.substr(1), port))) return bad("bad port");
  } else if (std::count(e.begin(), e.end(), ':') == 1) {  // v4:port or host:port (a bare IPv6 has 2+ colons)
    auto colon = e.find(':');
    if (!parse_port(e.substr(colon + 1), port)) return bad("bad port");
    addr = e.substr(0, colon);
  }
  Net n;
  n.port = port;
  std::string_view ip = addr;
  int prefix = -1;
  if (auto slash = addr.find('/'); slash != std::string_view::npos) {
    ip = addr.substr(0, slash);
    int p = 0;
    std::string_view len = addr.substr(slash + 1);
    if (len.empty() || len.size() > 3) return bad("bad prefix length");
    for (char c : len) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return bad("bad prefix length");
      p = p * 10 + (c - '0');
    }
    prefix = p;
  }
  std::string ips(ip);
  if (inet_pton(AF_INET, ips.c_str(), n.bytes) == 1) {
    n.family = AF_INET;
    if (prefix > 32) return bad("prefix length above 32");
    n.prefix = prefix < 0 ? 32 : prefix;
  } else if (inet_pton(AF_INET6, ips.c_str(), n.bytes) == 1) {
    n.family = AF_INET6;
    if (prefix > 128) return bad("prefix length above 128");
    n.prefix = prefix < 0 ? 128 : prefix;
  } else {
    if (prefix >= 0) return bad("not an IP network");
    std::string h = ascii_lower(addr);
    std::string_view bare = h;
    if (bare.substr(0, 2) == "*.") bare.remove_prefix(2);
    if (!valid_host_name(bare)) return bad("not an address, network or host name");
    hosts_.push_back({h, port});
    return true;
  }
  nets_.push_back(n);
  return true;
}

std::optional<NetAllowList> NetAllowList::parse(const std::vector<std::string>& entries, std::string* error) {
  NetAllowList l;
  for (const auto& e : entries)
    if (!l.add(e, error)) return std::nullopt;
  return l;
}

bool NetAllowList::allows(const sockaddr* addr, std::string_view host) const {
  if (all_) return true;
  const int port = addr_port(addr);
  std::string h = ascii_lower(host);
  if (!h.empty() && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  for (const auto& e : hosts_)
    if ((e.port == 0 || e.port == port) && host_matches(h, e.pattern)) return true;
  const uint8_t* bytes = nullptr;
  if (addr->sa_family == AF_INET) bytes = reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(addr)->sin_addr);
  else if (addr->sa_family == AF_INET6) bytes = reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr.s6_addr;
  if (!bytes) return false;
  for (const auto& n : nets_)
    if (n.family == addr->sa_family && (n.port == 0 || n.port == port) && prefix_eq(bytes, n.bytes, n.prefix))
      return true;
  return false;
}

std::string net_policy_refusal(const sockaddr* addr, std::string_view host, const NetAllowList& base,
                               const NetAllowList* extra) {
  std::string why = non_public_reason(addr);
  if (why.empty()) return "";
  if (base.allows(addr, host) || (extra && extra->allows(addr, host))) return "";
  std::string text = addr_text(addr);
  if (text.empty()) text = "the address";
  return "blocked: " + text + " is " + why + " (network policy" +
         (host.empty() || host == text ? std::string() : ", host " + std::string(host)) + ")";
}

}  // namespace baotin
