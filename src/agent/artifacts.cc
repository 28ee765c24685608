#include "agent/artifacts.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "agentwire/wire.h"
#include "core/clock.h"
#include "core/json.h"
#include "storage/storage.h"

namespace cuttle::agent {

namespace {

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) != nullptr ? std::string(buf) : std::string();
}

struct Copied {
  std::string sha256;  // lower-case hex
  uint64_t size = 0;
};

// Copies the file into `dest` durably, hashing it on the way (never whole in memory), or says
// why it is not collected (named as the script named it).
Result<Copied> CopyArtifact(const std::string& root, const engine::ArtifactRequest& r,
                            uint64_t max_bytes, const std::string& dest) {
  const std::string given = !r.path.empty() && r.path[0] == '/' ? r.path : root + "/" + r.path;
  const std::string real = RealPath(given);
  if (real.empty()) return Fail(Error::InvalidArgument("there is no such file"));
  if (real.size() <= root.size() || real.compare(0, root.size(), root) != 0 ||
      real[root.size()] != '/') {
    return Fail(Error::InvalidArgument(
        "it is not inside the step's working folder: only files the script made there are "
        "collected"));
  }
  int fd = ::open(real.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return Fail(Error::Io(fmt::format("it cannot be opened: {}", std::strerror(errno))));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return Fail(Error::InvalidArgument("it is not a regular file"));
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return Fail(Error::TooLarge(
        fmt::format("it is {} bytes, more than the {} bytes an artifact from an agent may have",
                    st.st_size, max_bytes)));
  }
  CUTTLE_TRY(auto out, storage::AtomicFile::Create(dest, {.mode = 0600, .hint = "artifact"}));
  crypto_hash_sha256_state hash;
  crypto_hash_sha256_init(&hash);
  uint64_t size = 0;
  std::string buf(1 << 20, '\0');
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(Error::Io(fmt::format("it cannot be read: {}", std::strerror(errno))));
    if (n == 0) break;
    size += static_cast<uint64_t>(n);
    if (size > max_bytes) {
      return Fail(Error::TooLarge("it grew past the limit while it was being read"));
    }
    crypto_hash_sha256_update(&hash, reinterpret_cast<const unsigned char*>(buf.data()),
                              static_cast<size_t>(n));
    CUTTLE_TRY_VOID(out.Write(std::string_view(buf.data(), static_cast<size_t>(n))));
  }
  if (r.length && static_cast<uint64_t>(*r.length) != size) {
    return Fail(Error::InvalidArgument(
        fmt::format("it is {} bytes, but the script declared a length of {}", size, *r.length)));
  }
  CUTTLE_TRY_VOID(out.Commit());
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&hash, digest);
  Copied c;
  for (unsigned char b : digest) c.sha256 += fmt::format("{:02x}", b);
  c.size = size;
  return c;
}

std::string NameOf(const engine::ArtifactRequest& r) {
  if (!r.name.empty()) return r.name;
  auto slash = r.path.rfind('/');
  return slash == std::string::npos ? r.path : r.path.substr(slash + 1);
}

}  // namespace

void StageArtifacts(const std::string& work_dir, const std::vector<engine::ArtifactRequest>& asked,
                    const CommandJournal& journal, uint64_t max_bytes,
                    const std::function<void(const std::string&)>& warn) {
  if (asked.empty()) return;
  const std::string root = RealPath(work_dir);
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < asked.size(); ++i) {
    const auto& r = asked[i];
    const std::string name = NameOf(r);
    if (!storage::IsPlainFileName(name)) {
      warn(fmt::format("The artifact '{}' was not collected: its name is not a plain file name",
                       name));
      continue;
    }
    const std::string file = fmt::format("artifact-{}", i);
    auto copied = root.empty() ? Result<Copied>(Fail(Error::Io("the working folder is gone")))
                               : CopyArtifact(root, r, max_bytes, journal.PathOf(file));
    if (!copied) {
      warn(fmt::format("The artifact '{}' was not collected: {}", name, copied.error().message()));
      continue;
    }
    list.push_back({{"N", i},
                    {"Name", name},
                    {"File", file},
                    {"Sha256", copied->sha256},
                    {"Size", copied->size}});
  }
  if (list.empty()) return;
  if (auto wrote = WriteFileDurably(journal.PathOf("artifacts.json"), list.dump() + "\n"); !wrote) {
    warn(
        fmt::format("{} artifact(s) were not collected: {}", list.size(), wrote.error().message()));
  }
}

std::vector<StagedArtifact> StagedArtifacts(const CommandJournal& journal) {
  std::vector<StagedArtifact> out;
  auto text = ReadWholeFile(journal.PathOf("artifacts.json"));
  if (!text) return out;
  auto json = core::ParseJson(*text);
  if (!json || !json->is_array()) return out;
  for (const auto& a : *json) {
    if (!a.is_object()) continue;
    StagedArtifact s;
    s.n = a.value("N", int64_t{-1});
    s.name = a.value("Name", "");
    s.file = a.value("File", "");
    s.sha256 = a.value("Sha256", "");
    s.size = a.value("Size", uint64_t{0});
    if (s.n < 0 || s.name.empty() || !storage::IsPlainFileName(s.file)) continue;
    out.push_back(std::move(s));
  }
  return out;
}

std::set<int64_t> SentArtifacts(const CommandJournal& journal) {
  std::set<int64_t> out;
  auto text = ReadWholeFile(journal.PathOf("artifacts-sent.json"));
  if (!text) return out;
  auto json = core::ParseJson(*text);
  if (!json || !json->is_array()) return out;
  for (const auto& n : *json) {
    if (n.is_number_integer()) out.insert(n.get<int64_t>());
  }
  return out;
}

Result<void> MarkArtifactSent(const CommandJournal& journal, const StagedArtifact& a) {
  auto sent = SentArtifacts(journal);
  sent.insert(a.n);
  CUTTLE_TRY_VOID(
      WriteFileDurably(journal.PathOf("artifacts-sent.json"), nlohmann::json(sent).dump() + "\n"));
  ::unlink(journal.PathOf(a.file).c_str());
  return {};
}

void AppendSpoolLine(const CommandJournal& journal, engine::LogCategory c, std::string_view text) {
  int fd = ::open(journal.PathOf("spool.jsonl").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                  0600);
  if (fd < 0) return;
  agentwire::LogLine line{c, std::string(text),
                          core::ToUnixMillis(core::SystemClock::Instance().Now())};
  (void)storage::WriteAll(fd, agentwire::EncodeLine(line), "spool");
  ::close(fd);
}

}  // namespace cuttle::agent
