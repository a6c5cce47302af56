// Internal to feed/: the feed state machine (a port of feedparser's _FeedParserMixin) and what the files of
// feed/ share (entity tables, URL joining, charset conversion, the two readers). Not for use outside feed/.
#pragma once
#include <pugixml.hpp>
#include <unicode/ucnv.h>
#include <unicode/ucnv_err.h>
#include <unicode/ucsdet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <stdexcept>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/charset.h"
#include "core/limits.h"
#include "core/text.h"
#include "feed/feed.h"
#include "feed/pystr.h"

namespace baotin::feed_internal {
using namespace std::string_view_literals;  // element and type names are compared as string_views

// --- Entity and element tables (machine.cpp)
// HTML 4 named entities (Python's html.entities.name2codepoint; feedparser's loose parser and
// looks_like_html use exactly this set).
const std::unordered_map<std::string_view, char32_t>& html4_entities();
// feedparser's _HTMLSanitizer.acceptable_elements (used by looks_like_html).
const std::unordered_set<std::string_view>& acceptable_html_elements();
// feedparser post-processing of every value: (1) text that is entirely Latin-1 and whose Latin-1
// bytes form valid multi-byte UTF-8 is re-decoded as UTF-8 (mojibake repair); (2) C1 controls ->
// windows-1252 characters.
std::string fix_value(std::string s);

// --- URL joining (urls.cpp)
// feedparser's _urljoin: collapses extra slashes after "scheme://" first.
std::string fp_urljoin(std::string_view base, std::string_view uri);
std::string make_safe_absolute_uri(std::string_view base, std::string_view rel);

// --- Character sets and DOCTYPE (encoding.cpp)
// What one pass over a text finds: whether it is valid UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF, as is_valid_utf8) and whether it is free of the characters XML 1.0 forbids (controls other than tab,
// LF and CR; U+FFFE, U+FFFF; in text that is not UTF-8, the bytes that would encode them). `copy`: s is appended
// to it on the way (all of s when the result says utf8).
struct TextScan {
  bool utf8 = true;
  bool xml_chars = true;
};
TextScan scan_text(std::string_view s, std::string* copy = nullptr);

struct Decoded {
  std::string text;        // UTF-8
  std::string encoding;    // "" when nothing worked
  std::string error;       // bozo message or ""
  bool xml_chars_ok = false;  // text is known to hold no character XML forbids (found while checking the UTF-8)
  bool sniffed = false;    // the sniffing step ran; its answer:
  std::string sniffed_as;
};

// `again`: the result of an earlier call on the same bytes and headers, whose sniffing answer is reused (the
// text is decoded again without running ICU's detector a second time).
Decoded convert_to_utf8(std::string_view data, const FeedHttpHeaders& hdr, const Decoded* again = nullptr);

// DOCTYPE handling (feedparser's replace_doctype): netscape DOCTYPE -> rss091n; "safe" internal
// entity declarations are kept as a name -> replacement map; the DOCTYPE itself is removed.
struct Doctype {
  std::string version;
  std::map<std::string, std::string> entities;
  // what was done to the text: its first head_len bytes became new_head (cut is false when nothing changed)
  bool cut = false;
  size_t head_len = 0;
  std::string new_head;
};

Doctype replace_doctype(std::string& data);
// The same change applied again to the same text (decoded again after the strict reader parsed it in place).
void reapply_doctype(std::string& data, const Doctype& d);

// ---------------------------------------------------------------------------------------------
// The feed state machine: a port of feedparser's _FeedParserMixin and its namespace handlers.
// Both the strict (pugixml) and the loose (SGML tokenizer) readers drive it with events.
// ---------------------------------------------------------------------------------------------

using Attrs = std::vector<std::pair<std::string, std::string>>;

inline const std::string* attr_get(const Attrs& a, std::string_view k) {
  for (auto it = a.rbegin(); it != a.rend(); ++it)
    if (it->first == k) return &it->second;
  return nullptr;
}
inline void attr_set(Attrs& a, std::string_view k, std::string v) {
  for (auto& p : a)
    if (p.first == k) { p.second = std::move(v); return; }
  a.emplace_back(std::string(k), std::move(v));
}
inline void attr_setdefault(Attrs& a, std::string_view k, std::string_view v) {
  if (!attr_get(a, k)) a.emplace_back(std::string(k), std::string(v));
}
inline void attr_del(Attrs& a, std::string_view k) {
  a.erase(std::remove_if(a.begin(), a.end(), [&](const auto& p) { return p.first == k; }), a.end());
}
inline Attrs attr_dict(const Attrs& in) {  // dict(attrs): last wins, first position kept
  Attrs out;
  for (const auto& p : in) attr_set(out, p.first, p.second);
  return out;
}
// Whether a name repeats (past eight attributes: may repeat), i.e. whether attr_dict could change the list.
inline bool attr_names_may_repeat(const Attrs& a) {
  bool repeats = a.size() > 8;
  for (size_t i = 1; i < a.size() && !repeats; ++i)
    for (size_t j = 0; j < i && !repeats; ++j) repeats = a[i].first == a[j].first;
  return repeats;
}

using Dict = std::map<std::string, std::string>;

// The few keyed values of one feed, entry or source (fewer than a dozen keys): a vector searched linearly, no
// node per value. Only what the machine uses of std::map; an insertion invalidates iterators.
template <class V>
class FlatMap {
 public:
  using value_type = std::pair<std::string, V>;
  using iterator = typename std::vector<value_type>::iterator;
  using const_iterator = typename std::vector<value_type>::const_iterator;
  iterator find(std::string_view k) {
    for (auto it = v_.begin(); it != v_.end(); ++it)
      if (it->first == k) return it;
    return v_.end();
  }
  const_iterator find(std::string_view k) const {
    for (auto it = v_.begin(); it != v_.end(); ++it)
      if (it->first == k) return it;
    return v_.end();
  }
  iterator end() { return v_.end(); }
  const_iterator end() const { return v_.end(); }
  size_t count(std::string_view k) const { return find(k) != end() ? 1 : 0; }
  V& operator[](std::string_view k) {
    if (auto it = find(k); it != end()) return it->second;
    if (v_.empty()) v_.reserve(8);
    v_.emplace_back(std::string(k), V());
    return v_.back().second;
  }
  std::pair<iterator, bool> try_emplace(std::string_view k, const V& value) {
    if (auto it = find(k); it != end()) return {it, false};
    if (v_.empty()) v_.reserve(8);
    v_.emplace_back(std::string(k), value);
    return {v_.end() - 1, true};
  }

