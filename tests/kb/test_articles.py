"""Categories and articles through the JSON API: CRUD, slugs, nesting, who sees what, events,
inert HTML, and a constant number of queries on the list."""

from __future__ import annotations

import pytest

from flask_escalated.services import kb
from flask_escalated.services.permissions import Principal

pytestmark = pytest.mark.all_databases


def test_category_crud_and_one_level_nesting(api, users):
    admin = api(users.admin)
    top = admin.post("/kb/categories", {"name": "Billing & Plans"})
    assert top.status_code == 201, top.json
    assert top.json["data"]["slug"] == "billing-plans"
    again = admin.post("/kb/categories", {"name": "Billing & plans"})
    assert again.json["data"]["slug"] == "billing-plans-2"
    child = admin.post("/kb/categories", {"name": "Refunds", "parent_id": top.json["data"]["id"]})
    assert child.status_code == 201
    grandchild = admin.post("/kb/categories", {"name": "Deep",
                                               "parent_id": child.json["data"]["id"]})
    assert grandchild.status_code == 422
    assert "parent_id" in grandchild.json["error"]["fields"]
    # A category with children cannot itself move under another.
    moved = admin.patch(f"/kb/categories/{top.json['data']['id']}",
                        {"parent_id": again.json["data"]["id"]})
    assert moved.status_code == 422
    assert admin.patch(f"/kb/categories/{top.json['data']['id']}",
                       {"parent_id": top.json["data"]["id"]}).status_code == 422
    taken = admin.patch(f"/kb/categories/{child.json['data']['id']}", {"slug": "billing-plans"})
    assert taken.status_code == 409
    assert admin.post("/kb/categories", {"name": ""}).status_code == 422
    assert admin.post("/kb/categories", {"name": "x", "colour": "red"}).status_code == 422
    assert admin.delete(f"/kb/categories/{top.json['data']['id']}").status_code == 204
    listed = api(None).get("/kb/categories").json["data"]
    assert {c["name"]: c["parent_id"] for c in listed} == {"Billing & plans": None,
                                                           "Refunds": None}


def test_article_crud_slugs_and_rendering(api, users):
    admin = api(users.admin)
    cat = admin.post("/kb/categories", {"name": "Guides"}).json["data"]
    r = admin.post("/kb/articles", {"title": "Réglages du compte", "body": "# Hi\n\n*bold*",
                                    "category_id": cat["id"], "tags": ["Setup", "setup"]})
    assert r.status_code == 201, r.json
    art = r.json["data"]
    assert art["slug"] == "reglages-du-compte"
    assert art["status"] == "draft" and art["visibility"] == "public"
    assert art["tags"] == ["setup"]
    assert "<em>bold</em>" in art["body_html"] and art["author_user_id"] == str(users.admin.id)
    assert art["url"].endswith("/support/kb/articles/reglages-du-compte")
    second = admin.post("/kb/articles", {"title": "Réglages du compte", "body": "x"}).json
    assert second["data"]["slug"] == "reglages-du-compte-2"
    upd = admin.patch(f"/kb/articles/{art['id']}", {"status": "published", "body": "New"})
    assert upd.status_code == 200
    assert upd.json["data"]["published_at"] is not None
    assert upd.json["data"]["body_html"] == "<p>New</p>\n"
    assert admin.patch(f"/kb/articles/{art['id']}", {"status": "gone"}).status_code == 422
    assert admin.patch(f"/kb/articles/{art['id']}", {"category_id": 999999}).status_code == 422
    assert admin.patch(f"/kb/articles/{art['id']}", {"visibility": "secret"}).status_code == 422
    assert admin.patch(f"/kb/articles/{art['id']}", {"tags": "x"}).status_code == 422
    assert admin.post("/kb/articles", {"title": "No body"}).status_code == 422
    assert admin.post("/kb/articles", {"title": "t", "body": "x" * 60_000}).status_code == 422
    assert admin.post("/kb/articles", ["not", "an", "object"]).status_code == 400
    assert admin.delete(f"/kb/articles/{art['id']}").status_code == 204
    assert admin.get(f"/kb/articles/{art['id']}").status_code == 404


