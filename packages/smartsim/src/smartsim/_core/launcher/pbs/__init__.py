"""The pbs launcher (launching arrives in a later issue)."""
