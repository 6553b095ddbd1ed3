"""The lsf launcher (launching arrives in a later issue)."""
