#include "stream/nats_outbox.h"

#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include "core/url.h"

namespace baotin {

namespace {

double mono_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The library's last error text for this thread (more precise than the status name), else the status name.
std::string nats_error(natsStatus s) {
  natsStatus last = NATS_OK;
  const char* t = nats_GetLastError(&last);
  std::string out = natsStatus_GetText(s);
  if (t && *t && last == s) out = t;
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + redact_url(s);
  return out;
}

constexpr int64_t kNsPerSec = 1000000000LL;

jsRetentionPolicy retention_of(const std::string& r) {
  return r == "interest" ? js_InterestPolicy : r == "workqueue" ? js_WorkQueuePolicy : js_LimitsPolicy;
}
const char* retention_name(jsRetentionPolicy r) {
  return r == js_InterestPolicy ? "interest" : r == js_WorkQueuePolicy ? "workqueue" : "limits";
}

}  // namespace

struct NatsOutbox::Nats {
  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  ~Nats() {
    if (js) jsCtx_Destroy(js);
    if (nc) {
      natsConnection_Close(nc);
      natsConnection_Destroy(nc);
    }
    if (opts) natsOptions_Destroy(opts);
  }
};

// The C client's callbacks (run on the library's threads).
struct NatsCallbacks {
  static NatsOutbox* self(void* c) { return static_cast<NatsOutbox*>(c); }
  static std::string url(natsConnection* nc) {
    char buf[512] = {0};
    if (natsConnection_GetConnectedUrl(nc, buf, sizeof buf) != NATS_OK) return "";
    return redact_url(buf);
  }
  static void connected(natsConnection* nc, void* c) {
    auto* o = self(c);
    {
      std::lock_guard lk(o->mu_);
      o->server_ = url(nc);
      o->last_error_.clear();
    }
    o->connected_ = true;
    spdlog::info("stream: connected to NATS {} ({} events to publish)", url(nc), o->lag());
    o->cv_.notify_all();
  }
  static void reconnected(natsConnection* nc, void* c) {
    auto* o = self(c);
    {
      std::lock_guard lk(o->mu_);
      o->server_ = url(nc);
      o->last_error_.clear();
    }
    o->connected_ = true;
    o->stream_ok_ = false;  // checked again: the server may have lost or changed it
    spdlog::info("stream: reconnected to NATS {} after {:.0f} s; {} events to publish", url(nc),
                 o->down_since_ > 0 ? mono_now() - o->down_since_ : 0.0, o->lag());
    o->cv_.notify_all();
  }
  static void disconnected(natsConnection*, void* c) {
    auto* o = self(c);
    if (!o->connected_.exchange(false) || o->stop_) return;
    o->down_since_ = mono_now();
    spdlog::warn("stream: disconnected from NATS; publishing paused, ingestion continues ({} events wait in the "
                 "outbox); reconnecting with backoff",
                 o->lag());
  }
  // The last callback the client delivers for a connection: the outbox waits for it before it goes away.
  static void closed(natsConnection*, void* c) {
    auto* o = self(c);
    o->connected_ = false;
    {
      std::lock_guard lk(o->mu_);
      o->closed_seen_ = true;
    }
    o->cv_.notify_all();
  }
  static void error(natsConnection*, natsSubscription*, natsStatus err, void*) {
    static std::atomic<double> last{-1e9};
    const double now = mono_now();
    if (now - last.load() < 60) return;
    last = now;
    spdlog::warn("stream: NATS client error: {}", natsStatus_GetText(err));
  }
  // Reconnect backoff: 0.25 s, 0.5 s, 1 s ... 30 s.
  static int64_t delay(natsConnection*, int attempts, void*) {
    const int n = std::clamp(attempts, 1, 8);
    return std::min<int64_t>(30000, int64_t{250} << (n - 1));
  }
  static void ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* c) {
    const char* v = nullptr;
    if (natsMsgHeader_Get(msg, "Baotin-Seq", &v) == NATS_OK && v) {
      std::string err;
      if (pae) err = pae->ErrText && *pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err);
      else if (!pa) err = "no ack";
      self(c)->record_ack(std::strtoull(v, nullptr, 10), err, pa && pa->Duplicate);
    }
    natsMsg_Destroy(msg);
  }
};

