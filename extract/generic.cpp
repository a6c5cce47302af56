// Generic article extraction: metadata from JSON-LD / OpenGraph / meta tags, body by DOM scoring.
//
// Body algorithm (readability-like, single pass statistics over a flat pre-order array):
//  1. Flatten the <body> subtree into a pre-order vector of elements, dropping invisible and never-content
//     subtrees (script, style, nav, form, hidden, role=navigation...) and, on the first attempt, "unlikely"
//     subtrees (class/id looks like comments, menus, related-news boxes...).
//  2. Per element: text length, link text length, commas, counts of p/img/li/inputs/embeds/headings,
//     all accumulated bottom-up in one reverse sweep.
//  3. Paragraph-like blocks (p, pre, td, h2-h6, divs without block children, inline runs of mixed
//     containers) give a score (1 + commas + length) to their ancestors (parent 1, grandparent 1/2,
//     then 1/(3*level)), each ancestor starting from a tag prior + class/id weight.
//  4. The best candidate (score * (1 - link density)) is refined (common ancestor of close rivals,
//     climbing to a better-scoring parent), then its parent's good children are merged in.
//  5. The chosen subtree is emitted paragraph by paragraph, conditionally dropping link-dense,
//     form-like, image-gallery or boilerplate blocks and lines ("Tin liên quan", share bars...).
//  If the result is short, the extraction is retried with fewer filters and the longest result wins.
#include "extract/generic.h"

#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <array>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/date.h"
#include "core/text.h"
#include "core/url.h"
#include "extract/html.h"
#include "extract/jsonld.h"

namespace baotin {

namespace {

// ---------------------------------------------------------------------------------------------
// Tags

enum class Tag : uint8_t {
  Other,  // unknown / inline
  A,
  P,
  Div,
  Section,
  Article,
  Main,
  Body,
  Pre,
  Td,
  Th,
  Tr,
  Table,
  Blockquote,
  Ul,
  Ol,
  Li,
  Dl,
  Dd,
  Dt,
  H1,
  H2,  // h2..h6
  Form,
  Address,
  Figure,
  Figcaption,
  Img,
  Br,
  Input,  // input, textarea, select, button
  Embed,  // embed, object, iframe
  Drop,   // never content: script, style, nav, svg, ...
  Header,
  Footer,
  Aside,
  Center,
  OtherBlock,
};

struct TagInfo {
  Tag tag;
  bool block;
};

TagInfo classify(const char* name) {
  static const std::unordered_map<std::string_view, TagInfo> kMap = {
      {"a", {Tag::A, false}},
      {"p", {Tag::P, true}},
      {"div", {Tag::Div, true}},
      {"section", {Tag::Section, true}},
      {"article", {Tag::Article, true}},
      {"main", {Tag::Main, true}},
      {"body", {Tag::Body, true}},
      {"pre", {Tag::Pre, true}},
      {"td", {Tag::Td, true}},
      {"th", {Tag::Th, true}},
      {"tr", {Tag::Tr, true}},
      {"table", {Tag::Table, true}},
      {"tbody", {Tag::OtherBlock, true}},
      {"thead", {Tag::OtherBlock, true}},
      {"tfoot", {Tag::OtherBlock, true}},
      {"caption", {Tag::OtherBlock, true}},
      {"blockquote", {Tag::Blockquote, true}},
      {"ul", {Tag::Ul, true}},
      {"ol", {Tag::Ol, true}},
      {"li", {Tag::Li, true}},
      {"dl", {Tag::Dl, true}},
      {"dd", {Tag::Dd, true}},
      {"dt", {Tag::Dt, true}},
      {"h1", {Tag::H1, true}},
      {"h2", {Tag::H2, true}},
      {"h3", {Tag::H2, true}},
      {"h4", {Tag::H2, true}},
      {"h5", {Tag::H2, true}},
      {"h6", {Tag::H2, true}},
      {"form", {Tag::Form, true}},
      {"fieldset", {Tag::Form, true}},
      {"address", {Tag::Address, true}},
      {"figure", {Tag::Figure, true}},
      {"figcaption", {Tag::Figcaption, true}},
      {"img", {Tag::Img, false}},
      {"br", {Tag::Br, false}},
      {"hr", {Tag::OtherBlock, true}},
      {"input", {Tag::Input, false}},
      {"textarea", {Tag::Drop, false}},
      {"select", {Tag::Drop, false}},
      {"button", {Tag::Drop, false}},
      {"option", {Tag::Drop, false}},
      {"label", {Tag::Other, false}},
      {"embed", {Tag::Embed, false}},
      {"object", {Tag::Embed, false}},
      {"iframe", {Tag::Embed, false}},
      {"video", {Tag::Embed, true}},
      {"audio", {Tag::Embed, true}},
      {"script", {Tag::Drop, false}},
      {"style", {Tag::Drop, false}},
      {"noscript", {Tag::Drop, false}},
      {"template", {Tag::Drop, false}},
      {"nav", {Tag::Drop, true}},
      {"menu", {Tag::Drop, true}},
      {"svg", {Tag::Drop, false}},
      {"canvas", {Tag::Drop, false}},
      {"math", {Tag::Other, false}},
      {"head", {Tag::Drop, true}},
      {"title", {Tag::Drop, false}},
      {"meta", {Tag::Drop, false}},
      {"link", {Tag::Drop, false}},
      {"dialog", {Tag::Drop, true}},
      {"header", {Tag::Header, true}},
      {"footer", {Tag::Footer, true}},
      {"aside", {Tag::Aside, true}},
      {"center", {Tag::Center, true}},
      {"details", {Tag::OtherBlock, true}},
      {"summary", {Tag::OtherBlock, true}},
      {"hgroup", {Tag::OtherBlock, true}},
      {"picture", {Tag::Other, false}},
      {"source", {Tag::Drop, false}},
      {"html", {Tag::OtherBlock, true}},
  };
  auto it = kMap.find(name);
  if (it != kMap.end()) return it->second;
  return {Tag::Other, false};
}

// ---------------------------------------------------------------------------------------------
// Class / id hints

bool contains_any(std::string_view s, std::initializer_list<std::string_view> pats) {
  for (auto p : pats)
    if (s.find(p) != std::string_view::npos) return true;
  return false;
}

// contains_any() for a fixed list that is asked about every element's class and id: the needles are bucketed by
// their first byte, so a string is read once and each position meets only the needles that start with its byte
// (the per-needle find() of every class and id was 6 % of extraction on the corpus pages).
class NeedleSet {
 public:
  NeedleSet(std::initializer_list<std::string_view> needles) {
    for (auto n : needles) {
      if (n.empty()) any_ = true;  // find("") matches everything
      else by_first_[static_cast<unsigned char>(n[0])].push_back(n);
    }
  }
  bool in(std::string_view s) const {
    if (any_) return true;
    for (size_t i = 0; i < s.size(); ++i)
      for (std::string_view n : by_first_[static_cast<unsigned char>(s[i])])
        if (s.size() - i >= n.size() && std::memcmp(s.data() + i, n.data(), n.size()) == 0) return true;
    return false;
  }

