"""The administration console's frame: the blueprint, its shared helpers and the dashboard."""
