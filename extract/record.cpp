#include "extract/record.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "core/date.h"
#include "core/regex.h"
#include "core/text.h"
#include "core/url.h"
#include "extract/html.h"

namespace baotin {

namespace {

// Lower case of the first `max_bytes` bytes (a cut character becomes U+FFFD, harmless for prefix tests).
std::string unicode_lower_prefix(std::string_view s, size_t max_bytes) {
  icu::UnicodeString u =
      icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(std::min(s.size(), max_bytes))));
  u.toLower();
  std::string out;
  u.toUTF8String(out);
  return out;
}

// Outlets whose name may trail a title or stand in an author field, folded (fold_key). Sites with a
// template add their own names through RecordContext::site_names; this list covers the generic path. Names that
// are ordinary words or phrases ("Tuổi trẻ", "Thanh niên", "Lao động", "Nhân dân", "Gia đình", "Tiền phong")
// are listed only in forms that cannot be a phrase of a headline ("Báo Tuổi Trẻ", "tuoitre.vn"); on the outlet's
// own pages its names come from the host, og:site_name and the template.
constexpr std::array<std::string_view, 53> kOutlets = {
    "vnexpress", "vnexpressnet", "dantri", "baodantri", "dantricomvn", "tuoitreonline", "baotuoitre", "tuoitrevn",
    "baothanhnien", "thanhnienvn", "vietnamnet", "vietnamnetvn", "baovietnamnet", "znews", "zingnews", "zingvn",
    "znewsvn", "baolaodong", "laodongvn", "baonguoilaodong", "nldcomvn", "vov", "vovvn", "baodientuvov", "vtv",
    "vtvvn", "vtcnews", "vietnamplus", "ttxvn", "baotienphong", "tienphongvn", "baotintuc", "baotintucvn", "cafef",
    "cafefvn", "baochinhphu", "chinhphuvn", "baodautu", "baodautuvn", "baoquocte", "baothegioivavietnam", "soha",
    "kenh14", "genk", "plo", "vneconomy", "qdnd", "baonhandan", "nhandanvn", "sggp", "baomoi", "baophapluat",
    "baongoisao"};

// Agencies and outlets credited as a source ("Theo TTXVN", "(Reuters)"), folded.
constexpr std::array<std::string_view, 22> kAgencies = {
    "ttxvn", "vna", "afp", "reuters", "ap", "xinhua", "tanhoaxa", "bloomberg", "cnn", "bbc", "kyodo", "yonhap",
    "nhk", "aljazeera", "sputnik", "tass", "ria", "ansa", "dpa", "efe", "cnbc", "nikkei"};

// Generic credits that are no person: "PV", "Phóng viên", "Nhóm PV", "BTV", "Admin", ...
constexpr std::array<std::string_view, 14> kNoPerson = {
    "pv", "phongvien", "nhompv", "nhomphongvien", "btv", "bientapvien", "admin", "administrator", "bbt",
    "banbientap", "toasoan", "ctv", "congtacvien", "nhom"};

bool in(std::string_view k, const auto& list) { return std::find(list.begin(), list.end(), k) != list.end(); }

std::string host_key(std::string_view host) {
  std::string h(host);
  if (h.rfind("www.", 0) == 0) h.erase(0, 4);
  return fold_key(h);  // "vnexpress.net" -> "vnexpressnet"
}

// True when `s` names the site itself: og:site_name, the host (with or without "Báo"/"Tạp chí", with or
// without its TLD), or a known outlet.
bool is_site_name(std::string_view s, const std::vector<std::string>& site_names, std::string_view host) {
  std::string k = fold_key(s);
  if (k.empty()) return false;
  for (const auto& n : site_names)
    if (!n.empty() && fold_key(n) == k) return true;
  for (std::string_view pre : {"bao", "baodientu", "tapchi", "trangtin", "tinhte"})
    if (k.size() > pre.size() + 2 && k.rfind(pre, 0) == 0 && in(std::string_view(k).substr(pre.size()), kOutlets))
      return true;
  if (in(k, kOutlets)) return true;
  const std::string hk = host_key(host);
  if (hk.empty() || k.size() < 3) return false;
  if (hk == k) return true;
  // "VnExpress" for vnexpress.net, "Dân trí" for dantri.com.vn: the host starts with the name and the rest is
  // a TLD.
  if (hk.rfind(k, 0) == 0) {
    std::string_view rest = std::string_view(hk).substr(k.size());
    for (std::string_view tld : {"vn", "comvn", "net", "com", "netvn", "orgvn", "govvn", "infovn"})
      if (rest == tld) return true;
  }
  return false;
}