 private:
  std::array<std::vector<std::string_view>, 256> by_first_;
  bool any_ = false;
};

// Readability's "unlikely candidates", plus Vietnamese news boilerplate boxes.
bool unlikely_hint(std::string_view s) {
  if (s.empty()) return false;
  static const NeedleSet kUnlikely = {
      "-ad-",        "ai2html",      "banner",        "breadcrumb",   "combx",        "comment",
      "community",   "cover-wrap",   "disqus",        "extra",        "footer",       "gdpr",
      "header",      "legends",      "menu",          "related",      "remark",       "replies",
      "rss",         "shoutbox",     "sidebar",       "skyscraper",   "social",       "sponsor",
      "supplemental", "ad-break",    "agegate",       "pagination",   "pager",        "popup",
      "yom-remote",  "tin-lien-quan", "tinlienquan",  "lien-quan",    "lienquan",     "doc-them",
      "cung-chu-de", "binh-luan",    "binhluan",      "tin-khac",     "tinkhac",      "xem-them",
      "newsletter",  "cookie",       "subscribe"};
  static const NeedleSet kMaybe = {"and", "article", "body", "column",
                                                                  "content", "main", "shadow", "detail"};
  return kUnlikely.in(s) && !kMaybe.in(s);
}

int hint_weight(std::string_view s) {
  if (s.empty()) return 0;
  static const NeedleSet kNegative = {
      "-ad-",     "hidden",   "banner",       "combx",        "comment",    "com-",        "contact",
      "foot",     "footnote", "gdpr",         "masthead",     "media",      "meta",        "outbrain",
      "promo",    "related",  "relate",       "scroll",       "share",      "shoutbox",    "sidebar",
      "skyscraper", "sponsor", "shopping",    "tags",         "tool",       "widget",      "social",
      "breadcrumb", "tin-lien-quan", "doc-them", "cung-chu-de", "binh-luan", "tin-khac",   "advert",
      "nav",      "menu",     "recommend",    "newsletter",   "subscribe",  "popup"};
  static const NeedleSet kPositive = {
      "article", "body",   "content",     "entry",   "hentry", "h-entry", "main",     "page",
      "post",    "text",   "blog",        "story",   "detail", "fck_detail", "maincontent", "noidung",
      "noi-dung", "chi-tiet", "chitiet",  "baiviet", "bai-viet"};
  int w = 0;
  if (kNegative.in(s)) w -= 25;
  if (kPositive.in(s)) w += 25;
  return w;
}

std::string lower_attr(pugi::xml_node n, const char* attr) {
  std::string v = n.attribute(attr).value();
  for (auto& c : v)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return v;
}

bool is_hidden(pugi::xml_node n) {
  if (n.attribute("hidden")) return true;
  std::string_view aria = n.attribute("aria-hidden").value();
  if (aria == "true") {
    // Readability keeps "fallback-image" wrappers (Wikimedia); harmless to keep the rule simple.
    return true;
  }
  const char* style = n.attribute("style").value();
  if (*style) {
    std::string s;
    for (const char* c = style; *c; ++c)
      if (*c != ' ' && *c != '\t') s += static_cast<char>(std::tolower(static_cast<unsigned char>(*c)));
    if (s.find("display:none") != std::string::npos || s.find("visibility:hidden") != std::string::npos) return true;
  }
  return false;
}

// Comment threads are never the article, whatever the retry flags: class/id tokens starting with "comment"
// (not "commentary"), Disqus, Vietnamese "binh-luan".
bool comment_container(std::string_view cls, std::string_view id) {
  auto token_hit = [](std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && s[i] == ' ') ++i;
      size_t j = s.find(' ', i);
      if (j == std::string_view::npos) j = s.size();
      std::string_view t = s.substr(i, j - i);
      if ((t.substr(0, 7) == "comment" && t.substr(0, 10) != "commentary") || t.find("disqus") != std::string_view::npos ||
          t.find("binh-luan") != std::string_view::npos || t.find("binhluan") != std::string_view::npos)
        return true;
      i = j + 1;
    }
    return false;
  };
  return token_hit(cls) || token_hit(id);
}

// Short blocks whose class says they are captions, credits, bylines or time stamps.
bool furniture_hint(std::string_view s) {
  static const NeedleSet kFurniture = {
      "caption", "credit", "byline", "timestamp", "dateline", "author", "published", "updated", "date",
      "share", "social", "related", "newsletter", "subscribe", "promo", "tags", "breadcrumb"};
  return kFurniture.in(s);
}

bool drop_role(pugi::xml_node n) {
  std::string_view role = n.attribute("role").value();
  if (role.empty()) return false;
  return role == "menu" || role == "menubar" || role == "complementary" || role == "navigation" ||
         role == "alert" || role == "alertdialog" || role == "dialog" || role == "banner" ||
         role == "contentinfo" || role == "search";
}

// ---------------------------------------------------------------------------------------------
// Text statistics

struct TextStat {
  uint32_t chars = 0;   // code points, whitespace runs counted as one
  uint32_t commas = 0;  // , ، ， 、
  bool sentence_end = false;
};

TextStat measure(const char* s) {
  TextStat t;
  bool in_space = true;
  const auto* p = reinterpret_cast<const unsigned char*>(s);
  unsigned char last = 0;
  for (; *p; ++p) {
    unsigned char c = *p;
    if (is_html_space(static_cast<char>(c))) {
      if (!in_space) ++t.chars;
      in_space = true;
      continue;
    }
    in_space = false;
    if ((c & 0xC0) != 0x80) ++t.chars;
    if (c == ',') ++t.commas;
    // U+FF0C fullwidth comma, U+3001 ideographic comma, U+060C arabic comma.
    if (c == 0xEF && p[1] == 0xBC && p[2] == 0x8C) ++t.commas;
    if (c == 0xE3 && p[1] == 0x80 && p[2] == 0x81) ++t.commas;
    if (c == 0xD8 && p[1] == 0x8C) ++t.commas;
    last = c;
  }
  t.sentence_end = last == '.' || last == '!' || last == '?' || last == '"';
  return t;
}

// ---------------------------------------------------------------------------------------------
// Flattened element tree

struct Node {
  pugi::xml_node node;
  int parent = -1;
  uint32_t end = 0;  // one past the last descendant (pre-order)
  Tag tag = Tag::Other;
  bool block = false;
  bool in_link = false;
  bool has_block_child = false;
  bool in_figure = false;
  bool furniture = false;  // class/id of a caption, byline, date, share bar...
  int weight = 0;  // class/id weight
  int hint_bonus = 0;
  // Subtree statistics.
  uint32_t text = 0;
  uint32_t link_text = 0;
  uint32_t commas = 0;
  uint32_t heading_text = 0;
  uint32_t li_text = 0;
  uint32_t n_p = 0, n_img = 0, n_li = 0, n_input = 0, n_embed = 0, n_children = 0;
  // Text whose nearest block ancestor is this element.
  uint32_t own_text = 0;
  uint32_t own_commas = 0;
  // Scoring.
  double score = 0;
  bool scored = false;
  std::string cls;  // lower-case class (for sibling matching)
};