 private:
  std::vector<value_type> v_;
};

struct TagV {
  std::optional<std::string> term, scheme, label;
  bool operator==(const TagV& o) const { return term == o.term && scheme == o.scheme && label == o.label; }
};

struct ContentV {
  std::string type, value;
};

struct Ctx {
  FlatMap<std::string> kv;               // plain string values by key
  FlatMap<int> depth;                    // property_depth_map
  FlatMap<std::string> detail_type;      // "title" -> type of title_detail
  bool has_author_detail = false;
  Dict author_detail;
  std::vector<Dict> authors;
  bool has_tags = false;
  std::vector<TagV> tags;
  std::vector<Attrs> links;
  std::vector<ContentV> content;
  std::vector<Attrs> media_thumbnail, media_content;
  std::optional<std::optional<int64_t>> published_parsed, updated_parsed;
  std::optional<bool> guidislink;
  std::unique_ptr<Ctx> image, textinput;
};

// Bound on the text produced by internal entity references (issue 14: one 15 KB entity referenced 40,000 times
// took 1.8 GB). Each reference takes the size of its replacement; once the budget is spent, further
// references expand to nothing and the feed is bozo (see core/limits.h).
struct EntityBudget {
  size_t limit = 0, used = 0;
  bool exceeded = false;
  bool take(size_t n) {
    if (exceeded || n > limit - used) {
      exceeded = true;
      return false;
    }
    used += n;
    return true;
  }
  void restart() {
    used = 0;
    exceeded = false;
  }
};

struct StackEntry {
  std::string element;
  bool expecting_text;
  bool text_unused;  // an item: its own text is never read (end_item drops what pop returns), so none is kept
  std::vector<std::string> pieces;
};

// The element stack; entries past the top keep their storage (one push and pop per element, no allocation
// once the stack has been as deep before).
class ElementStack {
 public:
  bool empty() const { return n_ == 0; }
  StackEntry& back() { return v_[n_ - 1]; }
  const StackEntry& back() const { return v_[n_ - 1]; }
  void push(std::string_view element, bool expecting_text) {
    if (n_ == v_.size()) v_.emplace_back();
    StackEntry& e = v_[n_++];
    e.element.assign(element);
    e.expecting_text = expecting_text;
    e.text_unused = element == "item";
    e.pieces.clear();
  }
  // Removes the top entry; the reference stays valid until the next push.
  StackEntry& pop() { return v_[--n_]; }

