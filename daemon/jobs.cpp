#include "daemon/jobs.h"

#include "core/date.h"
#include "store/bytes.h"

namespace baotin {

namespace {
constexpr std::string_view kJobPrefix = "job:";
constexpr std::string_view kDataPrefix = "jobdata:";
constexpr size_t kUrlsPerChunk = 10000;

std::string job_key(uint64_t id) { return std::string(kJobPrefix) + be64(id); }
std::string data_prefix(uint64_t id) { return std::string(kDataPrefix) + be64(id); }
// The first key past every key starting with `prefix`.
std::string prefix_end(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}
}  // namespace

nlohmann::json to_json(const Job& j) {
  return {{"id", j.id},           {"kind", j.kind},     {"spec", j.spec},       {"state", j.state},
          {"origin", j.origin},   {"progress", j.progress}, {"cursor", j.cursor}, {"error", j.error},
          {"created", j.created}, {"updated", j.updated}};
}

Job job_from_json(const nlohmann::json& j) {
  Job job;
  if (!j.is_object()) return job;
  job.id = j.value("id", uint64_t{0});
  job.kind = j.value("kind", "");
  if (j.contains("spec")) job.spec = j["spec"];
  job.state = j.value("state", "queued");
  job.origin = j.value("origin", "cli");
  if (j.contains("progress") && j["progress"].is_object()) job.progress = j["progress"];
  job.cursor = j.value("cursor", "");
  job.error = j.value("error", "");
  job.created = j.value("created", "");
  job.updated = j.value("updated", "");
  return job;
}

Job JobStore::create(const std::string& kind, const nlohmann::json& spec, const std::string& origin,
                     const std::vector<std::string>& urls) {
  const uint64_t last = prune();
  Job job;
  job.id = last + 1;
  job.kind = kind;
  job.spec = spec;
  job.origin = origin;
  job.created = now_iso_vn();
  // Data left by a job of this id that was never written (a crash between its URLs and its record) is replaced.
  put_urls(job.id, urls);
  save(job);
  return job;
}

void JobStore::save(Job& job) {
  job.updated = now_iso_vn();
  store_.write_meta({{job_key(job.id), to_json(job).dump()}}, {});
}

std::optional<Job> JobStore::get(uint64_t id) const {
  auto v = store_.get_meta(job_key(id));
  if (!v) return std::nullopt;
  auto j = nlohmann::json::parse(*v, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return job_from_json(j);
}

std::vector<Job> JobStore::list() const {
  std::vector<Job> out;
  const std::string from(kJobPrefix);
  store_.scan_meta(from, prefix_end(from), [&](std::string_view k, std::string_view v) {
    if (k.size() != kJobPrefix.size() + 8) return true;
    auto j = nlohmann::json::parse(v, nullptr, false);
    if (!j.is_discarded()) out.push_back(job_from_json(j));
    return true;
  });
  return out;
}

std::vector<std::string> JobStore::data_keys(uint64_t id) const {
  std::vector<std::string> keys;
  const std::string from = data_prefix(id);
  store_.scan_meta(from, prefix_end(from), [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  return keys;
}

void JobStore::put_urls(uint64_t id, const std::vector<std::string>& urls) {
  // Chunks of an earlier list of this job (a walk stored before a crash) go first: the list is `urls` only.
  if (auto old = data_keys(id); !old.empty()) store_.write_meta({}, old);
  std::vector<std::pair<std::string, std::string>> puts;
  for (size_t i = 0; i < urls.size(); i += kUrlsPerChunk) {
    std::string chunk;
    for (size_t k = i; k < std::min(urls.size(), i + kUrlsPerChunk); ++k) {
      chunk += urls[k];
      chunk += '\n';
    }
    puts.emplace_back(data_prefix(id) + be32(static_cast<uint32_t>(i / kUrlsPerChunk)), std::move(chunk));
    if (puts.size() == 16) {
      store_.write_meta(puts, {});
      puts.clear();
    }
  }
  if (!puts.empty()) store_.write_meta(puts, {});
}

std::vector<std::string> JobStore::urls(uint64_t id) const {
  std::vector<std::string> out;
  const std::string from = data_prefix(id);
  store_.scan_meta(from, prefix_end(from), [&](std::string_view, std::string_view v) {
    size_t start = 0;
    for (size_t nl; (nl = v.find('\n', start)) != std::string_view::npos; start = nl + 1)
      if (nl > start) out.emplace_back(v.substr(start, nl - start));
    return true;
  });
  return out;
}

uint64_t JobStore::prune(size_t keep) {
  std::vector<Job> all = list();
  uint64_t last = 0;
  size_t finished = 0;
  for (const auto& j : all) {
    finished += j.finished();
    last = std::max(last, j.id);
  }
  for (const auto& j : all) {
    if (finished <= keep) break;
    if (!j.finished()) continue;
    std::vector<std::string> dels = data_keys(j.id);
    dels.push_back(job_key(j.id));
    store_.write_meta({}, dels);
    --finished;
  }
  return last;
}

}  // namespace baotin