struct Flags {
  bool strip_unlikely = true;
  bool weight_classes = true;
  bool clean_conditionally = true;
};

class Extractor {
 public:
  Extractor(pugi::xml_node root, Flags flags) : flags_(flags) { build(root); }

  std::vector<std::string> run(std::vector<pugi::xml_node>* selected_out);

  const std::vector<Node>& nodes() const { return nodes_; }

 private:
  void build(pugi::xml_node root);
  void score();
  int pick_top();
  std::vector<int> gather(int top);
  bool keep_conditionally(int i) const;
  void emit(int idx, std::vector<std::string>& out);

  double link_density(const Node& n) const { return n.text ? static_cast<double>(n.link_text) / n.text : 0.0; }
  void init_node(Node& n);

  Flags flags_;
  std::vector<Node> nodes_;
};

void Extractor::build(pugi::xml_node root) {
  nodes_.reserve(4096);
  // Iterative pre-order walk. Stack entries: (xml node, parent index). Text nodes are accounted to the
  // nearest element and to the nearest block ancestor.
  struct Item {
    pugi::xml_node n;
    int parent;
    int block_parent;
    bool in_link;
    bool in_figure;
  };
  std::vector<Item> stack;
  stack.push_back({root, -1, -1, false, false});
  std::vector<int> open;  // for computing `end`
  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    pugi::xml_node n = it.n;
    if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) {
      if (it.parent < 0) continue;
      TextStat t = measure(n.value());
      if (t.chars == 0) continue;
      Node& p = nodes_[static_cast<size_t>(it.parent)];
      p.text += t.chars;
      p.commas += t.commas;
      if (it.in_link) p.link_text += t.chars;
      if (it.block_parent >= 0) {
        Node& b = nodes_[static_cast<size_t>(it.block_parent)];
        b.own_text += t.chars;
        b.own_commas += t.commas;
      }
      continue;
    }
    if (n.type() != pugi::node_element) continue;
    TagInfo ti = classify(n.name());
    if (ti.tag == Tag::Drop) continue;
    if (is_hidden(n) || drop_role(n)) continue;
    if (it.parent >= 0 && (ti.tag == Tag::Aside)) continue;  // asides are never the article text
    std::string cls = lower_attr(n, "class");
    std::string id = lower_attr(n, "id");
    if (it.parent >= 0 && ti.tag != Tag::Body && comment_container(cls, id)) continue;
    if (flags_.strip_unlikely && it.parent >= 0 && ti.tag != Tag::Body && ti.tag != Tag::A &&
        ti.tag != Tag::Article && ti.tag != Tag::Main && ti.tag != Tag::Table && ti.tag != Tag::Td &&
        ti.tag != Tag::Tr && ti.tag != Tag::Pre) {
      std::string both = cls;
      both += ' ';
      both += id;
      if (unlikely_hint(both)) continue;
    }
    int idx = static_cast<int>(nodes_.size());
    nodes_.emplace_back();
    Node& e = nodes_.back();
    e.node = n;
    e.parent = it.parent;
    e.tag = ti.tag;
    e.block = ti.block;
    e.in_link = it.in_link || ti.tag == Tag::A;
    e.in_figure = it.in_figure || ti.tag == Tag::Figure;
    if (flags_.weight_classes) {
      e.weight = hint_weight(cls) + hint_weight(id);
      std::string_view ip = n.attribute("itemprop").value();
      if (ip == "articleBody" || ip == "articlebody") e.weight += 50;
    }
    if (!cls.empty() || !id.empty()) {
      std::string both = cls;
      both += ' ';
      both += id;
      e.furniture = furniture_hint(both) && !contains_any(both, {"article", "content", "body", "main", "entry", "post"});
    }
    e.cls = std::move(cls);
    if (it.parent >= 0) {
      Node& p = nodes_[static_cast<size_t>(it.parent)];
      if (ti.block) p.has_block_child = true;
      ++p.n_children;
    }
    switch (ti.tag) {
      case Tag::P: e.n_p = 1; break;
      case Tag::Img: e.n_img = 1; break;
      case Tag::Li: e.n_li = 1; break;
      case Tag::Input: e.n_input = 1; break;
      case Tag::Embed: e.n_embed = 1; break;
      default: break;
    }
    int block_parent = ti.block ? idx : it.block_parent;
    // Children in reverse so that they pop in document order. A sentinel with a null node marks the end.
    size_t mark = stack.size();
    for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling())
      stack.push_back({c, idx, block_parent, e.in_link, e.in_figure});
    std::reverse(stack.begin() + static_cast<std::ptrdiff_t>(mark), stack.end());
  }
  // `end` and subtree sums in one reverse sweep: children always follow their parent in pre-order.
  for (size_t i = nodes_.size(); i-- > 0;) {
    Node& e = nodes_[i];
    if (e.end == 0) e.end = static_cast<uint32_t>(i + 1);
    if (e.tag == Tag::H1 || e.tag == Tag::H2) e.heading_text = e.text;
    if (e.tag == Tag::Li) e.li_text = e.text;
    if (e.parent < 0) continue;
    Node& p = nodes_[static_cast<size_t>(e.parent)];
    p.text += e.text;
    p.link_text += e.link_text;
    p.commas += e.commas;
    p.heading_text += e.heading_text;
    p.li_text += e.li_text;
    p.n_p += e.n_p;
    p.n_img += e.n_img;
    p.n_li += e.n_li;
    p.n_input += e.n_input;
    p.n_embed += e.n_embed;
    if (p.end < e.end) p.end = e.end;
  }
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].end < i + 1) nodes_[i].end = static_cast<uint32_t>(i + 1);
}

void Extractor::init_node(Node& n) {
  if (n.scored) return;
  n.scored = true;
  switch (n.tag) {
    case Tag::Div: n.score = 5; break;
    case Tag::Article: n.score = 8; break;
    case Tag::Pre:
    case Tag::Td:
    case Tag::Blockquote: n.score = 3; break;
    case Tag::Address:
    case Tag::Ol:
    case Tag::Ul:
    case Tag::Dl:
    case Tag::Dd:
    case Tag::Dt:
    case Tag::Li:
    case Tag::Form: n.score = -3; break;
    case Tag::H1:
    case Tag::H2:
    case Tag::Th: n.score = -5; break;
    default: n.score = 0; break;
  }
  n.score += n.weight;
}

