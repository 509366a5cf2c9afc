#!/usr/bin/env bash
# The main job: set up, build the example model, and show what trtplug does with it:
# environment, coverage of the model's nodes by plugins, what TensorRT's parser rejects, numerical
# parity of every implementation of the plugins it uses (GPU ones where a GPU is present), the
# rewrite, and model-level parity of the rewritten model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source .venv/bin/activate
export PYTHONSAFEPATH=1
MODEL=$(python examples/make_example_model.py)
echo "== trtplug doctor"; trtplug doctor
echo "== trtplug list --model ${MODEL#"$PWD"/}"; trtplug list --model "$MODEL"
echo "== trtplug check (TensorRT-RTX's parser, or static data)"; trtplug check --no-progress "$MODEL"
echo "== trtplug parity --op fast_gelu"; trtplug parity --op fast_gelu
echo "== trtplug rewrite"; trtplug rewrite "$MODEL" -o "${MODEL%.onnx}.plugins.onnx"
echo "== trtplug parity --model (rewritten vs original)"
trtplug parity --model "$MODEL" --rewritten "${MODEL%.onnx}.plugins.onnx" --dim batch=2 --dim seq=8
