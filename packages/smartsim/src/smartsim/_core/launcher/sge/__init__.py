"""The (Son of) Grid Engine launcher."""