void Extractor::score() {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& e = nodes_[i];
    if (!e.block || e.in_link) continue;
    uint32_t len = 0, commas = 0;
    int start = -1;  // first ancestor receiving the score
    bool para_tag = e.tag == Tag::P || e.tag == Tag::Pre || e.tag == Tag::Td || e.tag == Tag::H2;
    bool container = e.tag == Tag::Div || e.tag == Tag::Section || e.tag == Tag::Article || e.tag == Tag::Main ||
                     e.tag == Tag::Center || e.tag == Tag::Body;
    if (para_tag) {
      len = e.text;
      commas = e.commas;
      start = e.parent;
    } else if (container && !e.has_block_child) {
      len = e.text;
      commas = e.commas;
      start = e.parent;
    } else if (container && e.own_text > 0) {
      len = e.own_text;
      commas = e.own_commas;
      start = static_cast<int>(i);
    } else {
      continue;
    }
    if (len < 25 || start < 0) continue;
    double content = 1.0 + (commas + 1) + std::min<double>(std::floor(len / 100.0), 3.0);
    int a = start;
    for (int level = 0; a >= 0 && level < 5; ++level, a = nodes_[static_cast<size_t>(a)].parent) {
      Node& anc = nodes_[static_cast<size_t>(a)];
      if (anc.parent < 0 && anc.tag != Tag::Body) break;
      init_node(anc);
      double div = level == 0 ? 1.0 : level == 1 ? 2.0 : level * 3.0;
      anc.score += content / div;
    }
  }
}

int Extractor::pick_top() {
  std::vector<int> cands;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& e = nodes_[i];
    if (!e.scored) continue;
    e.score *= (1.0 - link_density(e));
    cands.push_back(static_cast<int>(i));
  }
  if (cands.empty()) return nodes_.empty() ? -1 : 0;
  constexpr size_t kTopN = 5;
  size_t n = std::min(kTopN, cands.size());
  std::partial_sort(cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(n), cands.end(),
                    [&](int a, int b) { return nodes_[static_cast<size_t>(a)].score > nodes_[static_cast<size_t>(b)].score; });
  int top = cands[0];
  auto& N = nodes_;
  auto is_ancestor = [&](int anc, int d) { return anc <= d && static_cast<uint32_t>(d) < N[static_cast<size_t>(anc)].end; };
  if (N[static_cast<size_t>(top)].tag == Tag::Body) return top;

  // Several close rivals under one ancestor: the article is split in blocks; take their common ancestor.
  std::vector<int> alternatives;
  for (size_t k = 1; k < n; ++k)
    if (N[static_cast<size_t>(cands[k])].score / N[static_cast<size_t>(top)].score >= 0.75)
      alternatives.push_back(cands[k]);
  if (alternatives.size() >= 3) {
    int p = N[static_cast<size_t>(top)].parent;
    while (p >= 0 && N[static_cast<size_t>(p)].tag != Tag::Body) {
      int contained = 0;
      for (int alt : alternatives)
        if (is_ancestor(p, alt)) ++contained;
      if (contained >= 3) {
        top = p;
        break;
      }
      p = N[static_cast<size_t>(p)].parent;
    }
  }
  init_node(N[static_cast<size_t>(top)]);

  // Climb while the parent scores better (the candidate was a fragment of the article).
  {
    int p = N[static_cast<size_t>(top)].parent;
    double last = N[static_cast<size_t>(top)].score;
    double threshold = last / 3.0;
    while (p >= 0 && N[static_cast<size_t>(p)].tag != Tag::Body) {
      const Node& pn = N[static_cast<size_t>(p)];
      if (!pn.scored) {
        p = pn.parent;
        continue;
      }
      if (pn.score < threshold) break;
      if (pn.score > last) {
        top = p;
        break;
      }
      last = pn.score;
      p = pn.parent;
    }
  }
  // An only child carries no more than its parent.
  while (true) {
    int p = N[static_cast<size_t>(top)].parent;
    if (p < 0 || N[static_cast<size_t>(p)].tag == Tag::Body || N[static_cast<size_t>(p)].n_children != 1) break;
    top = p;
  }
  init_node(N[static_cast<size_t>(top)]);
  return top;
}

std::vector<int> Extractor::gather(int top) {
  std::vector<int> out;
  const Node& t = nodes_[static_cast<size_t>(top)];
  if (t.parent < 0 || t.tag == Tag::Body) {
    out.push_back(top);
    return out;
  }
  double threshold = std::max(10.0, t.score * 0.2);
  const Node& parent = nodes_[static_cast<size_t>(t.parent)];
  // Direct children of the parent: walk the parent's subtree skipping grandchildren.
  for (uint32_t i = static_cast<uint32_t>(t.parent) + 1; i < parent.end; i = nodes_[i].end) {
    const Node& s = nodes_[i];
    if (static_cast<int>(i) == top) {
      out.push_back(static_cast<int>(i));
      continue;
    }
    bool append = false;
    double bonus = (!t.cls.empty() && s.cls == t.cls) ? t.score * 0.2 : 0.0;
    if (s.scored && s.score + bonus >= threshold) {
      append = true;
    } else if (s.tag == Tag::P || (s.tag == Tag::Div && !s.has_block_child)) {
      double ld = link_density(s);
      if (s.text > 80 && ld < 0.25) append = true;
      else if (s.text < 80 && s.text > 0 && ld == 0) {
        TextStat st = measure(inner_text(s.node).c_str());
        if (st.sentence_end) append = true;
      }
    }
    if (append) out.push_back(static_cast<int>(i));
  }
  return out;
}

