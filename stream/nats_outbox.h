// The live stream (README "Live stream (NATS JetStream)"): the store's change log is an outbox that a publisher
// thread drains into a NATS JetStream stream.
//
// Every change event (new / updated / duplicate / cluster_original_moved) is published, in change-log order, with
// the record's stored version JSON (+ "seq", as export's JSONL line) to `<prefix>.<site>.<event>` with the header
// Nats-Msg-Id = <id>:<version>:<event> (cluster_original_moved: <id>:<version>:cluster_original_moved:<original>).
// The publish cursor (meta key kCursorKey: the last change seq the server acknowledged, with every earlier one)
// advances only on the server's acks, so an outage, a restart or a SIGKILL loses nothing; what was sent but not
// yet acknowledged when the publisher stopped is sent again, and JetStream drops it as a duplicate within the
// stream's duplicate window (duplicate_window_s).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/store.h"
#include "stream/nats_config.h"

namespace baotin {

class NatsOutbox {
 public:
  static constexpr const char* kCursorKey = "stream_nats_cursor";

  NatsOutbox(Store& store, NatsStreamConfig cfg);
  ~NatsOutbox();
  NatsOutbox(const NatsOutbox&) = delete;
  NatsOutbox& operator=(const NatsOutbox&) = delete;

  void start();  // the publisher thread
  // Stops the thread: a batch being published waits for its acks (at most publish_timeout_ms more), the cursor is
  // saved, the connection closed. Idempotent.
  void stop();

  uint64_t cursor() const { return cursor_.load(); }
  uint64_t lag() const;
  bool connected() const { return connected_.load(); }
  uint64_t published() const { return published_.load(); }
  uint64_t duplicates() const { return duplicates_.load(); }
  uint64_t failed() const { return failed_.load(); }
  // /status "stream": cursor, last_seq, lag, connected, server, stream_ok, counters, last_error.
  nlohmann::json status_json() const;
  // Prometheus families baotin_stream_* (text format 0.0.4, HELP and TYPE lines included).
  std::string prometheus() const;

  // Subject token for a site: '.', '*', '>', whitespace and control characters become '_' ("" -> "_").
  static std::string subject_token(const std::string& site);
  static std::string subject(const std::string& prefix, const ChangeEvent& e);
  static std::string msg_id(const ChangeEvent& e);

 private:
  struct Nats;
  void run();
  bool connect();
  bool ensure_stream();
  bool publish_batch();
  void wait_for(double seconds);
  void set_error(const std::string& e);
  void save_cursor(uint64_t c);
  void close_connection();
  void record_ack(uint64_t seq, const std::string& error, bool duplicate);
  friend struct NatsCallbacks;

  Store& store_;
  const NatsStreamConfig cfg_;
  std::unique_ptr<Nats> nats_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;  // wake-up of the thread, last_error_, acks_
  std::condition_variable cv_;
  std::string last_error_;
  bool closed_seen_ = false;
  std::map<uint64_t, std::string> acks_;  // seq -> "" (acked) or the error, for the batch in flight
  std::atomic<uint64_t> cursor_{0}, last_seq_{0}, published_{0}, duplicates_{0}, failed_{0}, oversized_{0};
  std::atomic<uint64_t> acked_dup_in_batch_{0};
  std::atomic<bool> connected_{false}, stream_ok_{false};
  std::string server_;  // the connected URL (redacted), guarded by mu_
  std::atomic<double> down_since_{0};
  int failures_ = 0;
};

}  // namespace baotin
