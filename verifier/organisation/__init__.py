"""The organisation: branches, virtual party groups and members."""
