#include "agent/journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "core/json.h"
#include "storage/storage.h"

namespace cuttle::agent {

namespace {

constexpr std::string_view kStateNames[] = {"received", "started", "exited", "acked"};

Error IoError(std::string_view what, const std::string& path) {
  return Error(ErrorCode::kIo, fmt::format("{} '{}': {}", what, path, std::strerror(errno)));
}

Result<void> CheckId(const std::string& command_id) {
  if (!storage::IsPlainFileName(command_id)) {
    return Fail(Error::InvalidArgument(fmt::format("'{}' is not a command id", command_id)));
  }
  return {};
}

nlohmann::json StateToJson(const JournalState& s) {
  return {{"State", kStateNames[static_cast<int>(s.state)]},
          {"Epoch", s.epoch},
          {"Pid", s.pid},
          {"PidStart", s.pid_start},
          {"AckedSeq", s.acked_seq},
          {"ReceivedMs", s.received_ms},
          {"ChangedMs", s.changed_ms},
          {"Note", s.note}};
}

Result<JournalState> StateFromJson(const nlohmann::json& j) {
  JournalState s;
  const std::string name = core::StringMember(j, "State");
  bool found = false;
  for (size_t i = 0; i < std::size(kStateNames); ++i) {
    if (name == kStateNames[i]) {
      s.state = static_cast<CommandState>(i);
      found = true;
    }
  }
  if (!found) return Fail(Error(ErrorCode::kIo, fmt::format("unknown journal state '{}'", name)));
  auto num = [&](const char* key) -> int64_t {
    auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
  };
  s.epoch = num("Epoch");
  s.pid = static_cast<int>(num("Pid"));
  s.pid_start = static_cast<uint64_t>(num("PidStart"));
  s.acked_seq = j.contains("AckedSeq") ? num("AckedSeq") : -1;
  s.received_ms = num("ReceivedMs");
  s.changed_ms = num("ChangedMs");
  s.note = core::StringMember(j, "Note");
  return s;
}

}  // namespace

std::string_view StateName(CommandState s) { return kStateNames[static_cast<int>(s)]; }

Result<void> WriteFileDurably(const std::string& path, std::string_view content, uint32_t mode) {
  storage::AtomicFile::Options options;
  options.mode = mode;
  CUTTLE_TRY(auto file, storage::AtomicFile::Create(path, options));
  CUTTLE_TRY_VOID(file.Write(content));
  return file.Commit();
}

Result<void> ReadBlocks(const std::string& path,
                        const std::function<void(std::string_view)>& each) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Fail(Error::NotFound(fmt::format("'{}' does not exist", path)));
    return Fail(IoError("cannot open", path));
  }
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto e = IoError("cannot read", path);
      ::close(fd);
      return Fail(e);
    }
    if (n == 0) break;
    each(std::string_view(buf, static_cast<size_t>(n)));
  }
  ::close(fd);
  return {};
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::string out;
  CUTTLE_TRY_VOID(ReadBlocks(path, [&](std::string_view block) { out.append(block); }));
  return out;
}

Result<CommandJournal> CommandJournal::Create(const std::string& root,
                                              const std::string& command_id, int64_t now_ms) {
  CUTTLE_TRY_VOID(CheckId(command_id));
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  const std::string dir = root + "/" + command_id;
  // mkdir(2) decides: of two deliveries of one command, one creates the folder.
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) {
      return Fail(Error(ErrorCode::kAlreadyExists,
                        fmt::format("the command {} is in the journal already", command_id)));
    }
    return Fail(IoError("cannot create", dir));
  }
  CommandJournal j(command_id, dir);
  JournalState s;
  s.received_ms = now_ms;
  s.changed_ms = now_ms;
  CUTTLE_TRY_VOID(j.Save(s));
  storage::SyncDirectory(root);
  return j;
}

Result<CommandJournal> CommandJournal::Open(const std::string& root,
                                            const std::string& command_id) {
  CUTTLE_TRY_VOID(CheckId(command_id));
  CommandJournal j(command_id, root + "/" + command_id);
  CUTTLE_TRY_VOID(j.Load());
  return j;
}

bool CommandJournal::Exists(const std::string& root, const std::string& command_id) {
  if (!storage::IsPlainFileName(command_id)) return false;
  struct stat st {};
  return ::stat((root + "/" + command_id).c_str(), &st) == 0;
}

std::vector<std::string> CommandJournal::List(const std::string& root) {
  std::vector<std::string> ids;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(root, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec)) ids.push_back(it->path().filename().string());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

int CommandJournal::Prune(const std::string& root, int64_t before_ms) {
  int removed = 0;
  for (const auto& id : List(root)) {
    auto j = Open(root, id);
    if (!j) {
      // A folder without a readable state.json is one whose creation was cut short (the state is
      // written right after mkdir): nothing ran from it.
      struct stat st {};
      const std::string dir = root + "/" + id;
      if (::stat(dir.c_str(), &st) == 0 && st.st_mtime * 1000LL < before_ms) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
        if (!ec) ++removed;
      }
      continue;
    }
    if (j->state().state == CommandState::kAcked && j->state().changed_ms < before_ms) {
      std::error_code ec;
      std::filesystem::remove_all(j->dir(), ec);
      if (!ec) ++removed;
    }
  }
  return removed;
}

