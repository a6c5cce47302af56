#include "feed/machine.h"

#include <unicode/ustring.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/charset.h"
#include "core/limits.h"
#include "core/regex.h"
#include "core/text.h"

namespace baotin::feed_internal {

// ---------------------------------------------------------------------------------------------
// Character sets (port of feedparser's convert_to_utf8: HTTP > XML declaration > BOM > sniffing)
// ---------------------------------------------------------------------------------------------

TextScan scan_text(std::string_view s, std::string* copy) {
  TextScan r;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* const e = p + s.size();
  auto cont = [](unsigned char b) { return (b & 0xC0) == 0x80; };
  // the length of the valid UTF-8 sequence that starts with the byte >= 0x80 at p, or 0
  auto sequence = [&]() -> size_t {
    const unsigned char c = *p;
    const ptrdiff_t left = e - p;
    if (c >= 0xC2 && c <= 0xDF) return left >= 2 && cont(p[1]) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
      if (left < 3 || !cont(p[1]) || !cont(p[2])) return 0;
      if (c == 0xE0 && p[1] < 0xA0) return 0;  // overlong
      if (c == 0xED && p[1] >= 0xA0) return 0;  // surrogates
      return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
      if (left < 4 || !cont(p[1]) || !cont(p[2]) || !cont(p[3])) return 0;
      if (c == 0xF0 && p[1] < 0x90) return 0;  // overlong
      if (c == 0xF4 && p[1] >= 0x90) return 0;  // past U+10FFFF
      return 4;
    }
    return 0;
  };
  // one byte that needs a look (a control, or a byte >= 0x80): checked, and p moved past it (past the whole
  // sequence when it starts valid UTF-8; one byte when it is not UTF-8)
  auto look_at = [&]() {
    const unsigned char c = *p;
    if (c < 0x80) {
      if (c != '\t' && c != '\n' && c != '\r') r.xml_chars = false;
      ++p;
    } else if (size_t n = sequence()) {
      if (c == 0xEF && p[1] == 0xBF && p[2] >= 0xBE) r.xml_chars = false;  // U+FFFE, U+FFFF
      p += n;
    } else {
      r.utf8 = false;
      ++p;
    }
  };
  const unsigned char* copied = p;
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20), four = _mm_set1_epi8(4), cr = _mm_set1_epi8('\r'),
                lf = _mm_set1_epi8('\n');
  // the bytes of x to look at: the controls and every byte >= 0x80 (signed below 0x20), except tab (0x09) and CR
  // (0x0D), the bytes that become 0x0D with bit 2 set, and LF
  auto to_look_at = [&](__m128i x) {
    const __m128i below = _mm_cmplt_epi8(x, space);
    const __m128i allowed = _mm_or_si128(_mm_cmpeq_epi8(_mm_or_si128(x, four), cr), _mm_cmpeq_epi8(x, lf));
    return _mm_andnot_si128(allowed, below);
  };
  // the text is copied on the way, in runs of a few KiB: read again while they are in the cache, and below the
  // size at which glibc's memcpy switches to `rep movsb`
  auto copy_run = [&]() {
    if (copy && p - copied >= 2048) {
      copy->append(reinterpret_cast<const char*>(copied), static_cast<size_t>(p - copied));
      copied = p;
    }
  };
  while (e - p >= 16 && (r.utf8 || r.xml_chars)) {
    // sixty-four plain bytes at a time (nearly all of a feed), then the block of sixteen with something to look at
    for (; e - p >= 64; p += 64) {
      const auto* q = reinterpret_cast<const __m128i*>(p);
      const __m128i any = _mm_or_si128(
          _mm_or_si128(to_look_at(_mm_loadu_si128(q)), to_look_at(_mm_loadu_si128(q + 1))),
          _mm_or_si128(to_look_at(_mm_loadu_si128(q + 2)), to_look_at(_mm_loadu_si128(q + 3))));
      if (_mm_movemask_epi8(any) != 0) break;
      copy_run();
    }
    if (e - p < 16) break;
    // sixteen bytes: the ones to look at (in a Vietnamese text, every accented letter) are found by one mask and
    // looked at in turn; the plain bytes between them are not
    const unsigned char* const block = p;
    unsigned look =
        static_cast<unsigned>(_mm_movemask_epi8(to_look_at(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block)))));
    p = block + 16;
    while (look != 0) {
      const unsigned k = static_cast<unsigned>(__builtin_ctz(look));
      p = block + k;
      look_at();
      const size_t done = static_cast<size_t>(p - block);  // the bytes of the block read so far
      if (done >= 16) break;
      look &= ~0u << done;
      if (look == 0) p = block + 16;
    }
    copy_run();
  }
