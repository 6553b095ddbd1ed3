#!/usr/bin/env bash
# The whole test suite, set-up included: ruff, then pytest over every package and the
# integration tests on 2 xdist workers, with the multi-node Slurm test cluster up (as root).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not slow"`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== ruff" >&2
.venv/bin/ruff check .
.venv/bin/ruff format --check .

# The multi-node Slurm test cluster (index 0), with accounting so that sacct works; the tests
# of the launcher without accounting start a second, small cluster of their own. As root a
# cluster that does not start fails the run: the Slurm tests never skip silently there.
started_slurm=0
if [ "$(id -u)" = 0 ]; then
  if ! scripts/slurm-cluster.sh status --index 0 >/dev/null 2>&1; then
    scripts/slurm-cluster.sh start --index 0 --nodes 4 --accounting
    started_slurm=1
  fi
  eval "$(scripts/slurm-cluster.sh env --index 0)"
  export SLURM_CONF
else
  echo "warning: not root, so no Slurm test cluster; tests marked slurm will skip" >&2
fi
cleanup() { if [ "$started_slurm" = 1 ]; then scripts/slurm-cluster.sh stop --index 0; fi; }
trap cleanup EXIT

export SMARTREDIS_OFFICIAL_PYTHON="$PWD/.venv-official/bin/python"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "== pytest" >&2
.venv/bin/python -m pytest -n 2 --dist loadgroup --durations=15 "$@"
