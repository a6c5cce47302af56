// The daemon's HTTP endpoint: address parsing, exclusive port, and slow clients (slowloris).
#include <gtest/gtest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/http_endpoint.h"
#include "e2e_server.h"

using namespace baotin;

TEST(ListenAddress, ParsesNumericAddressesOnly) {
  std::string why;
  auto a = parse_listen_address("127.0.0.1:9464", &why);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9464);
  EXPECT_TRUE(a->loopback);
  a = parse_listen_address("[::1]:80", &why);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::1");
  EXPECT_TRUE(a->loopback);
  a = parse_listen_address("localhost:1", &why);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  a = parse_listen_address("127.8.9.10:65535", &why);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->loopback);
  a = parse_listen_address("0.0.0.0:9464", &why);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->loopback);
  a = parse_listen_address("[::]:9464", &why);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->loopback);
  for (const char* bad : {"127.0.0.1:abc", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:+80",
                          "127.0.0.1:-1", "127.0.0.1", "host.example:80", "[::1]80", "[zz]:80", ":80", "1.2.3:80",
                          "127.0.0.1:0009464"}) {
    EXPECT_FALSE(parse_listen_address(bad, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

TEST(MetricsEndpoint, SecondBindOnTheSamePortFails) {
  int port = baotin::testing::free_port();
  std::string err;
  auto a = HttpEndpoint::bind({"127.0.0.1", port, true}, &err);
  ASSERT_TRUE(a) << err;
  auto b = HttpEndpoint::bind({"127.0.0.1", port, true}, &err);
  EXPECT_FALSE(b);
  EXPECT_NE(err.find("in use"), std::string::npos) << err;
}

namespace {
int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}
}  // namespace

TEST(MetricsEndpoint, ServesRoutesAndStaysAnswerableUnderSlowClients) {
  int port = baotin::testing::free_port();
  std::string err;
  auto ep = HttpEndpoint::bind({"127.0.0.1", port, true}, &err);
  ASSERT_TRUE(ep) << err;
  ep->route("/healthz", [] { return HttpResponse{200, "text/plain", "ok\n"}; });
  ep->route("/status", [] { return HttpResponse{503, "application/json", "{\"ok\":false}"}; });
  ep->start();

  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(2);
  cli.set_read_timeout(2);
  auto r = cli.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok\n");
  r = cli.Get("/status");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  r = cli.Get("/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);

  // 48 slow clients (more than the endpoint's connection slots), each sending half a request head and
  // then nothing: a real request must still be answered.
  std::vector<int> slow;
  for (int i = 0; i < 48; ++i) {
    int fd = connect_loopback(port);
    ASSERT_GE(fd, 0);
    const char* part = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    ASSERT_GT(::send(fd, part, std::strlen(part), MSG_NOSIGNAL), 0);
    slow.push_back(fd);
  }
  for (int i = 0; i < 5; ++i) {
    r = cli.Get("/healthz");
    ASSERT_TRUE(r) << "endpoint unreachable with slow clients connected (attempt " << i << ")";
    EXPECT_EQ(r->status, 200);
  }
  // An oversized request head is refused, not buffered without end.
  int big = connect_loopback(port);
  std::string junk = "GET /healthz HTTP/1.1\r\nX: " + std::string(9000, 'a');  // all of it read before the 431
  ::send(big, junk.data(), junk.size(), MSG_NOSIGNAL);
  char buf[256] = {};
  ssize_t n = ::recv(big, buf, sizeof buf - 1, 0);
  ASSERT_GT(n, 0);
  EXPECT_NE(std::string(buf).find(" 431 "), std::string::npos) << buf;
  ::close(big);
  for (int fd : slow) ::close(fd);
  ep->stop();
}