#endif
  // the rest (the last bytes, or the whole text without SSE2), one character or plain byte at a time
  while (p < e && (r.utf8 || r.xml_chars)) {
    const unsigned char c = *p;
    if (c >= 0x20 && c < 0x80) ++p;
    else look_at();
  }
  if (copy) copy->append(reinterpret_cast<const char*>(copied), static_cast<size_t>(p - copied));
  return r;
}

namespace {

bool utf8_label(std::string_view lowered) {
  return lowered == "utf-8" || lowered == "utf8" || lowered == "utf_8" || lowered == "u8";
}

// Strict decoding: false when the charset is unknown or the bytes are not valid in it.
bool strict_decode(std::string_view bytes, const std::string& charset, std::string& out) {
  LegacyCharset legacy = legacy_charset_from_label(charset);
  if (legacy != LegacyCharset::kNone) return decode_legacy_charset(bytes, legacy, out);
  std::string cs = lower(charset);
  if (utf8_label(cs)) {
    if (!scan_text(bytes).utf8) return false;
    out.assign(bytes);
    return true;
  }
  if (cs == "windows-1252" || cs == "cp1252" || cs == "windows_1252") {
    // ICU maps the five undefined bytes to C1 controls; Python (and so feedparser) rejects them.
    for (char c : bytes) {
      unsigned char b = static_cast<unsigned char>(c);
      if (b == 0x81 || b == 0x8D || b == 0x8F || b == 0x90 || b == 0x9D) return false;
    }
  }
  UErrorCode err = U_ZERO_ERROR;
  UConverter* conv = ucnv_open(cs.c_str(), &err);
  if (U_FAILURE(err) || !conv) return false;
  std::unique_ptr<UConverter, void (*)(UConverter*)> guard(conv, ucnv_close);
  ucnv_setToUCallBack(conv, UCNV_TO_U_CALLBACK_STOP, nullptr, nullptr, nullptr, &err);
  if (U_FAILURE(err)) return false;
  // bytes -> UTF-16 -> UTF-8
  std::vector<UChar> u16(bytes.size() * 2 + 16);
  const char* src = bytes.data();
  const char* src_end = src + bytes.size();
  UChar* dst = u16.data();
  ucnv_toUnicode(conv, &dst, u16.data() + u16.size(), &src, src_end, nullptr, true, &err);
  if (U_FAILURE(err)) return false;
  // UTF-16 -> UTF-8 in one call; an unpaired surrogate is an error (U_INVALID_CHAR_FOUND), as before
  const int32_t n16 = static_cast<int32_t>(dst - u16.data());
  out.resize(static_cast<size_t>(n16) * 3);
  int32_t n8 = 0;
  err = U_ZERO_ERROR;
  u_strToUTF8(out.data(), static_cast<int32_t>(out.size()), &n8, u16.data(), n16, &err);
  if (U_FAILURE(err)) return false;
  out.resize(static_cast<size_t>(n8));
  return true;
}

std::string sniff_charset(std::string_view bytes) {
  UErrorCode err = U_ZERO_ERROR;
  UCharsetDetector* det = ucsdet_open(&err);
  if (U_FAILURE(err)) return {};
  std::unique_ptr<UCharsetDetector, void (*)(UCharsetDetector*)> guard(det, ucsdet_close);
  ucsdet_setText(det, bytes.data(), static_cast<int32_t>(std::min<size_t>(bytes.size(), 65536)), &err);
  const UCharsetMatch* m = ucsdet_detect(det, &err);
  if (U_FAILURE(err) || !m) return {};
  const char* name = ucsdet_getName(m, &err);
  if (U_FAILURE(err) || !name) return {};
  return lower(name);
}

// feedparser replaces the XML declaration (it now lies about the encoding) by one that says UTF-8, or adds one: the
// new declaration is written into `out` (room reserved for the rest of `text`); returns how many bytes of `text` it
// replaces.
size_t start_with_utf8_declaration(std::string_view text, std::string& out) {
  static constexpr std::string_view decl = "<?xml version='1.0' encoding='utf-8'?>";
  out.clear();
  if (!starts_with(text, "<?xml")) {
    out.reserve(decl.size() + 1 + text.size());
    out.append(decl).append("\n");
    return 0;
  }
  const size_t e = text.find('>');
  if (e == std::string_view::npos) {  // left as it is
    out.reserve(text.size());
    return 0;
  }
  out.reserve(decl.size() + text.size() - e - 1);
  out.append(decl);
  return e + 1;
}

std::string header_param_charset(std::string_view ct, std::string& media_type) {
  // cgi.parse_header: "type/sub; charset=x"
  auto semi = ct.find(';');
  media_type = lower(std::string(trim(ct.substr(0, semi))));
  if (semi == std::string_view::npos) return {};
  std::string_view rest = ct.substr(semi + 1);
  while (!rest.empty()) {
    auto next = rest.find(';');
    std::string_view p = trim(rest.substr(0, next));
    auto eq = p.find('=');
    if (eq != std::string_view::npos && lower(std::string(trim(p.substr(0, eq)))) == "charset") {
      std::string v(trim(p.substr(eq + 1)));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      v.erase(std::remove(v.begin(), v.end(), '\''), v.end());
      return v;
    }
    if (next == std::string_view::npos) break;
    rest = rest.substr(next + 1);
  }
  return {};
}

}  // namespace

