// eval_extract: article-body extraction quality and speed on a labelled page set.
//
//   eval_extract --pages DIR --truth ground-truth.json [--mode generic|auto] [--templates sites/]
//                [--repeat N] [--dump] [--out predictions.json] [--only ID] [--no-prescan]
//
// Pages are DIR/<id>.html or DIR/<id>.html.gz; the truth file is {"<id>": {"articleBody": "...", "url": "..."}}.
// Quality uses the metric of the article-extraction-benchmark (scrapinghub/article-extraction-benchmark,
// evaluate.py): tokens are Python `\w+` matches (Unicode letters, digits, underscore; case kept), shingles are
// 4-token n-grams counted as a multiset, per-page TP/FP/FN are normalised to sum to 1, precision and recall are
// averaged over pages, and F1 is the harmonic mean of the two means.
// Speed: the same pages are decoded + parsed (gumbo -> pugixml) alone, and decoded + parsed + extracted; both
// rates and their ratio are printed (same process, same run, interleaved passes).
// --no-prescan parses without extract/html.h's prescan (to compare: F1 and records are the same either way).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/aeb_metric.h"
#include "bench/gzip.h"
#include "core/charset.h"
#include "core/text.h"
#include "extract/extract.h"
#include "extract/generic.h"
#include "extract/html.h"
#include "extract/template.h"

namespace fs = std::filesystem;
using namespace baotin;