// Readability's cleanConditionally, on precomputed subtree statistics.
bool Extractor::keep_conditionally(int i) const {
  const Node& e = nodes_[static_cast<size_t>(i)];
  if (!flags_.clean_conditionally) return true;
  bool candidate_tag = e.tag == Tag::Div || e.tag == Tag::Section || e.tag == Tag::Table || e.tag == Tag::Ul ||
                       e.tag == Tag::Ol || e.tag == Tag::Form || e.tag == Tag::Header || e.tag == Tag::Footer ||
                       e.tag == Tag::Dl || e.tag == Tag::Center;
  if (!candidate_tag) return true;
  int weight = e.weight;
  double content_score = e.scored ? e.score : 0.0;
  if (weight + content_score < 0) return false;
  if (e.commas >= 10) return true;
  bool is_list = e.tag == Tag::Ul || e.tag == Tag::Ol || (e.text > 0 && e.li_text > 0.9 * e.text);
  double p = e.n_p;
  double img = e.n_img;
  double li = static_cast<double>(e.n_li) - 100.0;
  double input = e.n_input;
  double heading_density = e.text ? static_cast<double>(e.heading_text) / e.text : 0.0;
  double ld = link_density(e);
  double len = e.text;
  bool in_fig = e.in_figure;
  if (img > 1 && p / img < 0.5 && !in_fig) return false;
  if (!is_list && li > p) return false;
  if (input > std::floor(p / 3)) return false;
  if (!is_list && heading_density < 0.9 && len < 25 && (img == 0 || img > 2) && !in_fig) return false;
  if (!is_list && weight < 25 && ld > 0.2) return false;
  if (weight >= 25 && ld > 0.5) return false;
  if ((e.n_embed == 1 && len < 75) || e.n_embed > 1) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Boilerplate lines

std::string unicode_lower(std::string_view s) {
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  u.toLower();
  std::string out;
  u.toUTF8String(out);
  return out;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Lines that are navigation/sharing furniture rather than article text.
bool boilerplate_line(std::string_view para, bool mostly_link) {
  if (para.size() > 160) return false;
  std::string l = unicode_lower(para);
  std::string_view s = l;
  // Drop trailing punctuation for exact matches.
  std::string_view core = s;
  while (!core.empty() && (core.back() == ':' || core.back() == '.' || core.back() == ' ' || core.back() == '>'))
    core.remove_suffix(1);
  static const std::string_view kExact[] = {
      "tin liên quan", "cùng chủ đề", "đọc thêm", "bài viết cùng chủ đề", "xem thêm", "chia sẻ",
      "bình luận", "ý kiến bạn đọc", "gửi bình luận", "tin cùng chuyên mục", "tin mới", "tin khác",
      "bài liên quan", "có thể bạn quan tâm", "đọc tiếp", "in bài", "quay lại", "về trang chủ",
      "từ khóa", "từ khoá", "tags", "tag", "share", "share this", "share this article", "advertisement",
      "related", "related articles", "related stories", "read more", "see also", "continue reading",
      "sponsored", "sponsored content", "comments", "print", "email", "facebook", "twitter", "copy link",
      "follow us", "ads", "quảng cáo", "theo dõi chúng tôi", "video", "ảnh", "top", "you may also like",
      "you might also like", "more", "subscribe", "don't miss", "related news", "recommended", "recommended for you",
      "most popular", "most read", "trending", "tin nổi bật", "đọc nhiều", "xem nhiều", "bài đọc nhiều",
      "tin mới nhất", "tin đọc nhiều"};
  for (auto e : kExact)
    if (core == e) return true;
  static const std::string_view kPrefix[] = {"tin liên quan:", "xem thêm:", "đọc thêm:", "tags:", "tag:",
                                             "từ khóa:", "từ khoá:", "share on ", "share this", "follow us on",
                                             "sign up for", "subscribe to", "click here to", ">> xem thêm",
                                             ">>> xem thêm", "xem thêm >>", "chia sẻ bài viết"};
  for (auto p : kPrefix)
    if (starts_with(s, p)) return true;
  // "Related: <a>Other story</a>", "Xem thêm: <a>...</a>": pointers to other pages.
  if (mostly_link) {
    static const std::string_view kLinkPrefix[] = {"related", "read more", "read also", "see more", "more:",
                                                   "also on", "also:", "see also", "xem thêm", "đọc thêm",
                                                   "tin liên quan", "bài liên quan", "[related", ">>", "»"};
    for (auto p : kLinkPrefix)
      if (starts_with(s, p)) return true;
  }
  if (starts_with(s, "theo dõi") && s.find("google news") != std::string_view::npos) return true;
  if (s.find("trên google news") != std::string_view::npos && para.size() < 120) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Emission

class Emitter {
 public:
  explicit Emitter(std::vector<std::string>& out) : out_(out) {}
  void text(const char* s) {
    buf_ += s;
    text_bytes_ += visible_bytes(s);
  }
  void link_text(const char* s) {
    buf_ += s;
    size_t v = visible_bytes(s);
    link_bytes_ += v;
    text_bytes_ += v;
  }
  // `list_item`: the paragraph is an <li>; a list item that is only a link is a pointer to another page
  // (related-news lists), not article text.
  void flush(bool list_item = false) {
    if (buf_.empty()) return;
    std::string p = clean_text(buf_);
    size_t link = link_bytes_;
    size_t total = text_bytes_;
    buf_.clear();
    link_bytes_ = text_bytes_ = 0;
    if (p.empty()) return;
    if (list_item && total > 0 && link * 10 >= total * 9 && p.size() < 200) return;
    if (boilerplate_line(p, total > 0 && link * 2 >= total)) return;
    out_.push_back(std::move(p));
  }

 private:
  std::vector<std::string>& out_;
  static size_t visible_bytes(const char* s) {
    size_t n = 0;
    for (; *s; ++s)
      if (*s != ' ' && *s != '\n' && *s != '\t' && *s != '\r') ++n;
    return n;
  }
  std::string buf_;
  size_t link_bytes_ = 0;
  size_t text_bytes_ = 0;
};

void Extractor::emit(int root, std::vector<std::string>& out) {
  Emitter em(out);
  // Walk the flat array for elements and the XML for text nodes: for each element we need its children
  // (text and element) in order; elements not in the array were dropped.
  std::unordered_map<const void*, int> index;  // xml node -> array index, for this subtree
  const Node& r = nodes_[static_cast<size_t>(root)];
  index.reserve((r.end - static_cast<uint32_t>(root)) * 2);
  for (uint32_t i = static_cast<uint32_t>(root); i < r.end; ++i) index.emplace(nodes_[i].node.internal_object(), i);

  struct Item {
    pugi::xml_node n;
    int idx;  // array index for elements, -1 for text
    bool closing;
  };
  std::vector<Item> stack{{r.node, root, false}};
  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    if (it.idx < 0) {
      if (it.n.type() == pugi::node_pcdata || it.n.type() == pugi::node_cdata) {
        // In-link state: the nearest element ancestor in the array.
        pugi::xml_node p = it.n.parent();
        auto f = index.find(p.internal_object());
        bool in_link = f != index.end() && nodes_[static_cast<size_t>(f->second)].in_link;
        if (in_link) em.link_text(it.n.value());
        else em.text(it.n.value());
      }
      continue;
    }
    const Node& e = nodes_[static_cast<size_t>(it.idx)];
    if (it.closing) {
      em.flush(e.tag == Tag::Li);
      continue;
    }
    if (e.tag == Tag::Br) {
      em.flush();
      continue;
    }
    if (it.idx != root) {
      // Elements removed from the article.
      if (e.tag == Tag::H1 || e.tag == Tag::Figcaption || e.tag == Tag::Figure || e.tag == Tag::Form ||
          e.tag == Tag::Embed || e.tag == Tag::Input || e.tag == Tag::Footer)
        continue;
      if (e.tag == Tag::H2 && (e.weight < 0 || link_density(e) > 0.5)) continue;
      if (e.furniture && e.text < 300) continue;
      if (!keep_conditionally(it.idx)) continue;
    }
    if (e.block) {
      em.flush();
      stack.push_back({e.node, it.idx, true});
    }
    size_t mark = stack.size();
    for (pugi::xml_node c = e.node.first_child(); c; c = c.next_sibling()) {
      if (c.type() == pugi::node_element) {
        auto f = index.find(c.internal_object());
        if (f == index.end()) continue;  // dropped while building
        stack.push_back({c, f->second, false});
      } else if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
        stack.push_back({c, -1, false});
      }
    }
    std::reverse(stack.begin() + static_cast<std::ptrdiff_t>(mark), stack.end());
  }
  em.flush();
}

std::vector<std::string> Extractor::run(std::vector<pugi::xml_node>* selected_out) {
  std::vector<std::string> out;
  if (nodes_.empty()) return out;
  score();
  int top = pick_top();
  if (top < 0) return out;
  std::vector<int> parts = gather(top);
  for (int p : parts) {
    emit(p, out);
    if (selected_out) selected_out->push_back(nodes_[static_cast<size_t>(p)].node);
  }
  return out;
}

size_t total_size(const std::vector<std::string>& v) {
  size_t n = 0;
  for (const auto& s : v) n += s.size();
  return n;
}

pugi::xml_node find_body(const pugi::xml_document& doc) {
  pugi::xml_node html = doc.document_element();
  if (!html) return {};
  if (pugi::xml_node b = html.child("body")) return b;
  return html;
}

// A short line at the edge of the body that is only a date stamp ("Thứ Ba, 25/12/2012 - 10:03",
// "Updated 1:39 am EST, Wednesday, November 20, 2019") is page furniture, not article text.
bool dateline(const std::string& p) {
  if (p.size() > 80) return false;
  size_t digits = 0;
  for (char c : p) digits += (c >= '0' && c <= '9');
  if (digits < 4) return false;
  if (word_tokens(p).size() > 12) return false;
  return normalize_date(p).has_value();
}

void drop_datelines(std::vector<std::string>& body) {
  for (int k = 0; k < 3 && !body.empty() && dateline(body.front()); ++k) body.erase(body.begin());
  for (int k = 0; k < 2 && !body.empty() && dateline(body.back()); ++k) body.pop_back();
}

std::vector<std::string> body_impl(const pugi::xml_document& doc, std::vector<pugi::xml_node>* selected) {
  pugi::xml_node root = find_body(doc);
  if (!root) return {};
  constexpr size_t kMinChars = 500;
  std::vector<std::string> best;
  std::vector<pugi::xml_node> best_sel;
  Flags flags;
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::vector<pugi::xml_node> sel;
    Extractor ex(root, flags);
    std::vector<std::string> got = ex.run(&sel);
    if (total_size(got) > total_size(best)) {
      best = std::move(got);
      best_sel = std::move(sel);
    }
    if (total_size(best) >= kMinChars) break;
    if (flags.strip_unlikely) flags.strip_unlikely = false;
    else if (flags.weight_classes) flags.weight_classes = false;
    else if (flags.clean_conditionally) flags.clean_conditionally = false;
    else break;
  }
  drop_datelines(best);
  if (selected) *selected = std::move(best_sel);
  return best;
}

