#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "extract/extract.h"
#include "extract/html.h"
#include "extract/template.h"

using namespace baotin;

namespace {

const char* kTemplate = R"(
name = "demo"
revision = 3
hosts = ["demo.vn"]
feeds = ["https://demo.vn/rss/home.rss"]
skip_urls = ['/video/']
article_urls = ['-\d+\.html$']
min_body_chars = 20
remove = ["//div[contains(@class,'related')]", "//div[@class='share']"]
[fields]
title = ["//h1[@class='title']", "//meta[@property='og:title']/@content"]
lead = "//p[@class='sapo']"
body = "//div[@class='content']"
authors = "//p[@class='author']"
published = ["//span[@class='date']"]
category = "//ul[@class='bc']/li[last()]"
tags = "//meta[@name='keywords']/@content"
images = "//div[@class='content']//img"
image_caption = "ancestor::figure[1]/figcaption"
canonical = "//link[@rel='canonical']/@href"
)";

const char* kPage = R"(<html><head><title>Ignored | Demo</title>
<link rel="canonical" href="/thoi-su/bai-viet-123.html">
<meta name="keywords" content="Hà Nội, giao thông , mưa lớn">
</head><body>
<ul class="bc"><li>Trang chủ</li><li>Thời sự</li></ul>
<h1 class="title">Mưa lớn &amp;quot;gây ngập&amp;quot; Hà Nội</h1>
<span class="date">Thứ hai, 27/1/2025, 14:30 (GMT+7)</span>
<p class="sapo">Sapo của bài.</p>
<div class="share">Chia sẻ Facebook</div>
<div class="content">
  <p>Sapo của bài.</p>
  <p>Đoạn một của bài viết.</p>
  <figure><img data-src="/img/a.jpg" src="data:image/gif;base64,xx"><figcaption>Ảnh: Phố ngập</figcaption></figure>
  <div class="related"><a href="/x">Tin liên quan: bài khác</a></div>
  <p>Đoạn hai, có <a href="/y">liên kết</a>.</p>
</div>
<p class="author">Nguyễn Văn A</p>
</body></html>)";

}  // namespace

TEST(Template, ParsesAndApplies) {
  std::vector<TemplateError> errs;
  auto t = parse_template(kTemplate, "demo.toml", errs);
  ASSERT_TRUE(t) << (errs.empty() ? "" : errs[0].str());
  EXPECT_EQ(t->id(), "demo@3");
  auto doc = parse_html(kPage);
  Article a;
  apply_template(*t, doc->doc, "https://demo.vn/thoi-su/bai-viet-123.html?utm_source=x", a);
  EXPECT_EQ(a.title, "Mưa lớn \"gây ngập\" Hà Nội");
  EXPECT_EQ(a.lead, "Sapo của bài.");
  ASSERT_EQ(a.body.size(), 2u) << a.body.size();
  EXPECT_EQ(a.body[0], "Đoạn một của bài viết.");
  EXPECT_EQ(a.body[1], "Đoạn hai, có liên kết.");
  EXPECT_EQ(a.published, "2025-01-27T14:30:00+07:00");
  EXPECT_EQ(a.authors, std::vector<std::string>{"Nguyễn Văn A"});
  EXPECT_EQ(a.category, "Thời sự");
  EXPECT_EQ(a.tags, (std::vector<std::string>{"Hà Nội", "giao thông", "mưa lớn"}));
  ASSERT_EQ(a.images.size(), 1u);
  EXPECT_EQ(a.images[0].url, "https://demo.vn/img/a.jpg");
  EXPECT_EQ(a.images[0].caption, "Ảnh: Phố ngập");
  EXPECT_EQ(a.canonical_url, "https://demo.vn/thoi-su/bai-viet-123.html");
  for (const char* f : {"title", "lead", "body", "published", "authors", "category", "tags", "images", "canonical"})
    EXPECT_NE(std::find(a.fields.begin(), a.fields.end(), f), a.fields.end()) << f;
}

TEST(Template, DateRulesFallThroughUntilOneParses) {
  std::vector<TemplateError> errs;
  auto t = parse_template("name=\"d\"\nrevision=1\nhosts=[\"d.vn\"]\n[fields]\ntitle=\"//h1\"\nbody=\"//p\"\n"
                          "published=[\"//span[@class='views']\", \"//time/@datetime\"]\ntags=\"//meta[@name='keywords']/@content\"\n",
                          "d.toml", errs);
  ASSERT_TRUE(t);
  auto doc = parse_html("<meta name=keywords content='buôn ma túy; bán ma túy'><h1>T</h1><span class=views>1.234 lượt xem</span>"
                        "<time datetime='2025-02-06T13:54:00+07:00'></time><p>x</p>");
  Article a;
  apply_template(*t, doc->doc, "https://d.vn/a", a);
  EXPECT_EQ(a.published, "2025-02-06T13:54:00+07:00");
  EXPECT_EQ(a.tags, (std::vector<std::string>{"buôn ma túy", "bán ma túy"}));
}

TEST(Template, UrlRules) {
  std::vector<TemplateError> errs;
  auto t = parse_template(kTemplate, "demo.toml", errs);
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->is_article_url("https://demo.vn/a-b-123.html"));
  EXPECT_FALSE(t->is_article_url("https://demo.vn/video/a-b-123.html"));
  EXPECT_FALSE(t->is_article_url("https://demo.vn/chuyen-muc/"));
}

