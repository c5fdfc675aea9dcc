"""The public pages and the widget's knowledge-base endpoints: switched by config and setting,
hidden articles 404, accessible markup."""

from __future__ import annotations

import pytest

from flask_escalated.events import Actor
from flask_escalated.services import settings


@pytest.fixture
def shelf(app, ext, editor, make_article):
    from flask_escalated.services import kb

    with ext.unit_of_work():
        top = kb.create_category(editor, {"name": "Getting started",
                                          "description": "First steps."})
        sub = kb.create_category(editor, {"name": "Sign-in", "parent_id": top.id})
    public = make_article("Reset your password", "Use the **Forgot password** link.",
                          category_id=sub.id)
    internal = make_article("Password override (agents)", "Ask a lead.",
                            category_id=sub.id, visibility="internal")
    draft = make_article("Passkeys (soon)", "Not yet.", category_id=sub.id, status="draft")
    return {"top": top, "sub": sub, "public": public, "internal": internal, "draft": draft}


def test_public_pages(client_as, shelf, users):
    client = client_as(None)
    home = client.get("/support/kb")
    assert home.status_code == 200
    html = home.get_data(True)
    assert "<h1>Help articles</h1>" in html and 'for="kb-q"' in html
    assert "Getting started" in html and "Sign-in" in html and "Reset your password" in html
    assert "Password override" not in html and "Passkeys" not in html
    cat = client.get("/support/kb/getting-started").get_data(True)
    assert "Reset your password" in cat and "Sign-in" in cat and "Password override" not in cat
    assert client.get("/support/kb/sign-in").status_code == 200
    assert client.get("/support/kb/no-such-category").status_code == 404
    page = client.get(f"/support/kb/articles/{shelf['public'].slug}")
    assert page.status_code == 200
    assert "<strong>Forgot password</strong>" in page.get_data(True)
    for hidden in ("internal", "draft"):
        r = client.get(f"/support/kb/articles/{shelf[hidden].slug}")
        assert r.status_code == 404
        r = client_as(users.customer).get(f"/support/kb/articles/{shelf[hidden].slug}")
        assert r.status_code == 404
    # Agents with kb.view may open internal articles (linked from the reply composer).
    agent_page = client_as(users.agent).get(f"/support/kb/articles/{shelf['internal'].slug}")
    assert agent_page.status_code == 200 and "Internal" in agent_page.get_data(True)
    results = client.get("/support/kb?q=password").get_data(True)
    assert "Reset your password" in results and "Password override" not in results
    assert client.get("/support/kb?q=").status_code == 422
    assert client.get("/support/kb?q=" + "x" * 300).status_code == 422
    # The portal's navigation links to the knowledge base.
    tickets = client_as(users.customer).get("/support/tickets").get_data(True)
    assert 'href="/support/kb"' in tickets


def test_switched_off_by_config(make_app, client_as):
    app = make_app(ESCALATED_ENABLE_KB=False)
    with app.app_context():
        client = app.test_client()
        assert client.get("/support/kb").status_code == 404
        assert client.get("/support/kb/articles/anything").status_code == 404
        assert client.get("/support/widget/kb/search?q=x").status_code == 404
        assert client.get("/support/api/v1/kb/search?q=x").status_code == 404
        assert client.get("/support/api/v1/kb/articles").status_code == 404


def test_switched_off_by_the_setting(app, ext, shelf, client_as, api, users):
    with ext.unit_of_work():
        settings.update(Actor.system(), {"kb_enabled": False})
    client = client_as(None)
    assert client.get("/support/kb").status_code == 404
    assert client.get(f"/support/kb/articles/{shelf['public'].slug}").status_code == 404
    assert client.get("/support/widget/kb/search?q=password").status_code == 404
    r = client.post(f"/support/widget/kb/articles/{shelf['public'].id}/feedback",
                    json={"helpful": True})
    assert r.status_code == 404
    assert api(users.customer).get(f"/kb/articles/{shelf['public'].id}").status_code == 404
    assert 'href="/support/kb"' not in client_as(users.customer).get(
        "/support/tickets").get_data(True)
    # Agents keep their internal knowledge base.
    assert api(users.agent).get("/kb/search?q=password").status_code == 200


def test_widget_search_shape_and_cors(app, client_as, shelf):
    r = client_as(None).get("/support/widget/kb/search?q=password",
                            headers={"Origin": "http://localhost"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "http://localhost"
    data = r.json["data"]
    assert [d["title"] for d in data] == ["Reset your password"]
    assert set(data[0]) == {"title", "url", "snippet"}
    assert data[0]["url"] == f"http://localhost/support/kb/articles/{shelf['public'].slug}"
    bad = client_as(None).get("/support/widget/kb/search?q=%20")
    assert bad.status_code == 422 and bad.json["error"]["fields"] == {"q": "required"}


def test_widget_js_reads_the_search_shape():
    from flask_escalated.web.widget import EMBED_JS

    script = EMBED_JS.read_text()
    assert '"/kb/search?q="' in script and "a.url" in script and "a.snippet" in script
