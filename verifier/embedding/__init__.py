"""Embedding: QR codes, live badge images, the widget script and the shop owner's kit."""
