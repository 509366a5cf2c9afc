#!/usr/bin/env bash
# `trtplug bench` over every registered op (or $BENCH_OPS), $BENCH_GROUP ops to a process (default
# 4: each process pays ~5 s of torch/CuPy start and a copy measurement); a group whose process
# fails or hangs is run again one op to a process, so a crash costs only that op. Each op is held
# to $BENCH_OP_LIMIT seconds and the whole run to $BENCH_BUDGET seconds (groups not started are
# listed as not reached). Runs after scripts/gpu_test.sh built trtplug (same PYTHONPATH). Writes
# $OUT/bench-ops.json, $OUT/bench-ops.md (error rows left out) and $OUT/bench-ops.log.
# Sizes: $BENCH_SIZES (MB, default 16,256).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUTDIR=${OUT:-reports}
RUNS=$(mktemp -d)
START=$SECONDS
LIMIT=${BENCH_OP_LIMIT:-90}
OPS=${BENCH_OPS:-$("$PY" -c "from trtplug.registry import load_registry; print(' '.join(s.key for s in load_registry([]).select(None)))")}
export PYTHONUNBUFFERED=1

bench() {  # bench NAME OP...: one process over the ops, its json in $RUNS/NAME.json
  local name=$1; shift
  local args=(); for op in "$@"; do args+=(--op "$op"); done
  local t0=$SECONDS
  timeout $(( LIMIT * $# )) "$PY" -m trtplug bench "${args[@]}" --sizes "${BENCH_SIZES:-16,256}" --json \
    >"$RUNS/$name.json" 2>"$RUNS/$name.err"
  local rc=$?
  echo "$*: exit $rc in $((SECONDS - t0)) s $(tail -c 300 "$RUNS/$name.err" | tr '\n' ' ' | grep -E -o '(Error|error).{0,200}' | head -1)"
  [ "$rc" -eq 0 ] || { rm -f "$RUNS/$name.json"; return 1; }
}

set -- $OPS
group=0
while [ $# -gt 0 ]; do
  take=$(( $# < ${BENCH_GROUP:-4} ? $# : ${BENCH_GROUP:-4} ))
  ops=("${@:1:take}"); shift "$take"
  if (( SECONDS - START > ${BENCH_BUDGET:-400} )); then
    echo "not reached (budget): ${ops[*]}"; continue
  fi
  group=$((group + 1))
  bench "g$group" "${ops[@]}" && continue
  [ "${#ops[@]}" -gt 1 ] || continue
  for op in "${ops[@]}"; do  # the group failed: each op alone, so one crash costs only its rows
    if (( SECONDS - START > ${BENCH_BUDGET:-400} )); then echo "not reached (budget): $op"; continue; fi
    bench "$op" "$op"
  done
done 2>&1 | tee "$OUTDIR/bench-ops.log"
"$PY" benchmarks/merge_bench_runs.py "$RUNS"/*.json --markdown "$OUTDIR/bench-ops.md" --json "$OUTDIR/bench-ops.json" \
  --note "commit=${TRTPLUG_COMMIT:-unknown}" 2>&1 | tee -a "$OUTDIR/bench-ops.log"