// ---------------------------------------------------------------------------------------------
// Metadata helpers

std::string norm_key(std::string_view s) {
  // Lower-case letters/digits only: for comparing titles from different sources.
  std::string l = unicode_lower(s);
  std::string out;
  const char* p = l.data();
  int32_t i = 0, n = static_cast<int32_t>(l.size());
  while (i < n) {
    int32_t start = i;
    UChar32 c;
    U8_NEXT(p, i, n, c);
    if (c < 0) continue;
    if (u_isalnum(c)) out.append(p + start, static_cast<size_t>(i - start));
  }
  return out;
}

const char* const kTitleSeparators[] = {" | ", " - ", " – ", " — ", " :: ", " « ", " » ", " / ", " · ", " • "};

// "Headline - SiteName" -> "Headline" when another source (h1, og:title, site name, host) agrees.
std::string strip_site_suffix(const std::string& title, const std::vector<std::string>& others,
                              std::string_view site_name, std::string_view host) {
  std::string best = title;
  for (const char* sep : kTitleSeparators) {
    size_t pos = title.rfind(sep);
    if (pos == std::string::npos || pos == 0) continue;
    std::string head = std::string(trim(std::string_view(title).substr(0, pos)));
    std::string tail = std::string(trim(std::string_view(title).substr(pos + std::strlen(sep))));
    std::string hk = norm_key(head), tk = norm_key(tail);
    if (hk.empty()) continue;
    bool agree = false;
    for (const auto& o : others)
      if (!o.empty() && norm_key(o) == hk) agree = true;
    if (!site_name.empty() && norm_key(site_name) == tk) agree = true;
    if (!tk.empty() && !host.empty()) {
      std::string hkey = norm_key(host);  // "vnexpressnet"
      if (hkey.find(tk) != std::string::npos && tk.size() >= 3) agree = true;
    }
    if (agree && head.size() < best.size()) best = head;
  }
  // Also a site prefix: "SiteName | Headline".
  for (const char* sep : kTitleSeparators) {
    size_t pos = best.find(sep);
    if (pos == std::string::npos) continue;
    std::string head = std::string(trim(std::string_view(best).substr(0, pos)));
    std::string tail = std::string(trim(std::string_view(best).substr(pos + std::strlen(sep))));
    std::string hk = norm_key(head), tk = norm_key(tail);
    bool agree = false;
    for (const auto& o : others)
      if (!o.empty() && norm_key(o) == tk) agree = true;
    if (!site_name.empty() && norm_key(site_name) == hk) agree = true;
    if (agree && !tail.empty()) best = tail;
  }
  return best;
}

std::string normalize_or_keep(const std::string& raw) {
  if (raw.empty()) return raw;
  if (auto iso = normalize_date(raw)) return *iso;
  return raw;
}

std::string pick_img_src(pugi::xml_node img) {
  for (const char* a : {"data-src", "data-original", "data-lazy-src", "data-srcset", "src", "srcset"}) {
    std::string v = clean_text(img.attribute(a).value());
    if (v.empty() || v.rfind("data:", 0) == 0) continue;
    if (std::strstr(a, "srcset")) {
      auto sp = v.find(' ');
      if (sp != std::string::npos) v.resize(sp);
      auto comma = v.find(',');
      if (comma != std::string::npos) v.resize(comma);
    }
    if (!v.empty()) return v;
  }
  return {};
}

void collect_images(const std::vector<pugi::xml_node>& roots, std::string_view base, std::vector<Image>& out) {
  for (pugi::xml_node root : roots) {
    pugi::xml_node n = root;
    // Pre-order walk of root's subtree (including root itself).
    while (n) {
      if (n.type() == pugi::node_element && std::strcmp(n.name(), "img") == 0) {
        std::string src = pick_img_src(n);
        if (!src.empty()) {
          std::string url = resolve_url(base, src);
          std::string cap;
          for (pugi::xml_node a = n.parent(); a && a != root.parent(); a = a.parent()) {
            if (std::strcmp(a.name(), "figure") == 0) {
              if (pugi::xml_node fc = a.find_child([](pugi::xml_node c) { return std::strcmp(c.name(), "figcaption") == 0; }))
                cap = clean_text(inner_text(fc));
              break;
            }
          }
          if (cap.empty()) cap = clean_text(n.attribute("alt").value());
          bool dup = false;
          for (auto& im : out)
            if (im.url == url) {
              dup = true;
              if (im.caption.empty()) im.caption = cap;
            }
          if (!dup && out.size() < 100) out.push_back({url, cap});
        }
      }
      if (n.first_child()) {
        n = n.first_child();
        continue;
      }
      while (n && n != root && !n.next_sibling()) n = n.parent();
      if (!n || n == root) break;
      n = n.next_sibling();
    }
  }
}

