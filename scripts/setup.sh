#!/usr/bin/env bash
# Create .venv in the repo root and install vaekit into it.
#   bash scripts/setup.sh          runtime dependencies
#   bash scripts/setup.sh --test   and the test dependencies, and Debian's chromium (apt)
#                                  for the browser tests of the lecture page, Noto's CJK fonts
#                                  for its Chinese page and figures, Debian's Fashion-MNIST
#                                  package for its loader's test, and iproute2 (ip) for the
#                                  two-machine test
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
    # The browser tests drive Debian's chromium through Playwright (Playwright's own browser
    # download is not used): install it where it is missing, with a font that has the
    # lecture's symbols (σ, Σ, ∫, ‖) for screenshots.  Runtime installs never need apt.
    # Noto's CJK fonts, for the page and figures of `vaekit lecture --lang zh-TW` (its tests).
    # Debian's Fashion-MNIST package, for the test that reads it where Debian puts it.
    # iproute2's ip, for the test that simulates two machines with network namespaces.
    packages=()
    [ -x /usr/bin/chromium ] || packages+=(chromium chromium-driver fonts-dejavu-core)
    compgen -G "/usr/share/fonts/opentype/noto/NotoSansCJK-*" >/dev/null || packages+=(fonts-noto-cjk)
    [ -d /usr/share/datasets/fashion-mnist ] || packages+=(dataset-fashion-mnist)
    [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || packages+=(iproute2)
    if [ ${#packages[@]} -gt 0 ]; then
        sudo=()
        if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo=(sudo); fi
        export DEBIAN_FRONTEND=noninteractive
        "${sudo[@]}" apt-get update -q
        "${sudo[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}"
    fi
else
    pip install -e .
fi
