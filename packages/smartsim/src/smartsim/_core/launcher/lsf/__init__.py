"""The LSF launcher: bsub batch jobs, jsrun and mpirun steps (see docs/lsf.md)."""
