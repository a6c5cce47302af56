// `baotin export`: write stored records as JSONL or CSV (a read-only view: safe while serve runs).
#include <cstdio>
#include <fstream>
#include <iostream>

#include "daemon/commands.h"

namespace baotin::cli {

int cmd_export(const ExportArgs& args) {
  return with_reader("export", args.db, [&](Store& store) {
    uint64_t cursor;
    if (!args.out_file.empty() && args.out_file != "-") {
      std::ofstream out(args.out_file, std::ios::binary);
      if (!out) {
        std::fprintf(stderr, "export: cannot write %s\n", args.out_file.c_str());
        return 2;
      }
      cursor = export_records(store, args.options, out);
      out.flush();
      if (!out) {
        std::fprintf(stderr, "export: write error on %s\n", args.out_file.c_str());
        return 1;
      }
    } else {
      cursor = export_records(store, args.options, std::cout);
      std::cout.flush();
      if (!std::cout) {
        std::fprintf(stderr, "export: write error on stdout\n");
        return 1;
      }
    }
    std::fprintf(stderr, "next cursor: %llu\n", (unsigned long long)cursor);
    return 0;
  });
}

}  // namespace baotin::cli
