"""Allow ``python -m verifier``."""

from verifier.cli.main import main

main()