TEST(Template, ErrorsCarryLineNumbers) {
  std::vector<TemplateError> errs;
  auto t = parse_template("name = \"x\"\nrevision = 1\nhosts = [\"x.vn\"]\nbogus = 1\n[fields]\ntitle = \"//h1[\"\nbody = \"//p\"\nnope = \"//a\"\n",
                          "x.toml", errs);
  EXPECT_FALSE(t);
  ASSERT_GE(errs.size(), 3u);
  auto has = [&](int line, const std::string& part) {
    return std::any_of(errs.begin(), errs.end(), [&](const TemplateError& e) {
      return e.line == line && e.message.find(part) != std::string::npos;
    });
  };
  EXPECT_TRUE(has(4, "unknown key 'bogus'"));
  EXPECT_TRUE(has(6, "invalid XPath"));
  EXPECT_TRUE(has(8, "unknown field 'nope'"));
  EXPECT_EQ(errs[0].str().rfind("x.toml:", 0), 0u);
}

TEST(Template, TomlSyntaxErrorAndMissingFields) {
  std::vector<TemplateError> errs;
  EXPECT_FALSE(parse_template("name = \"x\"\nrevision = \n", "bad.toml", errs));
  ASSERT_FALSE(errs.empty());
  EXPECT_EQ(errs[0].line, 2);
  errs.clear();
  EXPECT_FALSE(parse_template("name = \"x\"\nrevision = 1\nhosts = [\"x.vn\"]\n[fields]\ntitle = \"//h1\"\n", "x.toml", errs));
  ASSERT_FALSE(errs.empty());
  EXPECT_NE(errs[0].message.find("missing fields.body"), std::string::npos);
  errs.clear();
  EXPECT_FALSE(parse_template("name = \"x\"\nrevision = 1\nhosts = [\"x.vn\"]\nskip_urls = ['(']\n[fields]\ntitle = \"//h1\"\nbody = \"//p\"\n",
                              "x.toml", errs));
  ASSERT_FALSE(errs.empty());
  EXPECT_NE(errs[0].message.find("invalid regex"), std::string::npos);
}

TEST(Template, RegistryPicksMostSpecificHost) {
  std::vector<TemplateError> errs;
  TemplateRegistry reg;
  reg.add(parse_template("name=\"a\"\nrevision=1\nhosts=[\"vnexpress.net\"]\n[fields]\ntitle=\"//h1\"\nbody=\"//p\"\n", "a.toml", errs));
  reg.add(parse_template("name=\"b\"\nrevision=1\nhosts=[\"e.vnexpress.net\"]\n[fields]\ntitle=\"//h1\"\nbody=\"//p\"\n", "b.toml", errs));
  ASSERT_TRUE(errs.empty());
  EXPECT_EQ(reg.for_url("https://vnexpress.net/x")->name, "a");
  EXPECT_EQ(reg.for_url("https://e.vnexpress.net/x")->name, "b");
  EXPECT_EQ(reg.for_url("https://m.vnexpress.net/x")->name, "a");
  EXPECT_EQ(reg.for_url("https://tuoitre.vn/x"), nullptr);
  EXPECT_EQ(reg.by_name("b")->name, "b");
}

TEST(Template, LanguageByHostMostSpecificWins) {
  std::vector<TemplateError> errs;
  auto t = parse_template("name=\"l\"\nrevision=1\nhosts=[\"demo.vn\", \"demo.com.vn\"]\nlanguage=\"vi\"\n"
                          "language_by_host = { \"en.demo.vn\" = \"en\", \"EN.demo.com.vn\" = \"en-GB\", \"zh.demo.vn\" = \"zh-Hans\","
                          " \"kids.en.demo.vn\" = \"fr\" }\n"
                          "[fields]\ntitle=\"//h1\"\nbody=\"//p\"\n",
                          "l.toml", errs);
  ASSERT_TRUE(t) << (errs.empty() ? "" : errs[0].str());
  EXPECT_EQ(t->language_for("https://demo.vn/a-1.html"), "vi");
  EXPECT_EQ(t->language_for("https://www.demo.vn/a-1.html"), "vi");
  EXPECT_EQ(t->language_for("https://en.demo.vn/a-1.html"), "en");
  EXPECT_EQ(t->language_for("https://www.en.demo.vn/a-1.html"), "en");   // subdomains of the host too
  EXPECT_EQ(t->language_for("https://EN.Demo.VN/a-1.html"), "en");       // host case does not matter
  EXPECT_EQ(t->language_for("https://en.demo.com.vn/a-1.html"), "en-GB"); // keys are lower-cased
  EXPECT_EQ(t->language_for("https://zh.demo.vn/a-1.html"), "zh-Hans");
  EXPECT_EQ(t->language_for("https://kids.en.demo.vn/a-1.html"), "fr");  // the most specific host wins
  EXPECT_EQ(t->language_for("https://x.kids.en.demo.vn/a-1.html"), "fr");
  EXPECT_EQ(t->language_for("https://notenglish.demo.vn/a-1.html"), "vi");  // not a subdomain of en.demo.vn
  EXPECT_EQ(t->language_for("not a url"), "vi");
}

