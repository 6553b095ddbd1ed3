"""The slurm launcher (launching arrives in a later issue)."""
