"""Import and export of the interchange document: a fixed point on both databases."""

import json

from sqlalchemy import func, select

from scheduler import create_app
from scheduler.extensions import db
from scheduler.itinerary.document import dump_document, export_itinerary, import_itinerary
from scheduler.models import Delegation, Meeting

KEY = "mss-japan-2024-09"


def _export(app) -> str:
    with app.app_context():
        return dump_document(export_itinerary(db.session, KEY))


def test_export_import_export_is_a_fixed_point(app, reference_document, load_document, tmp_path):
    load_document(reference_document)
    first = _export(app)

    empty = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'b.sqlite'}"}
    )
    with empty.app_context():
        db.create_all()
        import_itinerary(db.session, json.loads(first))
        db.session.commit()
    assert _export(empty) == first
    with empty.app_context():
        db.engine.dispose()


def test_fixed_point_through_the_cli_on_postgresql(reference_document, postgres_database, tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": postgres_database})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    source = tmp_path / "visit.json"
    source.write_text(json.dumps(reference_document), "utf-8")
    assert runner.invoke(args=["import-itinerary", str(source)]).output.strip() == KEY
    first = runner.invoke(args=["export-itinerary", KEY]).output

    with app.app_context():
        db.session.execute(
            db.text(
                "TRUNCATE history_entry, attendance, meeting_organization, meeting, "
                "travel_time, room, venue, person, organization, delegation CASCADE"
            )
        )
        db.session.commit()
    again = tmp_path / "again.json"
    again.write_text(first, "utf-8")
    assert runner.invoke(args=["import-itinerary", str(again)]).exit_code == 0
    assert runner.invoke(args=["export-itinerary", KEY]).output == first
    with app.app_context():
        db.engine.dispose()


def test_export_writes_wall_clock_times_in_the_meeting_zone(app, reference_document, load_document):
    load_document(reference_document)
    exported = json.loads(_export(app))
    starts = {m["key"]: m["start"] for m in exported["meetings"]}
    assert starts["cmic"] == "2024-09-27T12:30"
    assert (
        exported["people"][[p["key"] for p in exported["people"]].index("lim")]["available_from"]
        == "2024-09-25T09:00"
    )


def test_importing_the_same_document_twice_changes_nothing(app, reference_document, load_document):
    load_document(reference_document)
    with app.app_context():
        before = db.session.scalar(select(Delegation.revision))
        versions = db.session.execute(select(Meeting.key, Meeting.version, Meeting.sequence)).all()
    result = load_document(reference_document)
    assert not result.changed_anything
    with app.app_context():
        assert db.session.scalar(select(Delegation.revision)) == before
        assert (
            db.session.execute(select(Meeting.key, Meeting.version, Meeting.sequence)).all()
            == versions
        )
        assert db.session.scalar(select(func.count(Meeting.id))) == 6


def test_a_persons_language_and_calendar_survive_the_round_trip(
    app, reference_document, load_document
):
    people = reference_document["people"]
    people[0]["language"] = "ko"
    people[1]["calendar"] = "invitations"
    people[2]["calendar"] = "feed"
    load_document(reference_document)
    exported = {p["key"]: p for p in json.loads(_export(app))["people"]}
    assert exported[people[0]["key"]]["language"] == "ko"
    assert exported[people[1]["key"]]["calendar"] == "invitations"
    assert exported[people[2]["key"]]["calendar"] == "feed"
    # Not said stays not said: the export invents no default.
    assert "language" not in exported[people[1]["key"]]
    assert "calendar" not in exported[people[0]["key"]]


def _with_requests(document: dict) -> dict:
    people = [p["key"] for p in document["people"]]
    venues = [v["key"] for v in document["venues"]]
    document["meeting_requests"] = [
        {
            "key": "match-1",
            "title": "Business matching",
            "native_title": "ビジネスマッチング",
            "kind": "meeting",
            "attendees": [{"person": people[0]}, {"person": people[1], "role": "chair"}],
            "organizations": [document["organizations"][0]["key"]],
            "duration_minutes": 45,
            "venues": venues[:2],
            "not_before": "2024-09-25T10:00",
            "not_after": "2024-09-25T18:00+09:00",
            "priority": "must",
            "interpreter": "none",
        },
        {
            "key": "match-2",
            "title": "Short one",
            "attendees": [{"person": people[2]}],
            "duration_minutes": 30,
            "venues": [venues[0]],
        },
    ]
    return document


def test_meeting_requests_survive_the_round_trip(app, reference_document, load_document, tmp_path):
    load_document(_with_requests(reference_document))
    first = _export(app)
    exported = json.loads(first)["meeting_requests"]
    assert [r["key"] for r in exported] == ["match-1", "match-2"]
    assert exported[0]["not_after"] == "2024-09-25T18:00"
    assert exported[0]["attendees"][0] == {
        "person": reference_document["people"][0]["key"],
        "role": "required",
    }
    assert exported[0]["priority"] == "must" and exported[0]["interpreter"] == "none"
    assert exported[1]["priority"] == "should" and exported[1]["interpreter"] == "if_needed"
    empty = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'b.sqlite'}"}
    )
    with empty.app_context():
        db.create_all()
        import_itinerary(db.session, json.loads(first))
        db.session.commit()
    assert _export(empty) == first
    with empty.app_context():
        db.engine.dispose()
    # The same document again changes nothing; without a request, prune removes it.
    assert not load_document(json.loads(first)).changed_anything
    again = json.loads(first)
    again["meeting_requests"] = again["meeting_requests"][:1]
    load_document(again, prune=True)
    assert [r["key"] for r in json.loads(_export(app))["meeting_requests"]] == ["match-1"]


def test_meeting_request_references_are_checked(app, reference_document):
    from scheduler.itinerary.document import DocumentError

    document = _with_requests(reference_document)
    document["meeting_requests"][0]["attendees"][0]["person"] = "nobody"
    document["meeting_requests"][0]["venues"] = ["nowhere"]
    document["meeting_requests"][1]["not_before"] = "2024-09-25T10:00"
    document["meeting_requests"][1]["not_after"] = "2024-09-25T10:15"
    with app.app_context():
        try:
            import_itinerary(db.session, document)
        except DocumentError as exc:
            assert [p.path for p in exc.problems] == [
                "meeting_requests[0].attendees[0].person",
                "meeting_requests[0].venues[0]",
                "meeting_requests[1].not_after",
            ]
        else:
            raise AssertionError("a request naming unknown keys was imported")
        db.session.rollback()
        assert db.session.scalar(select(func.count(Delegation.id))) == 0


def test_dump_document_writes_what_json_dumps_wrote(app, reference_document, load_document):
    """orjson writes the export: the very text json.dumps(indent=2, ensure_ascii=False) wrote,
    Korean and Japanese included, and a coordinate with an exponent too."""
    load_document(reference_document)
    with app.app_context():
        document = export_itinerary(db.session, KEY)
    assert dump_document(document) == json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    document["venues"][0]["latitude"] = 1e-05
    assert dump_document(document) == json.dumps(document, ensure_ascii=False, indent=2) + "\n"