// Text of the first <h1> of the page (not in a dropped region): often the headline.
std::vector<std::string> h1_texts(const pugi::xml_document& doc) {
  std::vector<std::string> out;
  pugi::xml_node root = doc.document_element();
  pugi::xml_node n = root;
  while (n) {
    if (n.type() == pugi::node_element && std::strcmp(n.name(), "h1") == 0) {
      std::string t = clean_text(inner_text(n));
      if (!t.empty()) out.push_back(std::move(t));
      if (out.size() >= 5) break;
    }
    if (n.first_child() && std::strcmp(n.name(), "h1") != 0) {
      n = n.first_child();
      continue;
    }
    while (n && n != root && !n.next_sibling()) n = n.parent();
    if (!n || n == root) break;
    n = n.next_sibling();
  }
  return out;
}

// The text of `n`'s subtree if it is at most `max_bytes` long, else nullopt; stops reading as soon as the limit
// is passed, so a check on a large container costs no more than on a small one. A run of ASCII whitespace counts
// as one byte: an element is short by the text it shows, not by its source's indentation (which the prescan
// shortens, extract/html.h).
std::optional<std::string> short_text(pugi::xml_node n, size_t max_bytes) {
  std::string out;
  size_t visible = 0;
  bool in_space = false;
  pugi::xml_node c = n.first_child();
  while (c) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
      const std::string_view v = c.value();
      for (char ch : v) {
        const bool space = is_html_space(ch);
        if (!space || !in_space) ++visible;
        in_space = space;
      }
      if (visible > max_bytes) return std::nullopt;
      out += v;
    }
    if (c.type() == pugi::node_element && c.first_child()) {
      c = c.first_child();
      continue;
    }
    while (c && c != n && !c.next_sibling()) c = c.parent();
    if (!c || c == n) break;
    c = c.next_sibling();
  }
  return clean_text(out);
}

struct ShownDate {
  std::string iso, raw;
  bool after_headline = false;  // after the element that shows the title (not just any <h1>)
};

// The date the page shows: the first short dated element (<time>, a class/id naming a date or time, the parent of a
// datePublished microdata tag) after the headline, i.e. the element whose text is the title (an <h1> with 4+ words
// when none is), preferring one with a time of day. Links and list items with a headline (teasers of other stories)
// are skipped.
std::optional<ShownDate> visible_date(const pugi::xml_document& doc, const std::string& title) {
  pugi::xml_node root = doc.document_element();
  pugi::xml_node n = root;
  bool after_title = false, after_h1 = false;
  const std::string title_key = norm_key(title);
  const size_t title_max = title.size() * 2 + 64;
  std::optional<ShownDate> date_only, before;
  size_t visited = 0;
  while (n && ++visited < 20000) {
    bool descend = true;
    if (n.type() == pugi::node_element) {
      const char* name = n.name();
      const bool heading = !std::strcmp(name, "h1") || !std::strcmp(name, "h2") || !std::strcmp(name, "h3");
      if (!std::strcmp(name, "script") || !std::strcmp(name, "style") || !std::strcmp(name, "noscript") ||
          !std::strcmp(name, "head") || !std::strcmp(name, "nav") || !std::strcmp(name, "footer") ||
          !std::strcmp(name, "select") || is_hidden(n)) {
        descend = false;
      } else if (!after_title && (heading || contains_any(lower_attr(n, "class"), {"title"}))) {
        auto t = short_text(n, title_max);
        if (t && !title_key.empty() && norm_key(*t) == title_key) {
          after_title = true;  // the headline
          descend = false;
        } else if (!std::strcmp(name, "h1") && t && std::count(t->begin(), t->end(), ' ') >= 3) {
          after_h1 = true;  // a headline-like <h1> (a logo's <h1> is a word or two)
        }
      } else if (!std::strcmp(name, "a") ||
                 (!std::strcmp(name, "li") && n.find_node([](pugi::xml_node c) {
                   return c.type() == pugi::node_element && !std::strcmp(c.name(), "a") && !short_text(c, 20);
                 }))) {
        descend = false;  // teasers of other stories (a link with a headline) carry their own dates
      } else {
        const std::string hint = lower_attr(n, "class") + " " + lower_attr(n, "id");
        const bool dated =
            !std::strcmp(name, "time") ||
            contains_any(hint, {"date", "time", "ngay", "publish", "posted", "thoigian", "ngaydang"}) ||
            contains_any(lower_attr(n, "itemprop"), {"datepublished"}) ||
            n.find_child([](pugi::xml_node c) {  // <span><meta itemprop="datePublished" content="…"/>25/12/2012 - 10:03</span>
              return !std::strcmp(c.name(), "meta") && contains_any(lower_attr(c, "itemprop"), {"datepublished"});
            });
        if (dated && !contains_any(hint, {"update", "capnhat", "weather", "thoitiet", "gold", "gia-vang", "live"})) {
          if (auto text = short_text(n, 160); text && !text->empty()) {
            if (auto iso = normalize_date(*text)) {
              const bool has_time = shows_time_of_day(*text);
              const bool after = after_title || after_h1;
              ShownDate d{*iso, *text, after_title};
              if (after && has_time) return d;
              if (after && !date_only) date_only = d;
              if (!after && has_time && !before) before = d;
            }
            descend = false;
          }
        }
      }
    }
    if (descend && n.first_child()) {
      n = n.first_child();
      continue;
    }
    while (n && n != root && !n.next_sibling()) n = n.parent();
    if (!n || n == root) break;
    n = n.next_sibling();
  }
  return date_only ? date_only : before;
}

void add_field(Article& a, const char* f) {
  for (const auto& x : a.fields)
    if (x == f) return;
  a.fields.push_back(f);
}

std::vector<std::string> split_body_text(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string_view::npos) nl = s.size();
    std::string p = clean_text(s.substr(start, nl - start));
    if (!p.empty()) out.push_back(std::move(p));
    start = nl + 1;
  }
  return out;
}

}  // namespace

std::vector<std::string> generic_body(const pugi::xml_document& doc) {
  try {
    return body_impl(doc, nullptr);
  } catch (const std::exception&) {
    return {};
  }
}

