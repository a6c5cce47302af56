// Network policy of the fetcher (SSRF protection): which resolved addresses it may connect to.
// By default only public unicast addresses; loopback, private, link-local, multicast, ... need an allow list.
// The check runs on the RESOLVED address at connect time (libcurl CURLOPT_OPENSOCKETFUNCTION, and again on
// reused connections via CURLOPT_PREREQFUNCTION), so a host name resolving to 127.0.0.1 or a DNS rebind is
// caught like a literal address. See README section "Network policy".
#pragma once
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace baotin {

// Why the address is not a public unicast one ("a loopback address", "a private (RFC 1918) address", ...),
// or "" when it is public. IPv4-mapped, NAT64 (64:ff9b::/96) and 6to4 IPv6 forms are judged by the IPv4
// address they carry.
std::string non_public_reason(const sockaddr* addr);
// The same for a textual IPv4 or IPv6 address (no brackets, no port); nullopt when `ip` is not one.
std::optional<std::string> non_public_reason(std::string_view ip);

// Entries that may be connected to although not public. Each entry is one of:
//   "*"                           every address (the policy is off)
//   "127.0.0.1", "::1"            one address (the resolved address must equal it)
//   "10.0.0.0/8", "fd00::/8"      a network (CIDR)
//   "intranet.example.vn"         a host name: requests to that URL host may connect to non-public addresses
//   "*.corp.example.vn"           that host and its subdomains
// Any of them (except "*") may carry a port: "127.0.0.1:8080", "[::1]:8080", "intranet.example.vn:8443"
// (then only connections to that port are allowed).
class NetAllowList {
 public:
  // Adds one entry; false (and `error`) when it is none of the forms above.
  bool add(std::string_view entry, std::string* error = nullptr);
  // Parses a whole list; nullopt (and `error`, naming the entry) on the first bad entry.
  static std::optional<NetAllowList> parse(const std::vector<std::string>& entries, std::string* error = nullptr);
  // True when connecting to `addr` (a port is taken from it) for URL host `host` is allowed by an entry.
  bool allows(const sockaddr* addr, std::string_view host) const;
  bool empty() const { return !all_ && nets_.empty() && hosts_.empty(); }

 private:
  struct Net {
    int family = 0;  // AF_INET / AF_INET6
    uint8_t bytes[16] = {};
    int prefix = 0;
    int port = 0;  // 0 = any
  };
  struct Host {
    std::string pattern;  // lower-case; "*.x" or "x"
    int port = 0;
  };
  bool all_ = false;
  std::vector<Net> nets_;
  std::vector<Host> hosts_;
};

// The refusal for connecting to `addr` for URL host `host`: "" when allowed (public address, or allowed by
// one of the lists; `extra` may be null), else e.g. "blocked: 127.0.0.1 is a loopback address (network policy)".
std::string net_policy_refusal(const sockaddr* addr, std::string_view host, const NetAllowList& base,
                               const NetAllowList* extra);

}  // namespace baotin
