#include "extract/template.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cstring>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/canonical.h"
#include "core/date.h"
#include "core/limits.h"
#include "core/text.h"
#include "core/url.h"
#include "extract/html.h"

namespace baotin {

std::string TemplateError::str() const {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line);
  return s + ": " + message;
}

bool SiteTemplate::is_article_url(std::string_view url) const {
  if (url.size() > limits::kMaxUrlBytes) return false;
  for (const auto& re : skip_urls)
    if (re.contains(url)) return false;
  if (article_urls.empty()) return true;
  for (const auto& re : article_urls)
    if (re.contains(url)) return true;
  return false;
}

std::string SiteTemplate::language_for(std::string_view url) const {
  if (language_by_host.empty()) return language;
  const std::string host = url_host(url);
  const std::string* best = nullptr;
  size_t best_len = 0;
  for (const auto& [h, lang] : language_by_host)
    if (host_matches(host, h) && h.size() > best_len) {
      best = &lang;
      best_len = h.size();
    }
  return best ? *best : language;
}

std::string SiteTemplate::unalias_url(std::string_view url) const { return unalias(url, outlet()); }

namespace {

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

// A value that is a string or an array of strings.
bool string_list(const toml::node& n, std::vector<std::string>& out, std::string& why) {
  if (auto s = n.as_string()) {
    out.push_back(s->get());
    return true;
  }
  if (auto arr = n.as_array()) {
    for (const auto& e : *arr) {
      auto s = e.as_string();
      if (!s) {
        why = "expected a string in the array";
        return false;
      }
      out.push_back(s->get());
    }
    return true;
  }
  why = "expected a string or an array of strings";
  return false;
}

// A BCP 47 language tag in its common shape: a 2-3 letter primary subtag, then 1-8 character subtags
// ("vi", "en", "zh-Hans", "pt-BR").
bool is_language_tag(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
  if (i < 2 || i > 3) return false;
  while (i < s.size()) {
    if (s[i++] != '-') return false;
    size_t n = 0;
    while (i < s.size() && std::isalnum(static_cast<unsigned char>(s[i]))) ++i, ++n;
    if (n < 1 || n > 8) return false;
  }
  return true;
}

// A DNS host name (or IPv4 address) as written in `hosts`: lower-case letters, digits, '-' and inner dots.
bool is_host_name(std::string_view h) {
  if (h.empty() || h.front() == '.' || h.back() == '.' || h.find("..") != std::string_view::npos) return false;
  return std::all_of(h.begin(), h.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

bool compile_rule(const toml::node& n, const std::string& what, FieldRule& rule, const std::string& path,
                  std::vector<TemplateError>& errors) {
  std::string why;
  rule.line = line_of(n);
  if (!string_list(n, rule.sources, why)) {
    errors.push_back({path, rule.line, what + ": " + why});
    return false;
  }
  bool ok = true;
  for (const auto& src : rule.sources) {
    try {
      auto q = std::make_shared<pugi::xpath_query>(src.c_str());
      rule.queries.push_back(std::move(q));
    } catch (const pugi::xpath_exception& e) {
      errors.push_back({path, rule.line,
                        what + ": invalid XPath '" + src + "': " + e.what() + " at offset " +
                            std::to_string(e.result().offset)});
      ok = false;
    }
  }
  return ok;
}

bool compile_regexes(const toml::node& n, const std::string& what, std::vector<std::string>& sources,
                     std::vector<Regex>& out, const std::string& path, std::vector<TemplateError>& errors) {
  std::string why;
  if (!string_list(n, sources, why)) {
    errors.push_back({path, line_of(n), what + ": " + why});
    return false;
  }
  bool ok = true;
  const toml::array* arr = n.as_array();
  for (size_t i = 0; i < sources.size(); ++i) {
    const std::string& s = sources[i];
    Regex re(s);
    if (!re.ok()) {
      // the line of the offending element in a multi-line array
      int line = arr && i < arr->size() ? line_of((*arr)[i]) : line_of(n);
      errors.push_back({path, line, what + ": invalid regex '" + s + "' (RE2 syntax): " + re.error()});
      ok = false;
      continue;
    }
    out.push_back(std::move(re));
  }
  return ok;
}

}  // namespace

std::shared_ptr<const SiteTemplate> parse_template(std::string_view text, const std::string& path,
                                                   std::vector<TemplateError>& errors) {
  const size_t before = errors.size();
  toml::table tbl;
  try {
    tbl = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    errors.push_back({path, static_cast<int>(e.source().begin.line), std::string("TOML: ") + std::string(e.description())});
    return nullptr;
  }
  auto t = std::make_shared<SiteTemplate>();
  t->path = path;
  static const std::set<std::string> kTopKeys = {"name", "revision", "hosts", "feeds", "language", "min_body_chars",
                                                 "skip_urls", "article_urls", "remove", "fields", "description",
                                                 "sitemaps", "language_by_host", "host_aliases", "layout"};
  for (const auto& [k, v] : tbl)
    if (!kTopKeys.count(std::string(k.str())))
      errors.push_back({path, line_of(v), "unknown key '" + std::string(k.str()) + "'"});

  if (auto n = tbl["name"].as_string()) t->name = n->get();
  else errors.push_back({path, 1, "missing string 'name'"});
  if (auto r = tbl["revision"].as_integer()) {
    t->revision = static_cast<int>(r->get());
    if (t->revision < 1) errors.push_back({path, line_of(*r), "'revision' must be >= 1"});
  } else {
    errors.push_back({path, 1, "missing integer 'revision'"});
  }
  std::string why;
  if (auto h = tbl.get("hosts")) {
    if (!string_list(*h, t->hosts, why)) errors.push_back({path, line_of(*h), "hosts: " + why});
    for (auto& host : t->hosts) host = ascii_lower(host);
  }
  if (t->hosts.empty()) errors.push_back({path, 1, "missing 'hosts' (at least one host)"});
  if (auto f = tbl.get("feeds"))
    if (!string_list(*f, t->feeds, why)) errors.push_back({path, line_of(*f), "feeds: " + why});
  if (auto f = tbl.get("sitemaps"))
    if (!string_list(*f, t->sitemaps, why)) errors.push_back({path, line_of(*f), "sitemaps: " + why});
  if (auto l = tbl.get("language")) {
    auto s = l->as_string();
    if (s && is_language_tag(s->get())) t->language = s->get();
    else errors.push_back({path, line_of(*l), "language: expected a language tag such as \"vi\" or \"en\""});
  }
  if (auto lb = tbl.get("language_by_host")) {
    // language_by_host = { "en.vietnamplus.vn" = "en" }: pages on that host and its subdomains.
    if (auto m = lb->as_table()) {
      for (const auto& [k, v] : *m) {
        std::string host = ascii_lower(k.str());
        auto s = v.as_string();
        if (!is_host_name(host)) {
          errors.push_back({path, line_of(v), "language_by_host: '" + std::string(k.str()) + "' is not a host name"});
        } else if (std::none_of(t->hosts.begin(), t->hosts.end(), [&](const std::string& h) { return host_matches(host, h); })) {
          errors.push_back({path, line_of(v), "language_by_host: host '" + host + "' is not one of the template's hosts"});
        } else if (!s || !is_language_tag(s->get())) {
          errors.push_back({path, line_of(v), "language_by_host: '" + host + "': expected a language tag such as \"en\""});
        } else if (!t->language_by_host.emplace(host, s->get()).second) {
          errors.push_back({path, line_of(v), "language_by_host: host '" + host + "' given twice"});
        }
      }
    } else {
      errors.push_back({path, line_of(*lb), "language_by_host: expected a table of host = \"language\""});
    }
  }
  if (auto ha = tbl.get("host_aliases")) {
    // host_aliases = { "zingnews.vn" = "znews.vn" }: the outlet's former domain, same paths, same pages.
    auto canonical_host = [](const std::string& h) { return url_host(canonicalize_url("http://" + h + "/")); };
    auto covered = [&](const std::string& h) {
      return std::any_of(t->hosts.begin(), t->hosts.end(), [&](const std::string& x) { return host_matches(h, x); });
    };
    if (auto m = ha->as_table()) {
      for (const auto& [k, v] : *m) {
        const std::string from = ascii_lower(k.str());
        auto s = v.as_string();
        const std::string to = s ? ascii_lower(s->get()) : std::string();
        const std::string what = "host_aliases: '" + from + "'";
        if (!is_host_name(from) || canonical_host(from).empty()) {
          errors.push_back({path, line_of(v), what + " is not a host name"});
        } else if (!s || !is_host_name(to) || canonical_host(to).empty()) {
          errors.push_back({path, line_of(v), what + ": expected the current host name as a string"});
        } else if (!covered(from) || !covered(to)) {
          errors.push_back({path, line_of(v), what + " = '" + to + "': both hosts must be among the template's hosts"});
        } else if (canonical_host(from) == canonical_host(to)) {
          errors.push_back({path, line_of(v), what + " = '" + to + "': the same host once canonicalised (www./m. are already one page)"});
        } else if (!t->host_aliases.emplace(canonical_host(from), canonical_host(to)).second) {
          errors.push_back({path, line_of(v), what + " given twice"});
        }
      }
      for (const auto& [from, to] : t->host_aliases)
        if (t->host_aliases.count(to))
          errors.push_back({path, line_of(*ha), "host_aliases: '" + from + "' maps to '" + to + "', which is itself an alias (map it to the final host)"});
    } else {
      errors.push_back({path, line_of(*ha), "host_aliases: expected a table of alias host = \"current host\""});
    }
  }
  if (auto m = tbl["min_body_chars"].as_integer()) t->min_body_chars = static_cast<size_t>(std::max<int64_t>(0, m->get()));
  if (auto s = tbl.get("skip_urls")) compile_regexes(*s, "skip_urls", t->skip_url_sources, t->skip_urls, path, errors);
  if (auto s = tbl.get("article_urls"))
    compile_regexes(*s, "article_urls", t->article_url_sources, t->article_urls, path, errors);
  if (auto r = tbl.get("remove")) compile_rule(*r, "remove", t->remove, path, errors);

  auto fields = tbl["fields"].as_table();
  if (!fields) {
    errors.push_back({path, 1, "missing [fields] table"});
  } else {
    for (const auto& [k, v] : *fields) {
      std::string key(k.str());
      bool known = std::any_of(std::begin(kTemplateFields), std::end(kTemplateFields),
                               [&](const char* f) { return key == f; });
      if (!known) {
        errors.push_back({path, line_of(v), "unknown field '" + key + "'"});
        continue;
      }
      compile_rule(v, "fields." + key, t->fields[key], path, errors);
    }
    for (const char* required : {"title", "body"})
      if (!t->fields.count(required)) errors.push_back({path, line_of(*fields), std::string("missing fields.") + required});
  }
  if (auto ls = tbl.get("layout")) {
    const auto* arr = ls->as_array();
    if (!arr || !arr->is_array_of_tables()) {
      errors.push_back({path, line_of(*ls), "layout: expected [[layout]] tables"});
    } else {
      std::set<std::string> names;
      for (const auto& e : *arr) {
        const auto& lt = *e.as_table();
        TemplateLayout l;
        l.line = line_of(e);
        for (const auto& [k, v] : lt) {
          const std::string key(k.str());
          if (key != "name" && key != "detect" && key != "remove" && key != "fields")
            errors.push_back({path, line_of(v), "layout: unknown key '" + key + "'"});
        }
        if (auto n = lt["name"].as_string()) l.name = n->get();
        if (l.name.empty() || l.name.find_first_of("/@ ") != std::string::npos)
          errors.push_back({path, l.line, "layout: needs a name (no '/', '@' or spaces)"});
        else if (!names.insert(l.name).second)
          errors.push_back({path, l.line, "layout '" + l.name + "' given twice"});
        if (auto d = lt.get("detect")) compile_rule(*d, "layout.detect", l.detect, path, errors);
        else errors.push_back({path, l.line, "layout '" + l.name + "': missing detect (an XPath that matches its pages)"});
        if (auto r = lt.get("remove")) compile_rule(*r, "layout.remove", l.remove, path, errors);
        if (auto f = lt.get("fields")) {
          if (auto ft = f->as_table()) {
            for (const auto& [k, v] : *ft) {
              std::string key(k.str());
              if (std::none_of(std::begin(kTemplateFields), std::end(kTemplateFields), [&](const char* x) { return key == x; })) {
                errors.push_back({path, line_of(v), "layout '" + l.name + "': unknown field '" + key + "'"});
                continue;
              }
              compile_rule(v, "layout.fields." + key, l.fields[key], path, errors);
            }
          } else {
            errors.push_back({path, line_of(*f), "layout.fields: expected a table"});
          }
        }
        t->layouts.push_back(std::move(l));
      }
    }
  }
  if (errors.size() != before) return nullptr;
  return t;
}

std::shared_ptr<const SiteTemplate> load_template(const std::string& path, std::vector<TemplateError>& errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors.push_back({path, 0, "cannot open template file"});
    return nullptr;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto t = parse_template(ss.str(), path, errors);
  if (t) {
    std::string stem = std::filesystem::path(path).stem().string();
    if (t->name != stem) {
      errors.push_back({path, 1, "name '" + t->name + "' does not match the file name '" + stem + "'"});
      return nullptr;
    }
  }
  return t;
}

void TemplateRegistry::load_dir(const std::string& dir, std::vector<TemplateError>& errors) {
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".toml") files.push_back(e.path().string());
  if (ec) {
    errors.push_back({dir, 0, "cannot read template directory: " + ec.message()});
    return;
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files)
    if (auto t = load_template(f, errors)) add(std::move(t));
}

void TemplateRegistry::add(std::shared_ptr<const SiteTemplate> t) {
  // A newer definition of the same name replaces the old one.
  templates_.erase(std::remove_if(templates_.begin(), templates_.end(), [&](const auto& x) { return x->name == t->name; }),
                   templates_.end());
  templates_.push_back(std::move(t));
}

std::shared_ptr<const SiteTemplate> TemplateRegistry::for_url(std::string_view url) const {
  std::string host = url_host(url);
  if (host.empty()) return nullptr;
  // The most specific (longest) matching host pattern wins.
  std::shared_ptr<const SiteTemplate> best;
  size_t best_len = 0;
  for (const auto& t : templates_)
    for (const auto& h : t->hosts)
      if (host_matches(host, h) && h.size() > best_len) {
        best = t;
        best_len = h.size();
      }
  return best;
}

std::shared_ptr<const SiteTemplate> TemplateRegistry::by_name(std::string_view name) const {
  for (const auto& t : templates_)
    if (t->name == name) return t;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

namespace {

std::string node_value(const pugi::xpath_node& xn) {
  if (xn.attribute()) return clean_text(xn.attribute().value());
  return clean_text(inner_text(xn.node()));
}

// Values of the first query that yields a non-empty result.
std::vector<pugi::xpath_node> first_nodes(const FieldRule& rule, pugi::xml_node ctx) {
  for (const auto& q : rule.queries) {
    if (q->return_type() != pugi::xpath_type_node_set) continue;
    pugi::xpath_node_set set = q->evaluate_node_set(ctx);
    set.sort();
    std::vector<pugi::xpath_node> nodes;
    for (const auto& n : set)
      if (!node_value(n).empty()) nodes.push_back(n);
    if (!nodes.empty()) return nodes;
  }
  return {};
}

std::vector<std::string> values(const FieldRule& rule, pugi::xml_node ctx) {
  for (const auto& q : rule.queries) {
    std::vector<std::string> out;
    if (q->return_type() == pugi::xpath_type_node_set) {
      pugi::xpath_node_set set = q->evaluate_node_set(ctx);
      set.sort();
      for (const auto& n : set) {
        std::string v = node_value(n);
        if (!v.empty()) out.push_back(std::move(v));
      }
    } else {
      std::string v = clean_text(q->evaluate_string(ctx));
      if (!v.empty()) out.push_back(std::move(v));
    }
    if (!out.empty()) return out;
  }
  return {};
}

std::string first_value(const FieldRule& rule, pugi::xml_node ctx) {
  auto v = values(rule, ctx);
  return v.empty() ? std::string() : v.front();
}

bool has_entity(std::string_view s) {
  auto amp = s.find('&');
  if (amp == std::string_view::npos) return false;
  auto semi = s.find(';', amp);
  return semi != std::string_view::npos && semi - amp <= 10;
}

bool is_ancestor(pugi::xml_node anc, pugi::xml_node n) {
  for (n = n.parent(); n; n = n.parent())
    if (n == anc) return true;
  return false;
}

std::string image_src(pugi::xml_node img) {
  // Lazy-loading attributes first: src is often a placeholder.
  for (const char* a : {"data-src", "data-original", "data-lazy-src", "data-srcset", "srcset", "src", "content", "href"}) {
    std::string v(trim(img.attribute(a).value()));
    if (v.empty() || v.rfind("data:", 0) == 0) continue;
    if (std::string_view(a).find("srcset") != std::string_view::npos) v = v.substr(0, v.find_first_of(" ,"));
    if (!v.empty()) return v;
  }
  return {};
}

const FieldRule* field(const SiteTemplate& t, const TemplateLayout* layout, const char* name) {
  if (layout) {
    auto it = layout->fields.find(name);
    if (it != layout->fields.end() && !it->second.empty()) return &it->second;
  }
  auto it = t.fields.find(name);
  return it == t.fields.end() || it->second.empty() ? nullptr : &it->second;
}

bool matches(const FieldRule& rule, pugi::xml_node root) {
  for (const auto& q : rule.queries) {
    switch (q->return_type()) {
      case pugi::xpath_type_node_set:
        if (!q->evaluate_node_set(root).empty()) return true;
        break;
      case pugi::xpath_type_boolean:
        if (q->evaluate_boolean(root)) return true;
        break;
      default:
        if (!clean_text(q->evaluate_string(root)).empty()) return true;
    }
  }
  return false;
}

}  // namespace

std::string apply_template(const SiteTemplate& t, pugi::xml_document& doc, std::string_view page_url, Article& out) {
  pugi::xml_node root = doc.document_element();
  if (!root) return {};
  const TemplateLayout* layout = nullptr;
  for (const auto& l : t.layouts)
    if (matches(l.detect, root)) {
      layout = &l;
      break;
    }
  auto filled = [&](const char* name) {
    if (std::find(out.fields.begin(), out.fields.end(), name) == out.fields.end()) out.fields.push_back(name);
  };

  // Metadata that may live inside removable blocks is read before removal.
  if (auto r = field(t, layout, "canonical")) {
    std::string c = first_value(*r, root);
    if (!c.empty()) {
      out.canonical_url = resolve_url(page_url, c);
      filled("canonical");
    }
  }
  for (const char* name : {"published", "updated"}) {
    auto r = field(t, layout, name);
    if (!r) continue;
    // Every rule is tried in order; the first value of each that parses as a date is a candidate, labelled by
    // where it sits: an attribute of a <meta> ("meta"), inside a JSON-LD script ("json-ld"), anything else is
    // what the page shows ("page-visible"). The first candidate wins, except that the displayed time beats
    // metadata that disagrees with it (a wrong offset, a stale copy): metadata then only adds seconds.
    struct Candidate {
      std::string iso, raw, source;
    };
    std::vector<Candidate> found;
    std::string unparsed;
    for (size_t qi = 0; qi < r->queries.size(); ++qi) {
      const auto& q = r->queries[qi];
      if (q->return_type() != pugi::xpath_type_node_set) {
        // A string expression over a script ("substring-after(//script[@type='application/ld+json'] …") reads
        // JSON-LD; any other reads metadata.
        const bool ld = qi < r->sources.size() && r->sources[qi].find("ld+json") != std::string::npos;
        std::string v = clean_text(q->evaluate_string(root));
        if (auto iso = normalize_date(v)) found.push_back({*iso, v, ld ? "json-ld" : "meta"});
        else if (unparsed.empty() && !v.empty()) unparsed = v;
        continue;
      }
      pugi::xpath_node_set set = q->evaluate_node_set(root);
      set.sort();
      for (const auto& xn : set) {
        std::string v = node_value(xn);
        if (v.empty()) continue;
        auto iso = normalize_date(v);
        if (!iso) {
          if (unparsed.empty()) unparsed = v;
          continue;
        }
        // An attribute (<meta content>, <time datetime>, data-time) is machine-readable metadata; only text the
        // page prints is "page-visible".
        pugi::xml_node el = xn.attribute() ? xn.parent() : xn.node();
        std::string source = xn.attribute() ? "meta" : "page-visible";
        for (pugi::xml_node n = el; n; n = n.parent()) {
          if (std::strcmp(n.name(), "script") == 0) {
            source = "json-ld";
            break;
          }
        }
        found.push_back({*iso, v, source});
        break;
      }
    }
    if (found.empty()) {
      if (!unparsed.empty()) out.warnings.push_back(std::string(name) + ": unrecognised date '" + unparsed + "'");
      continue;
    }
    Candidate pick = found.front();
    if (pick.source != "page-visible") {
      for (const auto& c : found) {
        if (c.source != "page-visible") continue;
        auto pe = iso_to_epoch(pick.iso), ce = iso_to_epoch(c.iso);
        // A displayed date without a time ("24/03/2024") only checks the day.
        const bool has_time = shows_time_of_day(c.raw);
        if (!pe || !ce) break;
        if (has_time ? (*pe / 60 != *ce / 60) : (c.iso.substr(0, 10) != epoch_to_iso_vn(*pe).substr(0, 10))) {
          out.warnings.push_back(std::string(name) + ": metadata " + pick.iso + " disagrees with the page (" + c.raw +
                                 "); the page wins");
          pick = c;
        }
        break;
      }
    }
    if (std::string_view(name) == "published") {
      out.published = pick.iso;
      out.published_source = pick.source;
    } else {
      out.updated = pick.iso;
    }
    filled(name);
  }

  // Remove boilerplate.
  std::vector<std::shared_ptr<pugi::xpath_query>> removes = t.remove.queries;
  if (layout) removes.insert(removes.end(), layout->remove.queries.begin(), layout->remove.queries.end());
  for (const auto& q : removes) {
    if (q->return_type() != pugi::xpath_type_node_set) continue;
    pugi::xpath_node_set set = q->evaluate_node_set(root);
    std::vector<pugi::xml_node> doomed;
    for (const auto& n : set)
      if (n.node() && n.node() != root) doomed.push_back(n.node());
    // Remove outermost first; descendants of removed nodes are gone with them.
    for (auto& n : doomed) {
      bool inside = false;
      for (const auto& m : doomed)
        if (m != n && is_ancestor(m, n)) inside = true;
      if (!inside && n.parent()) n.parent().remove_child(n);
    }
  }

  if (auto r = field(t, layout, "title")) {
    std::string title = first_value(*r, root);
    if (has_entity(title)) title = clean_text(decode_entities(title));  // double-encoded entities
    if (!title.empty()) {
      out.title = std::move(title);
      filled("title");
    }
  }
  if (auto r = field(t, layout, "lead")) {
    std::string lead;
    for (const auto& n : first_nodes(*r, root)) {
      std::string v = node_value(n);
      if (!lead.empty()) lead += ' ';
      lead += v;
    }
    if (lead.empty()) lead = first_value(*r, root);
    if (!lead.empty()) {
      out.lead = std::move(lead);
      filled("lead");
    }
  }
  if (auto r = field(t, layout, "body")) {
    auto nodes = first_nodes(*r, root);
    std::vector<pugi::xml_node> taken;
    for (const auto& xn : nodes) {
      if (xn.attribute()) {
        std::string v = clean_text(xn.attribute().value());
        if (!v.empty()) out.body.push_back(v);
        continue;
      }
      pugi::xml_node n = xn.node();
      // A node inside one already taken would repeat its text.
      if (std::any_of(taken.begin(), taken.end(), [&](pugi::xml_node a) { return is_ancestor(a, n); })) continue;
      taken.push_back(n);
      for (auto& p : paragraphs_of(n, /*skip_figures=*/true)) out.body.push_back(std::move(p));
    }
    // The lead is often repeated as the first body paragraph.
    if (!out.body.empty() && !out.lead.empty() && out.body.front() == out.lead) out.body.erase(out.body.begin());
    if (!out.body.empty()) filled("body");
  }
  if (auto r = field(t, layout, "authors")) {
    for (auto& v : values(*r, root))
      if (std::find(out.authors.begin(), out.authors.end(), v) == out.authors.end()) out.authors.push_back(std::move(v));
    if (!out.authors.empty()) filled("authors");
  }
  if (auto r = field(t, layout, "source")) {
    // The credited origin ("Theo TTXVN", "(TTXVN/Vietnam+)"): extract/record cleans the "Theo"/brackets.
    std::string s = first_value(*r, root);
    if (!s.empty()) {
      out.source = std::move(s);
      filled("source");
    }
  }
  if (auto r = field(t, layout, "category")) {
    out.category = first_value(*r, root);
    if (!out.category.empty()) filled("category");
  }
  if (auto r = field(t, layout, "tags")) {
    auto vs = values(*r, root);
    std::vector<std::string> tags;
    auto push = [&](std::string s) {
      s = clean_text(s);
      if (!s.empty() && std::find(tags.begin(), tags.end(), s) == tags.end()) tags.push_back(std::move(s));
    };
    if (vs.size() == 1) {
      // One string holds the list: split on ',' or, when there is no comma, on ';'.
      std::string_view all = vs.front();
      const char sep = all.find(',') == std::string_view::npos && all.find(';') != std::string_view::npos ? ';' : ',';
      size_t start = 0;
      while (start <= all.size()) {
        size_t c = all.find(sep, start);
        if (c == std::string_view::npos) c = all.size();
        push(std::string(all.substr(start, c - start)));
        start = c + 1;
      }
    } else {
      for (auto& v : vs) push(v);
    }
    out.tags = std::move(tags);
    if (!out.tags.empty()) filled("tags");
  }
  if (auto r = field(t, layout, "images")) {
    const FieldRule* cap = field(t, layout, "image_caption");
    for (const auto& q : r->queries) {
      if (q->return_type() != pugi::xpath_type_node_set) continue;
      pugi::xpath_node_set set = q->evaluate_node_set(root);
      set.sort();
      for (const auto& xn : set) {
        std::string src = xn.attribute() ? std::string(trim(xn.attribute().value())) : image_src(xn.node());
        if (src.empty() || src.rfind("data:", 0) == 0) continue;
        Image im{resolve_url(page_url, src), {}};
        if (cap && xn.node()) im.caption = first_value(*cap, xn.node());
        if (std::none_of(out.images.begin(), out.images.end(), [&](const Image& x) { return x.url == im.url; }))
          out.images.push_back(std::move(im));
      }
      if (!out.images.empty()) break;
    }
    if (!out.images.empty()) filled("images");
  }
  return layout ? layout->name : std::string();
}

}  // namespace baotin
