"""Every event of a feed stored in a real CalDAV server (Radicale, started here) and read back.

Radicale checks what it is given and evaluates time-range queries itself, with its own
reading of our VTIMEZONEs and UTC times: so each event must be found exactly in the
minute before its stored end and not in the minute after, across the DST changes.
"""

from __future__ import annotations

import base64
import http.client
import importlib.util
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from icalendar import Calendar

from tests.conftest import require
from tests.test_feeds import feed_bytes, stored_instants

DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
USER = "feeds"
COLLECTION = f"/{USER}/dst-visit/"


class CalDAV:
    def __init__(self, port: int):
        self.port = port
        self.auth = "Basic " + base64.b64encode(f"{USER}:unused".encode()).decode()

    def request(self, method: str, path: str, body: bytes = b"", **headers) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            headers = {k.replace("_", "-"): v for k, v in headers.items()}
            connection.request(
                method, path, body=body, headers={"Authorization": self.auth, **headers}
            )
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def query(self, time_range: tuple[datetime, datetime] | None = None) -> dict[str, bytes]:
        """calendar-query REPORT: UID -> calendar data of the events Radicale selects."""
        window = ""
        if time_range is not None:
            start, end = (t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") for t in time_range)
            window = f'<C:time-range start="{start}" end="{end}"/>'
        body = f"""<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">{window}
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>""".encode()
        status, data = self.request(
            "REPORT", COLLECTION, body, Depth="1", Content_Type="application/xml; charset=utf-8"
        )
        assert status == 207, data
        found = {}
        for element in ET.fromstring(data).iter(f"{CALDAV}calendar-data"):
            text = (element.text or "").encode()
            (event,) = Calendar.from_ical(text).walk("VEVENT")
            found[str(event["UID"])] = text
        return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def radicale(tmp_path):
    require(importlib.util.find_spec("radicale") is not None, "radicale is not installed")
    port = _free_port()
    config = tmp_path / "radicale.conf"
    config.write_text(
        f"""[server]
hosts = 127.0.0.1:{port}
[auth]
type = none
[rights]
type = owner_only
[storage]
filesystem_folder = {tmp_path / "collections"}
[web]
type = none
[logging]
level = warning
"""
    )
    log = (tmp_path / "radicale.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(config)], stdout=log, stderr=log
    )
    server = CalDAV(port)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server.request("OPTIONS", "/")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"Radicale did not start: {(tmp_path / 'radicale.log').read_text()}"
                    )
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _one_event_calendar(feed: Calendar, event) -> bytes:
    """A calendar object resource: one event and the VTIMEZONEs it uses (RFC 4791 4.1)."""
    single = Calendar()
    single.add("VERSION", "2.0")
    single.add("PRODID", str(feed["PRODID"]))
    used = {event[name].params.get("TZID") for name in ("DTSTART", "DTEND")}
    for timezone in feed.walk("VTIMEZONE"):
        if str(timezone["TZID"]) in used:
            single.add_component(timezone)
    single.add_component(event)
    return single.to_ical()


def test_every_event_stored_in_radicale_reads_back_with_its_instants(
    session, load_document, radicale
):
    from tests.test_feeds import DST_VISIT

    load_document(DST_VISIT)
    feed = Calendar.from_ical(feed_bytes(session))
    expected = stored_instants(session)
    status, body = radicale.request("MKCALENDAR", COLLECTION)
    assert status == 201, body
    for event in feed.walk("VEVENT"):
        status, body = radicale.request(
            "PUT",
            COLLECTION + quote(str(event["UID"])) + ".ics",
            _one_event_calendar(feed, event),
            Content_Type="text/calendar; charset=utf-8",
            If_None_Match="*",
        )
        assert status == 201, (event["UID"], body)

    stored = radicale.query()
    assert set(stored) == set(expected)
    for uid, data in stored.items():
        (event,) = Calendar.from_ical(data).walk("VEVENT")
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert (start.astimezone(UTC), end.astimezone(UTC)) == expected[uid], uid

    minute = timedelta(minutes=1)
    for uid, (start, end) in expected.items():
        assert uid in radicale.query((end - minute, end)), uid
        assert uid not in radicale.query((end, end + minute)), uid
        assert uid in radicale.query((start, start + minute)), uid
        assert uid not in radicale.query((start - minute, start)), uid
