#!/usr/bin/env bash
# Installs what the project needs on a fresh machine: Debian packages (for tests: Chromium for the
# browser tests, docker-compose, promtool and amtool to validate deployment files; prometheus
# also runs in the metrics end-to-end test) and the Python
# environment in .venv/. Idempotent and quick when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-run}"   # run | test

apt_packages=()
if [ "$MODE" = "test" ]; then
  command -v docker-compose >/dev/null 2>&1 || apt_packages+=(docker-compose)
  command -v promtool >/dev/null 2>&1 || apt_packages+=(prometheus)
  command -v amtool >/dev/null 2>&1 || apt_packages+=(prometheus-alertmanager)
  command -v chromium >/dev/null 2>&1 || apt_packages+=(chromium)
fi
if [ "${#apt_packages[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "setup: apt-get install ${apt_packages[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing Python dependencies into .venv (first time takes a few minutes)"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[dev]"
  touch "$stamp"
fi
