// `baotin diff`: show what changed between versions of an article.
#include <cstdio>
#include <filesystem>

#include "core/identity.h"
#include "daemon/commands.h"
#include "extract/template.h"
#include "store/diff.h"

namespace baotin::cli {

int cmd_diff(const DiffArgs& args) {
  return with_reader("diff", args.db, [&](Store& store) {
    std::string id = args.id;
    if (id.find("://") != std::string::npos) {
      auto found = store.id_for_url(id);
      if (!found) {  // an outlet's former domain (template host_aliases), never fetched under that spelling
        TemplateRegistry reg;
        std::vector<TemplateError> errs;
        if (std::filesystem::is_directory(args.templates)) reg.load_dir(args.templates, errs);
        if (auto t = reg.for_url(id))
          found = find_known(id, t->outlet(), [&](const std::string& k) { return store.id_for_url(k); });
      }
      if (!found) {
        std::fprintf(stderr, "diff: no article for URL %s\n", id.c_str());
        return 1;
      }
      id = *found;
    }
    auto vs = store.versions(id);
    if (vs.empty()) {
      std::fprintf(stderr, "diff: no article %s\n", id.c_str());
      return 1;
    }
    if (args.from || args.to) {
      auto a = store.version(id, args.from ? args.from : 1), b = store.version(id, args.to ? args.to : vs.back().version);
      if (!a || !b) {
        std::fprintf(stderr, "diff: article %s has versions 1..%u\n", id.c_str(), vs.back().version);
        return 1;
      }
      std::printf("=== %s v%u -> v%u (%s -> %s)\n%s", id.c_str(), a->version, b->version, a->fetched_at.c_str(),
                  b->fetched_at.c_str(), diff_versions(*a, *b).c_str());
      return 0;
    }
    std::printf("%s: %zu version(s), %s\n", id.c_str(), vs.size(), vs.back().url.c_str());
    for (size_t i = 1; i < vs.size(); ++i)
      std::printf("=== v%u -> v%u (%s -> %s)\n%s", vs[i - 1].version, vs[i].version, vs[i - 1].fetched_at.c_str(),
                  vs[i].fetched_at.c_str(), diff_versions(vs[i - 1], vs[i]).c_str());
    return 0;
  });
}

}  // namespace baotin::cli
