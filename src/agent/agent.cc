#include "agent/agent.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "agent/artifacts.h"
#include "agent/backoff.h"
#include "agent/http_client.h"
#include "agent/journal.h"
#include "agent/package_cache.h"
#include "agent/runner.h"
#include "core/json.h"
#include "core/log.h"
#include "core/strings.h"

namespace cuttle::agent {

namespace {

int64_t NowMs() { return core::ToUnixMillis(core::SystemClock::Instance().Now()); }

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

void Note(std::string_view id, std::string_view text) {
  std::fprintf(stderr, "cuttle-agent: %.*s: %.*s\n", static_cast<int>(id.size()), id.data(),
               static_cast<int>(text.size()), text.data());
}

bool CancelIn(const HttpResponse& r) {
  auto json = core::ParseJson(r.body);
  if (!json || !json->is_object()) return false;
  auto it = json->find("Cancel");
  return it != json->end() && it->is_boolean() && it->get<bool>();
}

// Adapts a ranged GET of the package to the cache's sink.
class PackageDownload {
 public:
  PackageDownload(SignedClient& client, const agentwire::PackageInfo& p,
                  std::function<bool()> on_progress)
      : client_(client), p_(p), on_progress_(std::move(on_progress)) {}

  Result<void> operator()(uint64_t offset, DownloadSink& sink) {
    HttpRequest r;
    r.method = "GET";
    r.timeout = std::chrono::seconds(3600);
    if (offset > 0) r.headers.push_back(fmt::format("Range: bytes={}-", offset));
    bool started = false;
    bool refused = false;
    long status = 0;
    r.on_headers = [&](long s, const std::map<std::string, std::string>&) {
      status = s;
      if (s == 206) {
        started = sink.Start(offset);
      } else if (s == 200) {
        started = sink.Start(0);
      } else if (s == 416) {
        started = sink.Start(offset);  // the partial file is whole already
      } else {
        refused = true;
        return false;
      }
      return started;
    };
    r.on_body = [&](std::string_view data) {
      if (status == 416) return true;  // the error body
      return sink.Write(data);
    };
    r.on_progress = on_progress_;
    const std::string path =
        fmt::format("/packages/{}/{}/{}", p_.space_id, p_.package_id, p_.version);
    auto got = client_.Call(path, std::move(r));
    if (!got) return Fail(got.error());
    if (refused || (got->status != 200 && got->status != 206 && got->status != 416)) {
      ErrorCode code = got->status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kNotFound;
      return Fail(Error(code, fmt::format("GET {}: HTTP {}", path, got->status)));
    }
    return {};
  }

 private:
  SignedClient& client_;
  const agentwire::PackageInfo& p_;
  std::function<bool()> on_progress_;
};

}  // namespace

// One command from claim to acknowledged result, on a thread of its own.
class CommandWorker {
 public:
  CommandWorker(Agent& agent, CommandJournal journal)
      : agent_(agent),
        opts_(agent.options()),
        journal_(std::move(journal)),
        client_(opts_.config.server_url, opts_.config.machine_id, opts_.key) {}

