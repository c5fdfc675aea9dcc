"""Helpfulness votes (one per visitor) and page views (buffered, folded by a job)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from flask_escalated.jobs import tasks
from flask_escalated.models import KbArticle, KbFeedback, KbPendingView
from flask_escalated.services import kb, kb_views

pytestmark = pytest.mark.all_databases

WIDGET = "/support/widget"


def _counts(ext, article_id):
    ext.session.rollback()
    row = ext.session.get(KbArticle, article_id)
    ext.session.refresh(row)
    return row.helpful_count, row.not_helpful_count, row.view_count


def test_widget_vote_counts_once_per_visitor_and_can_change(app, ext, make_article, client_as):
    row = make_article("Helpful?")
    client = client_as(None)
    url = f"{WIDGET}/kb/articles/{row.id}/feedback"
    r = client.post(url, json={"helpful": True}, headers={"Origin": "http://localhost"})
    assert r.status_code == 200, r.json
    assert r.headers["Access-Control-Allow-Origin"] == "http://localhost"
    assert r.json["data"] == {"id": row.id, "helpful_count": 1, "not_helpful_count": 0}
    assert client.post(url, json={"helpful": True}).json["data"]["helpful_count"] == 1
    changed = client.post(url, json={"helpful": False}).json["data"]
    assert (changed["helpful_count"], changed["not_helpful_count"]) == (0, 1)
    other = client.post(url, json={"helpful": True, "email": "Someone@Example.test"}).json
    assert (other["data"]["helpful_count"], other["data"]["not_helpful_count"]) == (1, 1)
    assert client.post(url, json={"helpful": True, "email": "someone@example.test "}).json[
        "data"]["helpful_count"] == 1
    assert _counts(ext, row.id)[:2] == (1, 1)
    assert ext.session.execute(sa.select(sa.func.count()).select_from(KbFeedback)).scalar() == 2


@pytest.mark.parametrize("body", [{"helpful": "yes"}, {"helpful": None}, {}, {"helpful": 1},
                                  {"helpful": True, "email": ["x"]}])
def test_widget_vote_validation(app, make_article, client_as, body):
    row = make_article("Validated")
    r = client_as(None).post(f"{WIDGET}/kb/articles/{row.id}/feedback", json=body)
    assert r.status_code == 422 and r.json["error"]["code"] == "validation_error"


def test_widget_vote_on_hidden_or_missing_articles_is_404(app, make_article, client_as):
    internal = make_article("Internal", visibility="internal")
    draft = make_article("Draft", status="draft")
    client = client_as(None)
    for article_id in (internal.id, draft.id, 987654):
        r = client.post(f"{WIDGET}/kb/articles/{article_id}/feedback", json={"helpful": True})
        assert r.status_code == 404
    assert client.post(f"{WIDGET}/kb/articles/{internal.id}/feedback", data="x").status_code == 422


def test_one_vote_row_per_voter_is_enforced_by_the_database(app, ext, make_article):
    row = make_article("Constrained")
    ext.session.add(KbFeedback(article_id=row.id, voter_hash="v" * 64, helpful=True))
    ext.session.commit()
    ext.session.add(KbFeedback(article_id=row.id, voter_hash="v" * 64, helpful=False))
    with pytest.raises(IntegrityError):
        ext.session.commit()
    ext.session.rollback()


def test_voter_keys_separate_people_and_hide_who_they_are(app):
    a = kb.voter_key(user_id="7")
    assert a == kb.voter_key(user_id="7") != kb.voter_key(user_id="8")
    assert kb.voter_key(ip="1.2.3.4", email="x@y.z") != kb.voter_key(ip="1.2.3.4")
    import hashlib

    assert re.fullmatch(r"[0-9a-f]{64}", a)
    assert a != hashlib.sha256(b"user:7").hexdigest()  # keyed with the app's secret


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def test_page_vote_form_works_without_javascript(app, ext, make_article, client_as, users):
    row = make_article("Form vote")
    client = client_as(None)
    page = client.get(f"/support/kb/articles/{row.slug}").get_data(True)
    assert "Was this article helpful?" in page and "<legend>" in page
    url = f"/support/kb/articles/{row.slug}/feedback"
    assert client.post(url, data={"helpful": "yes"}).status_code == 400  # no CSRF token
    token = _csrf(page)
    r = client.post(url, data={"helpful": "yes", "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/kb/articles/{row.slug}")
    client.post(url, data={"helpful": "yes", "csrf_token": token})
    assert _counts(ext, row.id)[:2] == (1, 0)
    client.post(url, data={"helpful": "no", "csrf_token": token})
    assert _counts(ext, row.id)[:2] == (0, 1)
    bad = client.post(url, data={"helpful": "maybe", "csrf_token": token})
    assert bad.status_code == 422 and "helpful: Input should be" in bad.get_data(True)
    signed_in = client_as(users.customer)
    token = _csrf(signed_in.get(f"/support/kb/articles/{row.slug}").get_data(True))
    signed_in.post(url, data={"helpful": "yes", "csrf_token": token})
    assert _counts(ext, row.id)[:2] == (1, 1)
    missing = client.post("/support/kb/articles/nope/feedback",
                          data={"helpful": "yes", "csrf_token": _csrf(page)})
    assert missing.status_code == 404


def test_page_views_are_not_written_per_request_and_the_job_folds_them(
        app, ext, make_article, client_as, count_queries):
    first, second = make_article("Viewed a lot"), make_article("Viewed once")
    client = client_as(None)
    client.get(f"/support/kb/articles/{first.slug}")
    with count_queries() as q:
        for _ in range(4):
            assert client.get(f"/support/kb/articles/{first.slug}").status_code == 200
        client.get(f"/support/kb/articles/{second.slug}")
    writes = [s for s in q.statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert writes == []
    assert _counts(ext, first.id)[2] == 0
    result = tasks.flush_kb_views()
    assert result["processed"] == 2  # one pending row per article
    assert _counts(ext, first.id)[2] == 5 and _counts(ext, second.id)[2] == 1
    assert tasks.flush_kb_views()["processed"] == 0  # idempotent
    assert _counts(ext, first.id)[2] == 5


def test_views_spill_in_batches_and_fold_on_the_cli(app, ext, make_article, client_as,
                                                    monkeypatch):
    monkeypatch.setattr(kb_views, "SPILL_VIEWS", 3)
    row = make_article("Spilled")
    client = client_as(None)
    for _ in range(7):
        client.get(f"/support/kb/articles/{row.slug}")
    ext.session.rollback()
    pending = ext.session.execute(sa.select(KbPendingView.views)).scalars().all()
    assert pending == [3, 3]  # two batches written, one view still in memory
    # Rows for a deleted article are dropped when folded.
    ext.session.add(KbPendingView(article_id=999_999, views=4))
    ext.session.commit()
    result = app.test_cli_runner().invoke(args=["escalated", "flush-kb-views"])
    assert result.exit_code == 0, result.output
    assert "Folded 4 pending view rows (1 views from this process)." in result.output
    assert _counts(ext, row.id)[2] == 7
    assert ext.session.execute(sa.select(sa.func.count()).select_from(KbPendingView)).scalar() == 0
