"""The cobalt launcher (launching arrives in a later issue)."""
