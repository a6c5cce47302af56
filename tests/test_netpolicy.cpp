// Network policy: address classification (table) and allow lists. No connections are made here.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "fetch/netpolicy.h"

using namespace baotin;

namespace {

// A sockaddr for a textual address and port.
struct Addr {
  sockaddr_storage ss{};
  Addr(const std::string& ip, int port) {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, ip.c_str(), &a4->sin_addr) == 1) {
      a4->sin_family = AF_INET;
      a4->sin_port = htons(static_cast<uint16_t>(port));
    } else if (inet_pton(AF_INET6, ip.c_str(), &a6->sin6_addr) == 1) {
      a6->sin6_family = AF_INET6;
      a6->sin6_port = htons(static_cast<uint16_t>(port));
    } else {
      ADD_FAILURE() << "bad test address " << ip;
    }
  }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&ss); }
};

}  // namespace

TEST(NetPolicy, AddressTable) {
  struct Row {
    const char* ip;
    const char* reason;  // substring of the reason; "" = public
  };
  const Row rows[] = {
      // public
      {"8.8.8.8", ""},
      {"1.1.1.1", ""},
      {"203.162.4.190", ""},  // a Vietnamese public address
      {"172.32.0.1", ""},     // just outside 172.16/12
      {"100.128.0.1", ""},    // just outside 100.64/10
      {"169.255.0.1", ""},
      {"2001:4860:4860::8888", ""},
      {"2405:4800::1", ""},
      {"::ffff:8.8.8.8", ""},   // IPv4-mapped public
      {"64:ff9b::808:808", ""},  // NAT64 of 8.8.8.8
      {"2002:808:808::1", ""},  // 6to4 of 8.8.8.8
      // IPv4 non-public
      {"127.0.0.1", "loopback"},
      {"127.255.255.254", "loopback"},
      {"0.0.0.0", "unspecified"},
      {"0.1.2.3", "unspecified"},
      {"10.0.0.1", "private"},
      {"172.16.0.1", "private"},
      {"172.31.255.255", "private"},
      {"192.168.1.1", "private"},
      {"100.64.0.1", "carrier-grade NAT"},
      {"100.127.255.255", "carrier-grade NAT"},
      {"169.254.169.254", "link-local"},
      {"192.0.0.8", "reserved"},
      {"192.0.2.1", "documentation"},
      {"198.51.100.7", "documentation"},
      {"203.0.113.9", "documentation"},
      {"198.18.0.1", "benchmarking"},
      {"224.0.0.1", "multicast"},
      {"239.255.255.250", "multicast"},
      {"255.255.255.255", "broadcast"},
      {"240.0.0.1", "reserved"},
      // IPv6 non-public
      {"::1", "loopback"},
      {"::", "unspecified"},
      {"::ffff:127.0.0.1", "loopback"},
      {"::ffff:169.254.169.254", "link-local"},
      {"::ffff:10.1.2.3", "private"},
      {"::127.0.0.1", "IPv4-compatible"},
      {"64:ff9b::7f00:1", "loopback"},       // NAT64 of 127.0.0.1
      {"64:ff9b::a9fe:a9fe", "link-local"},  // NAT64 of 169.254.169.254
      {"64:ff9b:1::1", "local-use NAT64"},
      {"2002:7f00:1::1", "loopback"},  // 6to4 of 127.0.0.1
      {"fc00::1", "unique local"},
      {"fd12:3456::1", "unique local"},
      {"fe80::1", "link-local"},
      {"febf::1", "link-local"},
      {"fec0::1", "site-local"},
      {"ff02::1", "multicast"},
      {"ff05::2", "multicast"},
      {"2001:db8::1", "documentation"},
      {"2001::1", "Teredo"},
      {"100::1", "not global unicast"},
      {"4000::1", "not global unicast"},
  };
  for (const auto& r : rows) {
    auto why = non_public_reason(r.ip);
    ASSERT_TRUE(why) << r.ip;
    if (*r.reason == 0) EXPECT_EQ(*why, "") << r.ip;
    else EXPECT_NE(why->find(r.reason), std::string::npos) << r.ip << " -> '" << *why << "'";
    Addr a(r.ip, 80);
    EXPECT_EQ(non_public_reason(a.get()), *why) << r.ip;
  }
  EXPECT_FALSE(non_public_reason("localhost"));
  EXPECT_FALSE(non_public_reason("2130706433"));  // not an address literal for inet_pton; curl's job to parse
}