NatsOutbox::NatsOutbox(Store& store, NatsStreamConfig cfg) : store_(store), cfg_(std::move(cfg)) {}

NatsOutbox::~NatsOutbox() { stop(); }

void NatsOutbox::start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void NatsOutbox::stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t NatsOutbox::lag() const {
  const uint64_t last = store_.last_seq(), c = cursor_.load();
  return last > c ? last - c : 0;
}

void NatsOutbox::wait_for(double seconds) {
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, std::chrono::duration<double>(seconds), [&] { return stop_.load(); });
}

void NatsOutbox::set_error(const std::string& e) {
  std::lock_guard lk(mu_);
  last_error_ = e;
}

void NatsOutbox::record_ack(uint64_t seq, const std::string& error, bool duplicate) {
  std::lock_guard lk(mu_);
  acks_[seq] = error;
  if (error.empty() && duplicate) ++duplicates_;
}

void NatsOutbox::save_cursor(uint64_t c) {
  cursor_ = c;
  try {
    store_.put_meta(kCursorKey, std::to_string(c));
  } catch (const std::exception& e) {
    // The in-memory cursor goes on; after a restart the events since the last saved cursor are sent again and
    // dropped by JetStream as duplicates (within the duplicate window).
    static std::atomic<double> last{-1e9};
    if (mono_now() - last.load() >= 60) {
      last = mono_now();
      spdlog::warn("stream: cannot save the publish cursor ({}): {}", c, e.what());
    }
  }
}

std::string NatsOutbox::subject_token(const std::string& site) {
  if (site.empty()) return "_";
  std::string t = site;
  for (char& ch : t) {
    const unsigned char u = static_cast<unsigned char>(ch);
    if (ch == '.' || ch == '*' || ch == '>' || u <= 0x20 || u == 0x7f) ch = '_';
  }
  return t;
}

std::string NatsOutbox::subject(const std::string& prefix, const ChangeEvent& e) {
  return prefix + "." + subject_token(e.site) + "." + e.type;
}

std::string NatsOutbox::msg_id(const ChangeEvent& e) {
  std::string id = e.id + ":" + std::to_string(e.version) + ":" + e.type;
  // One record can be re-pointed more than once (to successively earlier originals): each move is its own event.
  if (e.type == "cluster_original_moved") id += ":" + e.original;
  return id;
}

