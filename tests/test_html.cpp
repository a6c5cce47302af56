#include <gtest/gtest.h>

#include "extract/html.h"

using namespace baotin;

TEST(Html, ConvertsToXPathableDocument) {
  auto doc = parse_html(R"(<!DOCTYPE html><html><head><title>T</title>
    <script>var x = "<p>not text</p>";</script>
    <script type="application/ld+json">{"@type":"NewsArticle"}</script></head>
    <body><div class="a b" data-x=1><p>One <b>two</b></p><p>Three<br>four</p></div></body></html>)");
  auto div = doc->doc.select_node("//div[contains(@class,'b')]").node();
  ASSERT_TRUE(div);
  EXPECT_STREQ(div.attribute("data-x").value(), "1");
  auto paras = paragraphs_of(div);
  ASSERT_EQ(paras.size(), 3u);
  EXPECT_EQ(paras[0], "One two");
  EXPECT_EQ(paras[1], "Three");
  EXPECT_EQ(paras[2], "four");
  // Script text is dropped, JSON-LD kept.
  EXPECT_EQ(doc->doc.select_nodes("//script[not(@type)]/text()").size(), 0u);
  EXPECT_NE(std::string(doc->doc.select_node("//script[@type='application/ld+json']").node().child_value()).find("NewsArticle"),
            std::string::npos);
}

TEST(Html, TagSoupIsRepaired) {
  auto doc = parse_html("<p>unclosed <b>bold <i>both</p><p>next");
  EXPECT_EQ(doc->doc.select_nodes("//p").size(), 2u);
}

TEST(Html, SourceNewlinesAreNotParagraphs) {
  auto doc = parse_html("<div><p>line one\r\ncontinues</p></div>");
  auto paras = paragraphs_of(doc->doc.select_node("//div").node());
  ASSERT_EQ(paras.size(), 1u);
  EXPECT_EQ(paras[0], "line one continues");
}

TEST(Html, FiguresSkippedOnRequest) {
  auto doc = parse_html("<article><p>Body</p><figure><img src=a.jpg><figcaption>Caption</figcaption></figure></article>");
  auto art = doc->doc.select_node("//article").node();
  EXPECT_EQ(paragraphs_of(art, true), std::vector<std::string>{"Body"});
  EXPECT_EQ(paragraphs_of(art, false).size(), 2u);
}

TEST(Html, DeepNestingIsFlattenedNotCrashing) {
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "<div>";
  deep += "deep text";
  HtmlParseOptions o;
  o.max_depth = 100;
  auto doc = parse_html(deep, o);
  EXPECT_TRUE(doc->depth_limited);
  EXPECT_NE(inner_text(doc->html()).find("deep text"), std::string::npos);
}

TEST(Html, OversizedInputIsCut) {
  HtmlParseOptions o;
  o.max_bytes = 100;
  auto doc = parse_html(std::string(1000, 'x'), o);
  EXPECT_TRUE(doc->truncated);
}

TEST(Html, EmptyAndGarbageInput) {
  EXPECT_TRUE(parse_html("")->html());
  std::string garbage;
  for (int i = 0; i < 5000; ++i) garbage += static_cast<char>((i * 7919) & 0xFF);
  EXPECT_TRUE(parse_html(garbage)->html());
}

TEST(Html, OddAttributeAndTagNames) {
  auto doc = parse_html("<div 1bad=\"x\" good-one=\"y\" a\"b=c><my:tag>t</my:tag><weird$tag>u</weird$tag></div>");
  auto div = doc->doc.select_node("//div").node();
  ASSERT_TRUE(div);
  EXPECT_STREQ(div.attribute("good-one").value(), "y");
  EXPECT_NE(inner_text(div).find("t"), std::string::npos);
}

TEST(Html, DecodeEntities) {
  EXPECT_EQ(decode_entities("Tr&#432;&#7901;ng &amp; l&#7899;p"), "Trường & lớp");
  EXPECT_EQ(decode_entities("&ocirc;ng &quot;A&quot;"), "ông \"A\"");
  EXPECT_EQ(decode_entities("no entities"), "no entities");
}
