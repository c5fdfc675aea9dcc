"""The console's knowledge-base sections: categories and articles through the pages (the KB
services the API calls, their audit rows), the Markdown preview that saves nothing, the
keyset-paged article list with its search, and who may do what."""

from __future__ import annotations

import re

import pytest

from flask_escalated.events import Actor
from flask_escalated.models import AuditLog, KbArticle, KbCategory
from flask_escalated.services import agents, kb, roles
from flask_escalated.services.permissions import Principal

from .conftest import db, field_error

pytestmark = pytest.mark.all_databases


def audits(action: str) -> int:
    return db().query(AuditLog).filter_by(action=action).count()


def _editor(ext, user, permissions):
    slug = "kb-" + "-".join(p.split(".")[1] for p in sorted(permissions))
    with ext.unit_of_work():
        roles.create_role(Actor.system(), {"slug": slug, "name": slug,
                                           "permissions": sorted(permissions)})
        agents.make_agent(str(user.id), Actor.system(), role=slug)


def _admin(users) -> Principal:
    return Principal.build(str(users.admin.id), is_admin=True)


def _articles(ext, users, titles, **fields):
    out = []
    for title in titles:
        with ext.unit_of_work():
            out.append(kb.create_article(_admin(users), {"title": title,
                                                         "body": f"About {title}.",
                                                         **fields}).id)
    return out


# ---------------------------------------------------------------------------- categories
def test_admin_creates_edits_and_deletes_categories(admin, ext):
    admin.post("/kb/categories/new", {"name": "Printers", "slug": "", "description": "Ink",
                                      "parent_id": "", "position": "2"}, status=302)
    top = db().query(KbCategory).filter_by(name="Printers").one()
    assert (top.slug, top.position, top.parent_id) == ("printers", 2, None)
    assert audits("kb_category.created") == 1

    admin.get("/kb/categories/new")
    assert f'<option value="{top.id}" >Printers</option>' in admin.html
    r = admin.post("/kb/categories/new", {"name": "Laser printers", "parent_id": str(top.id),
                                          "position": "0"}, status=302)
    child = db().query(KbCategory).filter_by(name="Laser printers").one()
    assert child.parent_id == top.id
    assert r.headers["Location"].endswith(f"/support/admin/kb/categories/{child.id}")

    listing = admin.get("/kb/categories")
    assert "Laser printers" in listing and "laser-printers" in listing
    admin.get(f"/kb/categories/{top.id}")
    admin.post(f"/kb/categories/{top.id}", {"name": "Printing", "slug": "printing",
                                            "description": "", "parent_id": "",
                                            "position": "1"}, status=302)
    assert (db().get(KbCategory, top.id).name, db().get(KbCategory, top.id).slug) \
        == ("Printing", "printing")
    assert audits("kb_category.updated") == 1

    top_id, child_id = top.id, child.id
    admin.get(f"/kb/categories/{top_id}/delete")
    assert "Delete the category" in admin.html
    admin.post(f"/kb/categories/{top_id}/delete", {}, status=302)
    assert db().get(KbCategory, top_id) is None
    assert db().get(KbCategory, child_id).parent_id is None  # now top-level
    assert audits("kb_category.deleted") == 1


