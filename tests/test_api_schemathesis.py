"""Schemathesis against /api/v1, in process: every operation with the schema's own examples
and generated cases (valid and not), then create-then-read through the OpenAPI links.

No answer may be a server error, and every answer must match the description. (Driven with
hypothesis directly: schemathesis' pytest fixture loader does not run under pytest 9.)
"""

from __future__ import annotations

import copy

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import FlakyStrategyDefinition
from hypothesis.stateful import run_state_machine_as_test
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.test_api import KEY, bearer, tokens  # noqa: F401  (the fixture)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 30  # each of valid and invalid cases, for each of 20 operations
FAST = settings(deadline=None, suppress_health_check=list(HealthCheck), database=None)


def _schema(app):
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def _restore(app, reference_document) -> None:
    from sqlalchemy import select

    from scheduler.extensions import db
    from scheduler.itinerary.document import import_itinerary
    from scheduler.models import Delegation, Meeting

    keys = {m["key"] for m in reference_document["meetings"]}
    with app.app_context():
        added = (
            select(Meeting).join(Delegation).where(Delegation.key == KEY, Meeting.key.not_in(keys))
        )
        for meeting in db.session.scalars(added):
            db.session.delete(meeting)
        db.session.flush()
        import_itinerary(db.session, copy.deepcopy(reference_document))
        db.session.commit()


def _on_the_reference_visit(case, anywhere: bool) -> None:
    """Most cases on the reference visit, where the meetings are; some on random keys."""
    params = case.path_parameters or {}
    if "key" in params and not anywhere:
        params["key"] = KEY


@pytest.mark.slow
def test_every_operation_answers_within_its_description(app, tokens):  # noqa: F811
    api = _schema(app)
    headers = bearer(tokens["owner"])
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == 20
    calls = 0
    for operation in operations:
        for example in api.get_strategies_from_examples(operation):

            @given(case=example)
            @settings(FAST, max_examples=5)
            def explicit(case):
                _on_the_reference_visit(case, False)
                case.call_and_validate(headers=headers, checks=CHECKS)

            explicit()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode), anywhere=st.booleans())
            @settings(FAST, max_examples=EXAMPLES_PER_OPERATION)
            def generated(case, anywhere):
                nonlocal calls
                _on_the_reference_visit(case, anywhere)
                case.call_and_validate(headers=headers, checks=CHECKS)
                calls += 1

            generated()
    assert calls >= 300


@pytest.mark.slow
def test_create_then_read_through_the_links(app, tokens, reference_document):  # noqa: F811
    api = _schema(app)
    headers = bearer(tokens["owner"])

    class Workflow(api.as_state_machine()):
        def teardown(self):
            """Every run starts from the reference visit, so a run replays as it ran."""
            _restore(app, reference_document)

        def get_call_kwargs(self, case):
            _on_the_reference_visit(case, False)
            return {"headers": headers}

        def validate_response(self, response, case, **kwargs):
            try:
                case.validate_response(response, checks=CHECKS)
            except BaseException as failure:
                failures.append(failure)
                raise

    # Schemathesis steers which link to follow by what earlier runs produced (its
    # TransitionController), and a solver run's answer depends on its time limit, so a
    # replay can draw differently from the run it replays: hypothesis then raises
    # FlakyStrategyDefinition. That says nothing about the API; schemathesis' own runner
    # counts it a failure only when a check failed, and so do we.
    failures: list[BaseException] = []
    try:
        run_state_machine_as_test(
            Workflow, settings=settings(FAST, max_examples=30, stateful_step_count=4)
        )
    except FlakyStrategyDefinition:
        if failures:
            raise failures[0] from None
