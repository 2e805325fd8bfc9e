"""Shared agenda page and PDF routes behind share links."""
