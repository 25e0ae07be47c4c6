#!/usr/bin/env bash
# The GPU configuration of `sciopt bench operator` (operators.tuned_config(..., target="gpu"),
# docs/methods/operators.md "Tuned configurations") on one GPU, as parallel `--only "<data set> <model>"` parts merged
# into one table at the end. One small operator model leaves much of a GPU idle between
# kernel launches, so several training processes share it (with 10 parts on an H200,
# nvidia-smi read 100 % utilisation; serial runs were not timed against it).
#
#   bash benchmarks/operator_gpu.sh [WORK_DIR]       (default: results/operator_gpu)
#
# Environment: BUDGET_S (seconds before unfinished parts are stopped; default 3600),
# PARALLEL (parts at once; default 10), CASES (newline-separated labels, default all, in
# priority order), EXTRA (more `sciopt bench` options, e.g. --quick for a dry run on CPU),
# SCIOPT_DATA (the data folder; default ./data). A stopped part leaves only its log (with
# the training progress).
set -u
work=${1:-results/operator_gpu}
budget=${BUDGET_S:-3600}
parallel=${PARALLEL:-10}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # processes share the GPU's memory
export SCIOPT_DATA=${SCIOPT_DATA:-$PWD/data}
default_cases="burgers_128 fno
burgers_128 dymixop
burgers_128 multionet
burgers_128 deeponet
burgers_1024 fno
burgers_1024 dymixop
navier_stokes_32 fno
navier_stokes_32 dymixop
darcy_29 fno
darcy_29 dymixop
darcy_85 fno
darcy_85 dymixop
burgers_1024 deeponet
burgers_1024 multionet
darcy_29 deeponet
darcy_29 multionet
darcy_85 deeponet
darcy_85 multionet"
cases=${CASES:-$default_cases}
mkdir -p "$work/parts" "$work/logs"
start=$(date +%s)
python3 - <<'EOF' 2>&1 | tee "$work/logs/setup.log"
import jax
print("devices:", jax.devices(), "jax", jax.__version__, flush=True)
EOF
# Generate the data sets first, one at a time (a part that found another writing the same
# cache file would be refused); the Darcy sets take seconds on a GPU.
python3 - <<'EOF' 2>&1 | tee -a "$work/logs/setup.log"
import time
import jax
from sciopt.bench import load_suite
bench = load_suite("operator")
with jax.enable_x64(True):
    for name, (_, full, _, _) in bench.DATASETS.items():
        t = time.perf_counter()
        path = bench._dataset(name, sum(full), {})
        print(f"data {name}: {path} ({time.perf_counter() - t:.1f} s)", flush=True)
EOF
left() { echo $((budget - ($(date +%s) - start))); }
while IFS= read -r case; do
  [ -z "$case" ] && continue
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do sleep 2; done
  if [ "$(left)" -le 30 ]; then echo "not started (budget spent): $case"; continue; fi
  slug=${case// /_}
  echo "$(date +%T) start $case ($(left) s left)"
  timeout "$(left)" python3 -m sciopt.cli bench operator --only "$case" \
    --out "$work/parts/$slug" ${EXTRA:-} >"$work/logs/$slug.log" 2>&1 &
done <<<"$cases"
wait
echo "$(date +%T) all parts ended after $(($(date +%s) - start)) s"
done_parts=()
for d in "$work"/parts/*; do
  if [ -f "$d/operator.json" ]; then done_parts+=("$d"); else echo "unfinished: $d"; fi
done
if [ ${#done_parts[@]} -gt 0 ]; then
  python3 -m sciopt.cli bench operator --merge "${done_parts[@]}" --out "$work/merged" \
    >"$work/logs/merge.log" 2>&1 && cat "$work/merged/operator.md"
fi
