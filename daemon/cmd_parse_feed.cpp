// `baotin parse-feed`: parse an RSS/Atom file and print it as JSON (the feedparser oracle's shape).
#include <cstdio>
#include <iostream>

#include "daemon/commands.h"
#include "feed/feed.h"

namespace baotin::cli {

int cmd_parse_feed(const ParseFeedArgs& args) {
  std::string bytes;
  if (!read_whole_file(args.file, bytes)) {
    std::fprintf(stderr, "parse-feed: cannot read %s\n", args.file.c_str());
    return 2;
  }
  ParsedFeed f = parse_feed(bytes, args.content_type, args.base);
  std::cout << feed_to_oracle_json(f).dump(2) << "\n";
  return 0;
}

}  // namespace baotin::cli
