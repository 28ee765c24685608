#include "engine/deploy_journal.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/json.h"
#include "core/strings.h"
#include "storage/storage.h"

namespace cuttle::engine {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kDayMillis = 24LL * 60 * 60 * 1000;

// An exclusive or shared flock(2) on "<journal>.lock", released when destroyed.
class JournalLock {
 public:
  static Result<JournalLock> Take(const std::string& journal_path, bool exclusive) {
    std::error_code ec;
    const fs::path parent = fs::path(journal_path).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    if (ec) {
      return Fail(
          Error::Io(fmt::format("cannot create the folder of the deployment journal '{}': {}",
                                journal_path, ec.message())));
    }
    const std::string lock_path = journal_path + ".lock";
    const int fd = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Fail(Error::Io(fmt::format("cannot open '{}': {}", lock_path, std::strerror(errno))));
    }
    int r;
    do {
      r = ::flock(fd, exclusive ? LOCK_EX : LOCK_SH);
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
      const int err = errno;
      ::close(fd);
      return Fail(Error::Io(fmt::format("cannot lock '{}': {}", lock_path, std::strerror(err))));
    }
    return JournalLock(fd);
  }
  JournalLock(JournalLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  JournalLock& operator=(JournalLock&&) = delete;
  ~JournalLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }

 private:
  explicit JournalLock(int fd) : fd_(fd) {}
  int fd_;
};

std::string Text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json ToJson(const JournalEntry& e) {
  json packages = json::array();
  for (const auto& p : e.packages) {
    json pj = {{"PackageId", p.package_id}, {"PackageVersion", p.package_version}};
    if (!p.deployed_from.empty()) pj["DeployedFrom"] = p.deployed_from;
    packages.push_back(std::move(pj));
  }
  return json{{"Id", e.id},
              {"EnvironmentId", e.environment_id},
              {"TenantId", e.tenant_id},
              {"ProjectId", e.project_id},
              {"InstalledOn", e.installed_on ? core::FormatIso8601(*e.installed_on) : ""},
              {"RetentionPolicySet", e.retention_policy_set},
              {"ExtractedTo", e.extracted_to},
              {"CustomInstallationDirectory", e.custom_installation_directory},
              {"WasSuccessful", e.was_successful},
              {"Packages", std::move(packages)}};
}

JournalEntry FromJson(const json& j) {
  JournalEntry e;
  e.id = Text(j, "Id");
  e.environment_id = Text(j, "EnvironmentId");
  e.tenant_id = Text(j, "TenantId");
  e.project_id = Text(j, "ProjectId");
  e.installed_on = core::ParseIso8601(Text(j, "InstalledOn"));
  e.retention_policy_set = Text(j, "RetentionPolicySet");
  e.extracted_to = Text(j, "ExtractedTo");
  e.custom_installation_directory = Text(j, "CustomInstallationDirectory");
  auto ok = j.find("WasSuccessful");
  e.was_successful = ok == j.end() || !ok->is_boolean() || ok->get<bool>();
  if (auto p = j.find("Packages"); p != j.end() && p->is_array()) {
    for (const auto& pj : *p) {
      if (!pj.is_object()) continue;
      e.packages.push_back(
          {Text(pj, "PackageId"), Text(pj, "PackageVersion"), Text(pj, "DeployedFrom")});
    }
  }
  return e;
}

Result<std::vector<JournalEntry>> Load(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec) && !ec) return std::vector<JournalEntry>{};
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Fail(Error::Io(
        fmt::format("cannot read the deployment journal '{}': {}", path, std::strerror(errno))));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  auto parsed = core::ParseJson(buffer.str());
  auto not_a_journal = [&path](std::string_view why) {
    return Error::InvalidArgument(
        fmt::format("the deployment journal '{}' is damaged: {}", path, why));
  };
  if (!parsed) return Fail(not_a_journal(parsed.error().message()));
  auto deployments = parsed->find("Deployments");
  if (!parsed->is_object() || deployments == parsed->end() || !deployments->is_array()) {
    return Fail(not_a_journal("it has no Deployments list"));
  }
  std::vector<JournalEntry> entries;
  for (const auto& j : *deployments) {
    if (j.is_object()) entries.push_back(FromJson(j));
  }
  return entries;
}

Result<void> Save(const std::string& path, const std::vector<JournalEntry>& entries) {
  json deployments = json::array();
  for (const auto& e : entries) deployments.push_back(ToJson(e));
  const fs::path p(path);
  const std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  auto written = storage::WriteFileAtomic(dir, p.filename().string(),
                                          json{{"Deployments", deployments}}.dump(2) + "\n");
  if (!written) return Fail(written.error().Wrap("writing the deployment journal"));
  return {};
}

bool Matches(std::optional<std::string_view> wanted, std::string_view actual) {
  return !wanted || core::EqualsIgnoreCase(*wanted, actual);
}

}  // namespace