TEST(Template, LanguageByHostValidated) {
  std::vector<TemplateError> errs;
  auto t = parse_template("name = \"x\"\nrevision = 1\nhosts = [\"x.vn\"]\n"
                          "language = \"Vietnamese\"\n"                       // 4
                          "language_by_host = { \"en.y.vn\" = \"en\" }\n"     // 5: not a template host
                          "[fields]\ntitle = \"//h1\"\nbody = \"//p\"\n",
                          "x.toml", errs);
  EXPECT_FALSE(t);
  auto has = [&](int line, const std::string& part) {
    return std::any_of(errs.begin(), errs.end(), [&](const TemplateError& e) {
      return e.line == line && e.message.find(part) != std::string::npos;
    });
  };
  EXPECT_TRUE(has(4, "language: expected a language tag")) << (errs.empty() ? "" : errs[0].str());
  EXPECT_TRUE(has(5, "host 'en.y.vn' is not one of the template's hosts"));
  errs.clear();
  EXPECT_FALSE(parse_template("name = \"x\"\nrevision = 1\nhosts = [\"x.vn\"]\n"
                              "language_by_host = { \"en.x.vn\" = 1 }\n"
                              "[fields]\ntitle = \"//h1\"\nbody = \"//p\"\n",
                              "x.toml", errs));
  EXPECT_TRUE(has(4, "'en.x.vn': expected a language tag"));
  errs.clear();
  EXPECT_FALSE(parse_template("name = \"x\"\nrevision = 1\nhosts = [\"x.vn\"]\n"
                              "language_by_host = { \"https://en.x.vn/\" = \"en\" }\n"
                              "[fields]\ntitle = \"//h1\"\nbody = \"//p\"\n",
                              "x.toml", errs));
  EXPECT_TRUE(has(4, "is not a host name"));
  errs.clear();
  EXPECT_FALSE(parse_template("name = \"x\"\nrevision = 1\nhosts = [\"x.vn\"]\nlanguage_by_host = \"en\"\n"
                              "[fields]\ntitle = \"//h1\"\nbody = \"//p\"\n",
                              "x.toml", errs));
  EXPECT_TRUE(has(4, "language_by_host: expected a table"));
  ASSERT_FALSE(errs.empty());
  EXPECT_EQ(errs[0].str().rfind("x.toml:4: ", 0), 0u) << errs[0].str();
}

TEST(Template, HostAliasesMoveUrlsToTheCurrentHost) {
  std::vector<TemplateError> errs;
  auto t = parse_template("name=\"z\"\nrevision=1\nhosts=[\"znews.vn\", \"zingnews.vn\", \"news.zing.vn\"]\n"
                          "host_aliases = { \"ZingNews.vn\" = \"znews.vn\" }\n[fields]\ntitle=\"//h1\"\nbody=\"//p\"\n",
                          "z.toml", errs);
  ASSERT_TRUE(t) << (errs.empty() ? "" : errs[0].str());
  EXPECT_EQ(t->unalias_url("https://zingnews.vn/x-post123.html"), "https://znews.vn/x-post123.html");
  // Canonicalised on the way: www./m. hosts, tracking parameters, fragments.
  EXPECT_EQ(t->unalias_url("https://www.zingnews.vn/x-post123.html?utm_source=fb#top"), "https://znews.vn/x-post123.html");
  EXPECT_EQ(t->unalias_url("https://m.zingnews.vn/x-post123.html"), "https://znews.vn/x-post123.html");
  EXPECT_EQ(t->unalias_url("http://zingnews.vn/x-post123.html?b=2&a=1"), "http://znews.vn/x-post123.html?a=1&b=2");
  // Not an alias host: nothing to do.
  EXPECT_EQ(t->unalias_url("https://znews.vn/x-post123.html"), "");
  EXPECT_EQ(t->unalias_url("https://news.zing.vn/xa-hoi/bai/a293004.html"), "");
  EXPECT_EQ(t->unalias_url("https://video.zingnews.vn/x-post123.html"), "");  // exact host, not subdomains
  EXPECT_EQ(t->unalias_url("not a url"), "");
  // A template without aliases never moves anything.
  auto plain = parse_template(kTemplate, "demo.toml", errs);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->unalias_url("https://demo.vn/a-1.html"), "");
}