Article extract_generic(const pugi::xml_document& doc, std::string_view page_url, const PageMeta* meta,
                        bool with_body) {
  Article a;
  a.url = std::string(page_url);
  a.extractor = "generic";
  try {
    std::optional<PageMeta> own;
    if (!meta) own = read_page_meta(doc, page_url);
    const PageMeta& m = meta ? *meta : *own;
    std::string host = url_host(page_url);

    // Title.
    std::vector<std::string> h1s = h1_texts(doc);
    std::vector<std::string> others = h1s;
    for (const std::string* s : {&m.ld_headline, &m.og_title, &m.twitter_title})
      if (!s->empty()) others.push_back(*s);
    std::string title;
    for (const std::string* s : {&m.ld_headline, &m.og_title, &m.twitter_title})
      if (title.empty() && !s->empty()) title = *s;
    if (title.empty() && h1s.size() == 1) title = h1s.front();
    if (title.empty()) title = m.html_title;
    if (title.empty() && !h1s.empty()) title = h1s.front();
    if (!title.empty()) {
      // Other sources, without the candidate itself, decide whether a " - Site" suffix is noise.
      std::vector<std::string> rest;
      for (const auto& o : others)
        if (o != title) rest.push_back(o);
      if (title == m.html_title) {
        for (const auto& h : h1s)
          if (!h.empty()) rest.push_back(h);
      }
      title = strip_site_suffix(title, rest, m.og_site_name, host);
      a.title = title;
      add_field(a, "title");
    }

    // Lead (sapo).
    for (const std::string* s : {&m.ld_description, &m.og_description, &m.meta_description, &m.twitter_description})
      if (a.lead.empty() && !s->empty()) a.lead = *s;
    if (!a.lead.empty()) add_field(a, "lead");

    // Body.
    std::vector<pugi::xml_node> selected;
    std::vector<std::string> body;
    if (with_body) body = body_impl(doc, &selected);
    // Sites that embed the full text in JSON-LD: prefer it when the DOM gave clearly less.
    if (with_body && !m.ld_body.empty()) {
      std::vector<std::string> ld = split_body_text(m.ld_body);
      if (total_size(ld) > 2 * total_size(body) + 200) body = std::move(ld);
    }
    // The headline and the sapo are fields of their own.
    std::string tkey = norm_key(a.title), lkey = norm_key(a.lead);
    while (!body.empty()) {
      std::string k = norm_key(body.front());
      if ((!tkey.empty() && k == tkey) || (!lkey.empty() && k == lkey)) body.erase(body.begin());
      else break;
    }
    if (!body.empty()) {
      a.body = std::move(body);
      add_field(a, "body");
    } else if (with_body) {
      a.partial = true;
      a.warnings.push_back("generic: no article body found");
    }

    // Authors.
    a.authors = m.ld_authors;
    if (a.authors.empty()) a.authors = m.article_authors;
    if (a.authors.empty() && !m.meta_author.empty()) a.authors.push_back(m.meta_author);
    if (!a.authors.empty()) add_field(a, "authors");

    // Dates.
    std::string meta_raw;
    for (const std::string* s : {&m.ld_published, &m.article_published, &m.itemprop_published, &m.meta_pubdate})
      if (a.published.empty() && !s->empty()) {
        a.published = normalize_or_keep(*s);  // a value that is no date is dropped, with a warning (extract/record)
        a.published_source = s == &m.ld_published ? "json-ld" : "meta";
        meta_raw = *s;
      }
    // Sources that agree on the minute: the one with seconds ("08:01:00" in JSON-LD, "08:01:53" in the meta).
    if (auto pe = iso_to_epoch(a.published); pe && *pe % 60 == 0) {
      for (const std::string* s : {&m.article_published, &m.itemprop_published, &m.meta_pubdate}) {
        auto iso = normalize_date(*s);
        auto e = iso ? iso_to_epoch(*iso) : std::nullopt;
        if (e && *e / 60 == *pe / 60 && *e % 60 != 0) {
          a.published = *iso;
          a.published_source = "meta";
          meta_raw = *s;
          break;
        }
      }
    }
    {
      // What the page shows beats metadata that lacks the time of day or disagrees with it; agreeing metadata
      // only adds seconds.
      if (auto shown = visible_date(doc, a.title)) {
        const bool shown_time = shows_time_of_day(shown->raw);
        const bool meta_time = shows_time_of_day(meta_raw) || meta_raw.find('T') != std::string::npos;
        auto me = iso_to_epoch(a.published), se = iso_to_epoch(shown->iso);
        if (a.published.empty() || !me) {
          a.published = shown->iso;  // no metadata: what the page shows, wherever it is
          a.published_source = "page-visible";
        } else if (se && shown_time &&
                   ((shown->after_headline && (!meta_time || *me / 60 != *se / 60)) ||
                    // metadata with the day only: a time printed anywhere on that same day completes it
                    (!meta_time && shown->iso.substr(0, 10) == a.published.substr(0, 10)))) {
          // Metadata without a time of day, or disagreeing with the time printed under the headline.
          if (meta_time) a.warnings.push_back("published: metadata " + a.published + " disagrees with the page (" +
                                              shown->raw + "); the page wins");
          a.published = shown->iso;
          a.published_source = "page-visible";
        }
      }
    }
    if (!a.published.empty()) add_field(a, "published");
    if (a.updated.empty() && !page_modified(m).empty()) a.updated = normalize_or_keep(page_modified(m));
    if (!a.updated.empty()) add_field(a, "updated");

    // Category and tags.
    a.category = !m.ld_section.empty() ? m.ld_section : m.article_section;
    if (!a.category.empty()) add_field(a, "category");
    std::vector<std::string> tags = m.ld_keywords;
    if (tags.empty()) tags = m.article_tags;
    if (tags.empty()) {
      std::vector<std::string> tmp;
      std::string_view kw = !m.meta_news_keywords.empty() ? m.meta_news_keywords : m.meta_keywords;
      size_t start = 0;
      while (start <= kw.size()) {
        size_t end = kw.find(',', start);
        if (end == std::string_view::npos) end = kw.size();
        std::string t = clean_text(kw.substr(start, end - start));
        if (!t.empty() && std::find(tmp.begin(), tmp.end(), t) == tmp.end()) tmp.push_back(std::move(t));
        start = end + 1;
      }
      tags = std::move(tmp);
    }
    a.tags = std::move(tags);
    if (!a.tags.empty()) add_field(a, "tags");

    // Images: the lead image of the metadata first, then the pictures of the article body.
    if (with_body) {
      std::vector<Image> images = m.ld_images;
      for (const auto& im : m.og_images) {
        bool dup = false;
        for (auto& e : images) dup |= e.url == im.url;
        if (!dup) images.push_back(im);
      }
      if (images.empty() && !m.twitter_image.empty()) images.push_back({m.twitter_image, {}});
      collect_images(selected, page_url, images);
      a.images = std::move(images);
      if (!a.images.empty()) add_field(a, "images");
    }

    // Canonical URL.
    a.canonical_url = !m.canonical.empty() ? m.canonical : !m.og_url.empty() ? m.og_url : m.ld_url;
    if (!a.canonical_url.empty()) add_field(a, "canonical");

    if (m.language.size() >= 2 && m.language.size() <= 3) a.language = m.language;
  } catch (const std::exception& e) {
    a.partial = true;
    a.warnings.push_back(std::string("generic: ") + e.what());
  }
  return a;
}

}  // namespace baotin