size_t word_count(std::string_view s) {
  size_t n = 0;
  bool in_word = false;
  for (char c : s) {
    const bool sp = c == ' ';
    if (!sp && !in_word) ++n;
    in_word = !sp;
  }
  return n;
}

const Regex& date_in_url() {
  // /2024/03/24/, /20240324/, -20240324..., 2024-03-24 (years 2000-2099).
  static const Regex re(R"((?:^|[/_\-.])(20\d\d)[/\-]?(0[1-9]|1[0-2])[/\-]?(0[1-9]|[12]\d|3[01])(?:[/_\-.]|\d{4,}|$))");
  return re;
}

const char* const kSeparators[] = {" | ", " - ", " – ", " — ", " :: ", " « ", " » ", " · ", " • ", " / "};

std::string to_vn(const std::string& iso) {
  auto e = iso_to_epoch(iso);
  return e ? epoch_to_iso_vn(*e) : std::string();
}

// Footer, legal and navigation lines: a body made only of these is no article.
bool footer_line(std::string_view p) {
  if (p.size() > 240) return false;  // footers are short lines; a paragraph that mentions a licence is text
  const std::string k = fold_key(p);
  if (p.rfind("\xC2\xA9", 0) == 0) return true;  // starts with ©
  for (std::string_view pat : {"banquyen", "copyright", "allrightsreserved", "tatcaquyen", "camsaochep",
                               "ghironguonkhiphathanh", "thietkevaphattrien", "chiutrachnhiemxuatban",
                               "chiutrachnhiemnoidung", "giayphepso", "giayphephoatdong", "giayphepthietlap",
                               "dieukhoansudung", "chinhsachbaomat", "lienhequangcao"})
    if (k.find(pat) != std::string::npos) return true;
  // Masthead and contact lines: "Tổng biên tập: …", "Địa chỉ: …", "Hotline: …" (a label, then the value).
  const std::string head = k.substr(0, 16);
  for (std::string_view pat : {"tongbientap", "photongbientap", "diachi", "dienthoai", "hotline", "email", "fax", "toasoan"})
    if (head.rfind(pat, 0) == 0 && p.find(':') != std::string_view::npos) return true;
  return false;
}

}  // namespace

std::string fold_key(std::string_view s) {
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(err);
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  if (U_SUCCESS(err)) u = nfd->normalize(u, err);
  std::string out;
  for (int32_t i = 0; i < u.length();) {
    UChar32 c = u.char32At(i);
    i += U16_LENGTH(c);
    if (c == 0x0111 || c == 0x0110) {  // đ Đ
      out += 'd';
      continue;
    }
    if (u_charType(c) == U_NON_SPACING_MARK) continue;
    if (c < 0x80) {
      if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<int>(c)));
      continue;
    }
    if (u_isalnum(c)) {
      icu::UnicodeString one(u_tolower(c));
      std::string b;
      one.toUTF8String(b);
      out += b;
    }
  }
  return out;
}

std::string strip_title_site(const std::string& title, const std::vector<std::string>& site_names,
                             std::string_view host) {
  std::string t = title;
  for (int round = 0; round < 2; ++round) {  // "Headline - Section - Site": two tails at most
    bool cut = false;
    for (const char* sep : kSeparators) {
      size_t pos = t.rfind(sep);
      if (pos == std::string::npos || pos == 0) continue;
      std::string head(trim(std::string_view(t).substr(0, pos)));
      std::string tail(trim(std::string_view(t).substr(pos + std::strlen(sep))));
      if (head.empty() || word_count(tail) > 6) continue;
      const std::string tk = fold_key(tail);
      // SEO tails, exactly: "Tin tức 24h", "Tin mới nhất", "Đọc báo online" ("đọc báo buổi sáng" or "Thông tin mới
      // về vụ án" are parts of a headline).
      bool seo = false;
      for (std::string_view root : {"tintuc", "tinmoi", "tinnong", "tinnhanh", "docbao"}) {
        if (tk.rfind(root, 0) != 0) continue;
        std::string rest = tk.substr(root.size());
        for (std::string_view w : {"moinhat", "nhat", "24h", "hangngay", "trongngay", "homnay", "online", "vietnam",
                                   "tintuc", "nhanh", "nong"})
          for (size_t at; (at = rest.find(w)) != std::string::npos;) rest.erase(at, w.size());
        seo = rest.empty();
      }
      if (is_site_name(tail, site_names, host) || seo) {
        t = head;
        cut = true;
        break;
      }
    }
    if (!cut) break;
  }
  for (const char* sep : {" | ", " :: ", " » ", " « "}) {  // "Site | Headline" (not " - ": "Tuổi trẻ - khát vọng …")
    size_t pos = t.find(sep);
    if (pos == std::string::npos) continue;
    std::string head(trim(std::string_view(t).substr(0, pos)));
    std::string rest(trim(std::string_view(t).substr(pos + std::strlen(sep))));
    if (!rest.empty() && word_count(head) <= 5 && is_site_name(head, site_names, host)) t = rest;
    break;
  }
  return t;
}

