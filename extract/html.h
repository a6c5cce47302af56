// HTML -> pugixml: gumbo parses (HTML5 rules, any tag soup), the tree is copied into a
// pugi::xml_document so that templates can query it with XPath.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

namespace baotin {

struct HtmlParseOptions {
  size_t max_bytes = 16 * 1024 * 1024;  // larger input is cut (document flagged truncated)
  size_t max_depth = 512;               // deeper elements are flattened into their ancestor at this depth
  bool keep_scripts = false;            // <script> other than JSON-LD / <style> content is dropped unless set
  bool prescan = true;                  // strip dropped bodies before gumbo (prescan_html); same tree either way
  bool collapse_whitespace = true;      // the prescan also shortens whitespace-only text between tags (see there)
  bool standins = true;                 // the prescan also hands text and attribute values over as stand-ins
  bool utf8_checked = false;            // the caller vouches that the input is valid UTF-8 (decode_to_utf8's output;
                                        // not trusted once cut at max_bytes, which can split a character)
  // Parse errors gumbo records at most (-1: all; memory grows with them). Past this many, gumbo 0.10.1 leaves a
  // duplicate attribute's name in its buffer and prefixes it to the next attribute's name (tokenizer.c,
  // add_duplicate_attr_error). The prescan changes how many errors gumbo meets (a stand-in is one character
  // token where the text was many), so on a page with more errors than this such names can differ with and
  // without it; the pages here have at most 61 (bench/parse_bench). Tests compare trees with -1.
  int max_errors = 1000;
};

struct HtmlDocument {
  pugi::xml_document doc;     // root element is <html>
  bool truncated = false;     // input was cut at max_bytes
  bool depth_limited = false; // some nesting was flattened
  size_t elements = 0;        // elements copied (the SVG shapes a prescan removed are not among them)
  pugi::xml_node html() const { return doc.document_element(); }
};

// The HTML tokenizer's whitespace (and '\r', which input preprocessing makes '\n'): what separates attributes and
// what a whitespace-only text node is made of.
inline bool is_html_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

// Parses UTF-8 HTML. Never throws for bad input: any byte string yields a document.
std::unique_ptr<HtmlDocument> parse_html(std::string_view utf8, const HtmlParseOptions& opts = {});

// What prescan_html removed (for benchmarks and tests).
struct PrescanStats {
  size_t removed_bytes = 0;
  size_t scripts = 0, styles = 0, svgs = 0, comments = 0;  // bodies emptied
  size_t whitespace_runs = 0;  // whitespace-only runs between tags shortened
  size_t standins = 0;         // text stretches and attribute values handed over as stand-ins
  bool stopped = false;     // met markup it does not model (<math>, <frameset>, odd <svg>, ...): rest left as is
  size_t stopped_at = 0;    // byte offset where it stopped
};

// The bytes gumbo would otherwise tokenize only for parse_html to drop them: a linear scan that follows the HTML
// tokenizer (data, RCDATA, RAWTEXT, script data with its escaped states, tags and attribute values, comments) and
// empties the bodies of <script> (except type="application/ld+json"), <style> and comments (kept as <!---->), and
// of <svg> icons made only of whitespace and plain SVG shapes (the whitespace stays, so text values are the same).
// Every element stays, so the parsed tree is the same outside the removed bodies. <noscript> is left alone (gumbo
// parses its content as markup, which can close elements around it). With `collapse_whitespace`, a run of
// whitespace only between two tokens of markup (outside <pre>/<listing>) becomes " ", "\n" or "\n\n" (no line
// break, one, two or more): the tree is the same but for the length of such runs, which text handling
// (clean_text and the paragraph splitting) does not see. Returns false (out untouched) when nothing would be
// removed.
// With `standins`, gumbo is also spared the text and attribute values it would only copy: each stretch of text of
// the data state (between character references, from its first non-whitespace character) and each attribute value
// of at least four bytes that gumbo hands over exactly as written (no reference, '\r', NUL, or character its
// decoder replaces) becomes one stand-in, a private-use character of planes 15/16 (the k-th: U+F0000 + k, then
// U+100000 + ...), and `standins` gets the original, a view of `utf8`; parse_html puts the originals back into
// the tree. Not for values the tree builder reads (`type`, `encoding`) or compares (attributes of <b>, <i>,
// <font> and the other formatting elements but <a>; <svg>, <math>, <isindex>), nor on a page that contains a
// plane-15/16 character (as bytes or a numeric reference). The tree is then the same, stand-ins put back.
bool prescan_html(std::string_view utf8, std::string& out, PrescanStats* stats = nullptr,
                  bool collapse_whitespace = true, std::vector<std::string_view>* standins = nullptr);

// Text of a subtree: text nodes concatenated, block elements separated by '\n',
// <br> as '\n'. Not cleaned; use clean_text() or split_paragraphs() on the result.
// With skip_figures, <figure>/<figcaption> subtrees are left out (captions belong to images, not body text).
std::string inner_text(pugi::xml_node node, bool skip_figures = false);

// Paragraphs of a subtree: each block element (p, div, li, h1-h6, blockquote, tr, ...) or run of
// inline content becomes one paragraph; cleaned (NFC, whitespace collapsed); empty ones dropped.
std::vector<std::string> paragraphs_of(pugi::xml_node node, bool skip_figures = false);

// Decodes HTML character references (&amp; &#225; &#xE1; and the HTML5 named set gumbo knows).
std::string decode_entities(std::string_view s);

// True for HTML block-level element names.
bool is_block_element(std::string_view name);

}  // namespace baotin