bool NatsOutbox::connect() {
  nats_ = std::make_unique<Nats>();  // on failure the caller closes it (close_connection)
  Nats* n = nats_.get();
  natsStatus s = natsOptions_Create(&n->opts);
  std::vector<const char*> urls;
  for (const auto& u : cfg_.servers) urls.push_back(u.c_str());
  if (s == NATS_OK) s = natsOptions_SetServers(n->opts, urls.data(), static_cast<int>(urls.size()));
  if (s == NATS_OK) s = natsOptions_SetName(n->opts, "baotin");
  if (s == NATS_OK && !cfg_.credentials.empty())
    s = natsOptions_SetUserCredentialsFromFiles(n->opts, cfg_.credentials.c_str(), nullptr);
  if (s == NATS_OK) s = natsOptions_SetTimeout(n->opts, 2000);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(n->opts, -1);  // for ever
  if (s == NATS_OK) s = natsOptions_SetCustomReconnectDelay(n->opts, &NatsCallbacks::delay, this);
  if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(n->opts, true, &NatsCallbacks::connected, this);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(n->opts, &NatsCallbacks::disconnected, this);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(n->opts, &NatsCallbacks::reconnected, this);
  if (s == NATS_OK) s = natsOptions_SetClosedCB(n->opts, &NatsCallbacks::closed, this);
  if (s == NATS_OK) s = natsOptions_SetErrorHandler(n->opts, &NatsCallbacks::error, this);
  if (s == NATS_OK) s = natsOptions_SetPingInterval(n->opts, 20000);
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(n->opts, 3);
  if (s != NATS_OK) {
    const std::string e = "NATS options: " + nats_error(s);
    spdlog::error("stream: {}", e);
    set_error(e);
    return false;
  }
  s = natsConnection_Connect(&n->nc, n->opts);
  if (s == NATS_OK) {
    NatsCallbacks::connected(n->nc, this);
  } else if (s == NATS_NOT_YET_CONNECTED) {
    const std::string e = "NATS " + join(cfg_.servers) + " not reachable";
    set_error(e);
    down_since_ = mono_now();
    spdlog::warn("stream: {} yet; retrying in the background with backoff (ingestion continues, {} events wait)", e,
                 lag());
  } else {
    const std::string e = "cannot connect to NATS " + join(cfg_.servers) + ": " + nats_error(s);
    spdlog::error("stream: {}", e);
    set_error(e);
    return false;
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = cfg_.publish_timeout_ms;
  jo.PublishAsync.AckHandler = &NatsCallbacks::ack;
  jo.PublishAsync.AckHandlerClosure = this;
  jo.PublishAsync.MaxPending = cfg_.max_in_flight + 16;
  s = natsConnection_JetStream(&n->js, n->nc, &jo);
  if (s != NATS_OK) {
    const std::string e = "JetStream context: " + nats_error(s);
    spdlog::error("stream: {}", e);
    set_error(e);
    return false;
  }
  return true;
}

bool NatsOutbox::ensure_stream() {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, nats_->js, cfg_.stream.c_str(), nullptr, &jerr);
  const std::string prefix_all = cfg_.subject_prefix + ".>";
  if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    const char* subjects[] = {prefix_all.c_str()};
    sc.Name = cfg_.stream.c_str();
    sc.Description = "baotin change log (new, updated, duplicate, cluster_original_moved records)";
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Retention = retention_of(cfg_.retention);
    sc.Storage = cfg_.storage == "memory" ? js_MemoryStorage : js_FileStorage;
    sc.MaxAge = cfg_.max_age_s * kNsPerSec;
    sc.MaxBytes = cfg_.max_bytes > 0 ? cfg_.max_bytes : -1;
    sc.Duplicates = cfg_.duplicate_window_s * kNsPerSec;
    sc.Replicas = cfg_.replicas;
    jerr = static_cast<jsErrCode>(0);
    s = js_AddStream(&si, nats_->js, &sc, nullptr, &jerr);
    if (s != NATS_OK) {
      const std::string e = "cannot create JetStream stream '" + cfg_.stream + "' (subjects " + prefix_all +
                            "): " + nats_error(s) + (jerr ? " (JetStream error " + std::to_string(jerr) + ")" : "");
      spdlog::error("stream: {}; retrying", e);
      set_error(e);
      return false;
    }
    jsStreamInfo_Destroy(si);
    spdlog::info("stream: created JetStream stream '{}': subjects {}, retention {}, storage {}, max age {} s, "
                 "duplicate window {} s",
                 cfg_.stream, prefix_all, cfg_.retention, cfg_.storage, cfg_.max_age_s, cfg_.duplicate_window_s);
    return true;
  }
  if (s != NATS_OK) {
    std::string e = "cannot look up JetStream stream '" + cfg_.stream + "': " + nats_error(s);
    if (s == NATS_NO_RESPONDERS || jerr == JSNotEnabledErr || jerr == JSNotEnabledForAccountErr)
      e += " (is JetStream enabled on the server, `nats-server -js`, and for this account?)";
    spdlog::error("stream: {}; retrying", e);
    set_error(e);
    return false;
  }
  // An existing stream: it must capture our subjects and keep what the config asks for.
  std::vector<std::string> diffs;
  const jsStreamConfig* c = si->Config;
  bool captures = false;
  for (int i = 0; c && i < c->SubjectsLen; ++i)
    if (c->Subjects[i] && (prefix_all == c->Subjects[i] || std::string(c->Subjects[i]) == ">")) captures = true;
  if (!captures) diffs.push_back("its subjects do not include " + prefix_all);
  if (c) {
    if (c->Retention != retention_of(cfg_.retention))
      diffs.push_back(std::string("retention ") + retention_name(c->Retention) + " (config " + cfg_.retention + ")");
    const std::string storage = c->Storage == js_MemoryStorage ? "memory" : "file";
    if (storage != cfg_.storage) diffs.push_back("storage " + storage + " (config " + cfg_.storage + ")");
    if (c->MaxAge != cfg_.max_age_s * kNsPerSec)
      diffs.push_back("max age " + std::to_string(c->MaxAge / kNsPerSec) + " s (config max_age_s = " +
                      std::to_string(cfg_.max_age_s) + ")");
    const int64_t want_bytes = cfg_.max_bytes > 0 ? cfg_.max_bytes : -1;
    if ((c->MaxBytes > 0 ? c->MaxBytes : -1) != want_bytes)
      diffs.push_back("max bytes " + std::to_string(c->MaxBytes) + " (config max_bytes = " +
                      std::to_string(cfg_.max_bytes) + ")");
    if (c->Duplicates < cfg_.duplicate_window_s * kNsPerSec)
      diffs.push_back("duplicate window " + std::to_string(c->Duplicates / kNsPerSec) +
                      " s, shorter than duplicate_window_s = " + std::to_string(cfg_.duplicate_window_s) +
                      " (re-published events could reach consumers twice)");
  }
  jsStreamInfo_Destroy(si);
  if (!diffs.empty()) {
    std::string list;
    for (const auto& d : diffs) list += (list.empty() ? "" : "; ") + d;
    const std::string e = "JetStream stream '" + cfg_.stream + "' exists with settings incompatible with [stream.nats]: " +
                          list;
    spdlog::error("stream: {}. Not publishing (events wait in the outbox, nothing is lost): change the stream "
                  "(`nats stream edit {}`) or [stream.nats]; checked again every minute",
                  e, cfg_.stream);
    set_error(e);
    return false;
  }
  return true;
}

