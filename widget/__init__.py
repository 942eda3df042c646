"""The embeddable widget, its static script and the embed snippets for the kit."""
