"""Errors reach people as pages in the site's words, not server defaults."""


def test_unknown_page_says_what_may_have_happened(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "A share link stops working when a coordinator replaces it" in response.get_data(
        as_text=True
    )


def test_an_oversized_upload_names_the_limit(app, client, login):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    response = client.post(
        "/delegations/import",
        data=b"x" * (2 * 1024 * 1024),
        content_type="application/octet-stream",
    )
    assert response.status_code == 413
    assert "at most 1 MiB" in response.get_data(as_text=True)


def test_a_view_that_names_the_problem_keeps_its_own_words(client, app, load_document):
    from scheduler.extensions import db
    from scheduler.itinerary.document import load_delegation
    from tests.conftest import fetch_pdf, minimal_document

    load_document(minimal_document())
    with app.app_context():
        token = load_delegation(db.session, "test-visit").share_token
    response = fetch_pdf(client, f"/share/{token}/agenda.pdf?paper={{tabloid}}")
    assert response.status_code == 400
    assert "paper must be one of a4, letter" in response.get_data(as_text=True)