Decoded convert_to_utf8(std::string_view data, const FeedHttpHeaders& hdr, const Decoded* again) {
  Decoded r;
  std::string bom_encoding, xml_encoding;
  auto pre = [&](const char* p, size_t n) { return data.size() >= n && std::memcmp(data.data(), p, n) == 0; };
  if (pre("\x00\x00\xFE\xFF", 4)) { bom_encoding = "utf-32be"; data.remove_prefix(4); }
  else if (pre("\xFF\xFE\x00\x00", 4)) { bom_encoding = "utf-32le"; data.remove_prefix(4); }
  else if (pre("\xFE\xFF", 2) && !(data.size() >= 4 && data[2] == 0 && data[3] == 0)) { bom_encoding = "utf-16be"; data.remove_prefix(2); }
  else if (pre("\xFF\xFE", 2) && !(data.size() >= 4 && data[2] == 0 && data[3] == 0)) { bom_encoding = "utf-16le"; data.remove_prefix(2); }
  else if (pre("\xEF\xBB\xBF", 3)) { bom_encoding = "utf-8"; data.remove_prefix(3); }
  else if (pre("\x4C\x6F\xA7\x94", 4)) bom_encoding = "cp037";
  else if (pre("\x00\x3C\x00\x3F", 4)) bom_encoding = "utf-16be";
  else if (pre("\x3C\x00\x3F\x00", 4)) bom_encoding = "utf-16le";
  else if (pre("\x00\x00\x00\x3C", 4)) bom_encoding = "utf-32be";
  else if (pre("\x3C\x00\x00\x00", 4)) bom_encoding = "utf-32le";

  // XML declaration encoding (looked for in the data decoded with the BOM/sniffed encoding)
  std::string head;
  bool head_ok = true;
  if (!bom_encoding.empty()) head_ok = strict_decode(data.substr(0, std::min<size_t>(data.size(), 4096) & ~size_t(3)), bom_encoding, head);
  else head.assign(data.substr(0, std::min<size_t>(data.size(), 4096)));
  if (head_ok && starts_with(head, "<?")) {
    auto end = head.find("?>");
    auto nl = head.find('\n');
    if (end != std::string::npos && (nl == std::string::npos || nl > end)) {
      std::string_view decl(head.data(), end);
      auto enc = decl.rfind("encoding=");
      if (enc != std::string_view::npos && enc + 9 < decl.size() && (decl[enc + 9] == '"' || decl[enc + 9] == '\'')) {
        auto close = decl.find_first_of("\"'", enc + 10);
        if (close != std::string_view::npos) xml_encoding = lower(std::string(decl.substr(enc + 10, close - enc - 10)));
      }
    }
  }
  static const std::set<std::string> multi = {"u16", "utf-16", "utf16", "utf_16", "u32", "utf-32", "utf32", "utf_32",
                                              "iso-10646-ucs-2", "iso-10646-ucs-4", "csucs4", "csunicode", "ucs-2", "ucs-4"};
  if (!bom_encoding.empty() && multi.count(xml_encoding)) xml_encoding = bom_encoding;

  std::string media_type;
  std::string http_encoding = header_param_charset(hdr.content_type, media_type);
  bool acceptable = false;
  std::string rfc3023;
  static const std::set<std::string> app_types = {"application/xml", "application/xml-dtd",
                                                  "application/xml-external-parsed-entity"};
  if (app_types.count(media_type) || (starts_with(media_type, "application/") && ends_with(media_type, "+xml"))) {
    acceptable = true;
    rfc3023 = !http_encoding.empty() ? http_encoding : !xml_encoding.empty() ? xml_encoding : "utf-8";
  } else if (media_type == "text/xml" || media_type == "text/xml-external-parsed-entity" ||
             (starts_with(media_type, "text/") && ends_with(media_type, "+xml"))) {
    acceptable = true;
    rfc3023 = !http_encoding.empty() ? http_encoding : "us-ascii";
  } else if (starts_with(media_type, "text/")) {
    rfc3023 = !http_encoding.empty() ? http_encoding : "us-ascii";
  } else if (hdr.present && hdr.content_type.empty()) {
    rfc3023 = !xml_encoding.empty() ? xml_encoding : "iso-8859-1";
  } else {
    rfc3023 = !xml_encoding.empty() ? xml_encoding : "utf-8";
  }
  if (lower(rfc3023) == "gb2312") rfc3023 = "gb18030";
  if (xml_encoding == "gb2312") xml_encoding = "gb18030";
  if (hdr.present && !acceptable) {
    r.error = hdr.content_type.empty() ? "NonXMLContentType: no Content-type specified"
                                       : "NonXMLContentType: " + hdr.content_type + " is not an XML media type";
  }
  std::vector<std::string> tried;
  std::string used;
  bool sniffed = false;
  std::string candidates[7] = {rfc3023, xml_encoding, bom_encoding, "", "utf-8", "windows-1252", "iso-8859-2"};
  for (int i = 0; i < 7; ++i) {
    std::string p = candidates[i];
    if (i == 3 && !sniffed) {
      sniffed = true;
      // Bytes that are valid UTF-8 are UTF-8 (statistical detectors sometimes say otherwise for
      // short, mostly-ASCII text); only sniff when that fails.
      if (again && again->sniffed) p = again->sniffed_as;
      else p = scan_text(data).utf8 ? "utf-8" : sniff_charset(data);
      r.sniffed = true;
      r.sniffed_as = p;
    }
    if (p.empty()) continue;
    if (std::find(tried.begin(), tried.end(), p) != tried.end()) continue;
    tried.push_back(p);
    std::string decoded;
    if (utf8_label(lower(p))) {
      // valid UTF-8 is not decoded: one pass copies it and checks it and the characters XML forbids
      const size_t cut = start_with_utf8_declaration(data, r.text);
      const TextScan scan = scan_text(data.substr(cut), &r.text);
      if (!scan.utf8 || !scan_text(data.substr(0, cut)).utf8) continue;
      r.xml_chars_ok = scan.xml_chars;
    } else if (strict_decode(data, p, decoded)) {
      r.text.append(decoded, start_with_utf8_declaration(decoded, r.text));
    } else {
      continue;
    }
    used = p;
    break;
  }
  if (used.empty()) {
    r.error = "CharacterEncodingUnknown: document encoding unknown, I tried " + rfc3023 + ", " + xml_encoding +
              ", utf-8, windows-1252, and iso-8859-2 but nothing worked";
    r.encoding.clear();
    // still give the caller something readable
    r.text.clear();
    convert_charset(data, "windows-1252", r.text);
    return r;
  }
  if (used != rfc3023) {
    r.error = "CharacterEncodingOverride: document declared as " + rfc3023 + ", but parsed as " + used;
  }
  r.encoding = used;
  return r;
}

