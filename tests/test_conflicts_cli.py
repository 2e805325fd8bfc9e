"""``flask check KEY [--json]``: the spec's JSON array and exit codes, and a readable table."""

import json

from conftest import minimal_document

REFERENCE_KEY = "mss-japan-2024-09"


def test_check_json_prints_the_spec_array_and_exits_1_on_errors(
    runner, load_document, reference_document
):
    load_document(reference_document)
    result = runner.invoke(args=["check", REFERENCE_KEY, "--json"])
    assert result.exit_code == 1
    conflicts = json.loads(result.stdout)
    assert [(c["kind"], c["meetings"], c["person"]) for c in conflicts] == [
        ("travel_time", ["astellas", "cmic"], "interp-kim"),
        ("travel_time", ["astellas", "cmic"], "lim"),
    ]
    for conflict in conflicts:
        assert set(conflict) == {
            "kind",
            "severity",
            "meetings",
            "person",
            "room",
            "venue",
            "message",
        }
        assert conflict["severity"] == "error"
        assert conflict["room"] is None and conflict["venue"] is None
    assert conflicts[1]["message"].startswith("LIM Jeong-wook needs 80 min from Astellas")


def test_check_exits_0_when_only_warnings_remain(runner, load_document):
    document = minimal_document()
    document["meetings"] = [
        {
            "key": "early",
            "title": "Before the visit",
            "start": "2024-09-24T10:00",
            "end": "2024-09-24T11:00",
        }
    ]
    load_document(document)
    result = runner.invoke(args=["check", "test-visit", "--json"])
    assert result.exit_code == 0
    assert [(c["kind"], c["severity"]) for c in json.loads(result.stdout)] == [
        ("outside_visit_dates", "warning")
    ]


def test_check_of_a_clean_programme_prints_an_empty_array(runner, load_document):
    load_document(minimal_document())
    result = runner.invoke(args=["check", "test-visit", "--json"])
    assert (result.exit_code, json.loads(result.stdout)) == (0, [])
    table = runner.invoke(args=["check", "test-visit"])
    assert (table.exit_code, table.stdout.strip()) == (0, "No conflicts in test-visit.")


def test_check_without_json_prints_a_table(runner, load_document, reference_document):
    load_document(reference_document)
    result = runner.invoke(args=["check", REFERENCE_KEY])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"2 conflict(s) in {REFERENCE_KEY}: 2 error(s), 0 warning(s)"
    assert lines[2].split() == ["SEVERITY", "KIND", "MEETINGS", "PERSON", "/", "PLACE"]
    assert lines[3].split() == ["error", "travel_time", "astellas", "->", "cmic", "interp-kim"]
    assert "KIM Soo-jin needs 80 min" in lines[4]


def test_check_of_an_unknown_key_exits_2(runner):
    result = runner.invoke(args=["check", "no-such-visit", "--json"])
    assert result.exit_code == 2
    assert "no delegation with key 'no-such-visit'" in result.stderr
    assert result.stdout == ""


def test_estimates_follow_the_config_flag_and_the_option(app, runner, load_document):
    document = minimal_document()
    document["people"] = [{"key": "ana", "name": "Ana"}]
    document["venues"] = [
        {
            "key": "tsukuba",
            "name": "Tsukuba",
            "timezone": "Asia/Tokyo",
            "latitude": 36.08,
            "longitude": 140.11,
        },
        {
            "key": "tokyo",
            "name": "Tokyo",
            "timezone": "Asia/Tokyo",
            "latitude": 35.66,
            "longitude": 139.76,
        },
    ]
    document["meetings"] = [
        {
            "key": "a",
            "title": "A",
            "start": "2024-09-25T10:00",
            "end": "2024-09-25T11:00",
            "venue": "tsukuba",
            "attendees": [{"person": "ana"}],
        },
        {
            "key": "b",
            "title": "B",
            "start": "2024-09-25T11:30",
            "end": "2024-09-25T12:00",
            "venue": "tokyo",
            "attendees": [{"person": "ana"}],
        },
    ]
    load_document(document)
    estimated = runner.invoke(args=["check", "test-visit", "--json"])
    assert estimated.exit_code == 1
    assert "(estimated)" in json.loads(estimated.stdout)[0]["message"]
    assert runner.invoke(args=["check", "test-visit", "--no-estimate"]).exit_code == 0
    app.config["TRAVEL_ESTIMATE_ENABLED"] = False
    assert json.loads(runner.invoke(args=["check", "test-visit", "--json"]).stdout) == []
