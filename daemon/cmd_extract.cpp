// `baotin extract`: extract one saved HTML page (or, with --url and no file, one fetched page) and print the
// record as JSON.
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>

#include "core/url.h"
#include "daemon/commands.h"
#include "core/clock.h"
#include "daemon/config.h"
#include "extract/extract.h"
#include "fetch/fetcher.h"

namespace baotin::cli {

namespace {

// Fetches `url` as serve would (the config's [fetch] settings: network policy, robots.txt, size and time limits,
// user agent; the daemon's own metrics endpoint is never fetched) with `allow` as extra policy entries. On
// failure prints why and returns nullopt.
std::optional<FetchResult> fetch_page(const std::string& url, const FetcherConfig& base,
                                      const std::vector<std::string>& allow, int* status) {
  FetcherConfig fc = base;
  fc.per_host_min_delay_s = 0;  // one page (and its robots.txt): no politeness pause before it
  std::optional<Fetcher> fetcher;
  try {
    fetcher.emplace(fc);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "extract: %s\n", e.what());
    *status = 2;
    return std::nullopt;
  }
  FetchRequest req(url);
  req.allow_private = allow;
  FetchResult r = fetcher->fetch(std::move(req));
  fetcher->shutdown(false);
  const std::string shown = redact_url(url);
  *status = 1;
  if (r.blocked_by_policy) {
    std::fprintf(stderr, "extract: %s not fetched: %s\n", shown.c_str(), redact_url(r.error).c_str());
    if (r.error.find("network policy") != std::string::npos)
      std::fprintf(stderr, "extract: to allow it: --allow-private ADDR (or [fetch] allow_private in --config)\n");
    return std::nullopt;
  }
  if (r.blocked_by_robots) {
    std::fprintf(stderr, "extract: %s not fetched: disallowed by robots.txt (respect_robots; [robots_override] in the config)\n",
                 shown.c_str());
    return std::nullopt;
  }
  if (r.robots_unavailable) {
    std::fprintf(stderr, "extract: %s not fetched: %s\n", shown.c_str(), redact_url(r.error).c_str());
    return std::nullopt;
  }
  if (r.too_large) {  // as serve does: the prefix is extracted, the record is marked partial
    std::fprintf(stderr, "extract: %s: body larger than the fetch limit (max_body_bytes = %zu): cut\n", shown.c_str(),
                 fc.max_body_bytes);
    return r;
  }
  if (!r.ok()) {
    std::string why = !r.error.empty() ? redact_url(r.error) : "HTTP " + std::to_string(r.status);
    std::fprintf(stderr, "extract: %s: %s\n", shown.c_str(), why.c_str());
    return std::nullopt;
  }
  return r;
}

}  // namespace

int cmd_extract(const ExtractArgs& args) {
  Config cfg;
  if (!args.config.empty()) {
    std::vector<TemplateError> errs;
    if (!load_config(args.config, cfg, errs)) {
      for (const auto& e : errs) std::fprintf(stderr, "%s\n", e.str().c_str());
      std::fprintf(stderr, "extract: config %s is invalid\n", args.config.c_str());
      return 2;
    }
  }
  const std::string templates = args.templates_given || args.config.empty() ? args.templates : cfg.templates_dir;

  TemplateRegistry reg;  // before the fetch: an unknown --site fails without a request
  std::vector<TemplateError> errs;
  reg.load_dir(templates, errs);
  for (const auto& e : errs) std::fprintf(stderr, "%s\n", e.str().c_str());
  auto t = args.site.empty() ? nullptr : reg.by_name(args.site);
  if (!args.site.empty() && !t) {
    std::fprintf(stderr, "extract: no template named '%s' in %s\n", args.site.c_str(), templates.c_str());
    return 2;
  }

  std::string bytes, url = args.url, content_type;
  bool too_large = false;
  const FetcherConfig fc = args.config.empty() ? FetcherConfig{} : daemon_fetcher_config(cfg);
  if (args.file.empty()) {
    const std::string scheme = url_scheme(url);
    if (scheme != "http" && scheme != "https") {
      std::fprintf(stderr, "extract: --url must be an http(s) URL, got '%s'\n", redact_url(url).c_str());
      return 2;
    }
    int status = 1;
    auto r = fetch_page(url, fc, args.allow_private, &status);
    if (!r) return status;
    bytes = std::move(r->body);
    content_type = r->content_type;
    too_large = r->too_large;
    if (!r->final_url.empty()) url = r->final_url;  // after redirects: links resolve against the page's own URL
  } else if (!read_whole_file(args.file, bytes)) {
    std::fprintf(stderr, "extract: cannot read %s\n", args.file == "-" ? "stdin" : args.file.c_str());
    return 2;
  }
  if (url.empty()) url = t ? "https://" + t->hosts.front() + "/" : "https://example.invalid/";
  ExtractOptions eo;
  eo.templates = &reg;
  eo.site = args.site;
  eo.allow_generic = !args.no_generic;
  eo.now = epoch_now();
  if (args.file.empty()) eo.max_bytes = fc.max_body_bytes;
  Article a = extract_article(bytes, url, content_type, eo);
  if (too_large) {
    a.partial = true;
    a.warnings.push_back("body larger than the fetch limit: cut");
  }
  std::cout << to_json(a).dump(2) << "\n";
  return a.body.empty() ? 1 : 0;
}

}  // namespace baotin::cli
