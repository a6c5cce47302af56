#include "store/export.h"

#include "test_util.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstdlib>
#include <filesystem>
#include <algorithm>
#include <map>
#include <set>
#include <functional>
#include <fstream>
#include "core/date.h"
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

// A full export reads the store in id order; tests that care about the change order sort by "seq".
std::vector<nlohmann::json> by_seq(std::vector<nlohmann::json> v) {
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a["seq"] < b["seq"]; });
  return v;
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

TEST_F(ExportTest, JsonlLatestOncePerArticleAtItsLastChange) {
  uint64_t cursor = 0;
  auto scanned = parse_jsonl(run({}, &cursor));
  EXPECT_EQ(cursor, 7u);
  ASSERT_EQ(scanned.size(), 6u);
  // A full export is one sequential scan: id order.
  for (size_t i = 1; i < scanned.size(); ++i) EXPECT_LT(scanned[i - 1]["id"], scanned[i]["id"]);
  auto recs = by_seq(scanned);
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
  std::stable_sort(rows.begin() + 1, rows.end(),
                   [&](const auto& a, const auto& b) { return std::stoi(a[col["seq"]]) < std::stoi(b[col["seq"]]); });
  const auto& r1 = rows[1];
  Article a = story(1, "vnexpress");
  EXPECT_EQ(r1[col["seq"]], "1");
  EXPECT_EQ(r1[col["id"]], ids["vne1"]);
  EXPECT_EQ(r1[col["title"]], a.title);
  EXPECT_EQ(r1[col["body"]], a.body[0] + "\n\n" + a.body[1]);
  // List fields are JSON arrays in the cell (unambiguous whatever the items hold).
  EXPECT_EQ(r1[col["authors"]], R"(["Minh Anh","Hoàng Long"])");
  EXPECT_EQ(r1[col["tags"]], R"(["thời sự","xã hội"])");
  EXPECT_EQ(r1[col["images"]],
            R"([{"caption":"Ảnh: minh họa, 1","url":"https://img/1.jpg"},{"caption":"","url":"https://img/b.jpg"}])");
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
  auto recs = by_seq(parse_jsonl(run(o, &c2)));
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
  auto recs = by_seq(parse_jsonl(run(o)));
  ASSERT_EQ(recs.size(), 7u);
  std::vector<int> vne2;
  for (const auto& j : recs)
    if (j["id"] == ids["vne2"]) vne2.push_back(j["version"]);
  EXPECT_EQ(vne2, (std::vector<int>{1, 2}));
  for (size_t i = 0; i < recs.size(); ++i) EXPECT_EQ(recs[i]["seq"], i + 1);
  o.since = 5;
  recs = by_seq(parse_jsonl(run(o)));
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

TEST_F(ExportTest, FollowStreamWritesEveryChangeInOrder) {
  std::ostringstream out;
  EXPECT_EQ(write_changes(*st, 0, {}, out), 7u);
  auto recs = parse_jsonl(out.str());
  ASSERT_EQ(recs.size(), 7u);  // every event, not once per article
  const std::vector<std::string> types = {"new", "new", "new", "new", "new", "updated", "duplicate"};
  for (size_t i = 0; i < recs.size(); ++i) {
    EXPECT_EQ(recs[i]["seq"], i + 1);
    EXPECT_EQ(recs[i]["change"], types[i]);
  }
  EXPECT_EQ(recs[1]["id"], ids["vne2"]);
  EXPECT_EQ(recs[1]["version"], 1);
  EXPECT_EQ(recs[5]["id"], ids["vne2"]);
  EXPECT_EQ(recs[5]["version"], 2);
  EXPECT_EQ(recs[6]["duplicate_of"], ids["vne1"]);
  // Resuming after a seq gives the rest; a filter leaves events out but the cursor covers them.
  std::ostringstream rest;
  ExportOptions o;
  o.site = "tuoitre";
  EXPECT_EQ(write_changes(*st, 4, o, rest), 7u);
  recs = parse_jsonl(rest.str());
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["seq"], 5);
  // A stop request ends the stream before the next event.
  std::atomic<bool> stop{true};
  std::ostringstream none;
  EXPECT_EQ(write_changes(*st, 2, {}, none, &stop), 2u);
  EXPECT_EQ(none.str(), "");
}

TEST(ExportBound, FormsAndTimezone) {
  // A date is a day in +07:00: --from its first second, --to the first second after it.
  EXPECT_EQ(parse_export_bound("2026-03-07", false), iso_to_epoch("2026-03-07T00:00:00+07:00"));
  EXPECT_EQ(parse_export_bound("2026-03-07", true), iso_to_epoch("2026-03-08T00:00:00+07:00"));
  EXPECT_EQ(parse_export_bound("2026-03-07T08:30", false), iso_to_epoch("2026-03-07T08:30:00+07:00"));
  EXPECT_EQ(parse_export_bound("2026-03-07T08:30:15", true), *iso_to_epoch("2026-03-07T08:30:15+07:00") + 1);
  EXPECT_EQ(parse_export_bound("2026-03-07T01:30:00Z", false), iso_to_epoch("2026-03-07T08:30:00+07:00"));
  EXPECT_EQ(parse_export_bound("2026-03-07 08:30:00+09:00", false), iso_to_epoch("2026-03-07T06:30:00+07:00"));
  for (const char* bad : {"", "2026", "2026-3-7", "07/03/2026", "2026-02-30", "2026-13-01", "2026-03-07T25:00",
                          "2026-03-07T08:30+7", "2026-03-07Tx", "2026-03-07T08:30:00 +07:00", "yesterday"})
    EXPECT_FALSE(parse_export_bound(bad, false)) << bad;
}

namespace {

Article filter_story(int i) {
  Article a = story(i, i % 2 ? "vnexpress" : "tuoitre");
  a.category = i % 3 == 0 ? "Kinh tế" : "Thời sự";
  a.language = i % 4 == 0 ? "en" : "vi";
  a.published = i == 7 ? "" : "2026-03-0" + std::to_string(1 + i % 9) + "T23:30:00+07:00";
  return a;
}

}  // namespace

TEST(ExportFilters, CategoryLanguagePublishedWindow) {
  TempDir dir;
  std::string err;
  auto st = Store::open({(dir.path / "db").string(), false}, &err);
  ASSERT_TRUE(st) << err;
  std::vector<Article> stored;
  for (int i = 1; i <= 12; ++i) {
    Article a = filter_story(i);
    a.id = st->put_article(a, "").id;
    stored.push_back(a);
  }
  auto ids_of = [&](const ExportOptions& o) {
    std::ostringstream out;
    export_records(*st, o, out);
    std::set<std::string> got;
    for (const auto& j : parse_jsonl(out.str())) got.insert(j["id"].get<std::string>());
    return got;
  };
  auto expect = [&](const std::function<bool(const Article&)>& keep) {
    std::set<std::string> want;
    for (const auto& a : stored)
      if (keep(a)) want.insert(a.id);
    return want;
  };
  ExportOptions o;
  o.category = "Kinh tế";
  EXPECT_EQ(ids_of(o), expect([](const Article& a) { return a.category == "Kinh tế"; }));
  EXPECT_EQ(ids_of(o).size(), 4u);
  o = {};
  o.language = "EN";  // ASCII case-insensitive
  EXPECT_EQ(ids_of(o), expect([](const Article& a) { return a.language == "en"; }));
  EXPECT_EQ(ids_of(o).size(), 3u);
  // 2026-03-03 .. 2026-03-05 as days in +07:00 (23:30 on the 5th is in, 23:30 on the 6th is not); the record
  // without a published time is out.
  o = {};
  o.from = parse_export_bound("2026-03-03", false);
  o.to_exclusive = parse_export_bound("2026-03-05", true);
  auto in_window = [](const Article& a) {
    return !a.published.empty() && a.published >= "2026-03-03" && a.published < "2026-03-06";
  };
  EXPECT_EQ(ids_of(o), expect(in_window));
  EXPECT_EQ(ids_of(o).size(), 5u);  // days 3, 4, 5: i = 2, 3, 4, 11, 12
  // Same window in UTC: 2026-03-02T17:00Z .. 2026-03-05T16:59:59Z.
  o.from = parse_export_bound("2026-03-02T17:00:00Z", false);
  o.to_exclusive = parse_export_bound("2026-03-05T16:59:59Z", true);
  EXPECT_EQ(ids_of(o), expect(in_window));
  // Filters combine; CSV filters the same way.
  o.site = "tuoitre";
  o.category = "Thời sự";
  auto combined = [&](const Article& a) { return in_window(a) && a.site == "tuoitre" && a.category == "Thời sự"; };
  EXPECT_EQ(ids_of(o), expect(combined));
  o.format = "csv";
  std::ostringstream csv;
  export_records(*st, o, csv);
  EXPECT_EQ(parse_csv(csv.str()).size(), 1 + expect(combined).size());
}

TEST(ExportPasses, BoundedPassesAndPointReadsGiveTheSameRecords) {
  TempDir dir;
  std::string err;
  auto st = Store::open({(dir.path / "db").string(), false}, &err);
  ASSERT_TRUE(st) << err;
  const char* sites[] = {"vnexpress", "tuoitre", "thanhnien"};
  for (int i = 1; i <= 300; ++i) st->put_article(story(i, sites[i % 3]), "");
  for (int i = 1; i <= 300; i += 7) {  // updates: those ids' last change is later
    Article a = story(i, sites[i % 3]);
    a.body.push_back("Cập nhật " + std::to_string(i));
    ASSERT_EQ(st->put_article(a, "").kind, PutKind::Updated);
  }
  const uint64_t last = st->last_seq();
  auto exported = [&](ExportOptions o, uint64_t* cursor = nullptr) {
    std::ostringstream out;
    const uint64_t c = export_records(*st, o, out);
    if (cursor) *cursor = c;
    return parse_jsonl(out.str());
  };
  for (bool versions : {false, true}) {
    ExportOptions one;
    one.versions = versions;
    auto ref = by_seq(exported(one));
    ASSERT_EQ(ref.size(), versions ? last : 300u);
    ExportOptions many = one;
    many.pass_records = 16;  // about 20-40 passes over id ranges
    uint64_t c = 0;
    auto got = exported(many, &c);
    EXPECT_EQ(c, last);
    std::set<std::pair<std::string, int>> seen;
    for (const auto& j : got)
      EXPECT_TRUE(seen.insert({j["id"].get<std::string>(), j["version"].get<int>()}).second) << "twice: " << j["id"];
    EXPECT_EQ(by_seq(got), ref);
    many.site = "tuoitre";
    one.site = "tuoitre";
    EXPECT_EQ(by_seq(exported(many)), by_seq(exported(one)));
  }
  // A small increment (a few changes of a large store) is read by point reads, in change order.
  ExportOptions inc;
  inc.since = last - 5;
  auto recs = exported(inc);
  ASSERT_EQ(recs.size(), 5u);
  for (size_t i = 0; i < recs.size(); ++i) EXPECT_EQ(recs[i]["seq"], last - 4 + i);
  // Each record carries its latest version and the seq of its last change.
  ExportOptions all;
  for (const auto& j : exported(all)) {
    const auto a = st->get(j["id"].get<std::string>());
    ASSERT_TRUE(a);
    EXPECT_EQ(j["version"], a->version);
  }
}

TEST(ExportCsv, ListFieldsRoundTripThroughPythonCsv) {
  TempDir dir;
  std::string err;
  auto st = Store::open({(dir.path / "db").string(), false}, &err);
  ASSERT_TRUE(st) << err;
  Article a = story(1, "vnexpress");
  a.authors = {"Minh Anh; Hoàng Long", "Lê \"Tí\" | Tèo", "Trần, Văn"};
  a.tags = {"a;b", "c|d", "e\"f", "g\nh", "", "[\"không\"]"};
  a.images = {{"https://img/1.jpg?a=1;b=2", "Ảnh: cảnh sát; hiện trường | \"nóng\"\ndòng hai"},
              {"https://img/2.jpg", ""},
              {"https://img/3.jpg|x", "; | \" \\ , \r\n"}};
  a.id = st->put_article(a, "").id;
  ExportOptions o;
  o.format = "csv";
  o.bom = true;
  std::ostringstream out;
  export_records(*st, o, out);
  const std::string csv = out.str();
  ASSERT_EQ(csv.substr(0, 3), "\xEF\xBB\xBF");
  const auto path = dir.path / "out.csv";
  std::ofstream(path, std::ios::binary) << csv;
  // Python's csv module reads the file as a spreadsheet-minded consumer would (utf-8-sig drops the BOM) and the
  // list cells are JSON-decoded.
  const std::string script = R"(import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding='utf-8-sig', newline='')))
out = [{'authors': json.loads(r['authors']), 'tags': json.loads(r['tags']), 'images': json.loads(r['images']),
        'id': r['id'], 'title': r['title']} for r in rows]
print(json.dumps(out, ensure_ascii=False))
)";
  std::ofstream(dir.path / "read.py") << script;
  auto r = baotin::testing::run_command("python3 " + (dir.path / "read.py").string() + " " + path.string());
  ASSERT_EQ(r.status, 0) << r.out;
  auto rows = nlohmann::json::parse(r.out);
  ASSERT_EQ(rows.size(), 1u);
  const auto stored = st->get(a.id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(rows[0]["id"], a.id);
  EXPECT_EQ(rows[0]["title"], stored->title);
  EXPECT_EQ(rows[0]["authors"].get<std::vector<std::string>>(), stored->authors);
  EXPECT_EQ(rows[0]["tags"].get<std::vector<std::string>>(), stored->tags);
  ASSERT_EQ(rows[0]["images"].size(), stored->images.size());
  for (size_t i = 0; i < stored->images.size(); ++i) {
    EXPECT_EQ(rows[0]["images"][i]["url"], stored->images[i].url);
    EXPECT_EQ(rows[0]["images"][i]["caption"], stored->images[i].caption);
  }
  // The store keeps what it was given, so the round trip covers the hard characters.
  EXPECT_EQ(stored->images[0].caption, a.images[0].caption);
  EXPECT_EQ(stored->authors, a.authors);
}
