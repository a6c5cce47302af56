#include "daemon/reprocess.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "core/date.h"
#include "core/url.h"
#include "daemon/service.h"
#include "extract/extract.h"

namespace baotin {

namespace {
constexpr size_t kChunk = 64;  // articles per cursor checkpoint
constexpr const char* kCounters[] = {"scanned", "selected", "changed", "unchanged", "no_raw",
                                     "stale",   "kept_partial", "failed"};

std::optional<int64_t> since_epoch(const std::string& s) {
  if (s.empty()) return std::nullopt;
  auto iso = normalize_date(s);
  return iso ? iso_to_epoch(*iso) : std::nullopt;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
}  // namespace

nlohmann::json ReprocessSpec::to_json() const {
  return {{"site", site}, {"since", since}, {"template", template_name}};
}

ReprocessSpec ReprocessSpec::from_json(const nlohmann::json& j) {
  ReprocessSpec s;
  if (!j.is_object()) return s;
  s.site = j.value("site", "");
  s.since = j.value("since", "");
  s.template_name = j.value("template", "");
  return s;
}

std::optional<std::string> check_reprocess_spec(const ReprocessSpec& spec, const TemplateRegistry& templates) {
  if (!spec.template_name.empty() && !templates.by_name(spec.template_name))
    return "no template named '" + spec.template_name + "'";
  if (!spec.site.empty() && !templates.by_name(spec.site) && spec.site.find('.') == std::string::npos)
    return "unknown site '" + spec.site + "' (a template name, or the host of generic pages)";
  if (!spec.since.empty() && !since_epoch(spec.since)) return "cannot read --since '" + spec.since + "' (use YYYY-MM-DD)";
  return std::nullopt;
}

bool run_reprocess(Store& store, const TemplateRegistry& templates, const Config& cfg, Job& job,
                   const std::atomic<bool>& stop, const std::function<void(Job&)>& checkpoint, size_t threads) {
  const ReprocessSpec spec = ReprocessSpec::from_json(job.spec);
  const std::optional<int64_t> since = since_epoch(spec.since);
  for (const char* c : kCounters)
    if (!job.progress.contains(c)) job.progress[c] = 0;
  if (!job.progress.contains("total")) job.progress["total"] = store.estimate_keys(Store::Family::Articles);
  threads = std::max<size_t>(1, threads);

  std::atomic<uint64_t> counts[std::size(kCounters)];
  for (size_t i = 0; i < std::size(kCounters); ++i) counts[i] = job.progress[kCounters[i]].get<uint64_t>();
  enum { Scanned, Selected, Changed, Unchanged, NoRaw, Stale, KeptPartial, Failed };

  auto selected = [&](const Article& a) {
    if (!spec.site.empty() && a.site != spec.site) return false;
    if (since) {
      auto f = iso_to_epoch(a.fetched_at);
      if (!f || *f < *since) return false;
    }
    if (!spec.template_name.empty()) {
      const bool extracted_by = a.template_name == spec.template_name ||
                                starts_with(a.template_name, spec.template_name + "@");
      auto now = templates.for_url(a.url);
      if (!extracted_by && !(now && now->name == spec.template_name)) return false;
    }
    return true;
  };

  auto one = [&](const std::string& json) {
    ++counts[Scanned];
    auto j = nlohmann::json::parse(json, nullptr, false);
    if (j.is_discarded()) {
      ++counts[Failed];
      spdlog::error("reprocess: a stored record is not valid JSON; skipped");
      return;
    }
    const Article old = article_from_json(j);
    if (!selected(old)) return;
    ++counts[Selected];
    try {
      auto raw = store.raw_html(old.id, old.version);
      if (!raw) {
        ++counts[NoRaw];
        return;
      }
      ExtractOptions eo;
      eo.templates = &templates;
      eo.site = templates.by_name(old.site) ? old.site : "";  // as ingestion chose it (a feed's site, backfill's)
      eo.max_bytes = cfg.fetch.max_body_bytes;
      if (old.published_source == "feed") eo.feed_published = old.published;  // the page shows no date
      eo.now = iso_to_epoch(old.fetched_at).value_or(0);  // "in the future" is judged against the fetch
      Article a = extract_article(*raw, old.url, old.content_type, eo);
      constexpr std::string_view kCut = "body larger than the fetch limit: cut";  // the pipeline's warning
      if (std::find(old.warnings.begin(), old.warnings.end(), kCut) != old.warnings.end()) {
        a.partial = true;
        a.warnings.emplace_back(kCut);
      }
      if (a.title.empty() && a.body.empty()) {
        ++counts[Failed];
        spdlog::warn("reprocess {} ({}): nothing extracted ({}); stored version kept", old.id, redact_url(old.url),
                     a.warnings.empty() ? "" : a.warnings.front());
        return;
      }
      if (a.partial && !old.partial) {
        ++counts[KeptPartial];
        return;
      }
      auto r = store.put_reprocessed(old.id, old.version, std::move(a));
      switch (r.outcome) {
        case Store::ReprocessOutcome::Changed:
          ++counts[Changed];
          spdlog::info("reprocess {} ({}): version {}", old.id, redact_url(old.url), r.version);
          break;
        case Store::ReprocessOutcome::Unchanged: ++counts[Unchanged]; break;
        case Store::ReprocessOutcome::Stale:
        case Store::ReprocessOutcome::Missing: ++counts[Stale]; break;
      }
    } catch (const std::exception& e) {
      ++counts[Failed];
      spdlog::error("reprocess {} ({}): {}", old.id, redact_url(old.url), e.what());
    }
  };

  std::string from = job.cursor.empty() ? std::string() : job.cursor + '\0';
  while (!stop) {
    std::vector<std::pair<std::string, std::string>> chunk;  // key, record JSON
    store.scan_family(Store::Family::Articles, from, "", [&](std::string_view k, std::string_view v) {
      chunk.emplace_back(std::string(k), std::string(v));
      return chunk.size() < kChunk;
    });
    if (chunk.empty()) break;
    if (threads == 1 || chunk.size() == 1) {
      for (const auto& [k, v] : chunk) one(v);
    } else {
      std::atomic<size_t> next{0};
      std::vector<std::thread> pool;
      for (size_t t = 0; t < std::min(threads, chunk.size()); ++t)
        pool.emplace_back([&] {
          for (size_t i; (i = next++) < chunk.size();) one(chunk[i].second);
        });
      for (auto& t : pool) t.join();
    }
    // The whole chunk is done: the cursor moves past it (a stop mid-way would redo it, which only counts again).
    job.cursor = chunk.back().first;
    from = job.cursor + '\0';
    for (size_t i = 0; i < std::size(kCounters); ++i) job.progress[kCounters[i]] = counts[i].load();
    if (job.progress["total"].get<uint64_t>() < counts[Scanned]) job.progress["total"] = counts[Scanned].load();
    checkpoint(job);
    if (chunk.size() < kChunk) {
      from.clear();
      break;
    }
  }
  const bool complete = !stop || from.empty();
  if (complete) {
    job.progress["total"] = counts[Scanned].load();
    for (size_t i = 0; i < std::size(kCounters); ++i) job.progress[kCounters[i]] = counts[i].load();
  }
  return complete;
}

std::string reprocess_progress_line(const nlohmann::json& p, double rate) {
  auto n = [&](const char* k) { return p.contains(k) && p[k].is_number() ? p[k].get<uint64_t>() : uint64_t{0}; };
  const uint64_t total = std::max(n("total"), n("scanned"));
  std::string s = group_thousands(n("scanned")) + "/" + group_thousands(total) + " articles";
  if (total) s += " (" + std::to_string(n("scanned") * 100 / total) + "%)";
  s += ", " + group_thousands(n("selected")) + " selected: " + group_thousands(n("changed")) + " changed, " +
       group_thousands(n("unchanged")) + " unchanged";
  if (n("no_raw")) s += ", " + group_thousands(n("no_raw")) + " without a raw page";
  if (n("stale")) s += ", " + group_thousands(n("stale")) + " updated meanwhile";
  if (n("kept_partial")) s += ", " + group_thousands(n("kept_partial")) + " kept (new extraction partial)";
  if (n("failed")) s += ", " + group_thousands(n("failed")) + " failed";
  if (rate > 0) {
    char buf[96];
    const double eta = total > n("scanned") ? (total - n("scanned")) / rate : 0;
    std::snprintf(buf, sizeof buf, ", %.0f articles/s, ETA %s", rate,
                  eta < 60 ? (std::to_string(static_cast<int>(eta)) + " s").c_str()
                           : (std::to_string(static_cast<int>(eta / 60)) + " min").c_str());
    s += buf;
  }
  return s;
}

}  // namespace baotin
