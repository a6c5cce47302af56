// Export of stored articles as JSON Lines or CSV, driven by the change log.
#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "store/store.h"

namespace baotin {

struct ExportOptions {
  std::string format = "jsonl";  // "jsonl" or "csv"
  uint64_t since = 0;            // change-log cursor: only records changed after this seq
  std::string site;              // only this site (empty = all)
  bool versions = false;         // every version changed after `since`, not only the latest
  bool one_per_cluster = false;  // leave copies (duplicate_of set) out: the original stands for its cluster
};

// Writes the selected records to `out` and returns the last change-log seq examined (pass it as
// `since` next time to get only what changed in between); returns `since` when nothing is newer.
//
// Latest mode (versions=false): each article changed after `since` appears once, as the version named
// by its last change event, in the order of those events. Versions mode: one record per new/updated
// version event after `since`. Every record carries "seq", the change event it comes from.
// JSONL: one Article JSON object (+ "seq") per line. CSV: RFC 4180 (CRLF, quoted when needed) with a
// header row; body paragraphs joined with "\n\n", list fields with "; ", images as "url|caption; ...".
// Throws std::invalid_argument for an unknown format.
uint64_t export_records(const Store& store, const ExportOptions& opts, std::ostream& out);

// The CSV columns, in order.
const std::vector<std::string>& csv_columns();

// One RFC 4180 field: quoted (with doubled quotes) when it contains , " CR or LF.
std::string csv_field(const std::string& s);

}  // namespace baotin