void sort_credits(const std::vector<std::string>& raw, const std::vector<std::string>& site_names,
                  std::string_view host, std::vector<std::string>& authors, std::string& source) {
  std::vector<std::string> out;
  auto set_source = [&](std::string s) {
    s = std::string(trim(s));
    while (!s.empty() && (s.back() == '.' || s.back() == ')' || s.back() == '(')) s.pop_back();
    while (!s.empty() && s.front() == '(') s.erase(0, 1);
    s = std::string(trim(s));
    if (!s.empty() && source.empty()) source = s;
  };
  // The page's own outlet: neither an author nor a source.
  auto own = [&](std::string_view s) {
    const std::string k = fold_key(s);
    if (k.empty()) return false;
    for (const auto& n : site_names)
      if (!n.empty() && fold_key(n) == k) return true;
    const std::string hk = host_key(host);
    if (hk.empty() || k.size() < 3) return false;
    if (hk == k) return true;
    std::vector<std::string> cores;
    for (std::string_view pre : {"", "bao", "baodientu", "tapchi", "trangtin"}) {
      if (k.rfind(pre, 0) != 0) continue;
      std::string c = k.substr(pre.size());
      cores.push_back(c);
      for (std::string_view suf : {"dientu", "online", "news", "vn"})
        if (c.size() > suf.size() + 2 && c.compare(c.size() - suf.size(), suf.size(), suf) == 0)
          cores.push_back(c.substr(0, c.size() - suf.size()));
    }
    for (const auto& core : cores) {
      if (core.size() < 3) continue;
      if (hk.rfind(core, 0) == 0) {
        std::string_view rest = std::string_view(hk).substr(core.size());
        for (std::string_view tld : {"", "vn", "comvn", "net", "com", "netvn", "orgvn", "govvn", "infovn"})
          if (rest == tld) return true;
      }
      for (const auto& n : site_names) {  // "Báo điện tử Tiền Phong" vs template "tienphong"
        const std::string nk = fold_key(n);
        if (!nk.empty() && nk == core) return true;
      }
    }
    return false;
  };
  // Another outlet or an agency: a source.
  auto org = [&](std::string_view s) {
    const std::string k = fold_key(s);
    if (k.empty() || in(k, kNoPerson)) return false;
    if (in(k, kAgencies) || is_site_name(s, {}, "")) return true;
    for (std::string_view dom : {".vn", ".com", ".net", ".VN", ".COM", ".org"})
      if (s.find(dom) != std::string_view::npos) return true;
    // An acronym: "TTXVN", "VOV", "AFP" (ASCII capitals only: "HƯƠNG" is a name in capitals).
    size_t letters = 0, upper = 0;
    for (char c : s) {
      if (static_cast<unsigned char>(c) >= 0x80) return false;
      if (std::isalpha(static_cast<unsigned char>(c))) {
        ++letters;
        if (std::isupper(static_cast<unsigned char>(c))) ++upper;
      }
    }
    return letters >= 2 && letters <= 6 && upper == letters && word_count(s) == 1;
  };
  // A Vietnamese person's name: 1-5 words, each starting with a capital letter ("Hồ Hương", "Ngọc Mai"); "Đại
  // Đoàn kết" (a newspaper) is not one.
  auto person = [&](std::string_view s) {
    if (s.empty() || word_count(s) > 5 || s.size() > 60) return false;
    size_t i = 0;
    bool word_start = true;
    while (i < s.size()) {
      if (s[i] == ' ') {
        word_start = true;
        ++i;
        continue;
      }
      if (word_start) {
        icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data() + i, static_cast<int32_t>(std::min<size_t>(4, s.size() - i))));
        UChar32 c = u.char32At(0);
        if (!u_isupper(c) && !u_istitle(c)) return false;
        word_start = false;
      }
      ++i;
    }
    return true;
  };
  for (const auto& r0 : raw) {
    std::string r = clean_text(r0);
    for (std::string_view tail : {"(tổng hợp)", "(Tổng hợp)", "(TH)", "(th)", "tổng hợp", "Tổng hợp"}) {
      if (r.size() > tail.size() && r.compare(r.size() - tail.size(), tail.size(), tail) == 0)
        r = std::string(trim(std::string_view(r).substr(0, r.size() - tail.size())));
    }
    std::string lower = unicode_lower_prefix(r, 64);
    bool via_theo = false;
    for (std::string_view pre : {"(theo ", "theo ", "nguồn: ", "nguồn:", "nguồn ", "source: "}) {
      if (lower.rfind(pre, 0) == 0) {
        r = std::string(trim(std::string_view(r).substr(pre.size())));
        while (!r.empty() && r.back() == ')') r.pop_back();
        via_theo = true;
        break;
      }
    }
    if (!via_theo) {
      bool photo = false;
      for (std::string_view pre : {"bài và ảnh:", "bài, ảnh:", "bài - ảnh:", "bài/ảnh:", "bài:", "tác giả:", "tin:",
                                   "tin, ảnh:", "tin và ảnh:", "ảnh:", "video:", "clip:", "đồ họa:", "thực hiện:",
                                   "nhóm phóng viên:", "pv:"}) {
        if (lower.rfind(pre, 0) == 0) {
          photo = pre == "ảnh:" || pre == "video:" || pre == "clip:" || pre == "đồ họa:";
          r = std::string(trim(std::string_view(r).substr(pre.size())));
          break;
        }
      }
      if (photo) continue;  // a photo / video credit is not the writer
    }
    if (r.empty()) continue;
    if (via_theo) {  // "Theo X": where it comes from, unless X is a Vietnamese name ("Theo Hồ Hương")
      if (own(r)) continue;
      const bool vietnamese_name =
          std::any_of(r.begin(), r.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
      if (person(r) && vietnamese_name && !org(r)) {
        if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
      } else {
        set_source(r);
      }
      continue;
    }
    // "Minh Châu (TTXVN)", "Vietnam+ (VietnamPlus)".
    if (r.back() == ')' && r.find('(') != std::string::npos) {
      size_t open = r.rfind('(');
      std::string inner(trim(std::string_view(r).substr(open + 1, r.size() - open - 2)));
      if (unicode_lower_prefix(inner, 8).rfind("theo ", 0) == 0) inner = std::string(trim(inner.substr(5)));
      if (own(inner)) continue;  // the outlet's own name, spelled twice
      if (org(inner)) set_source(inner);
      r = std::string(trim(std::string_view(r).substr(0, open)));
    }
    // "Minh Anh/VOV.VN", "PV/VOV.VN", "TTXVN/Vietnam+".
    if (size_t slash = r.find('/'); slash != std::string::npos) {
      std::string before(trim(std::string_view(r).substr(0, slash)));
      std::string after(trim(std::string_view(r).substr(slash + 1)));
      if (org(before) || own(before)) {  // a chain of outlets
        if (!own(r)) set_source(r);
        continue;
      }
      if (org(after) || own(after)) {
        if (!own(after)) set_source(after);
        r = before;
      }
    }
    // Several names: "Hoàng Phương - Giang Huy", "A, B và C".
    std::vector<std::string> parts;
    {
      std::string cur;
      auto flush = [&] {
        std::string p(trim(cur));
        if (!p.empty()) parts.push_back(p);
        cur.clear();
      };
      for (size_t i = 0; i < r.size();) {
        bool split = false;
        for (std::string_view sep : {" - ", " – ", " và ", " & "}) {
          if (r.compare(i, sep.size(), sep) == 0) {
            flush();
            i += sep.size();
            split = true;
            break;
          }
        }
        if (split) continue;
        if (r[i] == ',' || r[i] == ';') {
          flush();
          ++i;
          continue;
        }
        cur += r[i++];
      }
      flush();
    }
    for (auto& p : parts) {
      const std::string k = fold_key(p);
      if (k.empty() || in(k, kNoPerson) || own(p)) continue;
      if (org(p)) {
        set_source(p);
        continue;
      }
      // A name has 1-6 words and no sentence punctuation; anything longer is a sentence picked up by mistake.
      if (word_count(p) > 6 || p.find(':') != std::string::npos || p.size() > 80) continue;
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    }
  }
  authors = std::move(out);
}