TEST(Template, HostAliasesValidated) {
  auto errors_of = [](const std::string& aliases) {
    std::vector<TemplateError> errs;
    auto t = parse_template("name = \"z\"\nrevision = 1\nhosts = [\"z.vn\", \"old.vn\", \"older.vn\"]\n" + aliases +
                                "\n[fields]\ntitle = \"//h1\"\nbody = \"//p\"\n",
                            "z.toml", errs);
    EXPECT_FALSE(t) << aliases;
    std::string all;
    for (const auto& e : errs) all += e.str() + "\n";
    return all;
  };
  EXPECT_NE(errors_of("host_aliases = { \"other.vn\" = \"z.vn\" }").find("z.toml:4: host_aliases: 'other.vn' = 'z.vn': both hosts must be among"),
            std::string::npos);
  EXPECT_NE(errors_of("host_aliases = { \"old.vn\" = \"elsewhere.vn\" }").find("both hosts must be among"), std::string::npos);
  EXPECT_NE(errors_of("host_aliases = { \"www.z.vn\" = \"z.vn\" }").find("the same host once canonicalised"), std::string::npos);
  EXPECT_NE(errors_of("host_aliases = { \"older.vn\" = \"old.vn\", \"old.vn\" = \"z.vn\" }").find("which is itself an alias"),
            std::string::npos);
  EXPECT_NE(errors_of("host_aliases = { \"old.vn\" = 3 }").find("expected the current host name"), std::string::npos);
  EXPECT_NE(errors_of("host_aliases = { \"old.vn/x\" = \"z.vn\" }").find("is not a host name"), std::string::npos);
  EXPECT_NE(errors_of("host_aliases = [\"old.vn\"]").find("z.toml:4: host_aliases: expected a table"), std::string::npos);
}