namespace {

bool read_file(const fs::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}


struct Page {
  std::string id, url, truth, raw;
};

void usage() {
  std::cerr << "usage: eval_extract --pages DIR --truth ground-truth.json [--mode generic|auto] [--templates DIR]\n"
               "                    [--repeat N] [--dump] [--out predictions.json] [--only ID] [--no-prescan]\n";
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& p : v) {
    if (!s.empty()) s += "\n\n";
    s += p;
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::string pages_dir, truth_path, mode = "generic", templates_dir, out_path, only;
  int repeat = 1;
  bool dump = false;
  HtmlParseOptions hopts;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "missing value for " << a << "\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--pages") pages_dir = next();
    else if (a == "--truth") truth_path = next();
    else if (a == "--mode") mode = next();
    else if (a == "--templates") templates_dir = next();
    else if (a == "--repeat") repeat = std::max(1, std::atoi(next().c_str()));
    else if (a == "--out") out_path = next();
    else if (a == "--only") only = next();
    else if (a == "--dump") dump = true;
    else if (a == "--no-prescan") hopts.prescan = false;
    else if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else {
      std::cerr << "unknown argument: " << a << "\n";
      usage();
      return 2;
    }
  }
  if (pages_dir.empty() || truth_path.empty() || (mode != "generic" && mode != "auto")) {
    usage();
    return 2;
  }

  std::string truth_text;
  if (!read_file(truth_path, truth_text)) {
    std::cerr << "cannot read " << truth_path << "\n";
    return 1;
  }
  nlohmann::json truth = nlohmann::json::parse(truth_text, nullptr, false);
  if (truth.is_discarded() || !truth.is_object()) {
    std::cerr << truth_path << ": not a JSON object\n";
    return 1;
  }

  TemplateRegistry registry;
  if (mode == "auto" && !templates_dir.empty()) {
    std::vector<TemplateError> errors;
    registry.load_dir(templates_dir, errors);
    for (const auto& e : errors) std::cerr << "template: " << e.str() << "\n";
  }

  std::vector<Page> pages;
  size_t bytes = 0;
  for (auto it = truth.begin(); it != truth.end(); ++it) {
    if (!only.empty() && it.key() != only) continue;
    Page p;
    p.id = it.key();
    if (it->is_object()) {
      p.truth = it->value("articleBody", "");
      p.url = it->value("url", "");
    }
    fs::path base = fs::path(pages_dir) / p.id;
    std::string raw;
    if (read_file(base.string() + ".html", raw)) {
      p.raw = std::move(raw);
    } else if (read_file(base.string() + ".html.gz", raw)) {
      if (!gunzip(raw, p.raw)) {
        std::cerr << p.id << ": bad gzip\n";
        continue;
      }
    } else if (read_file(base, raw)) {
      p.raw = std::move(raw);
    } else {
      std::cerr << p.id << ": page not found in " << pages_dir << "\n";
      continue;
    }
    bytes += p.raw.size();
    pages.push_back(std::move(p));
  }
  if (pages.empty()) {
    std::cerr << "no pages\n";
    return 1;
  }

  ExtractOptions opts;
  opts.templates = mode == "auto" ? &registry : nullptr;
  opts.prescan = hopts.prescan;
  auto extract_body = [&](const Page& p) -> std::string {
    if (mode == "auto") {
      Article a = extract_article(p.raw, p.url, "", opts);
      return join(a.body);
    }
    std::string utf8 = decode_to_utf8(p.raw);
    auto doc = parse_html(utf8, hopts);
    Article a = extract_generic(doc->doc, p.url);
    return join(a.body);
  };

  // Quality.
  std::vector<std::string> preds(pages.size());
  for (size_t i = 0; i < pages.size(); ++i) preds[i] = extract_body(pages[i]);
  std::vector<double> ps, rs;
  struct Row {
    std::string id;
    double p, r;
    size_t pred_len, truth_len;
  };
  std::vector<Row> rows;
  for (size_t i = 0; i < pages.size(); ++i) {
    ShingleScore m = aeb_shingle_match(pages[i].truth, preds[i]);
    double p = m.precision(), r = m.recall();
    if (m.tp + m.fp > 0) ps.push_back(p);
    if (m.tp + m.fn > 0) rs.push_back(r);
    rows.push_back({pages[i].id, p, r, preds[i].size(), pages[i].truth.size()});
  }
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / static_cast<double>(v.size());
  };
  double P = mean(ps), R = mean(rs);
  double F1 = (P + R) > 0 ? 2 * P * R / (P + R) : 0.0;

  if (dump) {
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
      auto f = [](const Row& r) { return r.p + r.r > 0 ? 2 * r.p * r.r / (r.p + r.r) : 0.0; };
      return f(a) < f(b);
    });
    std::printf("%-66s %6s %6s %8s %8s\n", "id", "P", "R", "pred", "truth");
    for (const auto& r : rows)
      std::printf("%-66s %6.3f %6.3f %8zu %8zu\n", r.id.c_str(), r.p, r.r, r.pred_len, r.truth_len);
  }
  if (!out_path.empty()) {
    nlohmann::json out = nlohmann::json::object();
    for (size_t i = 0; i < pages.size(); ++i) out[pages[i].id] = {{"articleBody", preds[i]}};
    std::ofstream(out_path) << out.dump(1);
  }

  // Speed: parse-only and full extraction alternate page by page, so that both see the same machine state
  // (other load on the machine drifts over seconds; per-page alternation cancels most of it).
  using clock = std::chrono::steady_clock;
  double t_parse = 0, t_extract = 0;
  size_t sink = 0;
  for (int r = 0; r < repeat; ++r) {
    for (const auto& p : pages) {
      auto t0 = clock::now();
      {
        std::string utf8 = decode_to_utf8(p.raw);
        auto doc = parse_html(utf8, hopts);
        sink += doc->elements;
      }
      auto t1 = clock::now();
      sink += extract_body(p).size();
      auto t2 = clock::now();
      t_parse += std::chrono::duration<double>(t1 - t0).count();
      t_extract += std::chrono::duration<double>(t2 - t1).count();
    }
  }
  double n = static_cast<double>(pages.size()) * repeat;
  double parse_rate = n / t_parse, extract_rate = n / t_extract;

  std::printf("pages=%zu bytes=%zu mode=%s prescan=%s\n", pages.size(), bytes, mode.c_str(),
              hopts.prescan ? "on" : "off");
  std::printf("precision=%.4f recall=%.4f F1=%.4f\n", P, R, F1);
  std::printf("parse-only: %.1f pages/s (%.1f MB/s)  extraction: %.1f pages/s  ratio=%.3f  (sink %zu)\n",
              parse_rate, static_cast<double>(bytes) * repeat / t_parse / 1e6, extract_rate,
              extract_rate / parse_rate, sink % 10);
  return 0;
}
