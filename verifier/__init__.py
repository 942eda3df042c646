"""The Liangshenfen web service: app factory, public and admin views, storage, CLI."""
