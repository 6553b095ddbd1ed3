"""The Cobalt launcher: qsub script-mode jobs, aprun and mpirun steps (see docs/cobalt.md)."""
