// repo/page.h's contract: Where and SelectPage/SelectAll give the same answers on every backend.
// A backend's test file defines an Env (Open(): a fresh, migrated database per test) and
// instantiates the suite:
//   INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, PageContractTest, SqliteEnv);
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "db/database.h"
#include "repo/page.h"

namespace cuttle::repo {

struct Item {
  std::string id;
  std::string name;
};

template <class Env>
class PageContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = env_.Open();
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(
        db_->Execute("CREATE TABLE page_items (id TEXT PRIMARY KEY, n BIGINT NOT NULL, "
                     "name TEXT NOT NULL)"));
  }

  void Insert(int n, const std::string& name) {
    ASSERT_TRUE(db_->Execute("INSERT INTO page_items (id, n, name) VALUES ($1, $2, $3)",
                             {"Items-" + std::to_string(n), int64_t{n}, name}));
  }
  // Items-1 .. Items-<count>, named "item <n>".
  void InsertMany(int count) {
    for (int i = 1; i <= count; ++i) Insert(i, "item " + std::to_string(i));
  }

  static Item Read(const db::Row& r) { return Item{r.GetString("id"), r.GetString("name")}; }

  Page<Item> List(const Where& w, const PageQuery& q) {
    auto page = SelectPage<Item>(*db_, "id, name", "page_items", w, "n", q, Read);
    EXPECT_TRUE(page) << page.error().message();
    return page.value_or(Page<Item>{});
  }
  Page<Item> List(const PageQuery& q) {
    Where w;
    w.ListFilters(q);
    return List(w, q);
  }
  static std::vector<std::string> Ids(const Page<Item>& p) {
    std::vector<std::string> out;
    for (const auto& i : p.items) out.push_back(i.id);
    return out;
  }

  Env env_;
  std::unique_ptr<db::Database> db_;
};

TYPED_TEST_SUITE_P(PageContractTest);

TYPED_TEST_P(PageContractTest, PagesInOrderWithTheTotalOfEveryMatch) {
  this->InsertMany(25);
  PageQuery q;
  q.take = 10;
  auto first = this->List(q);
  EXPECT_EQ(first.total, 25);
  ASSERT_EQ(first.items.size(), 10u);
  EXPECT_EQ(first.items.front().id, "Items-1");
  q.skip = 20;
  auto last = this->List(q);
  EXPECT_EQ(last.total, 25);
  EXPECT_EQ(this->Ids(last),
            (std::vector<std::string>{"Items-21", "Items-22", "Items-23", "Items-24", "Items-25"}));
}

TYPED_TEST_P(PageContractTest, SkipBeyondTheTotalGivesAnEmptyPageAndTheTotal) {
  this->InsertMany(5);
  PageQuery q;
  q.skip = 5;
  EXPECT_TRUE(this->List(q).items.empty());
  q.skip = 1000;
  auto page = this->List(q);
  EXPECT_TRUE(page.items.empty());
  EXPECT_EQ(page.total, 5);
}

TYPED_TEST_P(PageContractTest, TakeZeroCountsWithoutReturningRows) {
  this->InsertMany(5);
  PageQuery q;
  q.take = 0;
  auto page = this->List(q);
  EXPECT_TRUE(page.items.empty());
  EXPECT_EQ(page.total, 5);
}

TYPED_TEST_P(PageContractTest, HugeTakeAndSkipDoNotOverflow) {
  // Clients send take=2147483647 and worse; neither engine may overflow skip + take.
  this->InsertMany(3);
  PageQuery q;
  q.take = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(this->List(q).items.size(), 3u);
  q.skip = 1;
  EXPECT_EQ(this->List(q).items.size(), 2u);
  q.skip = std::numeric_limits<int64_t>::max();
  auto page = this->List(q);
  EXPECT_TRUE(page.items.empty());
  EXPECT_EQ(page.total, 3);
}

TYPED_TEST_P(PageContractTest, IdsMatchInAnyCaseAndAnEmptyListIsNoFilter) {
  this->InsertMany(10);
  PageQuery q;
  q.ids = std::vector<std::string>{"ITEMS-3", "items-7", "Items-42"};
  auto page = this->List(q);
  EXPECT_EQ(page.total, 2);
  EXPECT_EQ(this->Ids(page), (std::vector<std::string>{"Items-3", "Items-7"}));
  q.ids = std::vector<std::string>{""};  // "?ids=": Octopus treats it as no filter
  EXPECT_EQ(this->List(q).total, 10);
}

TYPED_TEST_P(PageContractTest, PartialNameMatchesLikeWildcardsLiterally) {
  this->Insert(1, "50% off");
  this->Insert(2, "a_b");
  this->Insert(3, "axb");
  this->Insert(4, "C:\\path");
  this->Insert(5, "Plain");
  auto named = [&](std::string partial) {
    PageQuery q;
    q.partial_name = std::move(partial);
    return this->Ids(this->List(q));
  };
  EXPECT_EQ(named("%"), (std::vector<std::string>{"Items-1"}));
  EXPECT_EQ(named("_"), (std::vector<std::string>{"Items-2"}));
  EXPECT_EQ(named("A_B"), (std::vector<std::string>{"Items-2"}));  // and case-insensitively
  EXPECT_EQ(named("\\"), (std::vector<std::string>{"Items-4"}));
  EXPECT_EQ(named("plain"), (std::vector<std::string>{"Items-5"}));
  EXPECT_EQ(named("").size(), 5u);  // empty: no filter
}

TYPED_TEST_P(PageContractTest, WhereNumbersItsParametersAcrossConditions) {
  this->InsertMany(10);
  Where w;
  w.Add("n >= {}", int64_t{2})
      .Add("n <= {} AND name <> {}", int64_t{8}, std::string("item 5"))
      .In("id", {"Items-2", "Items-5", "Items-8", "Items-9"})
      .Contains("name", "ITEM");
  EXPECT_EQ(w.next_parameter(), 9u);
  PageQuery q;
  auto page = this->List(w, q);
  EXPECT_EQ(this->Ids(page), (std::vector<std::string>{"Items-2", "Items-8"}));
  EXPECT_EQ(page.total, 2);
  auto all = SelectAll<Item>(*this->db_, "id, name", "page_items", w, "n DESC",
                             PageContractTest<TypeParam>::Read);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(all->front().id, "Items-8");
}

TYPED_TEST_P(PageContractTest, AnEmptyInListMatchesNothing) {
  this->InsertMany(3);
  Where w;
  w.In("id", {});
  auto page = this->List(w, PageQuery{});
  EXPECT_EQ(page.total, 0);
  Where lowered;
  lowered.InIgnoreCase("id", {});
  EXPECT_EQ(this->List(lowered, PageQuery{}).total, 0);
  EXPECT_EQ(Where().Sql(), "");
}

REGISTER_TYPED_TEST_SUITE_P(PageContractTest, PagesInOrderWithTheTotalOfEveryMatch,
                            SkipBeyondTheTotalGivesAnEmptyPageAndTheTotal,
                            TakeZeroCountsWithoutReturningRows, HugeTakeAndSkipDoNotOverflow,
                            IdsMatchInAnyCaseAndAnEmptyListIsNoFilter,
                            PartialNameMatchesLikeWildcardsLiterally,
                            WhereNumbersItsParametersAcrossConditions, AnEmptyInListMatchesNothing);

}  // namespace cuttle::repo
