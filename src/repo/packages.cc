#include "repo/packages.h"

#include "core/strings.h"

namespace cuttle::repo {

namespace {

constexpr const char* kColumns =
    "space_id, package_id, version, title, summary, description, release_notes, authors, "
    "file_name, file_extension, size, sha1, sha256, published, version_order";

PackageRow ReadPackage(const db::Row& r) {
  PackageRow p;
  p.space_id = r.GetString("space_id");
  p.package_id = r.GetString("package_id");
  p.version = r.GetString("version");
  p.title = r.GetString("title");
  p.summary = r.GetString("summary");
  p.description = r.GetString("description");
  p.release_notes = r.GetString("release_notes");
  p.authors = r.GetString("authors");
  p.file_name = r.GetString("file_name");
  p.extension = r.GetString("file_extension");
  p.size = r.GetInt("size");
  p.sha1 = r.GetString("sha1");
  p.sha256 = r.GetString("sha256");
  p.published = r.GetInt("published");
  p.version_order = r.GetString("version_order");
  return p;
}

// Byte order for ids on both backends (PostgreSQL's default collation may follow a locale).
std::string Order(db::Database&) { return ByteOrder("id_key") + ", version_order DESC"; }

Where FilterWhere(const PackageFilter& f) {
  Where w;
  w.Add("space_id = {}", f.space_id);
  if (f.package_id) w.Add("id_key = {}", core::ToLower(*f.package_id));
  if (f.id_contains && !f.id_contains->empty()) w.Contains("id_key", *f.id_contains);
  // A pre-release's normalized version is the only spelling with a '-'.
  if (f.stable_only) w.Raw("version_key NOT LIKE '%-%'");
  if (f.extension) w.Add("file_extension = {}", *f.extension);
  if (f.latest_only) {
    // No newer version of the same id passes the same filters.
    std::string newer =
        "NOT EXISTS (SELECT 1 FROM packages n WHERE n.space_id = packages.space_id AND n.id_key "
        "= packages.id_key AND n.version_order > packages.version_order";
    if (f.stable_only) newer += " AND n.version_key NOT LIKE '%-%'";
    if (f.extension) {
      w.Add(newer + " AND n.file_extension = {})", *f.extension);
    } else {
      w.Raw(newer + ")");
    }
  }
  return w;
}

template <class Exec>
Result<std::optional<PackageRow>> Insert(Exec& exec, const PackageRow& p, bool if_absent) {
  const std::string sql =
      std::string(
          "INSERT INTO packages (space_id, package_id, id_key, version, version_key, title, "
          "summary, description, release_notes, authors, file_name, file_extension, size, sha1, "
          "sha256, version_order, published) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
          "$11, $12, $13, $14, $15, $16, now_ms()) ") +
      (if_absent ? "ON CONFLICT (space_id, id_key, version_key) DO NOTHING " : "") + "RETURNING " +
      kColumns;
  CUTTLE_TRY(auto rs, exec.Execute(sql, {p.space_id, p.package_id, core::ToLower(p.package_id),
                                         p.version, core::ToLower(p.version), p.title, p.summary,
                                         p.description, p.release_notes, p.authors, p.file_name,
                                         p.extension, p.size, p.sha1, p.sha256, p.version_order}));
  if (rs.empty()) return std::optional<PackageRow>();
  return std::optional<PackageRow>(ReadPackage(rs.front()));
}

}  // namespace

Result<Page<PackageRow>> ListPackages(db::Database& db, const PackageFilter& f,
                                      const PageQuery& q) {
  return SelectPage<PackageRow>(db, kColumns, "packages", FilterWhere(f), Order(db), q,
                                ReadPackage);
}

Result<std::vector<PackageRow>> ListAllPackages(db::Database& db, const PackageFilter& f) {
  return SelectAll<PackageRow>(db, kColumns, "packages", FilterWhere(f), Order(db), ReadPackage);
}

Result<std::optional<PackageRow>> FindPackage(db::Database& db, const std::string& space_id,
                                              const std::string& id_key,
                                              const std::string& version_key) {
  Where w;
  w.Add("space_id = {}", space_id).Add("id_key = {}", id_key).Add("version_key = {}", version_key);
  CUTTLE_TRY(auto rows, SelectAll<PackageRow>(db, kColumns, "packages", w, "id_key", ReadPackage));
  if (rows.empty()) return std::optional<PackageRow>();
  return std::optional<PackageRow>(std::move(rows.front()));
}

Result<std::optional<PackageRow>> FindPackageByResourceId(db::Database& db,
                                                          const std::string& space_id,
                                                          std::string_view resource_id) {
  Where w;
  w.Add("space_id = {}", space_id)
      .Add("'packages-' || id_key || '.' || version_key = {}", core::ToLower(resource_id));
  CUTTLE_TRY(auto rows, SelectAll<PackageRow>(db, kColumns, "packages", w, "id_key", ReadPackage));
  if (rows.empty()) return std::optional<PackageRow>();
  return std::optional<PackageRow>(std::move(rows.front()));
}

Result<std::optional<PackageRow>> InsertPackage(db::Database& db, const PackageRow& p,
                                                bool if_absent) {
  return Insert(db, p, if_absent);
}

Result<std::optional<PackageRow>> InsertPackage(db::Transaction& tx, const PackageRow& p,
                                                bool if_absent) {
  return Insert(tx, p, if_absent);
}

Result<std::vector<std::string>> DeletePackageVersion(db::Transaction& tx,
                                                      const std::string& space_id,
                                                      const std::string& id_key,
                                                      const std::string& version_key) {
  CUTTLE_TRY(auto rs, tx.Execute("DELETE FROM packages WHERE space_id = $1 AND id_key = $2 AND "
                                 "version_key = $3 RETURNING file_name",
                                 {space_id, id_key, version_key}));
  std::vector<std::string> out;
  for (const auto& r : rs.rows) out.push_back(r.GetString(0));
  return out;
}

Result<bool> DeletePackage(db::Database& db, const PackageRow& p) {
  CUTTLE_TRY(auto rs, db.Execute("DELETE FROM packages WHERE space_id = $1 AND id_key = $2 AND "
                                 "version_key = $3 AND file_name = $4 RETURNING file_name",
                                 {p.space_id, core::ToLower(p.package_id), core::ToLower(p.version),
                                  p.file_name}));
  return !rs.empty();
}

Result<std::vector<std::pair<std::string, std::string>>> PackageIdsWithMoreThan(db::Database& db,
                                                                                int keep) {
  CUTTLE_TRY(auto rs, db.Execute("SELECT space_id, id_key FROM packages GROUP BY space_id, "
                                 "id_key HAVING COUNT(*) > $1",
                                 {static_cast<int64_t>(keep)}));
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : rs.rows) out.emplace_back(r.GetString(0), r.GetString(1));
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> PackageFiles(db::Database& db) {
  CUTTLE_TRY(auto rs, db.Execute("SELECT space_id, file_name FROM packages"));
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : rs.rows) out.emplace_back(r.GetString(0), r.GetString(1));
  return out;
}

Result<std::vector<PackageRow>> PackagesWithoutVersionOrder(db::Database& db) {
  Where w;
  w.Raw("version_order = ''");
  return SelectAll<PackageRow>(db, kColumns, "packages", w, "space_id, id_key", ReadPackage);
}

Result<void> SetVersionOrder(db::Database& db, const PackageRow& p) {
  CUTTLE_TRY_VOID(db.Execute(
      "UPDATE packages SET version_order = $4 WHERE space_id = $1 AND "
      "id_key = $2 AND version_key = $3",
      {p.space_id, core::ToLower(p.package_id), core::ToLower(p.version), p.version_order}));
  return {};
}

}  // namespace cuttle::repo