  void Start() {
    thread_ = std::thread([this] {
      Run();
      done_.store(true);
    });
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  bool done() const { return done_.load(); }
  void RequestCancel() { cancel_.store(true); }

 private:
  enum class Step { kContinue, kStop };

  void Run() {
    Backoff backoff;
    while (!agent_.stopping()) {
      Step s = Tick(backoff);
      if (s == Step::kStop) return;
      agent_.Sleep(pending_wait_.count() > 0 ? pending_wait_ : opts_.cut_interval);
      pending_wait_ = std::chrono::milliseconds(0);
    }
  }

  // One round: whatever the journal says comes next.
  Step Tick(Backoff& backoff) {
    const auto& st = journal_.state();
    if (st.state == CommandState::kAcked) return Step::kStop;
    if (!claimed_) {
      auto c = Claim();
      if (c == Outcome::kRetry) return Retry(backoff);
      if (c == Outcome::kStop) return Step::kStop;
      backoff.Reset();
    }
    if (journal_.state().state == CommandState::kReceived) {
      auto s = StartRunner();
      if (s == Outcome::kRetry) return Retry(backoff);
      if (s == Outcome::kStop) return Step::kStop;
    }
    auto r = Report();
    if (r == Outcome::kRetry) return Retry(backoff);
    if (r == Outcome::kStop) return Step::kStop;
    backoff.Reset();
    return Step::kContinue;
  }

  enum class Outcome { kOk, kRetry, kStop };

  Step Retry(Backoff& backoff) {
    pending_wait_ = std::max(backoff.Next(), std::chrono::milliseconds(1));
    return Step::kContinue;
  }

  // A response that is neither success nor the command's own verdict: retry, or stop the agent.
  Outcome Failed(std::string_view what, const Result<HttpResponse>& r) {
    if (r && IsNotRegistered(*r)) {
      agent_.NotRegistered();
      return Outcome::kStop;
    }
    Note(journal_.id(), fmt::format("{}: {}", what,
                                    r ? fmt::format("HTTP {}: {}", r->status, r->ErrorMessage())
                                      : r.error().message()));
    return Outcome::kRetry;
  }

  Outcome Settle(std::string note) {
    Note(journal_.id(), note);
    JournalState s = journal_.state();
    s.state = CommandState::kAcked;
    s.changed_ms = NowMs();
    s.note = std::move(note);
    if (!journal_.Save(s)) return Outcome::kRetry;
    return Outcome::kStop;
  }

  std::vector<std::string> EpochHeader() const {
    return {fmt::format("{}: {}", agentwire::kEpochHeader, journal_.state().epoch)};
  }
  std::string CommandPath(std::string_view tail) const {
    return fmt::format("/commands/{}/{}", journal_.id(), tail);
  }

  Outcome Claim() {
    auto r = client_.Call("POST", CommandPath("claim"), "{}");
    if (!r || r->status >= 500 || r->status == 401 || r->status == 429) {
      return Failed("claim", r);
    }
    if (r->status == 409 || r->status == 404 || r->status == 410) {
      // Lost (its lease ran out while this agent was away) with a runner that started it: the
      // step failed on the server, but what the script did is reported once it ends, for audit.
      const auto state = journal_.state().state;
      if (r->status == 409 && IsLost(*r) && journal_.state().epoch > 0 &&
          (state == CommandState::kStarted || state == CommandState::kExited)) {
        GoLate("the claim was refused: the command is lost");
        claimed_ = true;
        return Outcome::kOk;
      }
      // Final on the server (canceled, expired) or not ours: never run it; a runner that is
      // running it is told to stop.
      if (state == CommandState::kStarted) Cancel();
      return Settle(
          fmt::format("the claim was refused (HTTP {}: {})", r->status, r->ErrorMessage()));
    }
    if (r->status != 200 && r->status != 201) return Failed("claim", r);
    auto json = core::ParseJson(r->body);
    int64_t epoch = json && json->is_object() ? json->value("Epoch", int64_t{0}) : 0;
    if (epoch <= 0) return Failed("claim: no epoch in the answer", r);
    if (int hb = json->value("HeartbeatSeconds", 0); hb > 0) heartbeat_ = std::chrono::seconds(hb);
    if (journal_.state().epoch != epoch) {
      JournalState s = journal_.state();
      s.epoch = epoch;
      s.changed_ms = NowMs();
      if (!journal_.Save(s)) return Outcome::kRetry;
    }
    claimed_ = true;
    last_sent_ = std::chrono::steady_clock::now();
    return Outcome::kOk;
  }

  // Writes the result the runner would have written, for a command that never reaches one.
  Outcome Conclude(agentwire::ResultState state, std::string message) {
    agentwire::CommandResult result;
    result.state = state;
    result.outcome.exit_code = state == agentwire::ResultState::kUnknown ? -1 : 1;
    result.outcome.result_message = message;
    result.message = std::move(message);
    auto wrote = WriteFileDurably(journal_.PathOf("result.json"),
                                  agentwire::ResultToJson(result).dump() + "\n");
    if (!wrote) return Outcome::kRetry;
    JournalState s = journal_.state();
    s.state = CommandState::kExited;
    s.changed_ms = NowMs();
    if (!journal_.Save(s)) return Outcome::kRetry;
    return Outcome::kOk;
  }

  Outcome StartRunner() {
    auto text = ReadWholeFile(journal_.PathOf("command.json"));
    if (!text) return Conclude(agentwire::ResultState::kFailed, "the command was not received");
    auto json = core::ParseJson(*text);
    auto envelope =
        json ? agentwire::EnvelopeFromJson(*json) : Result<agentwire::Envelope>(Fail(json.error()));
    if (!envelope) {
      return Conclude(agentwire::ResultState::kFailed,
                      fmt::format("the command could not be read: {}", envelope.error().message()));
    }
    if (envelope->kind == agentwire::CommandKind::kPackage) {
      if (!envelope->package) {
        return Conclude(agentwire::ResultState::kFailed, "the command names no package");
      }
      auto fetched = Download(*envelope->package);
      if (!fetched) {
        if (agent_.stopping()) return Outcome::kStop;
        if (cancel_.load()) {
          return Conclude(agentwire::ResultState::kCanceled, "canceled before it ran");
        }
        // A server that is away (a failover, a restart) is waited for, up to 5 minutes.
        const auto now = std::chrono::steady_clock::now();
        if (download_failing_since_ == std::chrono::steady_clock::time_point{}) {
          download_failing_since_ = now;
        }
        if (fetched.error().code() == ErrorCode::kUnavailable &&
            now - download_failing_since_ < std::chrono::minutes(5)) {
          Note(journal_.id(), fetched.error().message());
          return Outcome::kRetry;
        }
        return Conclude(agentwire::ResultState::kFailed, fetched.error().message());
      }
    }
    if (cancel_.load())
      return Conclude(agentwire::ResultState::kCanceled, "canceled before it ran");
    // At most once: "started" is durable before the runner exists, so a crash from here on is
    // never followed by a second run.
    JournalState s = journal_.state();
    s.state = CommandState::kStarted;
    s.changed_ms = NowMs();
    if (!journal_.Save(s)) return Outcome::kRetry;
    auto pid = SpawnRunner(opts_.self_exe, opts_.home, journal_.id(), opts_.max_spool_bytes);
    if (!pid) {
      Note(journal_.id(), pid.error().message());
      return Outcome::kOk;  // Report() finds no runner and no result: unknown
    }
    s.pid = *pid;
    s.pid_start = ProcessStartTime(*pid);
    (void)journal_.Save(s);
    return Outcome::kOk;
  }

  Result<std::string> Download(const agentwire::PackageInfo& p) {
    SignedClient side(opts_.config.server_url, opts_.config.machine_id, opts_.key);
    PackageDownload download(client_, p, [&] {
      // The lease must not run out while a large package arrives: heartbeat on a second client.
      if (std::chrono::steady_clock::now() - last_sent_ >= heartbeat_) {
        last_sent_ = std::chrono::steady_clock::now();
        auto r = side.Call("POST", CommandPath("heartbeat"), "{}", EpochHeader());
        if (r && r->status == 200 && CancelIn(*r)) cancel_.store(true);
      }
      return !agent_.stopping() && !cancel_.load();
    });
    return FetchPackage(opts_.home + "/packages", p, [&](uint64_t offset, DownloadSink& sink) {
      return download(offset, sink);
    });
  }

  void Cancel() {
    if (cancel_sent_) return;
    cancel_sent_ = true;
    (void)WriteFileDurably(journal_.PathOf("cancel"), "canceled\n");
    const auto& st = journal_.state();
    if (st.pid > 0 && st.pid_start != 0 && ProcessStartTime(st.pid) == st.pid_start) {
      ::kill(st.pid, SIGTERM);
    }
    cancel_at_ = std::chrono::steady_clock::now();
  }

  // Runners that ignore the cancel (stuck writing) are killed after 30 s with everything in their
  // session: the script runs in a process group of its own, and may have started more groups.
  void EnforceCancel() {
    if (!cancel_sent_ || killed_) return;
    if (std::chrono::steady_clock::now() - cancel_at_ < std::chrono::seconds(30)) return;
    killed_ = true;
    const auto& st = journal_.state();
    if (st.pid > 0 && st.pid_start != 0 && ProcessStartTime(st.pid) == st.pid_start) {
      pid_t session = ::getsid(st.pid);
      if (session > 1) KillSession(session, SIGKILL);
    }
  }

  // The server fenced the command (its lease ran out: lost). Nothing more is sent until the runner
  // ends; then its result goes once, which the server keeps as a late result for audit.
  void GoLate(std::string_view why) {
    if (late_) return;
    late_ = true;
    Note(journal_.id(),
         fmt::format("{}; its result will be sent once the step ends, for audit", why));
  }
  // Whether a refusal (409/410) says the command is lost: its CommandState field, or, from an
  // older server without the field, " is lost" in its message (docs/agent.md, "Refusals").
  static bool IsLost(const HttpResponse& r) {
    auto json = core::ParseJson(r.body);
    const nlohmann::json* state =
        json && json->is_object() ? core::FindKeyIgnoreCase(*json, "CommandState") : nullptr;
    if (state != nullptr && state->is_string()) return state->get<std::string>() == "lost";
    return r.ErrorMessage().find(" is lost") != std::string::npos;
  }

  Outcome Report() {
    if (cancel_.load()) Cancel();
    EnforceCancel();
    if (journal_.state().state == CommandState::kStarted && !RunnerAlive(journal_)) {
      // The lock is released only after result.json is in place: no lock and no result means the
      // runner died (or never started) mid-step.
      if (!FileExists(journal_.PathOf("result.json"))) {
        auto c = Conclude(agentwire::ResultState::kUnknown, std::string(kLostTrackMessage));
        if (c != Outcome::kOk) return c;
      } else {
        JournalState s = journal_.state();
        s.state = CommandState::kExited;
        s.changed_ms = NowMs();
        if (!journal_.Save(s)) return Outcome::kRetry;
      }
    }
    const bool exited = journal_.state().state == CommandState::kExited;
    if (late_) return exited ? SendResult() : Outcome::kOk;
    if (exited) {
      auto uploaded = UploadArtifacts();
      if (uploaded != Outcome::kOk || late_) return uploaded;
    }
    for (;;) {
      auto cut = journal_.CutChunk(opts_.chunk_bytes);
      if (!cut) {
        Note(journal_.id(), cut.error().message());
        return Outcome::kRetry;
      }
      if (!*cut) break;
    }
    for (const auto& mark : journal_.chunks()) {
      if (mark.seq <= journal_.state().acked_seq) continue;
      auto sent = SendChunk(mark);
      if (sent != Outcome::kOk) return sent;
    }
    if (exited) return SendResult();
    if (std::chrono::steady_clock::now() - last_sent_ >= heartbeat_) {
      auto r = client_.Call("POST", CommandPath("heartbeat"), "{}", EpochHeader());
      if (r && r->status == 410) return Fenced(*r);
      if (!r || r->status != 200) return Failed("heartbeat", r);
      last_sent_ = std::chrono::steady_clock::now();
      if (CancelIn(*r)) cancel_.store(true);
    }
    return Outcome::kOk;
  }

  Outcome SendChunk(const ChunkMark& mark) {
    auto bytes = journal_.ReadChunk(mark);
    if (!bytes) {
      Note(journal_.id(), bytes.error().message());
      return Outcome::kRetry;
    }
    auto r =
        client_.Call("PUT", CommandPath(fmt::format("log/{}", mark.seq)), *bytes, EpochHeader());
    if (r && r->status == 410) return Fenced(*r);
    if (r && r->status == 409) {
      Note(journal_.id(),
           fmt::format("the server holds a different chunk {}: {}", mark.seq, r->ErrorMessage()));
    } else if (!r || (r->status != 200 && r->status != 201)) {
      return Failed(fmt::format("chunk {}", mark.seq), r);
    }
    last_sent_ = std::chrono::steady_clock::now();
    if (r->status != 409 && CancelIn(*r)) cancel_.store(true);
    if (mark.seq > journal_.state().acked_seq) {
      JournalState s = journal_.state();
      s.acked_seq = mark.seq;
      s.changed_ms = NowMs();
      if (!journal_.Save(s)) return Outcome::kRetry;
    }
    return Outcome::kOk;
  }

  // The staged artifacts not uploaded yet, before the chunks and the result: each accepted one
  // is recorded in the journal first, then its line goes to the spool.
  Outcome UploadArtifacts() {
    const auto sent = SentArtifacts(journal_);
    for (const auto& a : StagedArtifacts(journal_)) {
      if (sent.contains(a.n)) continue;
      if (a.size > opts_.artifact_piece_bytes) {
        // nullopt: a server from before pieces, and a file one request can carry (below).
        if (auto piecewise = UploadInPieces(a)) {
          if (*piecewise != Outcome::kOk || late_) return *piecewise;
          continue;
        }
      }
      auto bytes = ReadWholeFile(journal_.PathOf(a.file));
      if (!bytes) {
        AppendSpoolLine(journal_, engine::LogCategory::kWarning,
                        fmt::format("The artifact '{}' was not collected: {}", a.name,
                                    bytes.error().message()));
        if (!MarkArtifactSent(journal_, a)) return Outcome::kRetry;
        continue;
      }
      std::vector<std::string> headers = EpochHeader();
      headers.push_back(fmt::format("{}: {}", agentwire::kSha256Header, a.sha256));
      auto r = client_.Call(
          "PUT", CommandPath(fmt::format("artifacts/{}?name={}", a.n, core::UrlEncode(a.name))),
          *bytes, std::move(headers), std::chrono::seconds(300));
      if (r && r->status == 410) return Fenced(*r);
      std::string line;
      engine::LogCategory category = engine::LogCategory::kInfo;
      if (r && (r->status == 200 || r->status == 201)) {
        line = fmt::format("Collected artifact {} ({} bytes)", a.name, a.size);
      } else if (r && r->status >= 400 && r->status < 500 && r->status != 401 && r->status != 408 &&
                 r->status != 429) {
        // Refused for good (409 another file has the number, 413 too large for the server...).
        category = engine::LogCategory::kWarning;
        line = fmt::format("The artifact '{}' was not collected: HTTP {}: {}", a.name, r->status,
                           r->ErrorMessage());
      } else {
        return Failed(fmt::format("artifact {}", a.n), r);
      }
      last_sent_ = std::chrono::steady_clock::now();
      if (!MarkArtifactSent(journal_, a)) return Outcome::kRetry;
      AppendSpoolLine(journal_, category, line);
    }
    return Outcome::kOk;
  }

  // Whether a 4xx refuses an upload for good (409 another file has the number, 413 too large for
  // the server, 400...), rather than for now (401, 408, 429).
  static bool RefusedForGood(long status) {
    return status >= 400 && status < 500 && status != 401 && status != 408 && status != 429;
  }

  // Records an artifact as done (collected or refused for good) and says so in the log.
  Outcome ArtifactDone(const StagedArtifact& a, engine::LogCategory category,
                       const std::string& line) {
    if (!MarkArtifactSent(journal_, a)) return Outcome::kRetry;
    AppendSpoolLine(journal_, category, line);
    return Outcome::kOk;
  }

  // A staged file larger than one piece (docs/agent.md, "Uploads in pieces"): asks the server
  // where it stands (a restarted agent resumes there, not from 0), then sends the rest piece by
  // piece from the staged file, following the server's "Received". A failure is retried with
  // the back-off, by the next Report (through the load balancer: any node).
  std::optional<Outcome> UploadInPieces(const StagedArtifact& a) {
    const std::string sha_header = fmt::format("{}: {}", agentwire::kSha256Header, a.sha256);
    auto progress = [](const HttpResponse& r, const char* field) -> std::optional<nlohmann::json> {
      auto json = core::ParseJson(r.body);
      if (!json || !json->is_object() || !json->contains(field)) return std::nullopt;
      return (*json)[field];
    };
    auto collected = [&] {
      return ArtifactDone(a, engine::LogCategory::kInfo,
                          fmt::format("Collected artifact {} ({} bytes)", a.name, a.size));
    };
    auto refused = [&](const HttpResponse& r) {
      return ArtifactDone(a, engine::LogCategory::kWarning,
                          fmt::format("The artifact '{}' was not collected: HTTP {}: {}", a.name,
                                      r.status, r.ErrorMessage()));
    };
    auto state = client_.Call("GET", CommandPath(fmt::format("artifacts/{}?size={}", a.n, a.size)),
                              {}, {sha_header});
    if (state && state->status == 200 && progress(*state, "ArtifactId")) return collected();
    if (state && state->status == 405 && a.size <= agentwire::kMaxArtifactBytes) {
      return std::nullopt;  // GET is not allowed there: a server from before pieces
    }
    if (state && state->status != 200 && RefusedForGood(state->status)) return refused(*state);
    if (!state || state->status != 200) return Failed(fmt::format("artifact {}", a.n), state);
    auto held = progress(*state, "Received");
    uint64_t offset = held && held->is_number_unsigned() ? held->get<uint64_t>() : 0;
    if (offset >= a.size) offset = 0;
    int fd = ::open(journal_.PathOf(a.file).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return ArtifactDone(a, engine::LogCategory::kWarning,
                          fmt::format("The artifact '{}' was not collected: the staged file "
                                      "cannot be opened: {}",
                                      a.name, std::strerror(errno)));
    }
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    std::string piece;
    while (offset < a.size) {
      if (agent_.stopping()) return Outcome::kRetry;
      const size_t len = static_cast<size_t>(std::min(opts_.artifact_piece_bytes, a.size - offset));
      piece.resize(len);
      size_t done = 0;
      while (done < len) {
        ssize_t n = ::pread(fd, piece.data() + done, len - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          Note(journal_.id(), fmt::format("artifact {}: the staged file cannot be read", a.n));
          return Outcome::kRetry;
        }
        done += static_cast<size_t>(n);
      }
      std::vector<std::string> headers = EpochHeader();
      headers.push_back(sha_header);
      auto r = client_.Call("PUT",
                            CommandPath(fmt::format("artifacts/{}?name={}&offset={}&size={}", a.n,
                                                    core::UrlEncode(a.name), offset, a.size)),
                            piece, std::move(headers), std::chrono::seconds(300));
      if (r && r->status == 410) return Fenced(*r);
      if (!r) return Failed(fmt::format("artifact {} at {}", a.n, offset), r);
      last_sent_ = std::chrono::steady_clock::now();
      if ((r->status == 200 || r->status == 201) && progress(*r, "ArtifactId")) return collected();
      auto received = progress(*r, "Received");
      const bool has_received = received && received->is_number_unsigned();
      if (r->status == 200 && has_received && received->get<uint64_t>() > offset) {
        offset = received->get<uint64_t>();
        continue;
      }
      if (r->status == 409 && has_received) {
        // A gap (the server holds less or other bytes): resume where it says.
        Note(journal_.id(), fmt::format("artifact {}: {}", a.n, r->ErrorMessage()));
        offset = received->get<uint64_t>();
        continue;
      }
      if (RefusedForGood(r->status)) return refused(*r);
      return Failed(fmt::format("artifact {} at {}", a.n, offset), r);
    }
    // Everything was sent but no answer said stored (a 409 pointed past the end): ask again.
    return Outcome::kRetry;
  }

  // A 410 on a chunk or heartbeat: lost (a late result follows) or any other end (settled).
  Outcome Fenced(const HttpResponse& r) {
    if (IsLost(r) && journal_.state().state != CommandState::kAcked) {
      GoLate("the server fenced the command (HTTP 410: it is lost)");
      return Outcome::kOk;
    }
    return Settle(fmt::format("the server fenced the command (HTTP 410: {})", r.ErrorMessage()));
  }

  Outcome SendResult() {
    auto text = ReadWholeFile(journal_.PathOf("result.json"));
    auto json = text ? core::ParseJson(*text) : Result<nlohmann::json>(Fail(text.error()));
    auto result = json ? agentwire::ResultFromJson(*json)
                       : Result<agentwire::CommandResult>(Fail(json.error()));
    if (!result) {
      return Conclude(
          agentwire::ResultState::kUnknown,
          fmt::format("the step's result could not be read: {}", result.error().message()));
    }
    result->last_seq = static_cast<int64_t>(journal_.chunks().size()) - 1;
    auto r = client_.Call("PUT", CommandPath("result"), agentwire::ResultToJson(*result).dump(),
                          EpochHeader());
    if (r && r->status == 412) {
      auto body = core::ParseJson(r->body);
      const nlohmann::json* missing =
          body && body->is_object() ? core::FindKeyIgnoreCase(*body, "MissingSeqs") : nullptr;
      if (missing != nullptr && missing->is_array()) {
        for (const auto& seq : *missing) {
          if (!seq.is_number_integer()) continue;
          const int64_t n = seq.get<int64_t>();
          if (n < 0 || n >= static_cast<int64_t>(journal_.chunks().size())) continue;
          auto sent = SendChunk(journal_.chunks()[static_cast<size_t>(n)]);
          if (sent != Outcome::kOk) return sent;
        }
      }
      return Outcome::kRetry;
    }
    if (r && r->status == 200) {
      last_sent_ = std::chrono::steady_clock::now();
      JournalState s = journal_.state();
      s.state = CommandState::kAcked;
      s.changed_ms = NowMs();
      if (!journal_.Save(s)) return Outcome::kRetry;
      return Outcome::kStop;
    }
    if (r && (r->status == 409 || r->status == 410)) {
      return Settle(
          fmt::format("the result was refused (HTTP {}: {})", r->status, r->ErrorMessage()));
    }
    return Failed("result", r);
  }

  Agent& agent_;
  const AgentOptions& opts_;
  CommandJournal journal_;
  SignedClient client_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  std::atomic<bool> cancel_{false};
  bool claimed_ = false;
  bool late_ = false;
  bool cancel_sent_ = false;
  bool killed_ = false;
  std::chrono::steady_clock::time_point download_failing_since_{};
  std::chrono::steady_clock::time_point cancel_at_{};
  std::chrono::steady_clock::time_point last_sent_ = std::chrono::steady_clock::now();
  std::chrono::milliseconds pending_wait_{0};
  std::chrono::seconds heartbeat_{opts_.config.heartbeat_seconds};
};

Agent::Agent(AgentOptions options) : options_(std::move(options)) {}

Agent::~Agent() {
  Stop();
  std::map<std::string, std::shared_ptr<CommandWorker>> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& [id, w] : workers) w->Join();
}

void Agent::Stop() {
  stop_.store(true);
  std::lock_guard lock(mu_);
  cv_.notify_all();
}

void Agent::NotRegistered() {
  not_registered_.store(true);
  Stop();
}

void Agent::Sleep(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [&] { return stop_.load(); });
}