bool NatsOutbox::publish_batch() {
  const uint64_t from = cursor_.load();
  // Only acknowledged (fsynced) events: with group commit a change is in the log a moment before its WAL sync, and
  // one lost to a power cut would be re-used by a different article under the same seq.
  const uint64_t durable = store_.last_seq();
  std::vector<ChangeEvent> evs;
  store_.scan_changes(from, [&](const ChangeEvent& e) {
    if (e.seq > durable) return false;
    evs.push_back(e);
    return evs.size() < static_cast<size_t>(cfg_.max_in_flight);
  });
  if (evs.empty()) return true;
  {
    std::lock_guard lk(mu_);
    acks_.clear();
  }
  const int64_t max_payload = natsConnection_GetMaxPayload(nats_->nc);
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = cfg_.publish_timeout_ms;
  po.ExpectStream = cfg_.stream.c_str();
  std::string send_error;
  for (const auto& e : evs) {
    // The record: the version's stored JSON with "seq" spliced in (export's JSONL line, without the newline).
    std::string body, unavailable;
    auto js = store_.version_json(e.id, e.version);
    while (js && !js->empty() && (js->back() == '\n' || js->back() == ' ')) js->pop_back();
    if (js && js->size() >= 2 && js->front() == '{' && js->back() == '}') {
      js->pop_back();
      body = *js + (js->size() > 1 ? "," : "") + "\"seq\":" + std::to_string(e.seq) + "}";
    } else {
      unavailable = "missing";
    }
    if (unavailable.empty() && max_payload > 0 && static_cast<int64_t>(body.size()) + 1024 > max_payload)
      unavailable = "too_large";
    if (!unavailable.empty()) {
      // Never block the stream on one record: the change event itself goes out, marked, and the record can be
      // read with `baotin export`.
      nlohmann::json j = to_json(e);
      j["record_unavailable"] = unavailable;
      if (unavailable == "too_large") j["record_bytes"] = body.size();
      body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      ++oversized_;
      spdlog::error("stream: change {} ({} v{}): record {} ({} bytes, server max payload {}); published without it",
                    e.seq, e.id, e.version, unavailable == "missing" ? "missing from the store" : "too large",
                    body.size(), max_payload);
    }
    const std::string subj = subject(cfg_.subject_prefix, e);
    natsMsg* m = nullptr;
    natsStatus s = natsMsg_Create(&m, subj.c_str(), nullptr, body.data(), static_cast<int>(body.size()));
    const std::string id = msg_id(e), seq = std::to_string(e.seq), ver = std::to_string(e.version);
    if (s == NATS_OK) s = natsMsgHeader_Set(m, "Nats-Msg-Id", id.c_str());
    if (s == NATS_OK) s = natsMsgHeader_Set(m, "Baotin-Seq", seq.c_str());
    if (s == NATS_OK) s = natsMsgHeader_Set(m, "Baotin-Event", e.type.c_str());
    if (s == NATS_OK) s = natsMsgHeader_Set(m, "Baotin-Id", e.id.c_str());
    if (s == NATS_OK) s = natsMsgHeader_Set(m, "Baotin-Version", ver.c_str());
    if (s == NATS_OK && !e.original.empty()) s = natsMsgHeader_Set(m, "Baotin-Original", e.original.c_str());
    if (s == NATS_OK && !unavailable.empty()) s = natsMsgHeader_Set(m, "Baotin-Record", unavailable.c_str());
    if (s == NATS_OK) s = js_PublishMsgAsync(nats_->js, &m, &po);
    if (s != NATS_OK) {
      natsMsg_Destroy(m);  // NULL when the library took it
      send_error = "publish: " + nats_error(s);
      break;
    }
  }
  // Each message times out by itself after publish_timeout_ms (the ack handler then reports the timeout); the
  // margin covers the library's timer.
  jsPubOptions wo;
  jsPubOptions_Init(&wo);
  wo.MaxWait = cfg_.publish_timeout_ms + 5000;
  if (js_PublishAsyncComplete(nats_->js, &wo) == NATS_TIMEOUT) {
    natsMsgList pending;
    if (js_PublishAsyncGetPendingList(&pending, nats_->js) == NATS_OK) natsMsgList_Destroy(&pending);
    if (send_error.empty()) send_error = "no ack within " + std::to_string(cfg_.publish_timeout_ms) + " ms";
  }
  uint64_t c = from;
  size_t acked = 0;
  std::string ack_error;
  {
    std::lock_guard lk(mu_);
    for (const auto& e : evs) {
      auto it = acks_.find(e.seq);
      if (it == acks_.end() || !it->second.empty()) {
        if (it != acks_.end()) ack_error = it->second;
        break;
      }
      c = e.seq;
      ++acked;
    }
    acks_.clear();
  }
  if (c > from) save_cursor(c);
  published_ += acked;
  if (acked == evs.size()) return true;
  failed_ += evs.size() - acked;
  std::string e = !ack_error.empty() ? "ack: " + ack_error : !send_error.empty() ? send_error : "not acknowledged";
  set_error("change " + std::to_string(evs[acked].seq) + ": " + e);
  return false;
}