std::string detect_language(std::string_view text, std::string_view hint) {
  // Counts letters and, among them, letters only Vietnamese uses together (ă â đ ê ô ơ ư and the five tone
  // marks on vowels): Vietnamese prose has one on roughly every third letter, French/Portuguese far fewer
  // and of other kinds, English none.
  size_t letters = 0, viet = 0, latin = 0;
  const char* p = text.data();
  int32_t i = 0, n = static_cast<int32_t>(std::min<size_t>(text.size(), 20000));
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(err);
  while (i < n) {
    UChar32 c;
    U8_NEXT(p, i, n, c);
    if (c < 0 || !u_isalpha(c)) continue;
    ++letters;
    if (c < 0x250) ++latin;
    if (c == 0x0111 || c == 0x0110) {
      ++viet;
      continue;
    }
    if (c < 0x80 || !U_SUCCESS(err)) continue;
    icu::UnicodeString d;
    nfd->normalize(icu::UnicodeString(c), d, err);
    if (!U_SUCCESS(err)) {
      err = U_ZERO_ERROR;
      continue;
    }
    for (int32_t k = 1; k < d.length(); ++k) {
      UChar m = d.charAt(k);
      // breve, circumflex, horn; grave, acute, hook above, tilde, dot below
      if (m == 0x0306 || m == 0x0302 || m == 0x031B || m == 0x0300 || m == 0x0301 || m == 0x0309 || m == 0x0303 ||
          m == 0x0323) {
        if (m == 0x031B || m == 0x0309 || m == 0x0323 || m == 0x0306) viet += 2;  // hook, horn, dot, breve: Vietnamese
        else ++viet;
        break;
      }
    }
  }
  std::string h = ascii_lower(hint.substr(0, std::min<size_t>(hint.size(), 2)));
  if (letters < 40) return h;  // too little text to tell
  const double ratio = static_cast<double>(viet) / static_cast<double>(letters);
  // Vietnamese prose scores 0.3-0.5; English text full of Vietnamese names about 0.05-0.1. A page tagged with
  // another language must be clearly Vietnamese to be called so.
  if (ratio >= (h.empty() || h == "vi" ? 0.08 : 0.2)) return "vi";
  if (latin * 10 >= letters * 9) {  // Latin script without Vietnamese letters
    if (!h.empty() && h != "vi") return h;
    return ratio < 0.01 ? "en" : h;
  }
  return h == "vi" ? "" : h;
}

