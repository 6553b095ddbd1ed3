"""The controller (what to launch, in which order) and the job manager (what runs)."""
