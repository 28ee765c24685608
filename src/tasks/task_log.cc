#include "tasks/task_log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/clock.h"
#include "core/strings.h"

namespace cuttle::tasks {

namespace {
std::string FormatLines(LogCategory category, std::string_view text) {
  std::string now = core::FormatIso8601(core::ToUnixMillis(core::SystemClock::Instance().Now()));
  std::string out;
  for (const auto& line : core::Split(text, '\n', /*skip_empty=*/false)) {
    std::string_view l = line;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    out += fmt::format("{} {:<9} | {}\n", now, CategoryName(category), l);
  }
  return out;
}

Result<void> WriteAllTo(int fd, const std::string& data, const std::string& path) {
  std::string_view rest = data;
  while (!rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(Error::Io(fmt::format("'{}': cannot append: {}", path, std::strerror(errno))));
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

int OpenAppend(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}
}  // namespace

const char* CategoryName(LogCategory c) {
  switch (c) {
    case LogCategory::kVerbose:
      return "Verbose";
    case LogCategory::kInfo:
      return "Info";
    case LogCategory::kHighlight:
      return "Highlight";
    case LogCategory::kWait:
      return "Wait";
    case LogCategory::kWarning:
      return "Warning";
    case LogCategory::kError:
      return "Error";
    case LogCategory::kFatal:
      return "Fatal";
  }
  return "Info";
}

std::string TaskLogPath(const std::string& root, const std::string& task_id) {
  return root + "/" + core::ToLower(task_id) + ".log";
}

std::string TaskUnitLogDir(const std::string& root, const std::string& task_id) {
  return root + "/" + core::ToLower(task_id) + ".units";
}

TaskLogWriter::TaskLogWriter(std::string path, std::function<bool()> may_write,
                             const core::Clock& clock)
    : path_(std::move(path)), may_write_(std::move(may_write)), clock_(clock) {}

TaskLogWriter::~TaskLogWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> TaskLogWriter::Append(LogCategory category, std::string_view text) {
  std::string lines = FormatLines(category, text);
  std::lock_guard lock(mu_);
  if (category == LogCategory::kWarning || category == LogCategory::kError ||
      category == LogCategory::kFatal) {
    warned_ = true;
  }
  if (may_write_ && !may_write_()) {
    refused_ = true;
    return Fail(Error::LostOwnership("this node may no longer write the log " + path_));
  }
  if (held_.empty()) held_since_ = clock_.SteadyNow();
  held_ += lines;
  if (fd_ >= 0 || held_.size() > kMaxHeldBytes) return FlushLocked();
  return {};
}

Result<void> TaskLogWriter::FlushIfDue() {
  std::lock_guard lock(mu_);
  if (held_.empty() || clock_.SteadyNow() - held_since_ < kFlushDelay) return {};
  return FlushLocked();
}

Result<void> TaskLogWriter::Flush() {
  std::lock_guard lock(mu_);
  return FlushLocked();
}

Result<void> TaskLogWriter::FlushLocked() {
  if (held_.empty() && fd_ >= 0) return {};
  if (may_write_ && !may_write_()) {
    refused_ = true;
    return Fail(Error::LostOwnership("this node may no longer write the log " + path_));
  }
  if (fd_ < 0) {
    fd_ = OpenAppend(path_);
    if (fd_ < 0) {
      return Fail(Error::Io(fmt::format("'{}': cannot open: {}", path_, std::strerror(errno))));
    }
  }
  // O_APPEND writes of whole lines: readers on other nodes see complete lines or nothing newer.
  CUTTLE_TRY_VOID(WriteAllTo(fd_, held_, path_));
  held_.clear();
  return {};
}

Result<std::optional<std::string>> TaskLogWriter::TextForResult() {
  std::lock_guard lock(mu_);
  // A file may exist from an earlier claim of the task (a reaper's closing line): the log then
  // continues there, so that it reads in one piece.
  if (fd_ < 0 && ::access(path_.c_str(), F_OK) != 0) return std::optional<std::string>(held_);
  CUTTLE_TRY_VOID(FlushLocked());
  return std::optional<std::string>();
}

bool TaskLogWriter::has_warnings_or_errors() const {
  std::lock_guard lock(mu_);
  return warned_;
}

bool TaskLogWriter::refused() const {
  std::lock_guard lock(mu_);
  return refused_;
}

Result<void> AppendLine(const std::string& path, LogCategory category, std::string_view text) {
  int fd = OpenAppend(path);
  if (fd < 0) {
    return Fail(Error::Io(fmt::format("'{}': cannot open: {}", path, std::strerror(errno))));
  }
  auto r = WriteAllTo(fd, FormatLines(category, text), path);
  ::close(fd);
  return r;
}

Result<std::string> ReadLog(const std::string& path, uint64_t offset, uint64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::string();
    return Fail(Error::Io(fmt::format("'{}': cannot open: {}", path, std::strerror(errno))));
  }
  std::string out;
  char buf[64 * 1024];
  uint64_t pos = offset;
  while (out.size() < max_bytes) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(sizeof(buf), max_bytes - out.size()));
    ssize_t n = ::pread(fd, buf, want, static_cast<off_t>(pos));
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      return Fail(Error::Io(fmt::format("'{}': cannot read: {}", path, std::strerror(saved))));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    pos += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return out;
}

Result<std::string> ReadTaskLog(const std::string& path, const std::optional<std::string>& text,
                                uint64_t max_bytes) {
  if (text)
    return text->substr(0, static_cast<size_t>(std::min<uint64_t>(max_bytes, text->size())));
  return ReadLog(path, 0, max_bytes);
}

uint64_t LogSize(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_size);
}

std::vector<LogElement> ParseLog(std::string_view text) {
  std::vector<LogElement> out;
  for (const auto& line : core::Split(text, '\n')) {
    auto space = line.find(' ');
    auto bar = line.find(" | ");
    if (space == std::string::npos || bar == std::string::npos || bar < space) {
      out.push_back({"", "Info", line});
      continue;
    }
    out.push_back({line.substr(0, space), std::string(core::Trim(line.substr(space, bar - space))),
                   line.substr(bar + 3)});
  }
  return out;
}

bool HasWarningLine(std::string_view text) {
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    const size_t space = line.find(' ');
    const size_t bar = line.find(" | ");
    if (space == std::string_view::npos || bar == std::string_view::npos || bar < space) continue;
    const std::string_view category = core::Trim(line.substr(space, bar - space));
    if (category == "Warning" || category == "Error" || category == "Fatal") return true;
  }
  return false;
}

Result<bool> WarningScanCache::HasWarnings(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return false;
    return Fail(Error::Io(fmt::format("'{}': cannot stat: {}", path, std::strerror(errno))));
  }
  const auto inode = static_cast<uint64_t>(st.st_ino);
  const auto size = static_cast<uint64_t>(st.st_size);
  Entry entry;
  {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(path); it != entries_.end()) entry = it->second;
  }
  if (entry.inode != inode || size < entry.scanned) entry = Entry{.inode = inode};
  if (!entry.found && size > entry.scanned) {
    CUTTLE_TRY(auto text, ReadLog(path, entry.scanned, size - entry.scanned));
    const size_t whole = text.rfind('\n');
    if (whole != std::string::npos) {
      entry.found = HasWarningLine(std::string_view(text).substr(0, whole + 1));
      entry.scanned += whole + 1;
    }
  }
  std::lock_guard lock(mu_);
  if (entries_.size() >= kMaxEntries && !entries_.contains(path)) entries_.clear();
  entries_[path] = entry;
  return entry.found;
}

}  // namespace cuttle::tasks
