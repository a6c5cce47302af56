// `baotin extract`: extract one saved HTML page and print the record as JSON.
#include <cstdio>
#include <iostream>

#include "daemon/commands.h"
#include "core/clock.h"
#include "extract/extract.h"

namespace baotin::cli {

int cmd_extract(const ExtractArgs& args) {
  std::string bytes;
  if (!read_whole_file(args.file, bytes)) {
    std::fprintf(stderr, "extract: cannot read %s\n", args.file.c_str());
    return 2;
  }
  TemplateRegistry reg;
  std::vector<TemplateError> errs;
  reg.load_dir(args.templates, errs);
  for (const auto& e : errs) std::fprintf(stderr, "%s\n", e.str().c_str());
  auto t = args.site.empty() ? nullptr : reg.by_name(args.site);
  if (!args.site.empty() && !t) {
    std::fprintf(stderr, "extract: no template named '%s' in %s\n", args.site.c_str(), args.templates.c_str());
    return 2;
  }
  std::string url = args.url;
  if (url.empty()) url = t ? "https://" + t->hosts.front() + "/" : "https://example.invalid/";
  ExtractOptions eo;
  eo.templates = &reg;
  eo.site = args.site;
  eo.allow_generic = !args.no_generic;
  eo.now = epoch_now();
  Article a = extract_article(bytes, url, "", eo);
  std::cout << to_json(a).dump(2) << "\n";
  return a.body.empty() ? 1 : 0;
}

}  // namespace baotin::cli
