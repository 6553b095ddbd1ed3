#!/usr/bin/env bash
# The whole test suite, set-up included: ruff, then pytest over every package and the
# integration tests on 2 xdist workers, with the one-node Slurm cluster up (as root).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not slow"`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== ruff" >&2
.venv/bin/ruff check .
.venv/bin/ruff format --check .

started_slurm=0
if [ "$(id -u)" = 0 ] && ! scripts/slurm-cluster.sh status >/dev/null 2>&1; then
  if scripts/slurm-cluster.sh start; then
    started_slurm=1
  else
    echo "warning: Slurm could not be started; tests marked slurm will skip" >&2
  fi
fi
cleanup() { [ "$started_slurm" = 1 ] && scripts/slurm-cluster.sh stop || true; }
trap cleanup EXIT

export SMARTREDIS_OFFICIAL_PYTHON="$PWD/.venv-official/bin/python"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "== pytest" >&2
.venv/bin/python -m pytest -n 2 --durations=15 "$@"
