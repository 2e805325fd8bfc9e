"""Calendar feed routes behind share links."""
