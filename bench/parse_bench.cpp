// parse_bench: the HTML parse floor of extraction, on real pages, every variant in the same run.
//
//   parse_bench [--repeat N] [--templates sites/] [--only VARIANT] DIR_OR_FILE...
//
// Pages are *.html or *.html.gz files (directories are read one level deep). Variants, timed in interleaved passes
// over all pages (so machine load hits them alike) and printed as pages/s, MB/s and the ratio to the first:
//   extract        extract_article (decode, parse, template or generic, record rules) with the prescan off: today
//   extract+scan   the same with the prescan (HtmlParseOptions::prescan) on
//   parse          parse_html (gumbo -> pugixml) without / with the prescan
//   gumbo          gumbo_parse alone (no pugixml copy), on the page / on the prescanned page
//   scan           prescan_html alone
//   libxml2        htmlReadMemory (libxml2's HTML parser, recover mode) on the page / on the prescanned page
// Before timing, every page's record is extracted with and without the prescan and the JSON compared byte for
// byte; the count of differing records is printed (the exit status is 1 when any differs).
// --only VARIANT runs that one variant once over the pages (for valgrind --tool=callgrind instruction counts).
#include <gumbo.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#ifdef BAOTIN_HAVE_LIBXML2
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#endif

#include <nlohmann/json.hpp>

#include "bench/gzip.h"
#include "core/article.h"
#include "core/charset.h"
#include "extract/extract.h"
#include "extract/html.h"
#include "extract/template.h"

namespace fs = std::filesystem;
using namespace baotin;

namespace {

struct Page {
  std::string name, raw, utf8, scanned, url;
};

bool load(const fs::path& p, std::vector<Page>& pages) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  Page pg;
  pg.name = p.string();
  pg.raw = ss.str();
  if (p.extension() == ".gz") {
    std::string plain;
    if (!gunzip(pg.raw, plain)) {
      std::cerr << p << ": bad gzip\n";
      return false;
    }
    pg.raw = std::move(plain);
  }
  // A golden page's .json next to it names its URL (the template is chosen by it).
  fs::path spec = p;
  spec.replace_extension();
  if (spec.extension() == ".html") spec.replace_extension();
  spec += ".json";
  std::ifstream js(spec);
  if (js) {
    nlohmann::json j = nlohmann::json::parse(js, nullptr, false);
    if (j.is_object()) pg.url = j.value("url", "");
  }
  pages.push_back(std::move(pg));
  return true;
}

volatile size_t g_sink = 0;

}  // namespace

int main(int argc, char** argv) {
  int repeat = 5;
  std::string templates_dir = "sites", only;
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--repeat" && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else if (a == "--templates" && i + 1 < argc) templates_dir = argv[++i];
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else if (a == "-h" || a == "--help") {
      std::cout << "usage: parse_bench [--repeat N] [--templates sites/] [--only VARIANT] DIR_OR_FILE...\n";
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "unknown argument: " << a << "\n";
      return 2;
    } else {
      inputs.emplace_back(a);
    }
  }
  if (inputs.empty()) {
    std::cerr << "usage: parse_bench [--repeat N] [--templates sites/] [--only VARIANT] DIR_OR_FILE...\n";
    return 2;
  }
  std::vector<Page> pages;
  for (const auto& in : inputs) {
    if (fs::is_directory(in)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(in)) {
        const std::string n = e.path().filename().string();
        if (n.ends_with(".html") || n.ends_with(".html.gz")) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) load(f, pages);
    } else if (!load(in, pages)) {
      std::cerr << "cannot read " << in << "\n";
      return 1;
    }
  }
  TemplateRegistry registry;
  std::vector<TemplateError> errors;
  registry.load_dir(templates_dir, errors);
  for (const auto& e : errors) std::cerr << "template: " << e.str() << "\n";

  size_t bytes = 0, scanned_bytes = 0, stopped = 0;
  for (auto& p : pages) {
    p.utf8 = decode_to_utf8(p.raw, "");
    PrescanStats st;
    if (!prescan_html(p.utf8, p.scanned, &st)) p.scanned = p.utf8;
    if (st.stopped) ++stopped;
    bytes += p.raw.size();
    scanned_bytes += p.scanned.size();
    if (p.url.empty()) {
      ExtractOptions o;
      o.templates = &registry;
      o.prescan = false;
      p.url = extract_article(p.raw, "https://example.vn/a.html", "", o).canonical_url;
      if (p.url.empty()) p.url = "https://example.vn/a.html";
    }
  }

  auto extract = [&](const Page& p, bool scan) {
    ExtractOptions o;
    o.templates = &registry;
    o.prescan = scan;
    return extract_article(p.raw, p.url, "", o);
  };
  auto parse = [&](const Page& p, bool scan) {
    HtmlParseOptions o;
    o.prescan = scan;
    g_sink += parse_html(p.utf8, o)->elements;
  };
  auto gumbo = [&](const std::string& s) {
    GumboOutput* g = gumbo_parse_with_options(&kGumboDefaultOptions, s.data(), s.size());
    g_sink += g->root->v.element.children.length;
    gumbo_destroy_output(&kGumboDefaultOptions, g);
  };
