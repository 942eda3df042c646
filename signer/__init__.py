"""Keys, credentials, badge lifecycle, QR codes and badge images.

Nothing in this package imports Flask: it takes plain values and injected
collaborators so that the service, the CLI and offline verifiers share it.
"""