TEST(Template, LoadDirReportsBrokenFilesAndKeepsGoodOnes) {
  auto dir = std::filesystem::temp_directory_path() / ("baotin-tpl-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "good.toml") << "name=\"good\"\nrevision=1\nhosts=[\"g.vn\"]\n[fields]\ntitle=\"//h1\"\nbody=\"//p\"\n";
  std::ofstream(dir / "broken.toml") << "name=\"broken\"\nrevision=1\n[fields\n";
  std::ofstream(dir / "misnamed.toml") << "name=\"other\"\nrevision=1\nhosts=[\"m.vn\"]\n[fields]\ntitle=\"//h1\"\nbody=\"//p\"\n";
  TemplateRegistry reg;
  std::vector<TemplateError> errs;
  reg.load_dir(dir.string(), errs);
  EXPECT_EQ(reg.all().size(), 1u);
  EXPECT_EQ(errs.size(), 2u);
  std::filesystem::remove_all(dir);
}

TEST(Template, ShippedTemplatesAllLoad) {
  TemplateRegistry reg;
  std::vector<TemplateError> errs;
  reg.load_dir(std::string(BAOTIN_SOURCE_DIR) + "/sites", errs);
  for (const auto& e : errs) ADD_FAILURE() << e.str();
  EXPECT_GE(reg.all().size(), 10u);
  // Language editions on subdomains are not Vietnamese.
  auto vnp = reg.by_name("vietnamplus");
  ASSERT_TRUE(vnp);
  EXPECT_EQ(vnp->language_for("https://www.vietnamplus.vn/tin-post1.vnp"), "vi");
  EXPECT_EQ(vnp->language_for("https://en.vietnamplus.vn/news-post1.vnp"), "en");
  for (const char* lang : {"zh", "fr", "es", "ru"})
    EXPECT_EQ(vnp->language_for(std::string("https://") + lang + ".vietnamplus.vn/x-post1.vnp"), lang);
  // zingnews.vn is znews.vn under its former name; news.zing.vn had other paths and stays as it is.
  auto zn = reg.by_name("znews");
  ASSERT_TRUE(zn);
  EXPECT_EQ(zn->unalias_url("https://zingnews.vn/apple-huy-bo-du-an-quan-trong-post1528657.html"),
            "https://znews.vn/apple-huy-bo-du-an-quan-trong-post1528657.html");
  EXPECT_EQ(zn->unalias_url("http://news.zing.vn/xa-hoi/moi-nga-duong/a293004.html"), "");
  auto vov = reg.by_name("vov");
  ASSERT_TRUE(vov);
  EXPECT_EQ(vov->language_for("https://english.vov.vn/en/politics/x-post1.vov"), "en");
  EXPECT_EQ(vov->language_for("https://vov.vn/xa-hoi/x-post1.vov"), "vi");
}

TEST(Extract, BadInputNeverThrows) {
  ExtractOptions o;
  Article empty = extract_article("", "https://x.vn/a", "", o);
  EXPECT_TRUE(empty.partial);
  Article bin = extract_article(std::string("\x89PNG\r\n\x1a\n\0\0\0", 11), "https://x.vn/a", "", o);
  EXPECT_TRUE(bin.partial);
  EXPECT_NE(bin.warnings.front().find("binary"), std::string::npos);
  Article trunc = extract_article("<html><body><article><p>Cut in the mid", "https://x.vn/a", "", o);
  EXPECT_TRUE(trunc.partial);
}

TEST(Extract, LanguageComesFromThePageHostNotTheHtmlLangAttribute) {
  std::vector<TemplateError> errs;
  TemplateRegistry reg;
  reg.add(parse_template("name=\"plus\"\nrevision=1\nhosts=[\"plus.vn\"]\nlanguage=\"vi\"\n"
                         "language_by_host = { \"en.plus.vn\" = \"en\" }\n[fields]\ntitle=\"//h1\"\nbody=\"//div[@class='c']/p\"\n",
                         "plus.toml", errs));
  ASSERT_TRUE(errs.empty()) << errs[0].str();
  ExtractOptions o;
  o.templates = &reg;
  // Markup declares the wrong language both ways (as thanhnien.vn's lang="en-us" on Vietnamese pages does).
  auto page = [](const char* lang) {
    return std::string("<html lang=\"") + lang + "\"><body><h1>Title</h1><div class='c'><p>Some text of the article.</p></div></body></html>";
  };
  Article en = extract_article(page("vi"), "https://en.plus.vn/news-post1.vnp", "", o);
  EXPECT_EQ(en.template_name, "plus@1");
  EXPECT_EQ(en.language, "en");
  Article vi = extract_article(page("en-us"), "https://plus.vn/tin-post2.vnp", "", o);
  EXPECT_EQ(vi.language, "vi");
  Article www = extract_article(page("vi"), "https://www.en.plus.vn/news-post3.vnp", "", o);
  EXPECT_EQ(www.language, "en");
}

TEST(Extract, HostAliasesMoveTheCanonicalUrl) {
  std::vector<TemplateError> errs;
  TemplateRegistry reg;
  reg.add(parse_template("name=\"z\"\nrevision=1\nhosts=[\"znews.vn\", \"zingnews.vn\"]\nhost_aliases={ \"zingnews.vn\" = \"znews.vn\" }\n"
                         "[fields]\ntitle=\"//h1\"\nbody=\"//div[@class='c']/p\"\ncanonical=\"//link[@rel='canonical']/@href\"\n",
                         "z.toml", errs));
  ASSERT_TRUE(errs.empty()) << errs[0].str();
  auto page = [](const std::string& canonical) {
    std::string link = canonical.empty() ? "" : "<link rel='canonical' href='" + canonical + "'>";
    return "<html><head>" + link + "</head><body><h1>Tiêu đề</h1><div class='c'><p>Nội dung bài viết.</p></div></body></html>";
  };
  for (bool generic : {false, true}) {
    ExtractOptions o;
    o.templates = &reg;
    o.allow_generic = generic;
    // An old page names its old URL as canonical.
    Article a = extract_article(page("https://zingnews.vn/bai-post1.html"), "https://zingnews.vn/bai-post1.html", "", o);
    EXPECT_EQ(a.canonical_url, "https://znews.vn/bai-post1.html");
    EXPECT_EQ(a.url, "https://zingnews.vn/bai-post1.html");  // the fetched URL is kept as it was
    // No canonical on the page: its own URL moves.
    Article b = extract_article(page(""), "https://zingnews.vn/bai-post2.html?utm_source=x", "", o);
    EXPECT_EQ(b.canonical_url, "https://znews.vn/bai-post2.html");
    // A current page, or one whose canonical already is current, is left alone.
    Article c = extract_article(page("/bai-post3.html"), "https://znews.vn/bai-post3.html", "", o);
    EXPECT_EQ(c.canonical_url, "https://znews.vn/bai-post3.html");
    Article d = extract_article(page("https://znews.vn/bai-post4.html"), "https://zingnews.vn/bai-post4.html", "", o);
    EXPECT_EQ(d.canonical_url, "https://znews.vn/bai-post4.html");
  }
}

// Issue 13: pages without a template get their language from the text; <html lang> is a hint (some outlets
// say "en" on Vietnamese pages).
TEST(Extract, PagesWithoutTemplateDetectTheirLanguage) {
  ExtractOptions o;
  const std::string vi = "<h1>Mưa lớn gây ngập nhiều tuyến phố</h1><article><p>Từ 15h chiều, mưa lớn trút xuống "
                         "nội thành, nhiều tuyến phố như Nguyễn Trãi, Tây Sơn ngập sâu 30-50 cm. Công ty Thoát nước "
                         "cho biết đã huy động hơn 500 công nhân ứng trực tại các điểm ngập.</p></article>";
  const std::string en = "<h1>Heavy rain floods many streets</h1><article><p>From 3pm, heavy rain poured over the "
                         "inner city and many streets such as Nguyen Trai and Tay Son were flooded 30-50 cm deep. "
                         "The drainage company said it had mobilised more than 500 workers.</p></article>";
  auto lang = [&](const std::string& html_attr, const std::string& body) {
    return extract_article("<html" + html_attr + "><body>" + body + "</body></html>", "https://unknown.example/a", "", o)
        .language;
  };
  EXPECT_EQ(lang(" lang=\"en\"", vi), "vi");  // the tag is wrong: the text decides
  EXPECT_EQ(lang("", vi), "vi");
  EXPECT_EQ(lang(" lang=\"en\"", en), "en");
  EXPECT_EQ(lang("", en), "en");
  EXPECT_EQ(lang(" lang=\"fr\"", en), "fr");  // plain Latin text: the tag may name any Latin-script language
  // Too little text to tell: the tag, else the default.
  EXPECT_EQ(lang(" lang=\"en\"", "<h1>Tin</h1><article><p>Ok.</p></article>"), "en");
  EXPECT_EQ(lang("", "<h1>Tin</h1><article><p>Ok.</p></article>"), "vi");
}

TEST(Extract, UnusableCanonicalUrlIsIgnored) {
  std::vector<TemplateError> errs;
  TemplateRegistry reg;
  reg.add(parse_template("name=\"p\"\nrevision=1\nhosts=[\"plus.vn\", \"plus-old.com\"]\n"
                         "[fields]\ntitle=\"//h1\"\nbody=\"//div[@class='c']/p\"\ncanonical=\"//link[@rel='canonical']/@href\"\n",
                         "p.toml", errs));
  ASSERT_TRUE(errs.empty()) << errs[0].str();
  auto page = [](const std::string& canonical) {
    return "<html><head><link rel='canonical' href='" + canonical +
           "'></head><body><h1>Tiêu đề</h1><div class='c'><p>Nội dung bài viết.</p></div></body></html>";
  };
  for (bool with_template : {true, false}) {
    ExtractOptions o;
    if (with_template) o.templates = &reg;
    auto has_warning = [](const Article& a) {
      return std::any_of(a.warnings.begin(), a.warnings.end(),
                         [](const std::string& w) { return w.find("canonical URL") != std::string::npos; });
    };
    // The CMS bug: every article names the homepage. The article keeps its own URL as id.
    Article home = extract_article(page("https://plus.vn/"), "https://plus.vn/tin-post1.vnp?utm_source=fb", "", o);
    EXPECT_EQ(home.canonical_url, "https://plus.vn/tin-post1.vnp");
    EXPECT_TRUE(has_warning(home));
    // Another site (a syndication partner's page named as canonical).
    Article other = extract_article(page("https://other.com/x.html"), "https://plus.vn/tin-post2.vnp", "", o);
    EXPECT_EQ(other.canonical_url, "https://plus.vn/tin-post2.vnp");
    EXPECT_TRUE(has_warning(other));
    // Usable: same site (relative, AMP variant), no warning.
    Article amp = extract_article(page("https://www.plus.vn/tin-post3.vnp"), "https://plus.vn/amp/tin-post3.vnp", "", o);
    EXPECT_EQ(amp.canonical_url, "https://www.plus.vn/tin-post3.vnp");  // as given (the store canonicalises ids)
    EXPECT_FALSE(has_warning(amp));
    // Another domain of the same outlet (a template host): usable with the template only.
    Article old = extract_article(page("https://plus-old.com/tin-post4.vnp"), "https://plus.vn/tin-post4.vnp", "", o);
    EXPECT_EQ(old.canonical_url, with_template ? "https://plus-old.com/tin-post4.vnp" : "https://plus.vn/tin-post4.vnp");
  }
}

TEST(Extract, TemplateFallsBackToGenericWhenBodyMissing) {
  std::vector<TemplateError> errs;
  TemplateRegistry reg;
  reg.add(parse_template("name=\"demo\"\nrevision=2\nhosts=[\"demo.vn\"]\n[fields]\ntitle=\"//h1\"\nbody=\"//div[@class='gone']\"\n",
                         "demo.toml", errs));
  ExtractOptions o;
  o.templates = &reg;
  std::string para = "<p>Đây là một đoạn văn dài của bài báo, có nhiều chữ, nhiều dấu phẩy, và đủ dài để được chấm điểm là nội dung chính.</p>";
  std::string page = "<html><body><h1>Tiêu đề</h1><div class='article'>" + para + para + para + "</div></body></html>";
  Article a = extract_article(page, "https://demo.vn/a-1.html", "", o);
  EXPECT_EQ(a.template_name, "demo@2");
  EXPECT_EQ(a.title, "Tiêu đề");
  EXPECT_FALSE(a.body.empty());
  EXPECT_EQ(a.extractor, "generic");
  EXPECT_TRUE(std::any_of(a.warnings.begin(), a.warnings.end(),
                          [](const std::string& w) { return w.find("body empty") != std::string::npos; }));
}

// A template's update time that repeats the published instant says nothing; the page's metadata update time wins
// when it is later (VnExpress: meta lastmod = publication, JSON-LD dateModified = the edit), never when it is the
// same or earlier; a template update time that differs from published is kept whatever the metadata says.
TEST(Extract, TemplateUpdateEqualToPublishedGivesWayToALaterMetadataOne) {
  std::vector<TemplateError> errs;
  TemplateRegistry reg;
  reg.add(parse_template("name=\"demo\"\nrevision=1\nhosts=[\"demo.vn\"]\n[fields]\ntitle=\"//h1\"\n"
                         "body=\"//div[@class='c']\"\npublished=\"//meta[@name='pub']/@content\"\n"
                         "updated=\"//meta[@name='lastmod']/@content\"\n",
                         "demo.toml", errs));
  ASSERT_TRUE(errs.empty());
  ExtractOptions o;
  o.templates = &reg;
  o.now = 1893456000;  // 2030-01-01: the dates below are in the past for the record rules
  const std::string para = "<p>Đây là một đoạn văn dài của bài báo, có nhiều chữ, đủ dài để làm thân bài.</p>";
  auto page = [&](const std::string& lastmod, const std::string& ld_modified) {
    std::string ld = ld_modified.empty() ? "" :
        "<script type=\"application/ld+json\">{\"@type\":\"NewsArticle\",\"headline\":\"Tiêu đề\","
        "\"datePublished\":\"2026-03-07T00:05:00+07:00\",\"dateModified\":\"" + ld_modified + "\"}</script>";
    return "<html><head><meta name='pub' content='2026-03-07T00:05:00+07:00'><meta name='lastmod' content='" +
           lastmod + "'>" + ld + "</head><body><h1>Tiêu đề</h1><div class='c'>" + para + para + "</div></body></html>";
  };
  auto updated = [&](const std::string& lastmod, const std::string& ld) {
    return extract_article(page(lastmod, ld), "https://demo.vn/a-1.html", "", o).updated;
  };
  EXPECT_EQ(updated("2026-03-07T00:05:00+07:00", "2026-03-07T07:38:56+07:00"), "2026-03-07T07:38:56+07:00");
  EXPECT_EQ(updated("2026-03-07T00:05:00+07:00", "2026-03-07T00:05:00+07:00"), "");  // same instant: null
  EXPECT_EQ(updated("2026-03-07T00:05:00+07:00", "2026-03-06T22:00:00+07:00"), "");  // earlier: not an update
  EXPECT_EQ(updated("2026-03-07T00:05:00+07:00", ""), "");
  EXPECT_EQ(updated("2026-03-07T09:00:00+07:00", "2026-03-07T07:38:56+07:00"), "2026-03-07T09:00:00+07:00");
}

// ---- Issue 14: template URL rules are RE2 ---------------------------------------------------------------------

namespace {

std::shared_ptr<const SiteTemplate> with_rules(const std::string& rules, std::vector<TemplateError>& errs) {
  return parse_template("name = \"x\"\nrevision = 1\nhosts = [\"x.vn\"]\n" + rules +
                            "\n[fields]\ntitle = \"//h1\"\nbody = \"//p\"\n",
                        "x.toml", errs);
}

}  // namespace

// A 30 KB item link on a template host: std::regex recursed per character and crashed the daemon.
TEST(TemplateUrlRules, LongLinksDoNotCrash) {
  std::vector<TemplateError> errs;
  auto t = load_template(std::string(BAOTIN_SOURCE_DIR) + "/sites/vnexpress.toml", errs);
  ASSERT_TRUE(t) << (errs.empty() ? "" : errs[0].str());
  std::string link = "https://vnexpress.net/" + std::string(30000, 'a') + "-4567890.html";
  EXPECT_FALSE(t->is_article_url(link));  // longer than limits::kMaxUrlBytes: never an article
  std::string under = "https://vnexpress.net/" + std::string(8000, 'a') + "-4567890.html";
  EXPECT_TRUE(t->is_article_url(under));  // under the cap the rules run (linear time) and match
  EXPECT_FALSE(t->is_article_url("https://video.vnexpress.net/" + std::string(8000, 'a') + "-4567890.html"));
  EXPECT_TRUE(t->is_article_url("https://vnexpress.net/mua-lon-o-ha-noi-4567890.html"));
  EXPECT_FALSE(t->is_article_url("https://vnexpress.net/topic/mua-lon-4567890.html"));
  // '/gl/.+/\d{4}/\d{2}/[^/]+/?$': std::regex recursed once per character of ".+" (SIGSEGV at 30 KB).
  EXPECT_FALSE(t->is_article_url("https://vnexpress.net/gl/" + std::string(30000, 'a') + "/2026/03/x/"));
  EXPECT_TRUE(t->is_article_url("https://vnexpress.net/gl/" + std::string(8000, 'a') + "/2026/03/x/"));
}

// A user regex with nested quantifiers cannot stall matching: RE2 has no backtracking. (With std::regex this
// URL took exponential time.) Only the result is checked, never the time taken.
TEST(TemplateUrlRules, NestedQuantifiersOnAdversarialUrl) {
  std::vector<TemplateError> errs;
  auto t = with_rules("skip_urls = ['(a+)+$', '^(([a-z])+.)+[A-Z]([a-z])+$']\narticle_urls = ['(x+x+)+y']", errs);
  ASSERT_TRUE(t) << (errs.empty() ? "" : errs[0].str());
  std::string url = "https://x.vn/" + std::string(8000, 'a') + "!";
  EXPECT_FALSE(t->is_article_url(url));  // no skip rule matches, and '(x+x+)+y' does not either
  EXPECT_FALSE(t->is_article_url("https://x.vn/" + std::string(8000, 'x')));
  EXPECT_TRUE(t->is_article_url("https://x.vn/" + std::string(8000, 'x') + "y!"));
  EXPECT_FALSE(t->is_article_url("https://x.vn/" + std::string(100, 'a')));  // skipped: ends in a+
}

// Template rules are RE2 syntax, checked when the template loads: `baotin check` reports file:line.
TEST(TemplateUrlRules, InvalidRe2RuleIsReportedWithItsLine) {
  std::vector<TemplateError> errs;
  // Lookahead and backreferences are ECMAScript but not RE2.
  EXPECT_FALSE(with_rules("skip_urls = [\n  '/video/',\n  '-(?!amp)\\d+\\.html',\n]", errs));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].line, 6);
  EXPECT_NE(errs[0].str().find("x.toml:6: skip_urls: invalid regex '-(?!amp)\\d+\\.html' (RE2 syntax)"),
            std::string::npos)
      << errs[0].str();
  errs.clear();
  EXPECT_FALSE(with_rules("article_urls = ['(a)\\1']", errs));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].line, 4);
}