 private:
  std::vector<StackEntry> v_;
  size_t n_ = 0;
};

class FeedMachine {
 public:
  FeedMachine(std::string baseuri, std::string baselang, bool loose, std::map<std::string, std::string> entities,
              EntityBudget& budget)
      : baseuri_(std::move(baseuri)),
        lang_(std::move(baselang)),
        loose_(loose),
        entities_(std::move(entities)),
        budget_(budget) {
    if (!lang_.empty()) feed_.kv["language"] = replace_us(lang_);
  }

  std::string version;
  std::string first_tag;  // root element as reported (for "not a feed" errors)
  Ctx feed_;
  std::vector<Ctx> entries;
  size_t items_dropped = 0;  // items past limits::kMaxFeedItems

  // ---- events -------------------------------------------------------------------------------
  void start_prefix_mapping(const std::optional<std::string>& prefix, const std::string& uri) {
    track_namespace(prefix, uri);
  }

  void unknown_starttag(const std::string& tag, Attrs attrs_in);
  void unknown_endtag(const std::string& tag);
  // Whether character data would be kept now (the strict reader skips copying text that is not).
  bool wants_data() const { return !stack_.empty() && !stack_.back().text_unused; }
  void handle_data(std::string text, bool escape = true) {
    if (!wants_data()) return;
    if (escape && ctype() == "application/xhtml+xml"sv) stack_.back().pieces.push_back(xml_escape(text, false));
    else stack_.back().pieces.push_back(std::move(text));
  }
  void handle_charref(std::string ref);
  void handle_entityref(const std::string& ref);

  // strict-mode name mapping helpers
  std::optional<std::string> match_namespace(const std::string& lowernamespace) const {
    auto it = known_namespaces().find(lowernamespace);
    if (it == known_namespaces().end()) return std::nullopt;
    return it->second;
  }
  const std::map<std::string, std::string>& namespaces_in_use() const { return namespaces_in_use_; }

  static const std::map<std::string, std::string>& known_namespaces();

 private:
  // ---- state --------------------------------------------------------------------------------
  std::string baseuri_, lang_;
  bool lang_null_ = false;
  bool loose_;
  std::map<std::string, std::string> entities_;
  EntityBudget& budget_;
  std::map<std::string, std::string> namespaces_in_use_;
  std::map<std::string, std::string> namespacemap_;  // document prefix ("" for default) -> standard prefix
  bool infeed_ = false, inentry_ = false, intextinput_ = false, inimage_ = false, inauthor_ = false,
       incontributor_ = false, inpublisher_ = false, insource_ = false;
  int incontent_ = 0;
  Ctx sourcedata_;
  bool has_contentparams_ = false;
  std::optional<std::string> cp_type_;
  bool cp_base64_ = false;
  std::string summary_key_;  // "", "content", "summary"
  ElementStack stack_;
  // xml:base and xml:lang of the open elements; slots past *_n_ are kept to reuse their storage (one push
  // and pop per element).
  std::vector<std::string> basestack_;
  size_t base_n_ = 0;
  std::vector<std::optional<std::string>> langstack_;
  size_t lang_n_ = 0;
  int svg_ok_ = 0;
  int title_depth_ = -1;
  int depth_ = 0;
  bool has_content_ = false;
  bool guidislink_ = false;

  static std::string replace_us(std::string s) {
    std::replace(s.begin(), s.end(), '_', '-');
    return s;
  }
  const std::string& ctype() const {
    static const std::string none;
    return cp_type_ ? *cp_type_ : none;
  }
  bool ctype_endswith_xml() const { return !cp_type_ || ends_with(*cp_type_, "xml"); }

  static std::string map_content_type(std::string t) {
    t = lower(t);
    if (t == "text"sv || t == "plain"sv) return "text/plain";
    if (t == "html"sv) return "text/html";
    if (t == "xhtml"sv) return "application/xhtml+xml";
    return t;
  }
  static bool is_html_type(const std::string& t) { return t == "application/xhtml+xml"sv || t == "text/html"sv; }

