// gzip / zlib of whole buffers (corpus files stored as .html.gz; pre-compressed pages of the benchmarks' servers).
#pragma once
#include <string>

namespace baotin {

// Appends the decompressed bytes of `in` (gzip or zlib header) to `out`. False on corrupt input.
bool gunzip(const std::string& in, std::string& out);

// gzip (RFC 1952) of `in` at zlib level `level` (1-9).
std::string gzip(const std::string& in, int level = 6);

}  // namespace baotin
