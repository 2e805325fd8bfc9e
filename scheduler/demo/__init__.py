"""The demo: the reference visit (the contract's example) and its business-matching part.

``shonan-ipark-2024.json`` is the contract's example, byte for byte. The matching part (the
eight Chungbuk companies' requests to meet Mediport, Nemoto Science, the investors and CMIC,
with the people, organisations and meeting rooms they need) lives beside it and is merged in.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
REFERENCE = HERE / "shonan-ipark-2024.json"
MATCHING = HERE / "shonan-ipark-2024-matching.json"


def demo_document() -> dict:
    """The reference visit with its meeting requests: one valid interchange document."""
    document = json.loads(REFERENCE.read_text("utf-8"))
    extra = json.loads(MATCHING.read_text("utf-8"))
    document["organizations"] = sorted(
        document["organizations"] + extra["organizations"], key=lambda o: o["key"]
    )
    document["people"] = sorted(document["people"] + extra["people"], key=lambda p: p["key"])
    for venue in document["venues"]:
        rooms = extra["rooms"].get(venue["key"])
        if rooms:
            venue["rooms"] = sorted(venue.get("rooms", []) + rooms, key=lambda r: r["key"])
    document["meeting_requests"] = extra["meeting_requests"]
    return document
