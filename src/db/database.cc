#include "db/database.h"

#include <libpq-fe.h>

#include <charconv>
#include <map>

#include "core/strings.h"
#include "db/postgres/pg_database.h"
#include "db/sqlite/sqlite_database.h"

namespace cuttle::db {

namespace {

constexpr std::string_view kSqlitePrefix = "sqlite://";
constexpr std::string_view kExpected =
    "expected sqlite://PATH or postgresql://user@host:port/db (several hosts separated by commas)";

std::optional<int64_t> ParseInt64(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

std::optional<double> ParseDouble(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

bool IsPostgresUrl(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

}  // namespace

bool Row::IsNull(size_t i) const {
  CUTTLE_CHECK(i < cells_.size());
  return !cells_[i].has_value();
}

namespace {

bool TextToBool(std::string_view s) {
  // PostgreSQL BOOLEAN reads "t"/"f"; SQLite stores 0/1.
  if (core::EqualsIgnoreCase(s, "t") || core::EqualsIgnoreCase(s, "true")) {
    return true;
  }
  if (auto n = ParseInt64(s)) {
    return *n != 0;
  }
  return false;
}

int64_t TextToInt(std::string_view s) {
  if (auto v = ParseInt64(s)) {
    return *v;
  }
  if (auto d = ParseDouble(s)) {  // e.g. "3.0" from an expression typed numeric
    return static_cast<int64_t>(*d);
  }
  return TextToBool(s) ? 1 : 0;
}

// A materialized Row seen as a RowView (ForEachRow's default).
class RowAsView final : public RowView {
 public:
  explicit RowAsView(const Row& row) : row_(row) {}
  size_t size() const override { return row_.size(); }
  bool IsNull(size_t i) const override { return row_.IsNull(i); }
  std::string_view Text(size_t i) const override { return row_.Text(i); }

 private:
  const Row& row_;
};

}  // namespace

int64_t RowView::GetInt(size_t i) const { return IsNull(i) ? 0 : TextToInt(Text(i)); }

std::optional<int64_t> RowView::GetOptionalInt(size_t i) const {
  if (IsNull(i)) {
    return std::nullopt;
  }
  return TextToInt(Text(i));
}

bool RowView::GetBool(size_t i) const { return !IsNull(i) && TextToBool(Text(i)); }

Result<void> Database::ForEachRow(std::string_view sql, const Params& params,
                                  const std::function<void(const RowView&)>& row) {
  CUTTLE_TRY(auto rs, Execute(sql, params));
  for (const auto& r : rs.rows) {
    row(RowAsView(r));
  }
  return {};
}

std::string_view Row::Text(size_t i) const {
  if (IsNull(i)) {
    return {};
  }
  return *cells_[i];
}

int64_t Row::GetInt(size_t i) const {
  if (IsNull(i)) {
    return 0;
  }
  return TextToInt(*cells_[i]);
}

double Row::GetDouble(size_t i) const {
  if (IsNull(i)) {
    return 0;
  }
  return ParseDouble(*cells_[i]).value_or(0);
}

std::string Row::GetString(size_t i) const {
  if (IsNull(i)) {
    return {};
  }
  return *cells_[i];
}

bool Row::GetBool(size_t i) const {
  if (IsNull(i)) {
    return false;
  }
  return TextToBool(*cells_[i]);
}

size_t Row::Index(std::string_view column) const {
  for (size_t i = 0; i < columns_->size(); ++i) {
    if ((*columns_)[i] == column) {
      return i;
    }
  }
  CUTTLE_CHECK(false && "no such column in result");
  return 0;
}

bool Row::IsNull(std::string_view column) const { return IsNull(Index(column)); }
int64_t Row::GetInt(std::string_view column) const { return GetInt(Index(column)); }
double Row::GetDouble(std::string_view column) const { return GetDouble(Index(column)); }
std::string Row::GetString(std::string_view column) const { return GetString(Index(column)); }
bool Row::GetBool(std::string_view column) const { return GetBool(Index(column)); }

std::optional<int64_t> Row::GetOptionalInt(std::string_view column) const {
  size_t i = Index(column);
  if (IsNull(i)) {
    return std::nullopt;
  }
  return GetInt(i);
}

std::optional<std::string> Row::GetOptionalString(std::string_view column) const {
  return cells_[Index(column)];
}

Result<Dialect> ValidateUrl(std::string_view url) {
  if (url.starts_with(kSqlitePrefix)) {
    if (url.size() == kSqlitePrefix.size()) {
      return Fail(Error::InvalidArgument("database URL 'sqlite://' has no file path: " +
                                         std::string(kExpected)));
    }
    return Dialect::kSqlite;
  }
  if (IsPostgresUrl(url)) {
    char* err = nullptr;
    PQconninfoOption* options = PQconninfoParse(std::string(url).c_str(), &err);
    if (options == nullptr) {
      // libpq's message names the bad part; the URL itself is not echoed (it may hold a password).
      std::string why = err != nullptr ? std::string(core::Trim(err)) : "out of memory";
      PQfreemem(err);
      return Fail(Error::InvalidArgument("database URL is not a valid PostgreSQL URI (" + why +
                                         "): " + std::string(kExpected)));
    }
    PQconninfoFree(options);
    return Dialect::kPostgres;
  }
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return Fail(Error::InvalidArgument("database URL has no scheme: " + std::string(kExpected)));
  }
  return Fail(Error::InvalidArgument("database URL scheme '" +
                                     std::string(url.substr(0, scheme_end)) +
                                     "' is not supported: " + std::string(kExpected)));
}

std::string DescribeUrl(std::string_view url) {
  if (url.starts_with(kSqlitePrefix)) {
    return std::string(url.substr(kSqlitePrefix.size()));
  }
  PQconninfoOption* options = PQconninfoParse(std::string(url).c_str(), nullptr);
  if (options == nullptr) {
    return "(an invalid URL)";
  }
  std::map<std::string, std::string> given;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) {
      given[o->keyword] = o->val;
    }
  }
  PQconninfoFree(options);
  auto part = [&](const char* key, std::string_view before) {
    auto it = given.find(key);
    return it == given.end() ? std::string() : std::string(before) + it->second;
  };
  std::string user = part("user", "");
  return (user.empty() ? "" : user + "@") + part("host", "") + part("port", ":") +
         part("dbname", "/");
}

Result<std::unique_ptr<Database>> Open(const OpenOptions& options) {
  CUTTLE_TRY(Dialect dialect, ValidateUrl(options.url));
  if (dialect == Dialect::kSqlite) {
    return sqlite::OpenSqlite(options, options.url.substr(kSqlitePrefix.size()));
  }
  return postgres::OpenPostgres(options);
}

}  // namespace cuttle::db