// Every shipped template loads with RE2 and its rules keep their meaning.
TEST(TemplateUrlRules, ShippedTemplatesAreRe2) {
  std::vector<TemplateError> errs;
  TemplateRegistry reg;
  reg.load_dir(std::string(BAOTIN_SOURCE_DIR) + "/sites", errs);
  for (const auto& e : errs) ADD_FAILURE() << e.str();
  EXPECT_GE(reg.all().size(), 16u);
  auto is_article = [&](const std::string& u) { return reg.for_url(u) && reg.for_url(u)->is_article_url(u); };
  EXPECT_TRUE(is_article("https://tuoitre.vn/mua-lon-20260307080600123.htm"));
  EXPECT_FALSE(is_article("https://tuoitre.vn/video/mua-lon-20260307080600123.htm"));
  EXPECT_TRUE(is_article("https://www.vietnamplus.vn/mua-lon-post123456.vnp"));
  EXPECT_FALSE(is_article("https://www.vietnamplus.vn/tag/mua-lon-post123456.vnp"));
  EXPECT_TRUE(is_article("https://dantri.com.vn/xa-hoi/mua-lon-20260307080600123.htm"));
  EXPECT_FALSE(is_article("https://dantri.com.vn/video/mua-lon-20260307080600123.htm"));
}

