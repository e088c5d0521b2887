#!/usr/bin/env bash
# Training runs on the GPU machine lent through the device tool, side by side on its one GPU, under
# KERAS_BACKEND=jax (it has JAX but neither TensorFlow nor Keras; Keras comes as wheels in .whl/).
# docs/training.md: Training on the GPU machine. Run there from the repository root, once every part of
# bench/gpu_data.py's pack is in .gpu/:
#
#   MINUTES=8 bash bench/gpu_train.sh     # or RUNS='ferplus_a|--ferplus .gpu/data/fer2013new.csv;fer2013_a|' ...
#
# GPU_DIR (default .gpu), PYTHON (python3), OUT, MINUTES (8) and KERAS_BACKEND (jax) may be set.
#
# RUNS: runs separated by ';', each 'NAME|trainer options' (python -m train --help; --data is the rebuilt
# FER2013 CSV). Each run stops in time (--max-minutes $MINUTES) and comes back as $OUT/NAME.tar: the model,
# its card and history, and its log. Here: train.framing and train.export finish each model.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/gpu-out}
python=${PYTHON:-python3}
dir=${GPU_DIR:-.gpu}  # where the packed parts are (and the rebuilt data and the models go)
mkdir -p "$out" "$dir/models"
if ! "$python" -c "import keras" 2> /dev/null && compgen -G ".whl/*.whl" > /dev/null; then
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export KERAS_BACKEND=${KERAS_BACKEND:-jax} XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1
[ -f "$dir/data/fer2013.csv" ] || "$python" bench/gpu_data.py unpack --folder "$dir" || exit 1
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
# Without RUNS: the four FER2013 members that, with the shipped fer2013, made the 73.06% ensemble (docs/training.md), to
# distil into one network in a second round: RUNS naming them as --teacher (docs/training.md: the FER2013 target)
default="fer2013_w80|--width 80 --label-smoothing 0.1 --epochs 60;fer2013_s3|--width 64 --seed 3 --label-smoothing 0.1 --epochs 70;fer2013_mix|--mixup 0.2 --cutmix 1.0 --epochs 80;fer2013_sgd|--optimizer sgd-nesterov --lr 0.01 --mixup 0.2 --epochs 80"
IFS=';' read -ra runs <<< "${RUNS:-$default}"
names=()
for run in "${runs[@]}"; do
  name=${run%%|*} options=${run#*|}
  names+=("$name")
  # shellcheck disable=SC2086 # the options are words
  "$python" -m train --data "$dir/data/fer2013.csv" --out "$dir/models" --name "$name" --overwrite \
    --max-minutes "${MINUTES:-8}" $options > "$dir/models/$name.log" 2>&1 &
done
wait
status=0
for name in "${names[@]}"; do
  echo "== $name"
  tail -n 4 "$dir/models/$name.log"
  files=("$name.log")
  for file in "$name.keras" "$name.json" "${name}_history.csv"; do
    [ -f "$dir/models/$file" ] && files+=("$file")
  done
  [ ${#files[@]} -eq 4 ] || status=1
  tar -cf "$out/$name.tar" -C "$dir/models" "${files[@]}"
done
exit $status