  void track_namespace(const std::optional<std::string>& prefix, std::string uri) {
    std::string loweruri = lower(uri);
    if (version.empty()) {
      if (!prefix && loweruri == "http://my.netscape.com/rdf/simple/0.9/"sv) version = "rss090";
      else if (loweruri == "http://purl.org/rss/1.0/"sv) version = "rss10";
      else if (loweruri == "http://www.w3.org/2005/atom"sv) version = "atom10";
    }
    if (loweruri.find("backend.userland.com/rss") != std::string::npos) {
      uri = "http://backend.userland.com/rss";
      loweruri = uri;
    }
    auto m = match_namespace(loweruri);
    std::string key = prefix ? *prefix : std::string();
    if (m) {
      // the handler names depend on this map only: cached until it changes (a namespace declared again, as on
      // every XHTML div, changes nothing)
      auto [it, added] = namespacemap_.try_emplace(prefix ? *prefix : std::string("\x01none"), *m);
      if (added || it->second != *m) {
        it->second = *m;
        handler_names_.clear();
        open_tags_.clear();
      }
      namespaces_in_use_[*m] = uri;
    } else {
      namespaces_in_use_[key] = uri;
    }
  }
  // The handler name of a tag ("dc:creator" -> "dc_creator": the document prefix mapped to the standard one) and
  // whether it has no prefix; cached per tag until the prefix map changes (track_namespace clears it).
  struct HandlerName {
    std::string name;
    bool no_prefix;
    uint8_t id;  // the element id the handler chains switch on (machine.cpp)
  };
  using HandlerNames = std::unordered_map<std::string, HandlerName>;
  HandlerNames handler_names_;
  const HandlerNames::value_type& handler_name(const std::string& tag);
  // The entry each open element's start tag found, for its end tag: an entry of the same tag is the one the lookup
  // would find again (entries never change; the list is emptied with the cache).
  std::vector<const HandlerNames::value_type*> open_tags_;
  std::string map_prefix(const std::string& p) const {
    // namespacemap.get(prefix, prefix); the default namespace is keyed by None, never by ''
    auto it = namespacemap_.find(p);
    return it == namespacemap_.end() ? p : it->second;
  }

  Ctx& context() {
    if (insource_) return sourcedata_;
    if (inimage_ && feed_.image) return *feed_.image;
    if (intextinput_) {
      if (!feed_.textinput) feed_.textinput = std::make_unique<Ctx>();
      return *feed_.textinput;
    }
    if (inentry_ && !entries.empty()) return entries.back();
    return feed_;
  }

  void push(std::string_view element, bool expecting_text) { stack_.push(element, expecting_text); }
  // The element's text (also stored where feedparser stores it). keep = false: the caller does not read the
  // result (which is then unspecified), so the text is moved into its place instead of copied; `nonempty`, when
  // given, is still set to whether the result (with keep) is a non-empty text.
  std::optional<std::string> pop(std::string_view element, bool strip = true, bool keep = true,
                                 bool* nonempty = nullptr);
  void push_content(std::string_view tag, const Attrs& a, std::string_view default_type, bool expecting_text) {
    ++incontent_;
    if (!lang_.empty()) lang_ = replace_us(lang_);
    const std::string* t = attr_get(a, "type");
    has_contentparams_ = true;
    cp_type_ = map_content_type(t ? *t : std::string(default_type));
    cp_base64_ = is_base64(a);
    push(tag, expecting_text);
  }
  std::optional<std::string> pop_content(std::string_view tag, bool keep = true, bool* nonempty = nullptr) {
    auto v = pop(tag, true, keep, nonempty);
    --incontent_;
    has_contentparams_ = false;
    cp_type_.reset();
    cp_base64_ = false;
    return v;
  }
  bool is_base64(const Attrs& a) const {
    const std::string* mode = attr_get(a, "mode");
    if (mode && *mode == "base64"sv) return true;
    const std::string t = ctype();
    if (starts_with(t, "text/")) return false;
    if (ends_with(t, "+xml") || ends_with(t, "/xml")) return false;
    return true;
  }

  static bool looks_like_html(const std::string& s);
  std::string resolve_uri(const std::string& uri) const { return fp_urljoin(baseuri_, uri); }
  // feedparser's _decode_entities, for the loose reader's text (the strict reader has expanded every reference)
  std::string decode_entities(std::string data) const;

  void save(std::string_view key, const std::string& value, bool overwrite = false) {
    Ctx& c = context();
    if (overwrite || !c.kv.count(key)) c.kv[key] = value;
  }
  void save_author(const std::string& key, const std::string& value, const std::string& prefix = "author") {
    Ctx& c = context();
    if (prefix == "author"sv) {
      c.has_author_detail = true;
      c.author_detail[key] = value;
      sync_author_detail();
      if (c.authors.empty()) c.authors.emplace_back();
      c.authors.back()[key] = value;
    }
    // publisher details are not part of the output
  }
  void sync_author_detail(const std::string& key = "author");
  void add_tag(const std::optional<std::string>& term, const std::optional<std::string>& scheme,
               const std::optional<std::string>& label) {
    Ctx& c = context();
    c.has_tags = true;
    auto nonempty = [](const std::optional<std::string>& s) { return s && !s->empty(); };
    if (!nonempty(term) && !nonempty(scheme) && !nonempty(label)) return;
    TagV v{term, scheme, label};
    if (std::find(c.tags.begin(), c.tags.end(), v) == c.tags.end()) c.tags.push_back(v);
  }
  void set_pieces(const std::string& v) {
    if (!stack_.empty()) stack_.back().pieces = {v};
  }

