#!/usr/bin/env bash
# Set up and run the whole test suite on a fresh Debian machine (as root, registry access only):
# Debian's chromium and chromium-driver for the map tests in headless Chromium, LibreOffice Calc
# (no GUI) and python3-uno for the add-in test that imports the .xlam's VBA with LibreOffice (about
# 95 MB to download), a virtualenv with the project and its test extra, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1 \
        || ! command -v soffice >/dev/null 2>&1 || ! /usr/bin/python3 -c "import uno" >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    # Wait up to 10 minutes for another apt or dpkg (an unattended upgrade) to release its lock.
    APT_WAIT="-o DPkg::Lock::Timeout=600"
    $SUDO apt-get $APT_WAIT update -qq >/dev/null
    $SUDO apt-get $APT_WAIT install -y -qq chromium chromium-driver libreoffice-calc-nogui python3-uno >/dev/null
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q '.[test]'
.venv/bin/python -m pytest -q "$@"
