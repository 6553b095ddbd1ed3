"""The PBS Professional launcher (``launcher="pbs"`` and ``launcher="pals"``)."""
