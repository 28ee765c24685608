// The cost of commit markers (docs/high-availability.md, "Lost replies"): a one-row insert
// through InTransaction, which commits with a marker in the COMMIT's message, beside the same
// insert through Begin()/Commit(), which has none. Both alternate in rounds so that a change in the
// machine's load falls on both. Run against a throwaway PostgreSQL:
//   scripts/with-postgres.sh build/bench/commit_marker_bench [transactions per round] [rounds]
// Prints the median per transaction of each and the difference.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/migrations.h"

namespace {

using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int per_round = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  const char* url = std::getenv("CUTTLE_TEST_PG_URL");
  if (url == nullptr || per_round <= 0 || rounds <= 0) {
    std::fprintf(stderr,
                 "usage: scripts/with-postgres.sh commit_marker_bench [per round] [rounds]\n");
    return 2;
  }
  cuttle::db::OpenOptions options;
  options.url = url;
  auto db = cuttle::db::Open(options);
  if (!db) {
    std::fprintf(stderr, "commit_marker_bench: %s\n", db.error().message().c_str());
    return 1;
  }
  if (auto m = cuttle::db::Migrate(**db); !m) {
    std::fprintf(stderr, "commit_marker_bench: %s\n", m.error().message().c_str());
    return 1;
  }
  auto made = (*db)->Execute(
      "CREATE TABLE IF NOT EXISTS bench_rows (id BIGSERIAL PRIMARY KEY, note TEXT NOT NULL)");
  if (!made) {
    std::fprintf(stderr, "commit_marker_bench: %s\n", made.error().message().c_str());
    return 1;
  }
  auto insert = [](cuttle::db::Transaction& tx) -> cuttle::Result<void> {
    auto r = tx.Execute("INSERT INTO bench_rows (note) VALUES ($1)", {std::string("row")});
    if (!r) return cuttle::Fail(r.error());
    return {};
  };
  std::vector<double> marked_us, bare_us;
  for (int round = 0; round < rounds; ++round) {
    auto start = Clock::now();
    for (int i = 0; i < per_round; ++i) {
      if (auto r = (*db)->InTransaction(insert); !r) {
        std::fprintf(stderr, "commit_marker_bench: %s\n", r.error().message().c_str());
        return 1;
      }
    }
    marked_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count() /
                        per_round);
    start = Clock::now();
    for (int i = 0; i < per_round; ++i) {
      auto tx = (*db)->Begin();
      if (!tx || !insert(**tx) || !(*tx)->Commit()) {
        std::fprintf(stderr, "commit_marker_bench: a bare transaction failed\n");
        return 1;
      }
    }
    bare_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count() /
                      per_round);
  }
  const double marked = Median(marked_us), bare = Median(bare_us);
  std::printf(
      "one-row transaction, median of %d rounds of %d: with a commit marker %.0f us, without "
      "%.0f us: the marker costs %+.0f us (%+.0f%%)\n",
      rounds, per_round, marked, bare, marked - bare, 100.0 * (marked - bare) / bare);
  return 0;
}
