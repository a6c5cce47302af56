// `baotin eval [DIR]`: the quality report over golden pages (issue 13). Every <template>/<YYYY>_<n>.json under DIR
// (default: the source tree's tests/fixtures/sites) names a saved page (.html.gz) and the record a person read off
// it; each page is extracted as serve would (all templates, chosen by host, generic fallback) and compared.
// One table, one line per template: pages, body F1 (mean and worst page, the AEB shingle metric), and how many
// pages have the title, lead, published time and authors exactly right. `--json` prints the same per page.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/aeb_metric.h"
#include "bench/gzip.h"
#include "core/text.h"
#include "daemon/commands.h"
#include "extract/extract.h"
#include "extract/template.h"

namespace baotin::cli {

namespace {
namespace fs = std::filesystem;

bool golden_name(const std::string& stem) {  // "2019_1"
  const size_t us = stem.find('_');
  if (us != 4 || stem.size() < 6) return false;
  for (size_t i = 0; i < stem.size(); ++i)
    if (i != 4 && !std::isdigit(static_cast<unsigned char>(stem[i]))) return false;
  return true;
}

std::string read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::string field(const nlohmann::json& j, const char* k) {
  return j.contains(k) && j[k].is_string() ? nfc(j[k].get<std::string>()) : std::string();
}

std::vector<std::string> list(const nlohmann::json& j) {
  std::vector<std::string> v;
  if (j.is_array())
    for (const auto& e : j)
      if (e.is_string()) v.push_back(nfc(e.get<std::string>()));
  return v;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& p : v) s += (s.empty() ? "" : "\n") + p;
  return s;
}

struct Row {
  size_t pages = 0, title = 0, lead = 0, published = 0, authors = 0;
  double f1_sum = 0, f1_min = 1;
};
}  // namespace

int cmd_eval(const EvalArgs& args) {
  std::vector<fs::path> specs;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(args.dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->path().extension() == ".json" && golden_name(it->path().stem().string())) specs.push_back(it->path());
  if (ec) {
    std::fprintf(stderr, "eval: cannot read %s: %s\n", args.dir.c_str(), ec.message().c_str());
    return 1;
  }
  if (specs.empty()) {
    std::fprintf(stderr, "eval: no golden pages (<template>/<YYYY>_<n>.json) under %s\n", args.dir.c_str());
    return 1;
  }
  std::sort(specs.begin(), specs.end());
  TemplateRegistry reg;
  std::vector<TemplateError> errs;
  reg.load_dir(args.templates, errs);
  for (const auto& e : errs) std::fprintf(stderr, "template: %s\n", e.str().c_str());

  std::map<std::string, Row> rows;
  nlohmann::json pages = nlohmann::json::array();
  int bad_files = 0;
  for (const auto& sp : specs) {
    nlohmann::json spec;
    std::string html;
    try {
      spec = nlohmann::json::parse(read_all(sp));
      if (!gunzip(read_all(sp.parent_path() / spec.at("html").get<std::string>()), html)) throw std::runtime_error("not gzip");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "eval: %s: %s\n", sp.string().c_str(), e.what());
      ++bad_files;
      continue;
    }
    ExtractOptions o;
    o.templates = &reg;
    const Article a = extract_article(html, spec.value("url", ""), "", o);
    const auto& ex = spec["expected"];
    const ShingleScore sc = aeb_shingle_match(joined(list(ex["body"])), joined(a.body));
    const double p = sc.precision(), r = sc.recall(), f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
    const std::string tname = spec.value("template", sp.parent_path().filename().string());
    Row& row = rows[tname];
    const bool t_ok = a.title == field(ex, "title"), l_ok = a.lead == field(ex, "lead"),
               d_ok = a.published == field(ex, "published"), au_ok = a.authors == list(ex["authors"]);
    ++row.pages;
    row.title += t_ok;
    row.lead += l_ok;
    row.published += d_ok;
    row.authors += au_ok;
    row.f1_sum += f1;
    row.f1_min = std::min(row.f1_min, f1);
    pages.push_back({{"page", sp.string()},
                     {"template", tname},
                     {"extracted_by", a.template_name.empty() ? a.extractor : a.template_name},
                     {"body_f1", f1},
                     {"title", t_ok},
                     {"lead", l_ok},
                     {"published", d_ok},
                     {"authors", au_ok},
                     {"warnings", a.warnings}});
  }
  if (args.json) {
    std::cout << pages.dump(2) << "\n";
    return bad_files ? 1 : 0;
  }
  std::printf("%-14s %5s %8s %8s %7s %7s %9s %7s\n", "template", "pages", "body F1", "worst", "title", "lead",
              "published", "authors");
  Row all;
  for (const auto& [name, r] : rows) {
    std::printf("%-14s %5zu %8.3f %8.3f %3zu/%-3zu %3zu/%-3zu %4zu/%-4zu %3zu/%-3zu\n", name.c_str(), r.pages,
                r.f1_sum / static_cast<double>(r.pages), r.f1_min, r.title, r.pages, r.lead, r.pages, r.published,
                r.pages, r.authors, r.pages);
    all.pages += r.pages, all.title += r.title, all.lead += r.lead, all.published += r.published,
        all.authors += r.authors, all.f1_sum += r.f1_sum, all.f1_min = std::min(all.f1_min, r.f1_min);
  }
  std::printf("%-14s %5zu %8.3f %8.3f %3zu/%-3zu %3zu/%-3zu %4zu/%-4zu %3zu/%-3zu\n", "all", all.pages,
              all.f1_sum / static_cast<double>(std::max<size_t>(1, all.pages)), all.f1_min, all.title, all.pages,
              all.lead, all.pages, all.published, all.pages, all.authors, all.pages);
  // Templates without any golden page are named: a template nobody checked on a real page.
  std::vector<std::string> missing;
  for (const auto& t : reg.all())
    if (!rows.count(t->name)) missing.push_back(t->name);
  if (!missing.empty()) {
    std::string m;
    for (const auto& n : missing) m += (m.empty() ? "" : ", ") + n;
    std::printf("templates without a golden page: %s\n", m.c_str());
  }
  return bad_files ? 1 : 0;
}

}  // namespace baotin::cli
