#include "store/export.h"

#include "test_util.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

namespace fs = std::filesystem;
using namespace baotin;

namespace {

struct TempDir : baotin::testing::TempDir {
  TempDir() : baotin::testing::TempDir("baotin-export") {}
};

std::string text(const std::string& seed, int words = 50) {
  static const char* kSyl[] = {"người", "dân", "thành", "phố", "chuẩn", "bị", "đón", "Tết", "kinh", "tế",
                               "tăng", "trưởng", "giá", "vàng", "bóng", "đá", "thời", "tiết", "mưa", "bão",
                               "giáo", "dục", "học", "sinh", "bệnh", "viện", "giao", "thông", "xe", "máy",
                               "chính", "phủ", "quốc", "hội", "doanh", "nghiệp", "xuất", "khẩu", "nông", "sản"};
  uint64_t x = XXH3_64bits(seed.data(), seed.size()) | 1;
  std::string s = seed;
  for (int i = 0; i < words; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s += ' ';
    s += kSyl[x % (sizeof kSyl / sizeof *kSyl)];
  }
  return s;
}

Article story(int i, const std::string& site) {
  Article a;
  a.url = a.canonical_url = "https://" + site + ".vn/bai-" + std::to_string(i) + ".html";
  a.site = site;
  a.title = "Tin " + std::to_string(i) + ": \"trích dẫn\", dấu phẩy";
  a.lead = text("sapo " + std::to_string(i), 20);
  a.body = {text("đoạn một " + std::to_string(i)), text("đoạn hai " + std::to_string(i)) + "\ncó xuống dòng"};
  a.authors = {"Minh Anh", "Hoàng Long"};
  a.tags = {"thời sự", "xã hội"};
  a.images = {{"https://img/" + std::to_string(i) + ".jpg", "Ảnh: minh họa, 1"}, {"https://img/b.jpg", ""}};
  a.published = "2026-03-07T0" + std::to_string(i % 10) + ":00:00+07:00";
  a.fetched_at = "2026-03-07T10:00:00+07:00";
  return a;
}

// Minimal RFC 4180 reader (quoted fields, doubled quotes, CRLF records).
std::vector<std::vector<std::string>> parse_csv(const std::string& s) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, in_quotes = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < s.size() && s[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"') {
      EXPECT_TRUE(field.empty()) << "quote inside an unquoted field";
      in_quotes = quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      quoted = false;
    } else if (c == '\r') {
      EXPECT_TRUE(i + 1 < s.size() && s[i + 1] == '\n') << "bare CR";
    } else if (c == '\n') {
      EXPECT_TRUE(i > 0 && s[i - 1] == '\r') << "bare LF outside quotes";
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
      quoted = false;
    } else {
      field += c;
    }
  }
  EXPECT_FALSE(in_quotes);
  EXPECT_TRUE(row.empty() && field.empty()) << "last record not terminated";
  (void)quoted;
  return rows;
}

std::vector<nlohmann::json> parse_jsonl(const std::string& s) {
  std::vector<nlohmann::json> out;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err;
    st = Store::open({(dir.path / "db").string(), false}, &err);
    ASSERT_TRUE(st) << err;
    for (int i = 1; i <= 3; ++i) ids["vne" + std::to_string(i)] = st->put_article(story(i, "vnexpress"), "").id;  // 1..3
    for (int i = 4; i <= 5; ++i) ids["tt" + std::to_string(i)] = st->put_article(story(i, "tuoitre"), "").id;     // 4..5
    Article upd = story(2, "vnexpress");
    upd.body.push_back("Đính chính: bài viết đã được cập nhật.");
    ASSERT_EQ(st->put_article(upd, "").kind, PutKind::Updated);  // 6
    Article copy = story(1, "vnexpress");
    copy.url = copy.canonical_url = "https://baomoi.com/copy-1.epi";
    copy.site = "baomoi";
    copy.published = "2026-03-07T09:30:00+07:00";
    auto rc = st->put_article(copy, "");  // 7
    ASSERT_EQ(rc.kind, PutKind::Duplicate);
    ids["copy"] = rc.id;
  }
  std::string run(const ExportOptions& o, uint64_t* cursor = nullptr) {
    std::ostringstream out;
    uint64_t c = export_records(*st, o, out);
    if (cursor) *cursor = c;
    return out.str();
  }
  TempDir dir;
  std::unique_ptr<Store> st;
  std::map<std::string, std::string> ids;
};

}  // namespace

TEST_F(ExportTest, JsonlLatestOncePerArticleInChangeOrder) {
  uint64_t cursor = 0;
  auto recs = parse_jsonl(run({}, &cursor));
  EXPECT_EQ(cursor, 7u);
  ASSERT_EQ(recs.size(), 6u);
  std::vector<std::string> order;
  for (const auto& j : recs) order.push_back(j["id"]);
  EXPECT_EQ(order, (std::vector<std::string>{ids["vne1"], ids["vne3"], ids["tt4"], ids["tt5"], ids["vne2"], ids["copy"]}));
  EXPECT_EQ(recs[4]["version"], 2);
  EXPECT_EQ(recs[4]["seq"], 6);
  EXPECT_EQ(recs[0]["seq"], 1);
  Article back = article_from_json(recs[0]);
  Article orig = story(1, "vnexpress");
  EXPECT_EQ(back.title, orig.title);
  EXPECT_EQ(back.body, orig.body);
  EXPECT_EQ(back.images, orig.images);
  EXPECT_EQ(back.content_hash, content_hash(orig));
  EXPECT_EQ(recs[5]["duplicate_of"], ids["vne1"]);
}

