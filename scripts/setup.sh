#!/usr/bin/env bash
# Create .venv in the repo root and install vaekit into it.
#   bash scripts/setup.sh          runtime dependencies
#   bash scripts/setup.sh --test   and the test dependencies
# PyTorch's CPU wheel is installed first (torch==2.13.0): a bare `torch` requirement on a
# machine without it would pull a multi-GB CUDA build.  Set VAEKIT_TORCH to install another
# torch spec instead (e.g. a CUDA build on a GPU machine).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@"; }
pip install "${VAEKIT_TORCH:-torch==2.13.0}"
if [ "${1:-}" = "--test" ]; then
    pip install -e ".[test]"
else
    pip install -e .
fi
