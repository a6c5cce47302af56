#include "store/export.h"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace baotin {

namespace {

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string images_field(const std::vector<Image>& images) {
  std::string out;
  for (const auto& im : images) {
    if (!out.empty()) out += "; ";
    out += im.url;
    out += '|';
    out += im.caption;
  }
  return out;
}

void write_csv_row(std::ostream& out, const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out << ',';
    out << csv_field(fields[i]);
  }
  out << "\r\n";
}

std::vector<std::string> csv_row(const Article& a, uint64_t seq) {
  return {std::to_string(seq),
          a.id,
          std::to_string(a.version),
          a.url,
          a.canonical_url,
          a.site,
          a.feed,
          a.title,
          a.lead,
          body_text(a),
          join(a.authors, "; "),
          a.published,
          a.updated,
          a.fetched_at,
          a.category,
          join(a.tags, "; "),
          images_field(a.images),
          a.language,
          a.content_hash,
          a.template_name,
          a.extractor,
          join(a.fields, "; "),
          a.partial ? "true" : "false",
          join(a.warnings, "; "),
          a.duplicate_of,
          a.cluster};
}

}  // namespace

const std::vector<std::string>& csv_columns() {
  static const std::vector<std::string> cols = {
      "seq",       "id",         "version",  "url",          "canonical_url", "site",      "feed",
      "title",     "lead",       "body",     "authors",      "published",     "updated",   "fetched_at",
      "category",  "tags",       "images",   "language",     "content_hash",  "template",  "extractor",
      "fields",    "partial",    "warnings", "duplicate_of", "cluster"};
  return cols;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

uint64_t export_records(const Store& store, const ExportOptions& opts, std::ostream& out) {
  const bool csv = opts.format == "csv";
  if (!csv && opts.format != "jsonl")
    throw std::invalid_argument("unknown export format '" + opts.format + "' (use jsonl or csv)");

  // Select (id, version, seq) from the change log. Examining the log first (ids only) keeps memory
  // small and makes the output consistent with the returned cursor even while the daemon writes.
  struct Pick {
    std::string id;
    uint32_t version;
    uint64_t seq;
  };
  std::vector<Pick> picks;
  std::unordered_map<std::string, size_t> latest_index;  // id -> index in picks (latest mode)
  uint64_t cursor = opts.since;
  store.scan_changes(opts.since, [&](const ChangeEvent& e) {
    cursor = e.seq;
    if (!opts.site.empty() && e.site != opts.site) return true;
    if (opts.versions) {
      picks.push_back({e.id, e.version, e.seq});
    } else {
      auto [it, inserted] = latest_index.try_emplace(e.id, picks.size());
      if (inserted) {
        picks.push_back({e.id, e.version, e.seq});
      } else {
        picks[it->second].seq = 0;  // superseded: emitted at its last event instead
        it->second = picks.size();
        picks.push_back({e.id, e.version, e.seq});
      }
    }
    return true;
  });

  if (csv) write_csv_row(out, csv_columns());
  for (const auto& p : picks) {
    if (p.seq == 0) continue;
    if (!csv && !opts.one_per_cluster) {
      // Fast path: splice "seq" into the stored JSON object instead of parsing and re-serialising it.
      // (The event's site is the record's site: both are written in one batch.)
      auto js = store.version_json(p.id, p.version);
      while (js && !js->empty() && (js->back() == '\n' || js->back() == ' ')) js->pop_back();
      if (js && js->size() >= 2 && js->front() == '{' && js->back() == '}') {
        js->pop_back();
        out << *js << (js->size() > 1 ? "," : "") << "\"seq\":" << p.seq << "}\n";
        continue;
      }
      if (!js) {
        spdlog::warn("export: version {} of {} (change {}) is missing; skipped", p.version, p.id, p.seq);
        continue;
      }
      // Unexpected shape: fall through to the parsing path (which skips unreadable records).
    }
    auto a = store.version(p.id, p.version);
    if (!a) {
      spdlog::warn("export: version {} of {} (change {}) is missing or unreadable; skipped", p.version, p.id, p.seq);
      continue;
    }
    if (!opts.site.empty() && a->site != opts.site) continue;
    if (opts.one_per_cluster && !a->duplicate_of.empty()) continue;
    if (csv) {
      write_csv_row(out, csv_row(*a, p.seq));
    } else {
      nlohmann::json j = to_json(*a);
      j["seq"] = p.seq;
      out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    }
  }
  out.flush();
  return cursor;
}

}  // namespace baotin
