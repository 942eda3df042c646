"""Plain-Python services: the session and collaborators are injected; no Flask."""
