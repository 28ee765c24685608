#include "repo/document.h"

#include <algorithm>

#include "core/json.h"
#include "core/strings.h"

namespace cuttle::repo {

nlohmann::json ReadDocument(const db::Row& row, std::string_view column) {
  auto parsed = core::ParseJson(row.GetString(column));
  if (!parsed || !parsed->is_object()) return nlohmann::json::object();
  return std::move(*parsed);
}

std::string Placeholders(size_t first, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    if (i) out += ',';
    out += '$';
    out += std::to_string(first + i);
  }
  return out;
}

Result<void> ReplaceChildren(db::Transaction& tx, std::string_view table,
                             std::string_view parent_column, std::string_view value_column,
                             const std::string& parent_id, const std::vector<std::string>& values) {
  const std::string t(table), p(parent_column), v(value_column);
  CUTTLE_TRY_VOID(tx.Execute("DELETE FROM " + t + " WHERE " + p + " = $1", {parent_id}));
  std::vector<std::string> seen;
  for (const auto& value : values) {
    if (std::find(seen.begin(), seen.end(), value) != seen.end()) continue;
    seen.push_back(value);
    CUTTLE_TRY_VOID(tx.Execute("INSERT INTO " + t + " (" + p + ", " + v + ") VALUES ($1, $2)",
                               {parent_id, value}));
  }
  return {};
}

Result<std::vector<std::string>> LockExisting(db::Transaction& tx, std::string_view table,
                                              const std::string& space_id,
                                              const std::vector<std::string>& ids) {
  std::vector<std::string> found;
  if (ids.empty()) return found;
  db::Params params{space_id};
  for (const auto& id : ids) params.emplace_back(core::ToLower(id));
  // A no-op UPDATE takes PostgreSQL's row locks on both dialects' terms (SQLite has one writer
  // already); a referring row and the referred row's delete are thus ordered.
  CUTTLE_TRY(auto rows, tx.Execute("UPDATE " + std::string(table) +
                                       " SET id = id WHERE space_id = $1 AND lower(id) IN (" +
                                       Placeholders(2, ids.size()) + ") RETURNING id",
                                   params));
  for (const auto& r : rows.rows) found.push_back(r.GetString(0));
  return found;
}

Error NameTaken(const Error& e, std::string_view kind, std::string_view name) {
  if (e.code() != ErrorCode::kAlreadyExists) return e;
  return Error::AlreadyExists(std::string(kind) + " with the name '" + std::string(name) +
                              "' already exists in this space.");
}

}  // namespace cuttle::repo
