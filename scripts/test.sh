#!/usr/bin/env bash
# The test command: set up (idempotent), lint, then the whole suite. GPU tests skip with a
# printed reason on machines without a CUDA GPU; the compiled parts must be present.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
TRTPLUG_REQUIRE_NATIVE=1 PYTHONSAFEPATH=1 .venv/bin/python -m pytest "$@"
