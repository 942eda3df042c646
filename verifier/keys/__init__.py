"""Signing keys in the database: the keyring, rotation and retirement."""
