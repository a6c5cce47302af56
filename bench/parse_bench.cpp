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
// --write-scanned DIR writes each page as the prescan leaves it (to see what gumbo still gets).
// --only VARIANT runs that one variant once over the pages, for instruction counts:
//   valgrind --tool=callgrind --toggle-collect='*measured_pass*' parse_bench --only VARIANT ...
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

size_t g_sink = 0;

// One pass of a variant over all pages; its own function so that callgrind can count only this:
// valgrind --tool=callgrind --toggle-collect='*measured_pass*' parse_bench --only VARIANT ...
__attribute__((noinline)) void measured_pass(const std::function<void(const Page&)>& run, const std::vector<Page>& pages) {
  for (const auto& p : pages) run(p);
}  // results are added here so the work is not optimised away (printed at the end)

// The page's own URL for a page without a .json: the href of its <link rel="canonical"> (a plain string search, so
// that instruction counts are not spent here), else a placeholder that no template claims.
std::string page_url(std::string_view html) {
  for (size_t at = html.find("rel=\"canonical\""); at != std::string_view::npos;
       at = html.find("rel=\"canonical\"", at + 1)) {
    size_t open = html.rfind('<', at), close = html.find('>', at);
    if (open == std::string_view::npos || close == std::string_view::npos) break;
    std::string_view tag = html.substr(open, close - open);
    size_t h = tag.find("href=\"");
    if (h == std::string_view::npos) continue;
    size_t e = tag.find('"', h + 6);
    if (e != std::string_view::npos && tag.substr(h + 6, 4) == "http") return std::string(tag.substr(h + 6, e - h - 6));
  }
  return "https://example.vn/a.html";
}

#ifdef BAOTIN_HAVE_LIBXML2
// libxml2's tree copied into pugixml the way parse_html copies gumbo's (script text but JSON-LD, style and
// noscript content dropped, comments dropped), so the templates can run on it.
void copy_libxml2(xmlNodePtr n, pugi::xml_node parent) {
  for (; n; n = n->next) {
    if (n->type == XML_ELEMENT_NODE) {
      pugi::xml_node e = parent.append_child(reinterpret_cast<const char*>(n->name));
      for (xmlAttrPtr a = n->properties; a; a = a->next) {
        xmlChar* v = xmlNodeListGetString(n->doc, a->children, 1);
        const char* name = reinterpret_cast<const char*>(a->name);
        if (!e.attribute(name)) e.append_attribute(name).set_value(v ? reinterpret_cast<const char*>(v) : "");
        xmlFree(v);
      }
      std::string_view tag = e.name();
      bool drop = tag == "style" || tag == "noscript";
      if (tag == "script") {
        pugi::xml_attribute t = e.attribute("type");
        drop = !t || strcasecmp(t.value(), "application/ld+json") != 0;
      }
      if (!drop) copy_libxml2(n->children, e);
    } else if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
      parent.append_child(pugi::node_pcdata).set_value(reinterpret_cast<const char*>(n->content));
    }
  }
}
#endif

}  // namespace

int main(int argc, char** argv) {
  int repeat = 5;
  std::string templates_dir = "sites", only, write_dir;
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--repeat" && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else if (a == "--templates" && i + 1 < argc) templates_dir = argv[++i];
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else if (a == "--write-scanned" && i + 1 < argc) write_dir = argv[++i];
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
    std::vector<std::string_view> standins;  // what gumbo sees in extraction: the prescan with its stand-ins
    if (!prescan_html(p.utf8, p.scanned, &st, true, &standins)) p.scanned = p.utf8;
    if (st.stopped) ++stopped;
    if (!write_dir.empty()) std::ofstream(fs::path(write_dir) / fs::path(p.name).filename()) << p.scanned;
    bytes += p.raw.size();
    scanned_bytes += p.scanned.size();
    if (p.url.empty()) p.url = page_url(p.utf8);
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
         std::vector<std::string_view> standins;
         g_sink += prescan_html(p.utf8, out, nullptr, true, &standins) ? out.size() : 0;
       }},
#ifdef BAOTIN_HAVE_LIBXML2
      {"libxml2", [&](const Page& p) { libxml2(p.utf8); }},
      {"libxml2(scanned)", [&](const Page& p) { libxml2(p.scanned); }},
#endif
  };
  if (!only.empty()) {
    for (auto& v : variants)
      if (v.name == only) {
        measured_pass(v.run, pages);
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

#ifdef BAOTIN_HAVE_LIBXML2
  // Would libxml2 do? The page's template on libxml2's tree against the template on gumbo's.
  size_t templated = 0, same = 0;
  for (const auto& p : pages) {
    auto t = registry.for_url(p.url);
    if (!t) continue;
    ++templated;
    auto g = parse_html(p.utf8);
    Article ag, ax;
    apply_template(*t, g->doc, p.url, ag);
    pugi::xml_document x;
    htmlDocPtr d = htmlReadMemory(p.utf8.data(), static_cast<int>(p.utf8.size()), nullptr, "UTF-8",
                                  HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    if (d) copy_libxml2(d->children, x);
    xmlFreeDoc(d);
    apply_template(*t, x, p.url, ax);
    if (to_json(ag).dump() == to_json(ax).dump()) ++same;
    else std::cerr << "libxml2 tree changes the template's output: " << p.name << "\n";
  }
  std::printf("template output the same on libxml2's tree: %zu/%zu pages with a template\n", same, templated);
#endif
  for (const auto& p : pages) {  // warm-up
    for (auto& v : variants) v.run(p);
  }
  for (int r = 0; r < repeat; ++r) {
    for (auto& v : variants) {
      auto t0 = std::chrono::steady_clock::now();
      measured_pass(v.run, pages);
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
  if (g_sink == 42) std::printf(" \n");  // keeps g_sink live
  return differ ? 1 : 0;
}