void Agent::StartWorker(const std::string& id, const agentwire::Envelope* envelope) {
  {
    std::lock_guard lock(mu_);
    if (workers_.contains(id)) return;
  }
  const std::string root = options_.home + "/journal";
  Result<CommandJournal> journal = Fail(Error::NotFound("journal"));
  if (CommandJournal::Exists(root, id)) {
    journal = CommandJournal::Open(root, id);
    if (!journal) {
      Note(id, journal.error().message());
      return;
    }
    if (journal->state().state == CommandState::kAcked) {
      Note(id, "offered again, but it is done: not run again");
      return;
    }
  } else {
    if (envelope == nullptr) return;
    journal = CommandJournal::Create(root, id, NowMs());
    if (!journal) {
      Note(id, journal.error().message());
      return;
    }
  }
  const std::string command_file = journal->PathOf("command.json");
  if (journal->state().state == CommandState::kReceived && !FileExists(command_file)) {
    // Received but not yet written down (a crash between the two): the offer brings it again.
    if (envelope == nullptr) return;
    if (!WriteFileDurably(command_file, agentwire::EnvelopeToJson(*envelope).dump())) return;
  }
  auto worker = std::make_shared<CommandWorker>(*this, std::move(*journal));
  std::lock_guard lock(mu_);
  workers_[id] = worker;
  worker->Start();
}