void NatsOutbox::close_connection() {
  if (!nats_) return;
  if (nats_->nc) {
    {
      std::lock_guard lk(mu_);
      closed_seen_ = false;
    }
    natsConnection_Close(nats_->nc);
    // The client delivers callbacks on its own thread: wait for the last one (closed) so that none runs after this
    // object is gone.
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, std::chrono::seconds(5), [&] { return closed_seen_; });
  }
  nats_.reset();
  connected_ = false;
}

void NatsOutbox::run() {
  // The cursor: the last change the server acknowledged (with every earlier one).
  uint64_t c = 0;
  if (auto v = store_.get_meta(kCursorKey)) {
    c = std::strtoull(v->c_str(), nullptr, 10);
  } else if (cfg_.start == "new") {
    c = store_.last_seq();
    save_cursor(c);
  }
  const uint64_t last = store_.last_seq();
  if (c > last) {
    spdlog::warn("stream: the publish cursor ({}) is beyond the end of the change log ({}): the store was replaced "
                 "or restored; publishing continues after change {}",
                 c, last, last);
    c = last;
    save_cursor(c);
  }
  cursor_ = c;
  spdlog::info("stream: publishing the change log to NATS {} (stream '{}', subjects {}.>) after change {}: {} events "
               "to publish",
               join(cfg_.servers), cfg_.stream, cfg_.subject_prefix, c, lag());
  double last_down_log = mono_now(), last_fail_log = -1e9;
  while (!stop_) {
    last_seq_ = store_.last_seq();
    if (!nats_) {
      if (!connect()) {
        close_connection();
        wait_for(30);
        continue;
      }
    }
    if (natsConnection_Status(nats_->nc) == NATS_CONN_STATUS_CLOSED) {
      spdlog::warn("stream: the NATS connection was closed; connecting again in 5 s");
      close_connection();
      wait_for(5);
      continue;
    }
    if (!connected_) {
      const double now = mono_now();
      if (now - last_down_log >= 60) {
        spdlog::warn("stream: NATS still unreachable after {:.0f} s; {} events wait in the outbox", now - down_since_,
                     lag());
        last_down_log = now;
      }
      wait_for(0.25);
      continue;
    }
    last_down_log = mono_now();
    if (!stream_ok_) {
      if (!ensure_stream()) {
        ++failures_;
        wait_for(std::min(60.0, 0.5 * std::pow(2.0, std::min(failures_, 7))));
        continue;
      }
      stream_ok_ = true;
      set_error("");
    }
    if (last_seq_ <= cursor_) {
      wait_for(0.2);
      continue;
    }
    if (publish_batch()) {
      if (failures_ > 0) {
        spdlog::info("stream: publishing again after {} failed attempt(s); cursor {}, {} events to publish",
                     failures_, cursor_.load(), lag());
        set_error("");
      }
      failures_ = 0;
      continue;
    }
    ++failures_;
    stream_ok_ = false;  // looked at again before the next attempt
    const double now = mono_now();
    std::string err;
    {
      std::lock_guard lk(mu_);
      err = last_error_;
    }
    if (failures_ == 1 || now - last_fail_log >= 60) {
      spdlog::warn("stream: publishing failed ({}); cursor {}, {} events wait in the outbox; retrying with backoff",
                   err, cursor_.load(), lag());
      last_fail_log = now;
    }
    wait_for(std::min(30.0, 0.25 * std::pow(2.0, std::min(failures_, 7))));
  }
  close_connection();
  spdlog::info("stream: publisher stopped at change {} ({} events not yet published)", cursor_.load(), lag());
}

