"""The ``liang`` command line."""
