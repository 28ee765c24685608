#include "repo/channels.h"

#include "repo/document.h"

namespace cuttle::repo {

namespace {

constexpr const char* kColumns = "id, space_id, project_id, name, lifecycle_id, is_default, json";
const std::string kOrder =
    "project_id, is_default DESC, " + ByteOrder("name", true) + ", " + ByteOrder("id");

ChannelRow ReadChannel(const db::Row& r) {
  ChannelRow c{r.GetString("id"),
               r.GetString("space_id"),
               r.GetString("project_id"),
               r.GetString("name"),
               r.GetOptionalString("lifecycle_id"),
               r.GetBool("is_default"),
               nlohmann::json::object()};
  c.doc = ReadDocument(r);
  return c;
}

Where FilterWhere(const ChannelFilter& f, const PageQuery& q) {
  Where w;
  w.Add("space_id = {}", f.space_id);
  if (f.project_id) w.Add("lower(project_id) = lower({})", *f.project_id);
  w.ListFilters(q);
  return w;
}

db::Value Nullable(const std::optional<std::string>& s) {
  return s ? db::Value(*s) : db::Value(std::monostate{});
}

template <class Exec>
Result<std::optional<ChannelRow>> FindIn(Exec& exec, const std::string& space_id,
                                         const std::string& id) {
  CUTTLE_TRY(auto rs, exec.Execute(std::string("SELECT ") + kColumns +
                                       " FROM channels WHERE space_id = $1 AND lower(id) = "
                                       "lower($2)",
                                   {space_id, id}));
  if (rs.empty()) return std::optional<ChannelRow>();
  return std::optional<ChannelRow>(ReadChannel(rs.front()));
}

}  // namespace

Result<Page<ChannelRow>> ListChannels(db::Database& db, const ChannelFilter& f,
                                      const PageQuery& q) {
  return SelectPage<ChannelRow>(db, kColumns, "channels", FilterWhere(f, q), kOrder, q,
                                ReadChannel);
}

Result<std::vector<ChannelRow>> ListAllChannels(db::Database& db, const ChannelFilter& f,
                                                const PageQuery& q) {
  return SelectAll<ChannelRow>(db, kColumns, "channels", FilterWhere(f, q), kOrder, ReadChannel);
}

Result<std::optional<ChannelRow>> FindChannel(db::Database& db, const std::string& space_id,
                                              const std::string& id) {
  return FindIn(db, space_id, id);
}

Result<std::optional<ChannelRow>> FindChannel(db::Transaction& tx, const std::string& space_id,
                                              const std::string& id) {
  return FindIn(tx, space_id, id);
}

Result<std::vector<ChannelRow>> ProjectChannels(db::Transaction& tx,
                                                const std::string& project_id) {
  CUTTLE_TRY(auto rs, tx.Execute(std::string("SELECT ") + kColumns +
                                     " FROM channels WHERE project_id = $1 ORDER BY " + kOrder,
                                 {project_id}));
  std::vector<ChannelRow> out;
  for (const auto& r : rs.rows) out.push_back(ReadChannel(r));
  return out;
}

Result<void> InsertChannel(db::Transaction& tx, const ChannelRow& c) {
  CUTTLE_TRY_VOID(tx.Execute(
      "INSERT INTO channels (id, space_id, project_id, name, lifecycle_id, is_default, json) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {c.id, c.space_id, c.project_id, c.name, Nullable(c.lifecycle_id), c.is_default,
       c.doc.dump()}));
  return {};
}

Result<void> UpdateChannel(db::Transaction& tx, const ChannelRow& c) {
  CUTTLE_TRY(auto rs,
             tx.Execute("UPDATE channels SET name = $2, lifecycle_id = $3, "
                        "is_default = $4, json = $5 WHERE id = $1",
                        {c.id, c.name, Nullable(c.lifecycle_id), c.is_default, c.doc.dump()}));
  if (rs.affected == 0) return Fail(Error::NotFound("channel", c.id));
  return {};
}

Result<void> ClearOtherDefaults(db::Transaction& tx, const std::string& project_id,
                                const std::string& keep_id) {
  CUTTLE_TRY_VOID(tx.Execute(
      "UPDATE channels SET is_default = $3 WHERE project_id = $1 AND id <> $2 AND is_default",
      {project_id, keep_id, false}));
  return {};
}

Result<void> DeleteChannel(db::Transaction& tx, const std::string& id) {
  CUTTLE_TRY(auto rs, tx.Execute("DELETE FROM channels WHERE id = $1", {id}));
  if (rs.affected == 0) return Fail(Error::NotFound("channel", id));
  return {};
}

Result<void> DeleteProjectChannels(db::Transaction& tx, const std::string& project_id) {
  CUTTLE_TRY_VOID(tx.Execute("DELETE FROM channels WHERE project_id = $1", {project_id}));
  return {};
}

}  // namespace cuttle::repo
