// `baotin feeds --opml --config F`: the effective feed list (the config's [[feeds]], OPML imports included, plus
// the feeds of the enabled templates) as an OPML 2.0 subscription list (feed/opml.h).
#include <cstdio>
#include <fstream>

#include "daemon/commands.h"
#include "daemon/config.h"
#include "feed/opml.h"

namespace baotin::cli {

int cmd_feeds_opml(const FeedsOpmlArgs& a) {
  Config cfg;
  std::vector<TemplateError> errs;
  bool ok = load_config(a.config, cfg, errs);
  TemplateRegistry reg;
  if (ok) reg.load_dir(cfg.templates_dir, errs);
  if (ok)
    for (const auto& name : cfg.sites)
      if (!reg.by_name(name)) errs.push_back({a.config, 0, "sites.enabled: unknown template '" + name + "'"});
  if (!errs.empty()) {
    // An export missing the feeds of a broken template or config would look complete: write nothing.
    for (const auto& e : errs) std::fprintf(stderr, "%s\n", e.str().c_str());
    std::fprintf(stderr, "feeds --opml: %s has errors; no OPML written\n", a.config.c_str());
    return 1;
  }
  std::vector<OpmlFeed> out;
  for (const auto& f : effective_feeds(cfg, reg)) {
    OpmlFeed o;
    o.xml_url = f.url;
    auto scheme = f.url.find("://");
    o.title = scheme == std::string::npos ? f.url : f.url.substr(scheme + 3);
    o.site = f.site;
    out.push_back(std::move(o));
  }
  // The URLs are written as configured (a token in a query string included): this is a copy of the config's
  // feed list, for another reader or another baotin, not a log line.
  std::string doc = write_opml(out, "baotin feeds (" + a.config + ")");
  if (a.out.empty() || a.out == "-") {
    if (std::fwrite(doc.data(), 1, doc.size(), stdout) != doc.size() || std::fflush(stdout) != 0) {
      std::fprintf(stderr, "feeds --opml: cannot write to stdout\n");
      return 1;
    }
  } else {
    std::ofstream f(a.out, std::ios::binary | std::ios::trunc);
    f.write(doc.data(), static_cast<std::streamsize>(doc.size()));
    f.close();
    if (!f) {
      std::fprintf(stderr, "feeds --opml: cannot write %s\n", a.out.c_str());
      return 1;
    }
  }
  std::fprintf(stderr, "feeds --opml: %zu feeds\n", out.size());
  return 0;
}

}  // namespace baotin::cli