namespace {

// Removes every match of `re` from `text`, keeping its group 1; returns group 2 of each match.
std::vector<std::string> cut_matches(std::string& text, const Regex& re) {
  std::vector<std::string> found;
  std::vector<std::string_view> m;
  std::string out;
  size_t pos = 0, copied = 0;
  while (pos <= text.size() && re.search(text, pos, m)) {
    const size_t b = offset_in(text, m[0]), e = b + m[0].size();
    out.append(text, copied, b - copied);
    out.append(m[1]);
    found.emplace_back(m[2]);
    copied = e;
    pos = e > b ? e : e + 1;
  }
  if (found.empty()) return found;
  out.append(text, copied, std::string::npos);
  text = std::move(out);
  return found;
}

}  // namespace

Doctype replace_doctype(std::string& data) {
  Doctype d;
  size_t start = std::string::npos;
  for (size_t i = 0; i + 1 < data.size(); ++i) {
    if (data[i] == '<' && is_word_char(static_cast<unsigned char>(data[i + 1]))) { start = i; break; }
  }
  if (start == std::string::npos) return d;
  // most feeds have no DOCTYPE: nothing before the first element starts with "<!", nothing is copied
  if (std::string_view(data).substr(0, start + 1).find("<!") == std::string_view::npos) return d;
  std::string head = data.substr(0, start + 1), rest = data.substr(start + 1);
  // RE2 (linear time): a 50 KB DOCTYPE overflowed the recursion of libstdc++'s regex engine.
  static const Regex entity_re(R"((^|\n)[ \t\r\f\v]*<!ENTITY([^>]*?)>)");
  static const Regex doctype_re(R"((^|\n)[ \t\r\f\v\n]*<!DOCTYPE([^>]*?)>)");
  static const Regex safe_re("^[ \t\n\v\f\r]+(\\w+)[ \t\n\v\f\r]+\"(&#\\w+;|[^&\"]*)\"");
  std::vector<std::string> ents = cut_matches(head, entity_re);
  std::vector<std::string> doctypes = cut_matches(head, doctype_re);
  if (!doctypes.empty() && lower(doctypes[0]).find("netscape") != std::string::npos) d.version = "rss091n";
  if (doctypes.size() == 1) {
    std::vector<std::string_view> m;
    for (const auto& e : ents)
      if (safe_re.search(e, 0, m)) d.entities[std::string(m[1])] = std::string(m[2]);
  }
  d.cut = true;
  d.head_len = start + 1;
  d.new_head = head;
  data = head + rest;
  return d;
}

void reapply_doctype(std::string& data, const Doctype& d) {
  if (d.cut) data = d.new_head + data.substr(std::min(d.head_len, data.size()));
}

}  // namespace baotin::feed_internal
