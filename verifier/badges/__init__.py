"""Badges: issue (one path for one badge or a CSV), lifecycle, status lists, applications."""