Result<void> CommandJournal::Save(JournalState s) {
  CUTTLE_TRY_VOID(WriteFileDurably(PathOf("state.json"), StateToJson(s).dump() + "\n"));
  state_ = std::move(s);
  return {};
}

Result<void> CommandJournal::Load() {
  CUTTLE_TRY(auto text, ReadWholeFile(PathOf("state.json")));
  CUTTLE_TRY(auto json, core::ParseJson(text));
  CUTTLE_TRY(state_, StateFromJson(json));
  chunks_.clear();
  auto marks = ReadWholeFile(PathOf("chunks.jsonl"));
  if (!marks) {
    if (marks.error().code() == ErrorCode::kNotFound) return {};
    return Fail(marks.error());
  }
  size_t pos = 0;
  size_t good = 0;
  while (pos < marks->size()) {
    size_t end = marks->find('\n', pos);
    // A last line without its '\n' is a record whose write was cut short: it was never fsync'd,
    // so its chunk was never sent; it is cut again.
    if (end == std::string::npos) break;
    auto line = core::ParseJson(std::string_view(*marks).substr(pos, end - pos));
    pos = end + 1;
    if (!line || !line->is_object()) break;
    ChunkMark m;
    m.seq = line->value("Seq", int64_t{0});
    m.offset = line->value("Offset", uint64_t{0});
    m.length = line->value("Length", uint64_t{0});
    if (m.seq != static_cast<int64_t>(chunks_.size())) break;
    chunks_.push_back(m);
    good = pos;
  }
  if (good < marks->size()) {
    // Drop the torn tail so the next record starts on a line of its own.
    (void)::truncate(PathOf("chunks.jsonl").c_str(), static_cast<off_t>(good));
  }
  return {};
}

uint64_t CommandJournal::UncutBytes() const {
  struct stat st {};
  if (::stat(PathOf("spool.jsonl").c_str(), &st) != 0) return 0;
  const uint64_t cut = chunks_.empty() ? 0 : chunks_.back().offset + chunks_.back().length;
  return static_cast<uint64_t>(st.st_size) > cut ? static_cast<uint64_t>(st.st_size) - cut : 0;
}

Result<std::optional<ChunkMark>> CommandJournal::CutChunk(uint64_t max_bytes) {
  const uint64_t from = chunks_.empty() ? 0 : chunks_.back().offset + chunks_.back().length;
  const std::string spool = PathOf("spool.jsonl");
  int fd = ::open(spool.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<ChunkMark>();
    return Fail(IoError("cannot open", spool));
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) <= from) {
    ::close(fd);
    return std::optional<ChunkMark>();  // nothing new: the common case, every 250 ms
  }
  // The chunk's bytes must survive a crash of this host as long as its record does.
  ::fdatasync(fd);
  std::string buf(max_bytes, '\0');
  ssize_t n;
  do {
    n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(from));
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    auto e = IoError("cannot read", spool);
    ::close(fd);
    return Fail(e);
  }
  buf.resize(static_cast<size_t>(n));
  size_t end = buf.rfind('\n');
  uint64_t length = end == std::string::npos ? 0 : end + 1;
  if (length == 0 && buf.size() == max_bytes) {
    // One line longer than a chunk (not written by our runner, whose lines are far shorter):
    // find its end and send it whole rather than never.
    std::string more(4096, '\0');
    uint64_t at = from + buf.size();
    for (;;) {
      ssize_t m = ::pread(fd, more.data(), more.size(), static_cast<off_t>(at));
      if (m <= 0) break;
      auto nl = std::string_view(more.data(), static_cast<size_t>(m)).find('\n');
      if (nl != std::string_view::npos) {
        length = at + nl + 1 - from;
        break;
      }
      at += static_cast<uint64_t>(m);
    }
  }
  ::close(fd);
  if (length == 0) return std::optional<ChunkMark>();
  ChunkMark mark{static_cast<int64_t>(chunks_.size()), from, length};
  const std::string path = PathOf("chunks.jsonl");
  int out = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (out < 0) return Fail(IoError("cannot open", path));
  std::string record =
      nlohmann::json{{"Seq", mark.seq}, {"Offset", mark.offset}, {"Length", mark.length}}.dump() +
      "\n";
  auto wrote = storage::WriteAll(out, record, path);
  if (wrote && ::fsync(out) != 0) wrote = Fail(IoError("cannot sync", path));
  ::close(out);
  if (!wrote) return Fail(wrote.error());
  chunks_.push_back(mark);
  return std::optional<ChunkMark>(mark);
}

Result<std::string> CommandJournal::ReadChunk(const ChunkMark& mark) const {
  const std::string spool = PathOf("spool.jsonl");
  int fd = ::open(spool.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(IoError("cannot open", spool));
  std::string buf(mark.length, '\0');
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n =
        ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(mark.offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got != buf.size()) {
    return Fail(Error(ErrorCode::kIo,
                      fmt::format("the spool '{}' is shorter than chunk {}", spool, mark.seq)));
  }
  return buf;
}

}  // namespace cuttle::agent