Result<std::vector<JournalEntry>> DeploymentJournal::ReadAll() const {
  CUTTLE_TRY(JournalLock lock, JournalLock::Take(path_, false));
  return Load(path_);
}

Result<void> DeploymentJournal::Add(const JournalEntry& entry) {
  CUTTLE_TRY(JournalLock lock, JournalLock::Take(path_, true));
  CUTTLE_TRY(std::vector<JournalEntry> entries, Load(path_));
  entries.push_back(entry);
  return Save(path_, entries);
}

Result<void> DeploymentJournal::Remove(const std::vector<std::string>& ids) {
  if (ids.empty()) return {};
  CUTTLE_TRY(JournalLock lock, JournalLock::Take(path_, true));
  CUTTLE_TRY(std::vector<JournalEntry> entries, Load(path_));
  std::erase_if(entries, [&ids](const JournalEntry& e) {
    return std::find(ids.begin(), ids.end(), e.id) != ids.end();
  });
  return Save(path_, entries);
}

Result<std::optional<JournalEntry>> DeploymentJournal::LatestInstallation(
    std::string_view retention_policy_set, std::optional<std::string_view> package_id,
    std::optional<std::string_view> package_version, bool successful_only) const {
  CUTTLE_TRY(std::vector<JournalEntry> entries, ReadAll());
  std::optional<JournalEntry> latest;
  for (auto& e : entries) {
    if (!core::EqualsIgnoreCase(e.retention_policy_set, retention_policy_set)) continue;
    if (successful_only && !e.was_successful) continue;
    if (package_id || package_version) {
      const bool deployed = std::any_of(e.packages.begin(), e.packages.end(), [&](const auto& p) {
        return Matches(package_id, p.package_id) && Matches(package_version, p.package_version);
      });
      if (!deployed) continue;
    }
    // Entries without a time sort oldest; on a tie the later entry is the newer.
    if (!latest || e.installed_on.value_or(INT64_MIN) >= latest->installed_on.value_or(INT64_MIN)) {
      latest = std::move(e);
    }
  }
  return latest;
}

Result<RetentionOutcome> ApplyRetention(DeploymentJournal& journal,
                                        std::string_view retention_policy_set,
                                        TentacleRetention policy, const core::Clock& clock) {
  RetentionOutcome outcome;
  if (policy.quantity <= 0) {
    outcome.messages.push_back("Keeping all deployments");
    return outcome;
  }
  CUTTLE_TRY(std::vector<JournalEntry> all, journal.ReadAll());
  std::vector<JournalEntry> entries;
  for (auto& e : all) {
    if (core::EqualsIgnoreCase(e.retention_policy_set, retention_policy_set))
      entries.push_back(std::move(e));
  }
  std::vector<JournalEntry> kept;
  std::vector<JournalEntry> doomed;
  if (policy.unit == TentacleRetention::Unit::kDays) {
    const int64_t now = core::ToUnixMillis(clock.Now());
    for (auto& e : entries) {
      if (!e.installed_on) continue;  // undated: neither kept nor deleted
      if (now - *e.installed_on > static_cast<int64_t>(policy.quantity) * kDayMillis) {
        doomed.push_back(std::move(e));
      } else {
        kept.push_back(std::move(e));
      }
    }
  } else {
    // Newest first; the stable sort keeps file order on ties, so reverse first (later = newer).
    std::reverse(entries.begin(), entries.end());
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      return a.installed_on.value_or(INT64_MIN) > b.installed_on.value_or(INT64_MIN);
    });
    for (auto& e : entries) {
      if (e.was_successful && kept.size() <= static_cast<size_t>(policy.quantity)) {
        kept.push_back(std::move(e));
      } else {
        doomed.push_back(std::move(e));
      }
    }
    if (kept.size() <= static_cast<size_t>(policy.quantity)) doomed.clear();
  }
  for (const auto& e : kept) {
    outcome.messages.push_back(fmt::format("Keeping '{}'", e.extracted_to));
  }
  for (const auto& e : doomed) {
    const bool shared = std::any_of(kept.begin(), kept.end(), [&e](const JournalEntry& k) {
      return k.extracted_to == e.extracted_to;
    });
    std::error_code ec;
    // A relative or root path cannot be one of ours: only the entry goes.
    const fs::path folder(e.extracted_to);
    if (!shared && folder.is_absolute() && folder.has_relative_path() &&
        fs::is_directory(folder, ec)) {
      fs::remove_all(folder, ec);
      if (ec) {
        outcome.messages.push_back(
            fmt::format("Could not delete directory '{}': {}", e.extracted_to, ec.message()));
        continue;
      }
      outcome.messages.push_back(fmt::format("Removed directory '{}'", e.extracted_to));
      outcome.deleted_folders.push_back(e.extracted_to);
    }
    outcome.removed_entries.push_back(e.id);
  }
  CUTTLE_TRY_VOID(journal.Remove(outcome.removed_entries));
  return outcome;
}

}  // namespace cuttle::engine