// [[layout]] (issue 13): an outlet's earlier layouts in the same template; the first whose detect matches
// replaces the fields it names and adds its remove rules; the record says which layout was used.
TEST(Template, LayoutsCoverEarlierPageLayouts) {
  std::vector<TemplateError> errs;
  auto t = parse_template(R"(name = "ly"
revision = 3
hosts = ["ly.vn"]
remove = ["//div[@class='ads']"]
[fields]
title = "//h1[@class='title-2026']"
body = "//article/p"
published = "//time/@datetime"
[[layout]]
name = "2012"
detect = "//div[@id='ArticleContent']"
remove = ["//div[@id='ArticleContent']//div[@class='relate']"]
[layout.fields]
title = "//div[@class='detail']/h1"
body = "//div[@id='ArticleContent']/p"
[[layout]]
name = "2016"
detect = "//div[@id='ArticleContent'] | //div[@class='content-2016']"
[layout.fields]
body = "//div[@class='content-2016']/p"
)", "ly.toml", errs);
  ASSERT_TRUE(t) << (errs.empty() ? "" : errs[0].str());
  ASSERT_EQ(t->layouts.size(), 2u);
  TemplateRegistry reg;
  reg.add(t);
  ExtractOptions o;
  o.templates = &reg;
  o.allow_generic = false;
  const std::string p2012 =
      "<html><body><div class='detail'><h1>Tiêu đề năm 2012</h1></div><div id='ArticleContent'><p>Đoạn một của bài "
      "năm 2012.</p><div class='relate'><p>Tin liên quan cũ</p></div><p>Đoạn hai.</p></div><div class='ads'>QC</div>"
      "<time datetime='2012-12-25T10:03:00+07:00'></time></body></html>";
  Article a = extract_article(p2012, "https://ly.vn/a-1.html", "", o);
  EXPECT_EQ(a.template_name, "ly@3/2012");  // the first matching layout, although 2016's detect matches too
  EXPECT_EQ(a.title, "Tiêu đề năm 2012");
  EXPECT_EQ(a.body, (std::vector<std::string>{"Đoạn một của bài năm 2012.", "Đoạn hai."}));  // layout remove ran
  EXPECT_EQ(a.published, "2012-12-25T10:03:00+07:00");  // a field the layout does not name: the template's
  const std::string p2016 = "<html><body><h1 class='title-2026'>Tiêu đề 2016</h1><div class='content-2016'><p>Nội dung."
                            "</p></div></body></html>";
  a = extract_article(p2016, "https://ly.vn/b-2.html", "", o);
  EXPECT_EQ(a.template_name, "ly@3/2016");
  EXPECT_EQ(a.title, "Tiêu đề 2016");
  EXPECT_EQ(a.body, std::vector<std::string>{"Nội dung."});
  const std::string p2026 = "<html><body><h1 class='title-2026'>Tiêu đề 2026</h1><article><p>Bài mới.</p></article>"
                            "</body></html>";
  a = extract_article(p2026, "https://ly.vn/c-3.html", "", o);
  EXPECT_EQ(a.template_name, "ly@3");  // no layout matched: the template's own fields
  EXPECT_EQ(a.body, std::vector<std::string>{"Bài mới."});

  // Errors with lines: no detect, an unknown field or key, a duplicate name.
  errs.clear();
  EXPECT_FALSE(parse_template("name = \"e\"\nrevision = 1\nhosts = [\"e.vn\"]\n[fields]\ntitle = \"//h1\"\nbody = \"//p\"\n"
                              "[[layout]]\nname = \"old\"\n[layout.fields]\nheadline = \"//h2\"\n"
                              "[[layout]]\nname = \"old\"\ndetect = \"//x\"\nwhen = 1\n",
                              "e.toml", errs));
  std::string all;
  for (const auto& e : errs) all += e.str() + "\n";
  EXPECT_NE(all.find("missing detect"), std::string::npos) << all;
  EXPECT_NE(all.find("unknown field 'headline'"), std::string::npos) << all;
  EXPECT_NE(all.find("given twice"), std::string::npos) << all;
  EXPECT_NE(all.find("unknown key 'when'"), std::string::npos) << all;
  for (const auto& e : errs) EXPECT_GT(e.line, 0) << e.str();
}
