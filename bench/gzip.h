// gzip / zlib decompression of whole buffers (corpus files stored as .html.gz).
#pragma once
#include <string>

namespace baotin {

// Appends the decompressed bytes of `in` (gzip or zlib header) to `out`. False on corrupt input.
bool gunzip(const std::string& in, std::string& out);

}  // namespace baotin
