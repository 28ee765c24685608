#include "repo/machine_policies.h"

#include "core/strings.h"
#include "repo/document.h"

namespace cuttle::repo {

namespace {

constexpr const char* kColumns = "id, space_id, name, is_default, json";
const std::string kOrder = "LENGTH(id), " + ByteOrder("id");

MachinePolicyRow ReadPolicy(const db::Row& r) {
  return MachinePolicyRow{r.GetString("id"), r.GetString("space_id"), r.GetString("name"),
                          r.GetBool("is_default"), ReadDocument(r)};
}

Where InSpace(const std::string& space_id, const PageQuery& q) {
  Where w;
  w.Add("space_id = {}", space_id);
  w.ListFilters(q);
  return w;
}

}  // namespace

Result<Page<MachinePolicyRow>> ListMachinePolicies(db::Database& db, const std::string& space_id,
                                                   const PageQuery& q) {
  return SelectPage<MachinePolicyRow>(db, kColumns, "machine_policies", InSpace(space_id, q),
                                      kOrder, q, ReadPolicy);
}

Result<std::vector<MachinePolicyRow>> ListAllMachinePolicies(db::Database& db,
                                                             const std::string& space_id,
                                                             const PageQuery& q) {
  return SelectAll<MachinePolicyRow>(db, kColumns, "machine_policies", InSpace(space_id, q), kOrder,
                                     ReadPolicy);
}

Result<std::optional<MachinePolicyRow>> FindMachinePolicy(db::Database& db,
                                                          const std::string& space_id,
                                                          const std::string& id) {
  Where w;
  w.Add("space_id = {}", space_id).Add("lower(id) = {}", core::ToLower(id));
  CUTTLE_TRY(auto rows,
             SelectAll<MachinePolicyRow>(db, kColumns, "machine_policies", w, kOrder, ReadPolicy));
  if (rows.empty()) return std::optional<MachinePolicyRow>();
  return std::optional<MachinePolicyRow>(std::move(rows.front()));
}

Result<std::optional<std::string>> DefaultMachinePolicyId(db::Transaction& tx,
                                                          const std::string& space_id) {
  CUTTLE_TRY(auto rows, tx.Execute("SELECT id FROM machine_policies WHERE space_id = $1 AND "
                                   "is_default = $2 ORDER BY LENGTH(id), id",
                                   {space_id, true}));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows.front().GetString(0));
}

Result<std::optional<std::string>> FindMachinePolicyId(db::Transaction& tx,
                                                       const std::string& space_id,
                                                       const std::string& id) {
  CUTTLE_TRY(auto rows,
             tx.Execute("SELECT id FROM machine_policies WHERE space_id = $1 AND lower(id) = $2",
                        {space_id, core::ToLower(id)}));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows.front().GetString(0));
}

}  // namespace cuttle::repo