def test_a_refused_category_names_the_field_and_keeps_the_text(admin, ext, users):
    admin.post("/kb/categories/new", {"name": "Printers", "position": "0"}, status=302)
    top = db().query(KbCategory).one()
    admin.post("/kb/categories/new", {"name": "Child", "parent_id": str(top.id),
                                      "position": "0"}, status=302)
    child = db().query(KbCategory).filter_by(name="Child").one()
    # two levels deep: the service refuses, naming parent_id
    admin.get("/kb/categories/new")
    r = admin.post("/kb/categories/new", {"name": "Grandchild <i>kept</i>",
                                          "parent_id": str(child.id), "position": "0"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert field_error(html, "parent_id") and "Grandchild &lt;i&gt;kept&lt;/i&gt;" in html
    # a taken slug is a conflict on the slug; a bad position is named by the schema
    r = admin.post("/kb/categories/new", {"name": "Other", "slug": "printers",
                                          "position": "first"})
    assert r.status_code == 422 and field_error(r.get_data(as_text=True), "position")
    r = admin.post("/kb/categories/new", {"name": "Other", "slug": "printers", "position": "0"})
    assert r.status_code == 409 and field_error(r.get_data(as_text=True), "slug")
    assert db().query(KbCategory).count() == 2


# ---------------------------------------------------------------------------- articles
def test_admin_writes_publishes_and_deletes_an_article(admin, ext, client_as, users):
    with ext.unit_of_work():
        cat = kb.create_category(_admin(users), {"name": "Printers"})
    admin.get("/kb/articles/new")
    assert f'<option value="{cat.id}" >Printers</option>' in admin.html
    r = admin.post("/kb/articles/new", {
        "title": "Clear a paper jam", "body": "Open **tray 2**.\r\n\r\n- pull\r\n- push",
        "category_id": str(cat.id), "status": "draft", "visibility": "public",
        "tags": "paper, Jam ,", "slug": ""}, status=302)
    article = db().query(KbArticle).one()
    assert r.headers["Location"].endswith(f"/support/admin/kb/articles/{article.id}")
    assert (article.slug, article.status, article.category_id, article.tags) == (
        "clear-a-paper-jam", "draft", cat.id, ["jam", "paper"])
    assert article.body == "Open **tray 2**.\n\n- pull\n- push"  # browsers' CRLF folded
    assert "<strong>tray 2</strong>" in article.body_html
    assert audits("kb_article.created") == 1
    visitor = client_as(None)
    assert visitor.get("/support/kb/articles/clear-a-paper-jam").status_code == 404  # draft

    admin.get(f"/kb/articles/{article.id}")
    assert 'value="jam, paper"' in admin.html and "Open **tray 2**." in admin.html
    admin.post(f"/kb/articles/{article.id}", {
        "title": "Clear a paper jam", "body": "Open **tray 3**.", "category_id": str(cat.id),
        "status": "published", "visibility": "public", "tags": "paper", "slug": ""},
        status=302)
    article = db().get(KbArticle, article.id)
    assert article.status == "published" and article.published_at is not None
    assert article.tags == ["paper"] and "tray 3" in article.body_html
    assert audits("kb_article.updated") == 1
    page = visitor.get("/support/kb/articles/clear-a-paper-jam")
    assert page.status_code == 200 and "<strong>tray 3</strong>" in page.get_data(True)
    admin.get(f"/kb/articles/{article.id}")
    assert "Readers find it at" in admin.html

    admin.get(f"/kb/articles/{article.id}/delete")
    admin.post(f"/kb/articles/{article.id}/delete", {}, status=302)
    assert db().query(KbArticle).count() == 0 and audits("kb_article.deleted") == 1
    assert visitor.get("/support/kb/articles/clear-a-paper-jam").status_code == 404


def test_a_refused_article_names_the_field_and_keeps_the_text(admin, ext, users):
    admin.get("/kb/articles/new")
    r = admin.post("/kb/articles/new", {"title": "", "body": "kept *body*",
                                        "status": "draft", "visibility": "secret",
                                        "tags": "ok", "category_id": "999999"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert field_error(html, "title") and field_error(html, "visibility")
    assert "kept *body*" in html and 'value="ok"' in html
    r = admin.post("/kb/articles/new", {"title": "T", "body": "b", "status": "draft",
                                        "visibility": "public", "tags": "",
                                        "category_id": "999999"})
    assert r.status_code == 422 and field_error(r.get_data(as_text=True), "category_id")
    assert db().query(KbArticle).count() == 0
    (aid,) = _articles(ext, users, ["Existing"])
    admin.get(f"/kb/articles/{aid}")
    r = admin.post(f"/kb/articles/{aid}", {"title": "", "body": "", "status": "draft",
                                           "visibility": "public", "tags": ""})
    assert r.status_code == 422 and field_error(r.get_data(as_text=True), "title")
    assert db().get(KbArticle, aid).title == "Existing"


def test_preview_renders_the_markdown_sanitized_and_saves_nothing(admin, ext, users):
    admin.get("/kb/articles/new")
    assert re.search(r'<button type="submit"[^>]*formaction="/support/admin/kb/articles/'
                     r'preview">Preview</button>', admin.html)
    body = "# Steps\n\nPress **Reset**.\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2))"
    r = admin.post("/kb/articles/preview", {"title": "Draft title", "body": body,
                                            "status": "draft", "visibility": "public",
                                            "tags": "a, b", "slug": ""}, status=200)
    html = r.get_data(as_text=True)
    start = html.index('class="esc-panel esc-kb-preview"')
    preview = html[start:html.index("</section>", start)]
    assert "<h1>Steps</h1>" in preview and "<strong>Reset</strong>" in preview
    assert "<script>" not in preview and 'href="javascript:' not in preview
    assert "Press **Reset**." in html and 'value="Draft title"' in html  # typed text kept
    # the form still saves to the create URL
    assert 'action="/support/admin/kb/articles/new"' in html
    assert db().query(KbArticle).count() == 0 and audits("kb_article.created") == 0

    (aid,) = _articles(ext, users, ["Saved"])
    admin.get(f"/kb/articles/{aid}")
    assert f'formaction="/support/admin/kb/articles/{aid}/preview"' in admin.html
    r = admin.post(f"/kb/articles/{aid}/preview", {"title": "Saved", "body": "*new* words",
                                                   "status": "draft", "visibility": "public",
                                                   "tags": ""}, status=200)
    assert "<em>new</em>" in r.get_data(as_text=True)
    assert db().get(KbArticle, aid).body == "About Saved."
    assert audits("kb_article.updated") == 0


def test_the_edit_form_posted_back_unchanged_changes_nothing(admin, ext, users):
    with ext.unit_of_work():
        cat = kb.create_category(_admin(users), {"name": "Printers"})
        row = kb.create_article(_admin(users), {
            "title": "Round trip", "body": "Line one\n\nLine *two*", "category_id": cat.id,
            "tags": ["b", "a"], "status": "published", "visibility": "internal"})
    before = kb.serialize_article(row, full=True)
    from .test_settings_pages import submitted

    pairs = submitted(admin.get(f"/kb/articles/{row.id}"))
    assert dict(pairs)["tags"] == "a, b"
    admin.post(f"/kb/articles/{row.id}", pairs, status=302)
    after = kb.serialize_article(db().get(KbArticle, row.id), full=True)
    assert after == before and audits("kb_article.updated") == 0


def test_the_article_list_is_keyset_paged_and_searchable(admin, ext, users, count_queries):
    ids = _articles(ext, users, [f"Printer tip {i:02}" for i in range(53)])
    _articles(ext, users, ["100% toner", "1000 pages", "Under_score"], status="published")
    first = admin.get("/kb/articles")
    shown = re.findall(r'href="/support/admin/kb/articles/(\d+)">', first)
    assert len(shown) == 50 and int(shown[0]) == max(ids) + 3
    nxt = re.search(r'href="([^"]+cursor=[^"]+)">Next page', first).group(1)
    second = admin.client.get(nxt.replace("&amp;", "&")).get_data(True)
    rest = re.findall(r'href="/support/admin/kb/articles/(\d+)">', second)
    assert len(rest) == 6 and not set(rest) & set(shown)
    assert sorted(map(int, shown + rest), reverse=True) == [int(x) for x in shown + rest]

    found = admin.get("/kb/articles?q=TIP%2005")
    assert re.findall(r">Printer tip (\d+)<", found) == ["05"]
    # LIKE wildcards are text: "%" and "_" match themselves only
    assert re.findall(r'articles/\d+">([^<]+)<', admin.get("/kb/articles?q=100%25")) == [
        "100% toner"]
    assert re.findall(r'articles/\d+">([^<]+)<', admin.get("/kb/articles?q=%25toner")) == []
    assert re.findall(r'articles/\d+">([^<]+)<', admin.get("/kb/articles?q=r_t")) == []
    assert re.findall(r'articles/\d+">([^<]+)<', admin.get("/kb/articles?q=r_s")) == [
        "Under_score"]
    assert "No kb articles match" in admin.get("/kb/articles?q=nothing+like+it")
    # a page costs the same whatever its length: categories, articles, the signed-in user
    with count_queries() as small:
        admin.get("/kb/articles?q=100%25")
    with count_queries() as full:
        admin.get("/kb/articles")
    assert full.count == small.count


def test_the_api_lists_by_title_too(api, ext, users):
    _articles(ext, users, ["Reset the router", "Printer jam"])
    rows = api(users.admin).get("/kb/articles?q=ROUTER").json["data"]
    assert [r["title"] for r in rows] == ["Reset the router"]
    assert api(users.admin).get("/kb/articles?q=" + "x" * 201).status_code == 422


# ---------------------------------------------------------------------------- access
def test_agents_and_anonymous_visitors_are_kept_out(console, users, client_as):
    console(users.agent).get("/kb/articles", status=403)
    console(users.agent).get("/kb/categories/new", status=403)
    r = client_as(None).get("/support/admin/kb/articles")
    assert r.status_code in (302, 401)
    r = client_as(users.agent).post("/support/admin/kb/articles/preview", data={"body": "x"})
    assert r.status_code in (400, 403)


def test_an_editor_without_publish_writes_drafts_only(console, ext, users):
    _editor(ext, users.agent2, ["kb.view", "kb.create", "kb.edit"])
    editor = console(users.agent2)
    editor.get("/kb/articles/new")
    assert 'name="status"' not in editor.html
    editor.post("/kb/articles/new", {"title": "Mine", "body": "b", "visibility": "public",
                                     "tags": ""}, status=302)
    row = db().query(KbArticle).one()
    assert row.status == "draft" and row.author_user_id == str(users.agent2.id)
    editor.get(f"/kb/articles/{row.id}")
    assert "Delete…" not in editor.html  # no kb.delete
    r = editor.post(f"/kb/articles/{row.id}", {"title": "Mine", "body": "b",
                                               "visibility": "public", "tags": "",
                                               "status": "published"})
    assert r.status_code == 403
    assert db().get(KbArticle, row.id).status == "draft"
    editor.get(f"/kb/articles/{row.id}/delete", status=403)