TEST(NetPolicy, RefusalTextNamesAddressAndReason) {
  NetAllowList none;
  EXPECT_EQ(net_policy_refusal(Addr("127.0.0.1", 80).get(), "127.0.0.1", none, nullptr),
            "blocked: 127.0.0.1 is a loopback address (network policy)");
  EXPECT_EQ(net_policy_refusal(Addr("::ffff:127.0.0.1", 80).get(), "localhost", none, nullptr),
            "blocked: ::ffff:127.0.0.1 is a loopback address (IPv4-mapped 127.0.0.1) (network policy, host localhost)");
  EXPECT_EQ(net_policy_refusal(Addr("169.254.169.254", 80).get(), "169.254.169.254", none, nullptr),
            "blocked: 169.254.169.254 is a link-local address (network policy)");
  EXPECT_EQ(net_policy_refusal(Addr("8.8.8.8", 443).get(), "dns.google", none, nullptr), "");
}

TEST(NetPolicy, AllowListForms) {
  NetAllowList l;
  std::string err;
  ASSERT_TRUE(l.add("127.0.0.1:8080", &err)) << err;
  ASSERT_TRUE(l.add("10.0.0.0/8", &err)) << err;
  ASSERT_TRUE(l.add("[::1]:9000", &err)) << err;
  ASSERT_TRUE(l.add("fd00::/8", &err)) << err;
  ASSERT_TRUE(l.add("intranet.example.vn", &err)) << err;
  ASSERT_TRUE(l.add("*.corp.example.vn:8443", &err)) << err;
  // addresses / networks / ports
  EXPECT_TRUE(l.allows(Addr("127.0.0.1", 8080).get(), "127.0.0.1"));
  EXPECT_FALSE(l.allows(Addr("127.0.0.1", 9464).get(), "127.0.0.1"));  // other port
  EXPECT_FALSE(l.allows(Addr("127.0.0.2", 8080).get(), "127.0.0.2"));
  EXPECT_TRUE(l.allows(Addr("10.200.1.1", 80).get(), "10.200.1.1"));
  EXPECT_FALSE(l.allows(Addr("11.0.0.1", 80).get(), "11.0.0.1"));
  EXPECT_TRUE(l.allows(Addr("::1", 9000).get(), "[::1]"));
  EXPECT_FALSE(l.allows(Addr("::1", 9001).get(), "[::1]"));
  EXPECT_TRUE(l.allows(Addr("fd12::5", 80).get(), "x"));
  EXPECT_FALSE(l.allows(Addr("fe80::1", 80).get(), "x"));
  EXPECT_FALSE(l.allows(Addr("::ffff:10.0.0.1", 80).get(), "x"));  // families are not mixed
  // host names: the URL host, whatever it resolves to
  EXPECT_TRUE(l.allows(Addr("192.168.1.5", 80).get(), "intranet.example.vn"));
  EXPECT_TRUE(l.allows(Addr("192.168.1.5", 80).get(), "INTRANET.example.vn"));
  EXPECT_FALSE(l.allows(Addr("192.168.1.5", 80).get(), "evil-intranet.example.vn"));
  EXPECT_TRUE(l.allows(Addr("192.168.1.5", 8443).get(), "a.corp.example.vn"));
  EXPECT_FALSE(l.allows(Addr("192.168.1.5", 443).get(), "a.corp.example.vn"));
  // "*" allows everything
  NetAllowList all;
  ASSERT_TRUE(all.add("*"));
  EXPECT_TRUE(all.allows(Addr("169.254.169.254", 80).get(), ""));
  EXPECT_TRUE(NetAllowList().empty());
  EXPECT_FALSE(all.empty());
}

TEST(NetPolicy, BadEntriesRejected) {
  for (const char* bad : {"", "10.0.0.0/33", "::1/129", "host name", "127.0.0.1:0", "127.0.0.1:99999", "[::1",
                          "a/8", "10.0.0.0/x", "http://127.0.0.1/"}) {
    NetAllowList l;
    std::string err;
    EXPECT_FALSE(l.add(bad, &err)) << bad;
    EXPECT_NE(err.find("allow_private entry"), std::string::npos) << bad << ": " << err;
  }
  std::string err;
  EXPECT_FALSE(NetAllowList::parse({"127.0.0.1", "nope!"}, &err));
  EXPECT_NE(err.find("'nope!'"), std::string::npos) << err;
  EXPECT_TRUE(NetAllowList::parse({"127.0.0.1", "localhost"}, &err));
}
