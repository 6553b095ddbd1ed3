"""The ``smart`` command line (``python -m smartsim._core._cli`` runs it too)."""