nlohmann::json NatsOutbox::status_json() const {
  std::lock_guard lk(mu_);
  return {{"servers", [&] {
             nlohmann::json a = nlohmann::json::array();
             for (const auto& s : cfg_.servers) a.push_back(redact_url(s));
             return a;
           }()},
          {"server", server_},
          {"stream", cfg_.stream},
          {"subjects", cfg_.subject_prefix + ".>"},
          {"connected", connected_.load()},
          {"stream_ok", stream_ok_.load()},
          {"cursor", cursor_.load()},
          {"last_seq", store_.last_seq()},
          {"lag", lag()},
          {"published", published_.load()},
          {"duplicates", duplicates_.load()},
          {"failed", failed_.load()},
          {"records_unavailable", oversized_.load()},
          {"last_error", last_error_}};
}

std::string NatsOutbox::prometheus() const {
  std::ostringstream o;
  auto fam = [&](const char* name, const char* type, const char* help, uint64_t v) {
    o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n' << name << ' ' << v << '\n';
  };
  fam("baotin_stream_lag_events", "gauge",
      "Change-log events not yet acknowledged by the NATS JetStream server (the outbox backlog).", lag());
  fam("baotin_stream_cursor", "gauge", "The last change-log sequence acknowledged by JetStream (the publish cursor).",
      cursor_.load());
  fam("baotin_stream_connected", "gauge", "1 while connected to a NATS server.", connected_.load() ? 1 : 0);
  fam("baotin_stream_published_total", "counter",
      "Change events acknowledged by JetStream (including re-sent ones it dropped as duplicates).", published_.load());
  fam("baotin_stream_duplicates_total", "counter",
      "Acknowledgements that said duplicate: events sent again after a failure or restart, dropped by JetStream.",
      duplicates_.load());
  fam("baotin_stream_publish_failed_total", "counter",
      "Publishes not acknowledged (error or timeout); they are sent again.", failed_.load());
  fam("baotin_stream_records_unavailable_total", "counter",
      "Events published without their record (missing from the store or over the server's max payload).",
      oversized_.load());
  return o.str();
}

}  // namespace baotin