TEST_F(ExportTest, CsvParsesBackRfc4180) {
  ExportOptions o;
  o.format = "csv";
  const std::string out = run(o);
  auto rows = parse_csv(out);
  ASSERT_EQ(rows.size(), 7u);  // header + 6
  EXPECT_EQ(rows[0], csv_columns());
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < rows[0].size(); ++i) col[rows[0][i]] = i;
  for (const auto& r : rows) ASSERT_EQ(r.size(), csv_columns().size());
  const auto& r1 = rows[1];
  Article a = story(1, "vnexpress");
  EXPECT_EQ(r1[col["seq"]], "1");
  EXPECT_EQ(r1[col["id"]], ids["vne1"]);
  EXPECT_EQ(r1[col["title"]], a.title);
  EXPECT_EQ(r1[col["body"]], a.body[0] + "\n\n" + a.body[1]);
  EXPECT_EQ(r1[col["authors"]], "Minh Anh; Hoàng Long");
  EXPECT_EQ(r1[col["tags"]], "thời sự; xã hội");
  EXPECT_EQ(r1[col["images"]], "https://img/1.jpg|Ảnh: minh họa, 1; https://img/b.jpg|");
  EXPECT_EQ(r1[col["partial"]], "false");
  EXPECT_EQ(rows[5][col["version"]], "2");
  EXPECT_EQ(rows[6][col["duplicate_of"]], ids["vne1"]);

  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("x\ny"), "\"x\ny\"");
}

TEST_F(ExportTest, SinceCursorResumes) {
  uint64_t c1 = 0;
  run({}, &c1);
  ASSERT_EQ(c1, 7u);
  ExportOptions o;
  o.since = c1;
  uint64_t c2 = 0;
  EXPECT_EQ(run(o, &c2), "");
  EXPECT_EQ(c2, c1);  // nothing new: the cursor stays

  Article upd = story(4, "tuoitre");
  upd.title = "Tiêu đề đã sửa";
  st->put_article(upd, "");                         // 8
  st->put_article(story(9, "vnexpress"), "");        // 9
  upd.lead = "Sapo sửa lần hai";
  st->put_article(upd, "");                         // 10
  auto recs = parse_jsonl(run(o, &c2));
  EXPECT_EQ(c2, 10u);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["seq"], 9);
  EXPECT_EQ(recs[1]["id"], ids["tt4"]);
  EXPECT_EQ(recs[1]["version"], 3);  // latest, once
  EXPECT_EQ(recs[1]["seq"], 10);

  o.since = 8;
  recs = parse_jsonl(run(o));
  ASSERT_EQ(recs.size(), 2u);
}

TEST_F(ExportTest, SiteFilter) {
  ExportOptions o;
  o.site = "tuoitre";
  uint64_t c = 0;
  auto recs = parse_jsonl(run(o, &c));
  ASSERT_EQ(recs.size(), 2u);
  for (const auto& j : recs) EXPECT_EQ(j["site"], "tuoitre");
  EXPECT_EQ(c, 7u);  // the cursor covers the events that were filtered out too
  o.site = "nosuchsite";
  EXPECT_EQ(run(o, &c), "");
  EXPECT_EQ(c, 7u);
}

TEST_F(ExportTest, AllVersions) {
  ExportOptions o;
  o.versions = true;
  auto recs = parse_jsonl(run(o));
  ASSERT_EQ(recs.size(), 7u);
  std::vector<int> vne2;
  for (const auto& j : recs)
    if (j["id"] == ids["vne2"]) vne2.push_back(j["version"]);
  EXPECT_EQ(vne2, (std::vector<int>{1, 2}));
  for (size_t i = 0; i < recs.size(); ++i) EXPECT_EQ(recs[i]["seq"], i + 1);
  o.since = 5;
  recs = parse_jsonl(run(o));
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["version"], 2);
}

TEST_F(ExportTest, OnePerCluster) {
  ExportOptions o;
  o.one_per_cluster = true;
  auto recs = parse_jsonl(run(o));
  ASSERT_EQ(recs.size(), 5u);
  for (const auto& j : recs) {
    EXPECT_NE(j["id"], ids["copy"]);
    EXPECT_TRUE(j["duplicate_of"].is_null()) << j.dump();  // missing is null (issue 13)
  }
  o.site = "baomoi";
  EXPECT_EQ(run(o), "");
}

TEST_F(ExportTest, UnknownFormatIsAnError) {
  ExportOptions o;
  o.format = "xml";
  std::ostringstream out;
  EXPECT_THROW(export_records(*st, o, out), std::invalid_argument);
}

TEST_F(ExportTest, WorksFromSecondary) {
  std::string err;
  auto sec = Store::open_secondary((dir.path / "db").string(), (dir.path / "sec").string(), &err);
  ASSERT_TRUE(sec) << err;
  std::ostringstream out;
  EXPECT_EQ(export_records(*sec, {}, out), 7u);
  EXPECT_EQ(parse_jsonl(out.str()).size(), 6u);
}