void apply_record_rules(Article& a, const RecordContext& ctx) {
  const std::string host = url_host(ctx.url.empty() ? a.url : ctx.url);

  // Double-encoded entities ("Chi&#7871;n s&#7921;" in og:title) are decoded.
  for (std::string* f : {&a.title, &a.lead}) {
    const size_t amp = f->find('&');
    if (amp != std::string::npos && f->find(';', amp) != std::string::npos && f->find(';', amp) - amp <= 10)
      *f = clean_text(decode_entities(*f));
  }
  // Title: the headline, not the page title's site tail.
  if (!a.title.empty()) {
    std::string t = strip_title_site(a.title, ctx.site_names, host);
    if (!t.empty()) a.title = std::move(t);
  }

  // Credits. A template's own `source` field is cleaned like a credit ("Theo TTXVN", "(TTXVN/Vietnam+)") and wins.
  std::string given_source;
  if (!a.source.empty()) {
    std::string s = a.source;
    if (s.size() > 2 && s.front() == '(' && s.back() == ')') s = s.substr(1, s.size() - 2);
    const std::string lower = unicode_lower_prefix(s, 16);
    for (std::string_view pre : {"theo ", "nguồn: ", "nguồn:", "nguồn "})
      if (lower.rfind(pre, 0) == 0) {
        s = std::string(trim(std::string_view(s).substr(pre.size())));
        break;
      }
    given_source = clean_text(s);
    a.source.clear();
  }
  if (!a.authors.empty()) {
    std::vector<std::string> names;
    sort_credits(a.authors, ctx.site_names, host, names, a.source);
    a.authors = std::move(names);
  }
  if (!given_source.empty()) a.source = given_source;

  // Lead: not the title again; the body does not repeat it.
  if (!a.lead.empty() && fold_key(a.lead) == fold_key(a.title)) {
    a.lead.clear();
    a.warnings.push_back("lead repeated the title: dropped");
  }
  if (!a.lead.empty()) {
    const std::string lk = fold_key(a.lead);
    for (int i = 0; i < 2 && !a.body.empty(); ++i) {
      const std::string bk = fold_key(a.body.front());
      // The same text, or the lead behind an outlet's stamp ("(Dân trí) - …", "TPO - …"): the paragraph ends with
      // the lead and adds at most a short prefix. A paragraph that says more than the lead (a lead cut from it)
      // stays.
      const bool stamped = lk.size() > 40 && bk.size() > lk.size() && bk.size() <= lk.size() + 24 &&
                           bk.compare(bk.size() - lk.size(), lk.size(), lk) == 0;
      if (bk == lk || stamped)
        a.body.erase(a.body.begin());
      else
        break;
    }
  }

  // Body: only footer, legal or navigation lines is no body.
  // (Two lines at least: one line that names a licence or a copyright may be a brief or a caption.)
  if (a.body.size() >= 2 && std::all_of(a.body.begin(), a.body.end(), [](const std::string& p) { return footer_line(p); })) {
    a.warnings.push_back("body is only footer/legal text (" + std::to_string(a.body.size()) + " lines): dropped");
    a.body.clear();
    a.partial = true;
  }

  // Dates: valid ISO 8601 in +07:00, or nothing.
  auto valid = [&](std::string& d, const char* name) {
    if (d.empty()) return;
    auto iso = normalize_date(d);
    std::string vn = iso ? to_vn(*iso) : std::string();
    if (vn.empty()) {
      a.warnings.push_back(std::string(name) + ": '" + utf8_prefix(d, 80) + "' is not a date: dropped");
      d.clear();
      return;
    }
    d = vn;
  };
  valid(a.published, "published");
  valid(a.updated, "updated");
  if (a.published.empty()) a.published_source.clear();
  if (ctx.now > 0) {
    auto future = [&](std::string& d, const char* name) {
      auto e = iso_to_epoch(d);
      if (e && *e > ctx.now + ctx.future_skew_s) {
        a.warnings.push_back(std::string(name) + " " + d + " is in the future (fetched " + epoch_to_iso_vn(ctx.now) +
                             "): dropped");
        d.clear();
      }
    };
    future(a.published, "published");
    future(a.updated, "updated");
    if (a.published.empty()) a.published_source.clear();
  }
  if (a.published.empty() && !ctx.feed_published.empty()) {
    if (auto iso = normalize_date(ctx.feed_published)) {
      auto e = iso_to_epoch(*iso);
      if (e && (ctx.now <= 0 || *e <= ctx.now + ctx.future_skew_s)) {
        a.published = to_vn(*iso);
        a.published_source = "feed";
      }
    }
  }
  if (a.published.empty()) {
    std::string path = a.canonical_url.empty() ? a.url : a.canonical_url;
    if (auto u = parse_url(path)) path = u->path;
    std::vector<std::string_view> m;
    if (date_in_url().search(path, 0, m) && m.size() >= 4) {
      std::string iso = std::string(m[1]) + "-" + std::string(m[2]) + "-" + std::string(m[3]) + "T00:00:00+07:00";
      auto e = iso_to_epoch(iso);
      if (e && (ctx.now <= 0 || *e <= ctx.now + ctx.future_skew_s)) {
        a.published = iso;
        a.published_source = "url";
      }
    }
  }
  if (!a.published.empty() && !a.updated.empty()) {
    auto p = iso_to_epoch(a.published), u = iso_to_epoch(a.updated);
    // Compared at the minute: sources differ in precision ("08:01:00" in JSON-LD, "08:01:53" in the meta).
    if (p && u && *u < *p - 59) {
      a.warnings.push_back("updated " + a.updated + " is earlier than published " + a.published + ": dropped");
      a.updated.clear();
    } else if (p && u && *u == *p) {
      a.updated.clear();  // the same instant says nothing more (within the minute: kept, as the page gives it)
    }
  }

  // Language of pages without a template: from the text.
  if (ctx.detect_language) {
    std::string text = a.title + "\n" + a.lead;
    for (const auto& p : a.body) {
      if (text.size() > 20000) break;
      text += "\n" + p;
    }
    std::string lang = detect_language(text, ctx.html_lang);
    if (!lang.empty()) a.language = lang;
  }
}

}  // namespace baotin
