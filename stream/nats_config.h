// [stream.nats]: the live stream's settings (daemon/config.cpp reads and validates them; README "Live stream").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace baotin {

struct NatsStreamConfig {
  bool enabled = false;  // the section is present
  std::vector<std::string> servers = {"nats://127.0.0.1:4222"};
  std::string stream = "BAOTIN";
  std::string subject_prefix = "baotin";
  std::string credentials;           // a .creds file (JWT + NKey seed); "" = none
  std::string retention = "limits";  // limits | interest | workqueue
  std::string storage = "file";      // file | memory
  int64_t max_age_s = 7 * 86400;     // 0 = unlimited
  int64_t max_bytes = 0;             // 0 = unlimited
  int64_t duplicate_window_s = 86400;
  int replicas = 1;
  int publish_timeout_ms = 5000;  // wait for the server's ack of one message
  int max_in_flight = 256;        // messages published before their acks are awaited (one batch)
  // A store without a publish cursor yet: "all" publishes the whole change log, "new" only what is recorded from
  // the first start with [stream.nats] on.
  std::string start = "all";
  bool operator==(const NatsStreamConfig&) const = default;
};

}  // namespace baotin
