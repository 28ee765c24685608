#include "repo/spaces.h"

namespace cuttle::repo {

namespace {

constexpr const char* kColumns = "id, name, slug, description, is_default, task_queue_stopped";
constexpr const char* kOrder = "LENGTH(id), id";

SpaceRow ReadSpace(const db::Row& r) {
  return SpaceRow{r.GetString("id"),       r.GetString("name"),
                  r.GetString("slug"),     r.GetString("description"),
                  r.GetBool("is_default"), r.GetBool("task_queue_stopped")};
}

}  // namespace

Result<Page<SpaceRow>> ListSpaces(db::Database& db, const PageQuery& q) {
  Where w;
  w.ListFilters(q);
  return SelectPage<SpaceRow>(db, kColumns, "spaces", w, kOrder, q, ReadSpace);
}

Result<std::vector<SpaceRow>> ListAllSpaces(db::Database& db, const PageQuery& q) {
  Where w;
  w.ListFilters(q);
  return SelectAll<SpaceRow>(db, kColumns, "spaces", w, kOrder, ReadSpace);
}

Result<std::optional<SpaceRow>> FindSpace(db::Database& db, const std::string& id) {
  Where w;
  w.Add("lower(id) = lower({})", id);
  CUTTLE_TRY(auto rows, SelectAll<SpaceRow>(db, kColumns, "spaces", w, kOrder, ReadSpace));
  if (rows.empty()) return std::optional<SpaceRow>();
  return std::optional<SpaceRow>(std::move(rows.front()));
}

}  // namespace cuttle::repo
