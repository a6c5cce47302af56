// baotin_build_info's labels. Kept apart from metrics.cpp: baotin_revision.h changes with every commit.
#include <curl/curl.h>
#include <rocksdb/version.h>

#include "baotin_revision.h"
#include "daemon/metrics.h"

namespace baotin {

BuildInfo build_info() {
  BuildInfo b;
  b.version = BAOTIN_VERSION;
  b.revision = BAOTIN_REVISION;
  b.rocksdb = std::to_string(ROCKSDB_MAJOR) + "." + std::to_string(ROCKSDB_MINOR) + "." + std::to_string(ROCKSDB_PATCH);
  const curl_version_info_data* c = curl_version_info(CURLVERSION_NOW);  // the library loaded, not the headers
  b.curl = c && c->version ? c->version : LIBCURL_VERSION;
  return b;
}

}  // namespace baotin
