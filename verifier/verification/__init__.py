"""Verification: the public read path, the verify page, JSON status and POST /verify."""
