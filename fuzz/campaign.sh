#!/bin/sh
# A fuzzing campaign: each target for SECONDS, two at a time (the
# machines have 2 cores), in libFuzzer's fork mode so that a crash is
# saved and the run goes on.  Binaries are copied first, so rebuilding
# build/fuzz/ during the campaign does not disturb it.
#
#   make fuzz-build && nohup sh fuzz/campaign.sh 600 > /dev/null 2>&1 &
#
# Output in build/fuzz-campaign/: <t>.log, corpus-<t>/ (new inputs),
# <t>-crash-* (crash inputs).  Set CT_FUZZ_LENIENT (see
# docs/hardening.md) to step past known, reported bugs.
set -u
secs=${1:-600}
shift 2>/dev/null || true
targets=${*:-request json time encode guid query}
out=build/fuzz-campaign
mkdir -p "$out/bin"
for t in $targets; do cp "build/fuzz/fuzz_$t" "$out/bin/"; done

maxlen() {
  case $1 in
    request) echo 16384;; json) echo 8192;; encode) echo 4096;;
    time) echo 64;; query) echo 1024;; *) echo 512;;
  esac
}

run() {
  t=$1
  mkdir -p "$out/corpus-$t"
  dict=
  if [ -f "fuzz/dict/$t.dict" ]; then dict=-dict=fuzz/dict/$t.dict; fi
  echo "start $t $(date -u +%H:%M:%S)" >> "$out/campaign.txt"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$out/bin/fuzz_$t" -fork=1 -ignore_crashes=1 -ignore_ooms=1 \
    -ignore_timeouts=1 -timeout=20 -max_total_time="$secs" \
    -max_len="$(maxlen "$t")" $dict -artifact_prefix="$out/$t-" \
    "$out/corpus-$t" "fuzz/corpus/$t" > "$out/$t.log" 2>&1
  echo "end $t $(date -u +%H:%M:%S) rc=$?" >> "$out/campaign.txt"
}

# two lanes: the targets alternate between them
lane() {
  i=0
  for t in $targets; do
    if [ $((i % 2)) -eq "$1" ]; then run "$t"; fi
    i=$((i + 1))
  done
}
lane 0 &
lane 1 &
wait
echo "done $(date -u +%H:%M:%S)" >> "$out/campaign.txt"
