"""Bad documents: every problem reported with its JSON path, exit 1, nothing written, no traceback.

Each kind of bad document is imported through the real command (`flask import-itinerary`),
once as a new delegation into an empty database and once as an update of the reference
visit that is already there (the bad version also carries valid changes, so a partial
write would show). The whole database is compared before and after.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.itinerary.document import (
    DocumentError,
    dump_document,
    export_itinerary,
    parse_json,
    validate_document,
)
from scheduler.models import Delegation, Meeting

ROOT = Path(__file__).resolve().parent.parent
KEY = "mss-japan-2024-09"


# --------------------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class Bad:
    """One kind of bad document: how to spoil the reference visit, and the paths it must report."""

    name: str
    spoil: Callable[[dict], object]  # changes the document in place, or returns raw file content
    paths: tuple[str, ...]
    combinable: bool = True  # touches only its own fields, so it can be combined with others


def _set(path: str, value):
    """A spoiler that sets one field, e.g. _set("meetings[2].venue", "nowhere")."""

    def spoil(document: dict) -> None:
        node, parts = document, _split(path)
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value

    return spoil


def _split(path: str) -> list:
    parts: list = []
    for chunk in path.replace("]", "").replace("[", ".").split("."):
        parts.append(int(chunk) if chunk.isdigit() else chunk)
    return parts


def _both(*spoilers):
    def spoil(document: dict) -> None:
        for spoiler in spoilers:
            spoiler(document)

    return spoil


def _berlin_meeting(start: str, end: str):
    """Adds a Berlin office and a meeting there (meetings[6]): for the daylight-saving cases."""

    def spoil(document: dict) -> None:
        document["venues"].append(
            {"key": "berlin-office", "name": "Berlin office", "timezone": "Europe/Berlin"}
        )
        document["meetings"].append(
            {
                "key": "berlin-call",
                "title": "Follow-up in Berlin",
                "start": start,
                "end": end,
                "venue": "berlin-office",
            }
        )

    return spoil


def _append(list_path: str, item):
    def spoil(document: dict) -> None:
        node = document
        for part in _split(list_path):
            node = node[part]
        node.append(copy.deepcopy(item))

    return spoil


def _insert(list_path: str, index: int, item):
    def spoil(document: dict) -> None:
        node = document
        for part in _split(list_path):
            node = node[part]
        node.insert(index, copy.deepcopy(item))

    return spoil


def _pop(path: str):
    def spoil(document: dict) -> None:
        node, parts = document, _split(path)
        for part in parts[:-1]:
            node = node[part]
        del node[parts[-1]]

    return spoil


BAD_DOCUMENTS = [
    Bad("not JSON", lambda d: json.dumps(d)[:200], ("$",), combinable=False),
    Bad(
        "not UTF-8",
        lambda d: json.dumps(d).replace("Shonan", "Sh\u00f4nan").encode("latin-1"),
        ("$",),
        combinable=False,
    ),
    Bad("not an object", lambda d: json.dumps([d]), ("$",), combinable=False),
    Bad("wrong format string", _set("format", "delegation-itinerary/2"), ("format",)),
    Bad("missing title", _pop("meetings[0].title"), ("meetings[0].title",)),
    Bad("unknown field", _set("meetings[1].colour", "red"), ("meetings[1]",)),
    Bad(
        "unknown person.organization",
        _set("people[2].organization", "no-such-org"),
        ("people[2].organization",),
    ),
    Bad("unknown meeting.venue", _set("meetings[2].venue", "nowhere"), ("meetings[2].venue",)),
    Bad("unknown meeting.room", _set("meetings[0].room", "attic"), ("meetings[0].room",)),
    Bad(
        "unknown meeting.organizations[]",
        _append("meetings[1].organizations", "no-such-org"),
        ("meetings[1].organizations[3]",),
    ),
    Bad(
        "unknown meeting.attendees[].person",
        _set("meetings[1].attendees[1].person", "ghost"),
        ("meetings[1].attendees[1].person",),
    ),
    Bad(
        "unknown travel_times from and to",
        _both(_set("travel_times[2].from", "nowhere"), _set("travel_times[4].to", "elsewhere")),
        ("travel_times[2].from", "travel_times[4].to"),
    ),
    Bad(
        "travel time from a venue to itself",
        _set("travel_times[0].to", "shonan-ipark"),
        ("travel_times[0].to",),
    ),
    Bad("duplicate meeting key", _set("meetings[5].key", "cmic"), ("meetings[5].key",)),
    Bad(
        "duplicate keys in the other lists",
        _both(
            _append("organizations", {"key": "mss", "name": "Again"}),
            _insert("people", 1, {"key": "lim", "name": "Again"}),
            _append("venues", {"key": "cmic-tokyo", "name": "Again", "timezone": "Asia/Tokyo"}),
            _append("venues[0].rooms", {"key": "hall", "name": "Again"}),
        ),
        ("organizations[10].key", "people[1].key", "venues[4].key", "venues[0].rooms[2].key"),
        combinable=False,
    ),
    Bad(
        "person listed twice in a meeting",
        _append("meetings[3].attendees", {"person": "lim"}),
        ("meetings[3].attendees[3].person",),
    ),
    Bad("bad key", _set("meetings[3].key", "Astellas Visit"), ("meetings[3].key",)),
    Bad("bad venue zone", _set("venues[1].timezone", "Asia/Tsukuba"), ("venues[1].timezone",)),
    Bad(
        "bad delegation zone",
        _set("delegation.timezone", "Korea Standard Time"),
        ("delegation.timezone",),
        combinable=False,  # without the zone, availability times cannot be read or compared
    ),
    Bad(
        "end not after start",
        _set("meetings[4].end", "2024-09-27T12:30"),
        ("meetings[4].end",),
    ),
    Bad(
        "end before start",
        _set("meetings[5].end", "2024-09-27T14:00"),
        ("meetings[5].end",),
    ),
    Bad(
        "nonexistent wall-clock time",
        _berlin_meeting("2024-03-31T02:30", "2024-03-31T04:00"),
        ("meetings[6].start",),
        combinable=False,
    ),
    Bad(
        "ambiguous wall-clock time",
        _berlin_meeting("2024-10-27T01:30", "2024-10-27T02:30"),
        ("meetings[6].end",),
        combinable=False,
    ),
    Bad("room of another venue", _set("meetings[3].room", "conf-a"), ("meetings[3].room",)),
    Bad("room without a venue", _pop("meetings[1].venue"), ("meetings[1].room",)),
    Bad("invalid date", _set("delegation.end_date", "2024-09-31"), ("delegation.end_date",)),
    Bad(
        "end_date before start_date",
        _set("delegation.start_date", "2024-09-28"),
        ("delegation.end_date",),
        combinable=False,  # compares two dates; the invalid-date case spoils one of them
    ),
    Bad(
        "unreadable date and time",
        _set("meetings[2].start", "26 Sept 2024 13:30"),
        ("meetings[2].start",),
    ),
    Bad("invalid day in a time", _set("meetings[0].end", "2024-09-31T15:30"), ("meetings[0].end",)),
    Bad(
        "available_until before available_from",
        _set("people[0].available_until", "2024-09-25T08:00"),
        ("people[0].available_until",),
    ),
    Bad(
        "opening hours that close before they open",
        _set("venues[0].opening_hours.mon", [["20:00", "08:00"]]),
        ("venues[0].opening_hours.mon[0]",),
    ),
    Bad(
        "capacity beyond the database's range",
        _set("venues[0].rooms[1].capacity", 10**12),
        ("venues[0].rooms[1].capacity",),
    ),
    Bad("NUL character in text", _set("meetings[5].title", "METI\x00"), ("meetings[5].title",)),
    Bad(
        "structure of the wrong type",
        _set("meetings[0].attendees", True),
        ("meetings[0].attendees",),
    ),
]


def spoiled(reference: dict, bad: Bad) -> dict | str | bytes:
    document = copy.deepcopy(reference)
    raw = bad.spoil(document)
    return document if raw is None else raw


# --------------------------------------------------------------------------- helpers


def database_state(app) -> dict:
    """Everything an import could change: row counts, full exports, revisions, meeting versions."""
    with app.app_context():
        state = {
            "rows": {
                table.name: db.session.scalar(select(func.count()).select_from(table))
                for table in db.metadata.sorted_tables
            },
            "exports": {
                key: dump_document(export_itinerary(db.session, key))
                for key in db.session.scalars(select(Delegation.key).order_by(Delegation.key))
            },
            "delegations": db.session.execute(
                select(Delegation.key, Delegation.revision, Delegation.updated_at)
            ).all(),
            "meetings": db.session.execute(
                select(Meeting.key, Meeting.version, Meeting.sequence, Meeting.updated_at).order_by(
                    Meeting.id
                )
            ).all(),
        }
        db.session.remove()
    return state


def write(tmp_path: Path, content, name: str = "itinerary.json") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return path


def import_command(runner, path: Path):
    return runner.invoke(args=["import-itinerary", str(path)])


def reported_paths(stderr: str) -> list[str]:
    """The JSON path of every problem line (`path: message`), in the order printed."""
    lines = [line for line in stderr.splitlines() if ": " in line]
    return [line.split(": ", 1)[0] for line in lines if "problem(s)" not in line]


def assert_refused(result, paths) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # no uncaught error
    assert "Traceback" not in result.output + result.stderr
    assert result.stdout == "", "nothing, not even the key, on stdout"
    lines = result.stderr.splitlines()
    for path in paths:
        matching = [line for line in lines if line.startswith(f"{path}: ")]
        assert matching, f"no line for {path} in:\n{result.stderr}"
        assert all(len(line) > len(path) + 5 for line in matching), "a message after the path"
    assert lines[-1].endswith("problem(s); nothing was imported.")


def with_valid_changes(document: dict) -> dict:
    """An update that would write plenty if the import were not refused."""
    document = copy.deepcopy(document)
    document["delegation"]["name"] += " (revised)"
    document["meetings"][0]["title"] = "Consortium briefing, revised"
    document["meetings"][5]["start"], document["meetings"][5]["end"] = (
        "2024-09-27T16:00",
        "2024-09-27T17:00",
    )
    document["people"].append({"key": "new-aide", "name": "New aide", "organization": "mss"})
    document["meetings"][2]["attendees"].append({"person": "new-aide"})
    return document


# --------------------------------------------------------------------------- the tests


def test_the_catalogue_covers_the_issue():
    """At least 12 kinds, with an unknown reference in each list that holds references."""
    assert len(BAD_DOCUMENTS) >= 12
    paths = {
        path.split("[")[0] + "." + path.rsplit(".", 1)[-1]
        for b in BAD_DOCUMENTS
        for path in b.paths
    }
    for needed in (
        "people.organization",
        "meetings.venue",
        "meetings.room",
        "meetings.person",
        "travel_times.from",
        "travel_times.to",
    ):
        assert needed in paths, needed
    assert any(p.startswith("meetings[1].organizations[") for b in BAD_DOCUMENTS for p in b.paths)


@pytest.mark.parametrize("bad", BAD_DOCUMENTS, ids=[b.name for b in BAD_DOCUMENTS])
def test_bad_new_delegation_is_refused_and_nothing_written(
    bad, app, runner, reference_document, tmp_path
):
    before = database_state(app)
    assert sum(before["rows"].values()) == 0
    result = import_command(runner, write(tmp_path, spoiled(reference_document, bad)))
    assert_refused(result, bad.paths)
    assert database_state(app) == before


@pytest.mark.parametrize("bad", BAD_DOCUMENTS, ids=[b.name for b in BAD_DOCUMENTS])
def test_bad_update_is_refused_and_nothing_written(
    bad, app, runner, reference_document, load_document, tmp_path
):
    load_document(reference_document)
    before = database_state(app)
    assert before["rows"]["meeting"] == 6
    result = import_command(
        runner, write(tmp_path, spoiled(with_valid_changes(reference_document), bad))
    )
    assert_refused(result, bad.paths)
    assert database_state(app) == before


def test_the_valid_changes_alone_would_have_been_written(
    app, runner, reference_document, load_document, tmp_path
):
    """The control for the update tests: without the spoiler the same changes do land."""
    load_document(reference_document)
    before = database_state(app)
    result = import_command(runner, write(tmp_path, with_valid_changes(reference_document)))
    assert result.exit_code == 0, result.stderr
    after = database_state(app)
    assert after["exports"] != before["exports"]
    assert after["rows"]["person"] == before["rows"]["person"] + 1


def test_every_problem_is_reported_at_once_in_document_order(
    app, runner, reference_document, tmp_path
):
    document = copy.deepcopy(reference_document)
    chosen = [b for b in BAD_DOCUMENTS if b.combinable][:12]
    for bad in chosen:
        bad.spoil(document)
    result = import_command(runner, write(tmp_path, document))
    expected = [path for bad in chosen for path in bad.paths]
    assert_refused(result, expected)
    printed = reported_paths(result.stderr)
    assert set(expected) <= set(printed)
    # Document order: format, delegation, organizations, people, venues, travel_times, meetings,
    # and meetings[10] after meetings[9] (numeric, not alphabetical).
    sections = ["format", "delegation", "organizations", "people", "venues", "travel", "meetings"]
    order = [sections.index(next(s for s in sections if p.startswith(s))) for p in printed]
    assert order == sorted(order)
    assert f"{len(printed)} problem(s); nothing was imported." in result.stderr


def test_combined_problems_are_each_reported():
    """Brute force over every pair of independent spoilers: each keeps its own report."""
    from tests.conftest import REFERENCE_DOCUMENT

    reference = json.loads(REFERENCE_DOCUMENT.read_text("utf-8"))
    combinable = [b for b in BAD_DOCUMENTS if b.combinable]
    for first, second in itertools.combinations(combinable, 2):
        document = copy.deepcopy(reference)
        first.spoil(document)
        second.spoil(document)
        with pytest.raises(DocumentError) as caught:
            validate_document(document)
        paths = {problem.path for problem in caught.value.problems}
        missing = set(first.paths + second.paths) - paths
        assert not missing, (first.name, second.name, missing)


def test_problems_merge_instead_of_repeating(reference_document):
    """An unreadable time breaks the schema and the time rule: it is reported once."""
    document = copy.deepcopy(reference_document)
    document["meetings"][2]["start"] = "26 Sept 2024 13:30"
    with pytest.raises(DocumentError) as caught:
        validate_document(document)
    assert [str(p) for p in caught.value.problems] == [
        "meetings[2].start: '26 Sept 2024 13:30' is not a date and time like 2024-09-25T14:00"
    ]


def test_a_time_in_the_repeated_hour_with_an_offset_is_accepted(
    app, runner, reference_document, tmp_path
):
    document = copy.deepcopy(reference_document)
    _berlin_meeting("2024-10-27T02:30+02:00", "2024-10-27T02:30+01:00")(document)
    result = import_command(runner, write(tmp_path, document))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{KEY}\n"
    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == "berlin-call"))
        assert (meeting.start.isoformat(), meeting.end.isoformat()) == (
            "2024-10-27T00:30:00+00:00",
            "2024-10-27T01:30:00+00:00",
        )
        db.session.remove()
    exported = runner.invoke(args=["export-itinerary", KEY]).stdout
    call = next(m for m in json.loads(exported)["meetings"] if m["key"] == "berlin-call")
    # The export writes the offset exactly where the wall time alone would be ambiguous.
    assert (call["start"], call["end"]) == ("2024-10-27T02:30+02:00", "2024-10-27T02:30+01:00")


def test_an_unreadable_file_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(args=["import-itinerary", str(tmp_path / "missing.json")])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "missing.json: cannot read" in result.stderr


# --------------------------------------------------------------------------- a real process


def _flask(app, *args, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "scheduler", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_a_real_process_prints_the_problems_and_no_traceback(
    app, reference_document, load_document, tmp_path
):
    load_document(reference_document)
    before = database_state(app)
    document = with_valid_changes(reference_document)
    chosen = [b for b in BAD_DOCUMENTS if b.combinable][3:9]
    for bad in chosen:
        bad.spoil(document)
    process = _flask(app, "import-itinerary", str(write(tmp_path, document)))
    stderr = process.stderr.decode()
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert process.stdout == b""
    for path in (p for bad in chosen for p in bad.paths):
        assert f"\n{path}: " in f"\n{stderr}", path
    assert database_state(app) == before


def test_a_real_process_refuses_text_that_is_not_json(app, tmp_path):
    process = _flask(app, "import-itinerary", "-", stdin=b'{"format": "delegation-itinerary/1",')
    stderr = process.stderr.decode()
    assert process.returncode == 1
    assert "Traceback" not in stderr
    assert stderr.startswith("$: not valid JSON: ")
    assert sum(database_state(app)["rows"].values()) == 0


# --------------------------------------------------------------------------- arbitrary damage


def _document_paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _document_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _document_paths(value, (*prefix, index))


_REFERENCE = json.loads((ROOT / "scheduler" / "demo" / "shonan-ipark-2024.json").read_text("utf-8"))
_PLACES = [path for path in _document_paths(_REFERENCE) if path]
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.text(max_size=4)
    | st.sampled_from(["lim", "conf-a", "shonan-ipark", "2024-10-27T02:30", "Europe/Berlin"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["key", "person", "from", "to", "name"]), inner, max_size=3
        )
    ),
    max_leaves=5,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_PLACES), _json_values), min_size=1, max_size=3))
def test_any_damage_gives_problems_with_paths_never_a_crash(damage):
    """Values of any JSON type anywhere: either valid, or DocumentError with located problems."""
    document = copy.deepcopy(_REFERENCE)
    for place, value in damage:
        node = document
        try:
            for part in place[:-1]:
                node = node[part]
            node[place[-1]] = value
        except (LookupError, TypeError):
            continue  # an earlier change removed the place
    try:
        validate_document(document)
    except DocumentError as error:
        assert error.problems
        assert all(problem.path and problem.message for problem in error.problems)


_tricky_text = st.sampled_from(
    ["lim\n", "Lim", "a--b", "x@", "@", "not a uri", "http://x", "2024-02-30", "2024-9-1", "24:00"]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(_PLACES), _json_values | _tricky_text), min_size=1, max_size=3
    )
)
def test_the_compiled_validator_agrees_with_jsonschema(damage):
    """jsonschema-rs decides validity on the fast path; jsonschema (the brute-force twin here)
    reports the problems. What the compiled one accepts, jsonschema accepts, and the problems
    reported are exactly jsonschema's. (It may refuse more: Python's "$" in a pattern also
    matches before a final newline, so jsonschema takes the key "lim\\n"; the import then
    reports what jsonschema finds, as before.)"""
    from scheduler.itinerary.document import (
        _compiled_validator,
        _schema_problem,
        _validator,
        schema_problems,
    )

    document = copy.deepcopy(_REFERENCE)
    for place, value in damage:
        node = document
        try:
            for part in place[:-1]:
                node = node[part]
            node[place[-1]] = value
        except (LookupError, TypeError):
            continue
    reference = [_schema_problem(e) for e in _validator().iter_errors(document)]
    if _compiled_validator().is_valid(document):
        assert reference == []
    assert schema_problems(document) == reference


@pytest.mark.parametrize("bad", BAD_DOCUMENTS, ids=[b.name for b in BAD_DOCUMENTS])
def test_the_compiled_validator_agrees_on_the_catalogue(bad, reference_document):
    from scheduler.itinerary.document import _compiled_validator, _validator

    document = copy.deepcopy(reference_document)
    spoiled = bad.spoil(document)
    if spoiled is not None:
        return  # text that is not a document: the parser's business
    reference_valid = not any(True for _ in _validator().iter_errors(document))
    assert _compiled_validator().is_valid(document) == reference_valid


def test_orjson_parses_what_json_parsed():
    """A byte order mark, NaN and huge integers are still read as the standard library read
    them (orjson refuses them; parse_json falls back)."""
    assert parse_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}
    huge = 123456789012345678901234567890
    assert parse_json(f'{{"a": {huge}}}')["a"] == huge
    with pytest.raises(DocumentError) as error:
        parse_json(b'{"a": ')
    assert str(error.value).startswith("$: not valid JSON: ")