def test_customers_see_only_published_public_articles_and_get_404s(api, users, make_article):
    public = make_article("Public answer")
    internal = make_article("Agent notes", visibility="internal")
    draft = make_article("Work in progress", status="draft")
    for who in (None, users.customer):
        client = api(who)
        assert client.get(f"/kb/articles/{public.id}").status_code == 200
        for hidden in (internal, draft):
            r = client.get(f"/kb/articles/{hidden.id}")
            assert r.status_code == 404, r.json
        assert [a["id"] for a in client.get("/kb/articles").json["data"]] == [public.id]
        # Asking for hidden ones by filter changes nothing.
        assert [a["id"] for a in client.get("/kb/articles?visibility=internal").json["data"]] == []
    agent = api(users.agent)
    assert {a["id"] for a in agent.get("/kb/articles").json["data"]} == {
        public.id, internal.id, draft.id}
    assert [a["id"] for a in agent.get("/kb/articles?status=draft").json["data"]] == [draft.id]
    assert agent.get("/kb/articles?status=nope").status_code == 422
    # Agents read but do not write (kb.view only); customers cannot write either.
    assert agent.patch(f"/kb/articles/{public.id}", {"title": "x"}).status_code == 403
    assert api(users.customer).post("/kb/articles", {"title": "t", "body": "b"}).status_code == 403


def test_publishing_needs_kb_publish(app, ext, users, editor):
    writer = Principal.build(str(users.agent.id), is_agent=True,
                             granted=frozenset({"kb.view", "kb.create", "kb.edit"}))
    with ext.unit_of_work():
        row = kb.create_article(writer, {"title": "Draft by a writer", "body": "b"})
    import pytest

    from flask_escalated.services.errors import PermissionDenied

    with pytest.raises(PermissionDenied), ext.unit_of_work():
        kb.publish(writer, row.id)
    with ext.unit_of_work():
        assert kb.publish(editor, row.id).status == "published"


def test_article_events_are_sent_after_commit(app, ext, editor, signal_log):
    with ext.unit_of_work():
        row = kb.create_article(editor, {"title": "Evented", "body": "b"})
    with ext.unit_of_work():
        kb.publish(editor, row.id)
    with ext.unit_of_work():
        kb.update_article(editor, row.id, {"title": "Evented again"})
    with ext.unit_of_work():
        kb.delete_article(editor, row.id)
    names = [s.name for s in signal_log if s.name.startswith("article_")]
    assert names == ["article_created", "article_updated", "article_published",
                     "article_updated", "article_deleted"]
    try:
        with ext.unit_of_work():
            kb.create_article(editor, {"title": "Rolled back", "body": "b"})
            raise RuntimeError
    except RuntimeError:
        pass
    assert len([s for s in signal_log if s.name == "article_created"]) == 1


def test_html_in_title_and_body_renders_inert(app, make_article, client_as):
    row = make_article('<script>alert("t")</script>Printer',
                       '<script>alert("b")</script>\n\n<img src=x onerror=alert(1)>\n\n'
                       '[click](javascript:alert(1)) <iframe src="https://evil"></iframe>')
    for tag in ("<script", "<img", "<iframe", 'href="javascript'):
        assert tag not in row.body_html
    client = client_as(None)
    for url in (f"/support/kb/articles/{row.slug}", "/support/kb", "/support/kb?q=Printer"):
        page = client.get(url).get_data(True)
        for tag in ('<script>alert("t")', '<script>alert("b")', "<img src=x", "<iframe",
                    'href="javascript'):
            assert tag not in page, (url, tag)
    assert "&lt;script&gt;alert(" in client.get(f"/support/kb/articles/{row.slug}").get_data(True)


def test_list_query_count_does_not_grow_with_the_page(api, users, make_article, count_queries):
    client = api(users.agent)
    for i in range(2):
        make_article(f"First batch {i}")
    client.get("/kb/articles")  # warm caches (principal, settings)
    with count_queries() as few:
        assert len(client.get("/kb/articles").json["data"]) == 2
    for i in range(8):
        make_article(f"Second batch {i}", visibility="internal" if i % 2 else "public")
    with count_queries() as many:
        body = client.get("/kb/articles?limit=5").json
    assert len(body["data"]) == 5 and body["next_cursor"]
    assert many.count == few.count <= 6, many.statements
    rest = client.get(f"/kb/articles?limit=5&cursor={body['next_cursor']}").json
    assert len(rest["data"]) == 5 and rest["next_cursor"] is None
    assert client.get("/kb/articles?cursor=forged").status_code == 422