#ifdef BAOTIN_HAVE_LIBXML2
  auto libxml2 = [&](const std::string& s) {
    htmlDocPtr d = htmlReadMemory(s.data(), static_cast<int>(s.size()), nullptr, "UTF-8",
                                  HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                                      HTML_PARSE_COMPACT);
    g_sink += d ? 1 : 0;
    xmlFreeDoc(d);
  };
#endif

  struct Variant {
    std::string name;
    std::function<void(const Page&)> run;
    double seconds = 0;
    size_t in_bytes = 0;
  };
  std::vector<Variant> variants = {
      {"extract", [&](const Page& p) { g_sink += extract(p, false).body.size(); }},
      {"extract+scan", [&](const Page& p) { g_sink += extract(p, true).body.size(); }},
      {"parse", [&](const Page& p) { parse(p, false); }},
      {"parse+scan", [&](const Page& p) { parse(p, true); }},
      {"gumbo", [&](const Page& p) { gumbo(p.utf8); }},
      {"gumbo(scanned)", [&](const Page& p) { gumbo(p.scanned); }},
      {"scan", [&](const Page& p) {
         std::string out;
         g_sink += prescan_html(p.utf8, out) ? out.size() : 0;
       }},
#ifdef BAOTIN_HAVE_LIBXML2
      {"libxml2", [&](const Page& p) { libxml2(p.utf8); }},
      {"libxml2(scanned)", [&](const Page& p) { libxml2(p.scanned); }},
#endif
  };
  if (!only.empty()) {
    for (auto& v : variants)
      if (v.name == only) {
        for (const auto& p : pages) v.run(p);
        std::cout << only << ": " << pages.size() << " pages\n";
        return 0;
      }
    std::cerr << "no variant " << only << "\n";
    return 2;
  }

  size_t differ = 0;
  for (const auto& p : pages) {
    if (to_json(extract(p, true)).dump() != to_json(extract(p, false)).dump()) {
      ++differ;
      std::cerr << "record differs with the prescan: " << p.name << "\n";
    }
  }
  std::printf("%zu pages, %.1f MB (%.1f MB after the prescan, %.0f%% removed; prescan stopped early on %zu)\n",
              pages.size(), bytes / 1e6, scanned_bytes / 1e6, 100.0 * (1.0 - double(scanned_bytes) / bytes), stopped);
  std::printf("records identical with and without the prescan: %zu/%zu\n", pages.size() - differ, pages.size());

  for (const auto& p : pages) {  // warm-up
    for (auto& v : variants) v.run(p);
  }
  for (int r = 0; r < repeat; ++r) {
    for (auto& v : variants) {
      auto t0 = std::chrono::steady_clock::now();
      for (const auto& p : pages) v.run(p);
      v.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
  }
  const double base = variants[0].seconds;
  std::printf("%-18s %10s %8s %10s\n", "variant", "pages/s", "MB/s", "speed-up");
  for (const auto& v : variants) {
    const double n = double(pages.size()) * repeat;
    std::printf("%-18s %10.1f %8.1f %9.2fx\n", v.name.c_str(), n / v.seconds, bytes * double(repeat) / 1e6 / v.seconds,
                base / v.seconds);
  }
  return differ ? 1 : 0;
}
