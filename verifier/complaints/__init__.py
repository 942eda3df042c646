"""Complaints: the shopper's form and tracking page, and their handling by administrators."""
