// Record rules applied to every extracted article, whatever extracted it (template or generic): the classes of
// metadata errors seen on real pages (issue 13) are fixed here once, not per template.
//   title   a site-name suffix/prefix ("… - VnExpress", "Báo Dân trí | …") is cut
//   authors outlet names, "PV", "Theo …", "Bài: …", "Ảnh: …", "…/VOV.VN" are sorted into authors and `source`
//   lead    a lead that repeats the title is dropped; a body that starts by repeating the lead loses that copy
//   dates   published/updated are valid ISO 8601 with an offset or empty; never in the future beyond a small
//           skew; updated before published is dropped with a warning; a page without a date takes the feed
//           item's date, then a date in the URL; `published_source` says which
//   body    a body that is only footer / legal / navigation text is no body (partial + warning)
//   language pages without a template: detected from the text (Vietnamese diacritics), <html lang> is a hint
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/article.h"

namespace baotin {

struct RecordContext {
  std::string url;                      // the page's URL
  std::vector<std::string> site_names;  // og:site_name, the template's outlet names: never an author or a title tail
  std::string feed_published;           // the feed item's date (any normalize_date form), "" if none
  int64_t now = 0;                      // epoch seconds of the fetch (0: no future check)
  int64_t future_skew_s = 15 * 60;      // a published time later than now + this is wrong
  bool detect_language = false;         // no template: the language comes from the text
  std::string html_lang;                // the page's <html lang>, a hint only
};

void apply_record_rules(Article& a, const RecordContext& ctx);

// Parts exposed for tests.
// Letters folded to ASCII lower case, other characters dropped ("Báo Dân trí" -> "baodantri").
std::string fold_key(std::string_view s);
// "Headline - VnExpress" -> "Headline" when the tail (or head) is a site name, the host or a known outlet.
std::string strip_title_site(const std::string& title, const std::vector<std::string>& site_names,
                             std::string_view host);
// Splits credit strings into person names and a source.
void sort_credits(const std::vector<std::string>& raw, const std::vector<std::string>& site_names,
                  std::string_view host, std::vector<std::string>& authors, std::string& source);
// "vi" when the text is Vietnamese by its diacritics, "" when it cannot tell, else a guess ("en" for plain
// Latin text without Vietnamese letters; `hint` when it names another language).
std::string detect_language(std::string_view text, std::string_view hint);

}  // namespace baotin
