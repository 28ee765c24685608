#include "repo/page.h"

#include <algorithm>
#include <limits>

#include "core/strings.h"

namespace cuttle::repo {

std::string Where::Bind(std::string_view condition, std::vector<db::Value> values) {
  std::string out;
  size_t used = 0;
  for (size_t i = 0; i < condition.size(); ++i) {
    if (condition[i] == '{' && i + 1 < condition.size() && condition[i + 1] == '}') {
      CUTTLE_CHECK(used < values.size() && "more {} than values");
      params_.push_back(std::move(values[used++]));
      out += '$';
      out += std::to_string(params_.size());
      ++i;
    } else {
      out += condition[i];
    }
  }
  CUTTLE_CHECK(used == values.size() && "more values than {}");
  return out;
}

Where& Where::Add(std::string_view condition, db::Value value) {
  conditions_.push_back(Bind(condition, {std::move(value)}));
  return *this;
}

Where& Where::AddList(std::string_view condition, std::vector<db::Value> values) {
  conditions_.push_back(Bind(condition, std::move(values)));
  return *this;
}

Where& Where::Add(std::string_view condition, db::Value a, db::Value b) {
  conditions_.push_back(Bind(condition, {std::move(a), std::move(b)}));
  return *this;
}

namespace {
std::string InList(std::string_view lhs, size_t count) {
  std::string placeholders;
  for (size_t i = 0; i < count; ++i) placeholders += i ? ",{}" : "{}";
  return std::string(lhs) + " IN (" + placeholders + ")";
}
}  // namespace

Where& Where::In(std::string_view column, const std::vector<std::string>& values) {
  if (values.empty()) return Raw("1 = 0");
  conditions_.push_back(
      Bind(InList(column, values.size()), std::vector<db::Value>(values.begin(), values.end())));
  return *this;
}

Where& Where::InIgnoreCase(std::string_view column, const std::vector<std::string>& values) {
  if (values.empty()) return Raw("1 = 0");
  std::vector<db::Value> lowered;
  for (const auto& v : values) lowered.emplace_back(core::ToLower(v));
  conditions_.push_back(
      Bind(InList("lower(" + std::string(column) + ")", values.size()), std::move(lowered)));
  return *this;
}

Where& Where::Contains(std::string_view column, std::string_view text) {
  std::string pattern = "%";
  for (char c : core::ToLower(text)) {
    if (c == '%' || c == '_' || c == '\\') pattern += '\\';
    pattern += c;
  }
  pattern += '%';
  conditions_.push_back(
      Bind("lower(" + std::string(column) + ") LIKE {} ESCAPE '\\'", {std::move(pattern)}));
  return *this;
}

Where& Where::Raw(std::string_view condition) {
  conditions_.emplace_back(condition);
  return *this;
}

Where& Where::ListFilters(const PageQuery& q, std::string_view id_column,
                          std::string_view name_column) {
  if (q.ids) {
    std::vector<std::string> ids;
    for (const auto& id : *q.ids) {
      if (!id.empty()) ids.push_back(id);
    }
    // "ids=" (nothing listed) is no filter, as Octopus treats it.
    if (!ids.empty()) InIgnoreCase(id_column, ids);
  }
  if (q.partial_name && !q.partial_name->empty()) Contains(name_column, *q.partial_name);
  return *this;
}

std::string Where::Sql() const {
  std::string sql;
  for (const auto& c : conditions_) sql += (sql.empty() ? " WHERE " : " AND ") + c;
  return sql;
}

Result<db::ResultSet> SelectPageRows(db::Database& db, std::string_view columns,
                                     std::string_view from, const Where& where,
                                     std::string_view order_by, const PageQuery& q,
                                     int64_t* total) {
  const std::string tail = std::string(from) + where.Sql();
  CUTTLE_TRY(auto count, db.Execute("SELECT COUNT(*) FROM " + tail, where.params()));
  *total = count.front().GetInt(0);
  db::Params params = where.params();
  // Both dialects take a 64-bit LIMIT; clamp so skip + take never overflows inside the engine.
  const int64_t max = std::numeric_limits<int64_t>::max() / 2;
  params.emplace_back(std::min(q.take, max));
  params.emplace_back(std::min(q.skip, max));
  const size_t n = params.size();
  return db.Execute("SELECT " + std::string(columns) + " FROM " + tail + " ORDER BY " +
                        std::string(order_by) + " LIMIT $" + std::to_string(n - 1) + " OFFSET $" +
                        std::to_string(n),
                    params);
}

std::string ByteOrder(std::string_view column, bool fold_case) {
  const std::string collated = std::string(column) + " COLLATE \"binary\"";
  return fold_case ? "lower(" + collated + ")" : collated;
}

}  // namespace cuttle::repo
