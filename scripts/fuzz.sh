#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang-16, ASan and UBSan into BUILD_DIR and runs
# each in turn for SECONDS, then prints per target the executions, exec/s, coverage (cov: edges,
# ft: features) and the size of its working corpus. New inputs go to BUILD_DIR/fuzz-corpus/<target>,
# not into the repository; the repository's seeds and regressions are read alongside. Crashes are
# saved in BUILD_DIR/fuzz-crashes/<target>/ and make the script exit non-zero.
# FUZZ_MERGE=1 merges the working corpus back into tests/fuzz/corpus/<target> with -merge=1,
# which adds only inputs that reach new coverage.
# Usage: scripts/fuzz.sh [BUILD_DIR] [SECONDS] [TARGET...]   (default: build-fuzz 60 all)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${1:-build-fuzz}")
seconds=${2:-60}
shift $(($# < 2 ? $# : 2))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(multipart package version service_message url json_body)
fi

"$root/scripts/install-deps.sh" --fuzz
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-16 -DCUTTLE_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "${JOBS:-2}" --target "${targets[@]/%/_fuzz}"

summary=()
crashed=0
for t in "${targets[@]}"; do
  work="$build/fuzz-corpus/$t"
  crashes="$build/fuzz-crashes/$t"
  log="$build/fuzz-logs/$t.log"
  mkdir -p "$work" "$crashes" "$(dirname "$log")"
  echo "== fuzzing $t for ${seconds}s (log: $log)"
  rc=0
  "$build/tests/fuzz/${t}_fuzz" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -dict="$root/tests/fuzz/dict/$t.dict" -artifact_prefix="$crashes/" \
    "$work" "$root/tests/fuzz/corpus/$t" "$root/tests/fuzz/regressions/$t" >"$log" 2>&1 || rc=$?
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corpus=$(find "$work" -type f | wc -l)
  status=ok
  if [ "$rc" -ne 0 ]; then
    status="CRASH (exit $rc): $(ls "$crashes" | head -n 3 | tr '\n' ' ')"
    crashed=1
    tail -n 40 "$log"
  fi
  summary+=("$(printf '%-16s %12s %8s %7s %7s %7s  %s' "$t" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "$corpus" "$status")")
  if [ "${FUZZ_MERGE:-0}" = 1 ] && [ "$rc" -eq 0 ]; then
    "$build/tests/fuzz/${t}_fuzz" -merge=1 "$root/tests/fuzz/corpus/$t" "$work" >>"$log" 2>&1
  fi
done

echo
printf '%-16s %12s %8s %7s %7s %7s  %s\n' target executions exec/s cov ft corpus status
printf '%s\n' "${summary[@]}"
if [ "$crashed" -ne 0 ]; then
  echo "fuzz: crashes above; reproduce with build-fuzz/tests/fuzz/<target>_fuzz <file>, and keep" \
    "the input in tests/fuzz/regressions/<target>/ with the fix" >&2
  exit 1
fi
