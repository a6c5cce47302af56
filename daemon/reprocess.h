// `baotin reprocess`: re-extraction of stored raw pages after a template fix (README "Reprocess").
//
// The latest record of every selected article is re-extracted from the raw page stored with it, by the templates
// loaded now, and Store::put_reprocessed() writes a new version (reason "reprocess") only when an extracted field
// changed. Articles are read in key order, in chunks; after each chunk the job's cursor (the last key done) and
// counters are saved (daemon/jobs.h), so an interrupted run continues where it stopped.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/config.h"
#include "daemon/jobs.h"
#include "extract/template.h"
#include "store/store.h"

namespace baotin {

struct ReprocessSpec {
  std::string site;           // only records of this site (a template name, or a host for generic pages)
  std::string since;          // only pages fetched at or after this date (YYYY-MM-DD or any normalize_date form)
  std::string template_name;  // only pages this template applies to now, or that it extracted before

  nlohmann::json to_json() const;
  static ReprocessSpec from_json(const nlohmann::json& j);
};

// Checks a spec against the templates: an unknown --template, a --site that is neither a template nor a host, or
// an unreadable --since date is an error (the message); nullopt when the spec is usable.
std::optional<std::string> check_reprocess_spec(const ReprocessSpec& spec, const TemplateRegistry& templates);

// Runs `job` (kind "reprocess") from its cursor until every article was seen (true) or `stop` became true (false;
// the cursor says where to continue). `checkpoint` is called with the job after every chunk (to persist it and
// show progress). Counters in job.progress: total (estimated articles), scanned, selected, changed, unchanged,
// no_raw (no raw page stored), stale (a newer version was stored meanwhile), kept_partial (the new extraction was
// partial and the stored one not), failed (nothing extracted, or an error). `threads` extractions run at once.
bool run_reprocess(Store& store, const TemplateRegistry& templates, const Config& cfg, Job& job,
                   const std::atomic<bool>& stop, const std::function<void(Job&)>& checkpoint, size_t threads = 1);

// One progress line: "1,234/56,789 articles (2%), 12 changed, 1,200 unchanged, ... 85 pages/s, ETA 11 min".
std::string reprocess_progress_line(const nlohmann::json& progress, double rate);

}  // namespace baotin
