// libFuzzer target: fuzzed TOML -> parse_template -> apply to a fixed article page.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "extract/html.h"
#include "extract/template.h"

namespace {
const char kPage[] = R"(<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
<title>Tiêu đề bài - Báo Mẫu</title><meta property="og:title" content="Tiêu đề bài">
<meta property="article:published_time" content="2026-03-07T08:01:53+07:00">
<script type="application/ld+json">{"@type":"NewsArticle","headline":"Tiêu đề bài","author":{"name":"A"}}</script>
</head><body><nav><a href="/">Trang chủ</a></nav>
<article class="detail"><h1 class="title">Tiêu đề bài</h1><p class="sapo">Sapo của bài viết.</p>
<div class="content"><p>Đoạn một, có dấu phẩy.</p><figure><img src="/a.jpg"><figcaption>Chú thích</figcaption></figure>
<p>Đoạn hai.</p><div class="related"><a href="/x">Tin liên quan</a></div></div>
<span class="date">07/03/2026 08:01</span><a class="tag" href="/t">Thẻ</a></article></body></html>)";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view toml(reinterpret_cast<const char*>(data), size);
  std::vector<baotin::TemplateError> errors;
  auto t = baotin::parse_template(toml, "fuzz.toml", errors);
  if (!t) return 0;
  auto doc = baotin::parse_html(kPage);
  baotin::Article a;
  baotin::apply_template(*t, doc->doc, "https://baomau.example.vn/thoi-su/bai-123.html", a);
  (void)t->is_article_url("https://baomau.example.vn/thoi-su/bai-123.html");
  return 0;
}
