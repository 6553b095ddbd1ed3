#!/usr/bin/env bash
# Set up everything the demo and the tests need; idempotent (a second run takes seconds).
#
#  - as root, Debian packages when missing: redis-server (Redis 7, second engine), slurm-wlm,
#    munge, slurmdbd, mariadb-server and iproute2 (the multi-node Slurm test cluster with
#    accounting, scripts/slurm-cluster.sh), openmpi-bin (real MPI), valgrind (a memcheck test,
#    the instruction-count benchmark);
#  - .venv/ inside the repository: the four packages in editable mode with their test extras
#    (distributions smartredis_py, smartsim_ai, smartsim_py, smartsim_ray) and the ML stacks and
#    wheel tools for tests on CPU (requirements/test.txt); building smartsim_ai compiles the
#    `ai` module, so a C compiler is needed;
#  - .venv-official/: the official smartredis==0.6.1 client, kept apart, for interop tests.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
log() { echo "setup: $*" >&2; }

APT_PACKAGES=(redis-server slurm-wlm munge slurmdbd mariadb-server iproute2 openmpi-bin valgrind)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts redis-server and mariadb as services; the tests start their own servers.
    for service in redis-server mariadb; do
      (systemctl disable --now "$service" 2>/dev/null || service "$service" stop 2>/dev/null) >/dev/null 2>&1 || true
    done
  fi
else
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" ||
      log "note: $pkg is not installed (not root: install it yourself; tests that need it skip)"
  done
fi

"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  { log "Python >= 3.10 is required (found $("$PYTHON" --version))"; exit 1; }

stamp_of() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }
PKG_FILES=(scripts/setup.sh requirements/test.txt packages/*/pyproject.toml packages/smartsim_ai/setup.py)

[ -x .venv/bin/python ] || { log "creating .venv"; "$PYTHON" -m venv .venv; }
want=$(stamp_of "${PKG_FILES[@]}")
if [ "$(cat .venv/.setup-stamp 2>/dev/null)" != "$want" ]; then
  log "installing Python packages into .venv (first run: a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip setuptools wheel
  .venv/bin/python -m pip install -q -r requirements/test.txt
  # The library was installed as "smartsim" before its distribution became smartsim_py: drop
  # that leftover editable install of this checkout (an original CrayLabs smartsim is kept).
  if .venv/bin/python - "$ROOT/packages/smartsim" <<'PY'
import importlib.metadata as m, json, sys
try:
    url = json.loads(m.distribution("smartsim").read_text("direct_url.json") or "{}").get("url", "")
except m.PackageNotFoundError:
    sys.exit(1)
sys.exit(0 if url.rstrip("/").endswith(sys.argv[1]) else 1)
PY
  then
    log "removing this checkout's old editable install named smartsim (now smartsim_py)"
    .venv/bin/python -m pip uninstall -y -q smartsim
  fi
  .venv/bin/python -m pip install -q \
    -e "packages/smartredis_py[test]" -e "packages/smartsim_ai[test]" \
    -e "packages/smartsim[test]" -e "packages/smartsim_ray[test]"
  echo "$want" > .venv/.setup-stamp
fi
# Rebuild the ai module when its C sources changed (no-op when up to date).
build_log=$(mktemp)
if ! (cd packages/smartsim_ai && "$ROOT/.venv/bin/python" setup.py -q build_ext --inplace) >"$build_log" 2>&1; then
  cat "$build_log" >&2; rm -f "$build_log"
  log "building the ai module failed (see above)"; exit 1
fi
rm -f "$build_log"
.venv/bin/python -c "import smartsim_ai; smartsim_ai.module_path()"

want=$(stamp_of requirements/official-smartredis.txt)
if [ "$(cat .venv-official/.setup-stamp 2>/dev/null)" != "$want" ]; then
  log "installing the official smartredis client into .venv-official"
  [ -x .venv-official/bin/python ] || "$PYTHON" -m venv .venv-official
  if .venv-official/bin/python -m pip install -q -r requirements/official-smartredis.txt; then
    echo "$want" > .venv-official/.setup-stamp
  else
    log "warning: the official smartredis client did not install; interop tests will skip"
  fi
fi
log "ready: .venv ($(.venv/bin/python --version))"
