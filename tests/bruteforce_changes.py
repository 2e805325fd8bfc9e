"""The changes between two programmes, the plain way: one question per meeting and person.

The twin of ``scheduler.itinerary.releases.compare`` for the property test; written from the
spec's words, not from that code.
"""

from __future__ import annotations

from datetime import datetime

WHERE_WHEN = ("start", "end", "venue", "room")
SEEN = (
    "title",
    "native_title",
    "kind",
    "status",
    "agenda",
    "online_url",
    "attendees",
    "organizations",
)


def on(meeting) -> bool:
    return meeting is not None and meeting["status"] != "cancelled"


def brute_force_changes(before: dict | None, after: dict) -> dict:
    old = before["meetings"] if before else {}
    new = after["meetings"]
    added, cancelled, moved, changed = set(), set(), set(), {}
    for key in set(old) | set(new):
        b, a = old.get(key), new.get(key)
        if on(a) and not on(b):
            added.add(key)
        if on(b) and not on(a):
            cancelled.add(key)
        if on(a) and on(b):
            if (
                datetime.fromisoformat(a["start"]) != datetime.fromisoformat(b["start"])
                or datetime.fromisoformat(a["end"]) != datetime.fromisoformat(b["end"])
                or a["venue"] != b["venue"]
                or a["room"] != b["room"]
            ):
                moved.add(key)
            fields = [f for f in SEEN if a[f] != b[f]]
            if fields:
                changed[key] = fields
    people = {}
    everyone = {p for m in [*old.values(), *new.values()] for p, _ in m["attendees"]}
    for person in everyone:

        def goes(m, person=person):
            return on(m) and any(p == person for p, _ in m["attendees"])

        gained = {k for k in set(old) | set(new) if goes(new.get(k)) and not goes(old.get(k))}
        lost = {k for k in set(old) | set(new) if goes(old.get(k)) and not goes(new.get(k))}
        both = {k for k in set(old) & set(new) if goes(old[k]) and goes(new[k])}
        theirs = {
            "added": gained,
            "lost": lost,
            "moved": both & moved,
            "changed": {k: changed[k] for k in both if k in changed},
        }
        if any(theirs.values()):
            people[person] = theirs
    return {
        "added": added,
        "cancelled": cancelled,
        "moved": moved,
        "changed": changed,
        "people": people,
    }