  // `a`: the attributes, which a handler may move from (they are not read once the element is handled)
  bool dispatch_start(const std::string& name, uint8_t id, Attrs& a);
  bool dispatch_end(const std::string& name, uint8_t id);

  // handlers
  void start_item(Attrs& a);
  void end_item() {
    pop("item", true, false);
    inentry_ = false;
    has_content_ = false;
    // Bounded memory: items past the limit are parsed (the document must still be read) but not kept.
    if (entries.size() > limits::kMaxFeedItems) {
      entries.pop_back();
      ++items_dropped;
    }
  }
  void cdf_common(Attrs& a);
  void start_link(Attrs a);
  void start_author() {
    inauthor_ = true;
    push("author", true);
    context().authors.emplace_back();
  }
  void end_author() {
    pop("author", true, false);
    inauthor_ = false;
    sync_author_detail();
  }
  void start_title(Attrs& a) {
    push_content("title", a, "text/plain", infeed_ || inentry_ || insource_);
  }
  void end_title() {
    bool nonempty = false;
    pop_content("title", false, &nonempty);
    if (!nonempty) return;
    title_depth_ = depth_;
  }
  void start_description(Attrs& a) {
    Ctx& c = context();
    if (c.kv.count("summary") && !has_content_) {
      summary_key_ = "content";
      start_content(a);
    } else {
      push_content("description", a, "text/html", infeed_ || inentry_ || insource_);
    }
  }
  void end_description() {
    if (summary_key_ == "content"sv) end_content();
    else pop_content("description", false);
    summary_key_.clear();
  }
  void start_summary(Attrs& a) {
    Ctx& c = context();
    if (c.kv.count("summary") && !has_content_) {
      summary_key_ = "content";
      start_content(a);
    } else {
      summary_key_ = "summary";
      push_content(summary_key_, a, "text/plain", true);
    }
  }
  void end_summary() {
    if (summary_key_ == "content"sv) end_content();
    else pop_content(summary_key_.empty() ? "summary" : summary_key_, false);
    summary_key_.clear();
  }
  void start_content(Attrs& a) {
    has_content_ = true;
    push_content("content", a, "text/plain", true);
    push("content", true);  // feedparser pushes twice; the inner one is what pop_content closes
  }
  void end_content() {
    bool copy = false;
    std::string t = map_content_type(ctype());
    copy = t == "text/plain"sv || is_html_type(t);
    // save() below only writes a summary the context does not have yet (pop does not store one for content)
    auto v = pop_content("content", copy && !context().kv.count("summary"));
    if (copy) save("summary", v ? *v : std::string());
  }
  void start_category(Attrs& a) {
    const std::string* term = attr_get(a, "term");
    const std::string* scheme = attr_get(a, "scheme");
    if (!scheme) scheme = attr_get(a, "domain");
    const std::string* label = attr_get(a, "label");
    add_tag(term ? std::optional<std::string>(*term) : std::nullopt,
            scheme ? std::optional<std::string>(*scheme) : std::nullopt,
            label ? std::optional<std::string>(*label) : std::nullopt);
    push("category", true);
  }
  void end_category() {
    auto v = pop("category");
    if (!v || v->empty()) return;
    Ctx& c = context();
    if (!c.tags.empty() && (!c.tags.back().term || c.tags.back().term->empty())) c.tags.back().term = *v;
    else add_tag(*v, std::nullopt, std::nullopt);
  }
  void end_date(std::string_view key) {
    auto v = pop(key);
    std::optional<int64_t> t;
    if (v) t = parse_feed_date(*v);
    Ctx& c = context();
    if (key == "published"sv) c.published_parsed = t;
    else if (key == "updated"sv) c.updated_parsed = t;
  }
};

// --- The readers that drive the machine
// Strict reader (strict_reader.cpp): "" on success or the SAX-style error message. pugixml parses `text` in
// place (no copy of the document): afterwards its content is unspecified. `chars_ok`: the text is known to hold
// no character XML forbids (else the reader checks).
std::string run_strict_reader(FeedMachine& m, const std::map<std::string, std::string>& entities,
                              EntityBudget& budget, std::string& text, bool chars_ok);
// Loose reader (loose_reader.cpp), for documents that are not well-formed.
void run_loose_reader(FeedMachine& m, std::string data);

}  // namespace baotin::feed_internal