void Agent::ReapWorkers() {
  std::vector<std::shared_ptr<CommandWorker>> finished;
  {
    std::lock_guard lock(mu_);
    for (auto it = workers_.begin(); it != workers_.end();) {
      if (it->second->done()) {
        finished.push_back(it->second);
        it = workers_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& w : finished) w->Join();
}

void Agent::HandlePoll(const nlohmann::json& body) {
  if (const auto* cancels = core::FindKeyIgnoreCase(body, "Cancels");
      cancels != nullptr && cancels->is_array()) {
    std::lock_guard lock(mu_);
    for (const auto& id : *cancels) {
      if (!id.is_string()) continue;
      auto it = workers_.find(id.get<std::string>());
      if (it != workers_.end()) it->second->RequestCancel();
    }
  }
  const auto* offers = core::FindKeyIgnoreCase(body, "Offers");
  if (offers == nullptr || !offers->is_array()) return;
  for (const auto& offer : *offers) {
    if (!offer.is_object()) continue;
    const std::string id = core::StringMember(offer, "CommandId");
    const auto* env_json = core::FindKeyIgnoreCase(offer, "Envelope");
    if (id.empty() || env_json == nullptr) continue;
    auto envelope = agentwire::EnvelopeFromJson(*env_json);
    if (!envelope) {
      Note(id, fmt::format("the offer's envelope is not valid: {}", envelope.error().message()));
      continue;
    }
    StartWorker(id, &*envelope);
  }
}

int Agent::Run() {
  const std::string root = options_.home + "/journal";
  const int64_t cutoff =
      NowMs() - std::chrono::duration_cast<std::chrono::milliseconds>(options_.prune_after).count();
  if (int n = CommandJournal::Prune(root, cutoff); n > 0) {
    std::fprintf(stderr, "cuttle-agent: pruned %d finished command(s) from the journal\n", n);
  }
  // Re-attach: every command not yet acknowledged resumes where the last agent left it.
  for (const auto& id : CommandJournal::List(root)) StartWorker(id, nullptr);

  SignedClient client(options_.config.server_url, options_.config.machine_id, options_.key);
  Backoff backoff;
  const int wait = std::clamp(options_.config.poll_seconds, 1, agentwire::kPollSeconds);
  while (!stop_.load()) {
    ReapWorkers();
    HttpRequest r;
    r.method = "GET";
    r.timeout = std::chrono::seconds(wait + 15);
    r.on_progress = [this] { return !stop_.load(); };
    auto got = client.Call(fmt::format("/poll?wait={}", wait), std::move(r));
    if (stop_.load()) break;
    if (got && IsNotRegistered(*got)) {
      NotRegistered();
      break;
    }
    if (got && got->status == 204) {
      backoff.Reset();
      continue;
    }
    if (got && got->status == 200) {
      backoff.Reset();
      auto body = core::ParseJson(got->body);
      if (body && body->is_object()) HandlePoll(*body);
      continue;
    }
    std::fprintf(stderr, "cuttle-agent: poll: %s\n",
                 got ? fmt::format("HTTP {}: {}", got->status, got->ErrorMessage()).c_str()
                     : got.error().message().c_str());
    Sleep(backoff.Next());
  }
  Stop();
  std::map<std::string, std::shared_ptr<CommandWorker>> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& [id, w] : workers) w->Join();
  if (not_registered_.load()) {
    std::fprintf(stderr,
                 "cuttle-agent: this agent is not registered with the server (deleted or "
                 "deregistered); register it again\n");
    return kExitNotRegistered;
  }
  return 0;
}

}  // namespace cuttle::agent
