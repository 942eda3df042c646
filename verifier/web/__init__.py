"""Shared HTTP plumbing: the one error map, caching helpers, rate limits, headers, ops."""
