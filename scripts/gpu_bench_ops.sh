#!/usr/bin/env bash
# `trtplug bench` over every registered op (or $BENCH_OPS), one process per op so that a crash or
# a hang costs only that op, each op held to $BENCH_OP_LIMIT seconds and the whole run to
# $BENCH_BUDGET seconds (ops not reached are listed). Runs after scripts/gpu_test.sh built trtplug
# (same PYTHONPATH). Writes $OUT/bench-ops.json, $OUT/bench-ops.md (error rows left out) and
# $OUT/bench-ops.log. Sizes: $BENCH_SIZES (MB, default 16,256).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUTDIR=${OUT:-reports}
RUNS=$(mktemp -d)
START=$SECONDS
OPS=${BENCH_OPS:-$("$PY" -c "from trtplug.registry import load_registry; print(' '.join(s.key for s in load_registry([]).select(None)))")}
export PYTHONUNBUFFERED=1
for op in $OPS; do
  if (( SECONDS - START > ${BENCH_BUDGET:-400} )); then
    echo "not reached (budget): $op"; continue
  fi
  t0=$SECONDS
  timeout "${BENCH_OP_LIMIT:-90}" "$PY" -m trtplug bench --op "$op" --sizes "${BENCH_SIZES:-16,256}" --json \
    >"$RUNS/$op.json" 2>"$RUNS/$op.err"
  echo "$op: exit $? in $((SECONDS - t0)) s $(tail -c 300 "$RUNS/$op.err" | tr '\n' ' ' | grep -E -o '(Error|error).{0,200}' | head -1)"
done 2>&1 | tee "$OUTDIR/bench-ops.log"
"$PY" benchmarks/merge_bench_runs.py "$RUNS"/*.json --markdown "$OUTDIR/bench-ops.md" --json "$OUTDIR/bench-ops.json" \
  --note "commit=${TRTPLUG_COMMIT:-unknown}" 2>&1 | tee -a "$OUTDIR/bench-ops.log"
