#include <gtest/gtest.h>

#include "daemon/metrics.h"

using namespace baotin;

namespace {
Article page(bool body_ok, size_t chars = 500) {
  Article a;
  a.template_name = "vnexpress@4";
  a.title = "T";
  if (body_ok) {
    a.body = {std::string(chars, 'x')};
    a.fields = {"title", "body"};
    a.extractor = "template";
  } else {
    a.extractor = "generic";
    a.body = {"generic body"};
    a.fields = {"title"};
  }
  return a;
}
}  // namespace

TEST(TemplateHealth, DegradesWhenRecentPagesComeOutEmptyAndRecovers) {
  Metrics m;
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(m.record_extraction(page(true), 200));
  EXPECT_FALSE(m.health().at("vnexpress").degraded);
  int became = 0;
  for (int i = 0; i < 10; ++i) became += m.record_extraction(page(false), 200);
  EXPECT_EQ(became, 1);  // reported once, not per page
  auto h = m.health().at("vnexpress");
  EXPECT_TRUE(h.degraded);
  EXPECT_EQ(h.empty_body, 10u);
  EXPECT_EQ(h.generic_fallback, 10u);
  EXPECT_EQ(h.pages, 30u);
  EXPECT_NE(m.prometheus().find("baotin_template_degraded{template=\"vnexpress\"} 1"), std::string::npos);
  bool recovered = false, any = false;
  for (int i = 0; i < 20; ++i) {
    m.record_extraction(page(true), 200, &recovered);
    any |= recovered;
  }
  EXPECT_TRUE(any);
  EXPECT_FALSE(m.health().at("vnexpress").degraded);
}

TEST(TemplateHealth, ShortBodiesCountAndJsonRoundTrips) {
  Metrics m;
  for (int i = 0; i < 6; ++i) m.record_extraction(page(true, 50), 200);
  auto h = m.health().at("vnexpress");
  EXPECT_EQ(h.short_body, 6u);
  EXPECT_TRUE(h.degraded);
  auto back = TemplateHealth::from_json(h.to_json());
  EXPECT_EQ(back.short_body, 6u);
  EXPECT_EQ(back.recent_bad.size(), 6u);
  EXPECT_TRUE(back.degraded);
  EXPECT_EQ(back.field_hits.at("body"), 6u);
}

TEST(TemplateHealth, FewPagesAreNotEnoughEvidence) {
  Metrics m;
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(m.record_extraction(page(false), 200));
  EXPECT_FALSE(m.health().at("vnexpress").degraded);
  Article generic_only;  // no template: not counted
  EXPECT_FALSE(m.record_extraction(generic_only, 200));
  EXPECT_EQ(m.health().size(), 1u);
}

TEST(Metrics, StatusClassesInPrometheusText) {
  Metrics m;
  m.count_status(200, false);
  m.count_status(304, false);
  m.count_status(429, false);
  m.count_status(503, false);
  m.count_status(0, true);
  std::string p = m.prometheus();
  for (const char* s : {"2xx\"} 1", "304\"} 1", "429\"} 1", "5xx\"} 1", "error\"} 1"})
    EXPECT_NE(p.find(std::string("baotin_fetches_total{status=\"") + s), std::string::npos) << s;
  EXPECT_NE(p.find("# TYPE baotin_polls_total counter"), std::string::npos);
}
