// Paged listing in SQL, shared by every aggregate: a WHERE builder that numbers its parameters, the
// Octopus list filters every collection takes (ids, partialName), and one function that runs the
// count and the page. An aggregate's List() builds its Where from its own filter and calls
// SelectPage; nothing is filtered or paged in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "db/database.h"

namespace cuttle::repo {

// Octopus's common list parameters, already validated (api::ReadListParams).
struct PageQuery {
  int64_t skip = 0;
  int64_t take = 30;
  std::optional<std::vector<std::string>> ids;  // any of, case-insensitive
  std::optional<std::string> partial_name;      // contains, case-insensitive
};

// One page of an aggregate's rows and how many rows match in all.
template <class Row>
struct Page {
  std::vector<Row> items;
  int64_t total = 0;
};

// Conditions joined by AND. Each `{}` in a condition becomes the next $n, bound to the matching
// value, so fragments compose without counting parameters by hand:
//   Where w; w.Add("space_id = {}", space).Add("environment_id IN ({})", ids);
class Where {
 public:
  Where& Add(std::string_view condition, db::Value value);
  Where& Add(std::string_view condition, db::Value a, db::Value b);
  // Any number of `{}`, one value each, in order.
  Where& AddList(std::string_view condition, std::vector<db::Value> values);
  // `column` IN (v1, v2...); an empty list matches nothing.
  Where& In(std::string_view column, const std::vector<std::string>& values);
  // lower(column) IN (...), for ids a client may spell in another case.
  Where& InIgnoreCase(std::string_view column, const std::vector<std::string>& values);
  // lower(column) contains lower(text); LIKE's wildcards in `text` are matched literally.
  Where& Contains(std::string_view column, std::string_view text);
  // A condition without parameters.
  Where& Raw(std::string_view condition);
  // The PageQuery's ids and partialName, on the aggregate's id and name columns.
  Where& ListFilters(const PageQuery& q, std::string_view id_column = "id",
                     std::string_view name_column = "name");

  std::string Sql() const;  // " WHERE a AND b", or "" with no condition
  const db::Params& params() const { return params_; }
  size_t next_parameter() const { return params_.size() + 1; }

 private:
  std::string Bind(std::string_view condition, std::vector<db::Value> values);
  std::vector<std::string> conditions_;
  db::Params params_;
};

// An ORDER BY term sorting the text column `column` by its bytes, the same on both backends (a
// list ordered by name must not change order with the database's locale): `COLLATE "binary"` is
// SQLite's default collation, and on PostgreSQL a copy of "C" made by migration 0011 under that
// name. With `fold_case`, the column lower-cased first; under that collation PostgreSQL's lower()
// maps ASCII only, as SQLite's does. Only ORDER BY uses it: comparisons and indexes keep theirs.
//   ByteOrder("name", true) == R"(lower(name COLLATE "binary"))"
std::string ByteOrder(std::string_view column, bool fold_case = false);

// SELECT `columns` FROM `from` `where` ORDER BY `order_by` LIMIT take OFFSET skip, and the count
// of every matching row, each row read by `read`. Runs on the database or in a transaction.
template <class Row>
using RowReader = std::function<Row(const db::Row&)>;

Result<db::ResultSet> SelectPageRows(db::Database& db, std::string_view columns,
                                     std::string_view from, const Where& where,
                                     std::string_view order_by, const PageQuery& q, int64_t* total);

template <class Row>
Result<Page<Row>> SelectPage(db::Database& db, std::string_view columns, std::string_view from,
                             const Where& where, std::string_view order_by, const PageQuery& q,
                             const RowReader<Row>& read) {
  Page<Row> page;
  CUTTLE_TRY(auto rows, SelectPageRows(db, columns, from, where, order_by, q, &page.total));
  page.items.reserve(rows.rows.size());
  for (const auto& r : rows.rows) page.items.push_back(read(r));
  return page;
}

// Every matching row, unpaged (the `/all` routes and internal lookups).
template <class Row>
Result<std::vector<Row>> SelectAll(db::Database& db, std::string_view columns,
                                   std::string_view from, const Where& where,
                                   std::string_view order_by, const RowReader<Row>& read) {
  std::string sql = "SELECT " + std::string(columns) + " FROM " + std::string(from) + where.Sql() +
                    " ORDER BY " + std::string(order_by);
  CUTTLE_TRY(auto rows, db.Execute(sql, where.params()));
  std::vector<Row> out;
  out.reserve(rows.rows.size());
  for (const auto& r : rows.rows) out.push_back(read(r));
  return out;
}

}  // namespace cuttle::repo
