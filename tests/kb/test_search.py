"""Search on every database: ranking, who finds what, and hostile input (never a 500)."""

from __future__ import annotations

import pytest

from flask_escalated.models.kb import MAX_TERM_LENGTH
from flask_escalated.services import kb_search
from flask_escalated.services.errors import ValidationError

pytestmark = pytest.mark.all_databases

HOSTILE = [
    '"',
    "*",
    "NEAR(",
    "NEAR(printer setup, 2)",
    "'; DROP TABLE escalated_kb_articles; --",
    "printer*",
    "title:printer",
    "printer OR",
    "-printer",
    "AND",
    '""""',
    "(",
    ")",
    "^printer",
    "NOT printer",
    "\x00printer",
    "ünïcödé 日本語 🙂",
    "%_%",
    "\\",
    "a" * 200,
]


def test_title_hits_rank_above_body_hits(app, make_article, fillers, api, users):
    body_hit = make_article("Office floor plan", "Our printer lives on the third floor.")
    title_hit = make_article("Printer setup guide", "Connect the device to power first.")
    make_article("Printer secrets", "Only agents know.", visibility="internal")
    make_article("Printer drafts", "Unpublished.", status="draft")
    hits = kb_search.search("printer")
    assert [h.id for h in hits] == [title_hit.id, body_hit.id]
    assert hits[0].rank > hits[1].rank
    data = api(None).get("/kb/search?q=printer").json["data"]
    assert [d["slug"] for d in data] == [title_hit.slug, body_hit.slug]
    assert set(data[0]) == {"id", "title", "slug", "url", "snippet", "visibility"}
    assert data[1]["snippet"] == "Our printer lives on the third floor."
    assert data[0]["url"].startswith("http://") and data[0]["url"].endswith(title_hit.slug)
    # Agents (the reply composer) find internal articles too; drafts stay out of search.
    agent = api(users.agent).get("/kb/search?q=printer").json["data"]
    titles = [d["title"] for d in agent]
    assert set(titles[:2]) == {"Printer setup guide", "Printer secrets"}
    assert titles[2:] == ["Office floor plan"]
    assert {d["visibility"] for d in agent} == {"public", "internal"}
    assert api(users.customer).get("/kb/search?q=secrets").json["data"] == []


def test_search_follows_edits_and_deletes(app, ext, editor, make_article, fillers):
    from flask_escalated.services import kb

    row = make_article("Scanner tips", "Clean the glass.")
    assert [h.id for h in kb_search.search("scanner")] == [row.id]
    with ext.unit_of_work():
        kb.update_article(editor, row.id, {"title": "Copier tips"})
    assert kb_search.search("scanner") == []
    assert [h.id for h in kb_search.search("copier")] == [row.id]
    with ext.unit_of_work():
        kb.delete_article(editor, row.id)
    assert kb_search.search("copier") == []


def test_search_follows_body_edits_and_new_articles(app, ext, editor, make_article, fillers):
    """Create, body edit, unpublish and delete each reach the search index (written by the
    service in the same transaction)."""
    from flask_escalated.services import kb

    assert kb_search.search("toner") == []
    row = make_article("Cartridges", "Shake the toner gently.")
    assert [h.id for h in kb_search.search("toner")] == [row.id]
    with ext.unit_of_work():
        kb.update_article(editor, row.id, {"body": "Recycle the empty drum."})
    assert kb_search.search("toner") == []
    assert [h.id for h in kb_search.search("drum")] == [row.id]
    assert [h.id for h in kb_search.search("cartridges recycle")] == [row.id]
    with ext.unit_of_work():
        kb.update_article(editor, row.id, {"status": "draft"})
    assert kb_search.search("drum") == []
    with ext.unit_of_work():
        kb.delete_article(editor, row.id)
    assert kb_search.search("cartridges") == []


def test_title_matches_first_however_often_bodies_repeat_the_word(app, make_article, fillers):
    title_hit = make_article("Scanner basics", "Plug it in.")
    body_hits = [
        make_article(f"Office tour {i}", "The scanner, scanner and scanner. " * 20)
        for i in range(3)
    ]
    hits = kb_search.search("scanner")
    assert hits[0].id == title_hit.id
    assert [h.id for h in hits[1:]] == [b.id for b in reversed(body_hits)]
    assert hits[0].rank > hits[1].rank


def test_multiword_title_matches_first_then_newest_matches(app, make_article, fillers):
    """Every word in the title beats words split between title and body; articles missing a
    word are not found; within each tier the newest comes first."""
    split = make_article("Toner basics", "Which cartridge fits which copier.")
    both_in_title = make_article("Toner cartridge swap", "Open the front panel.")
    body_only = make_article("Office supplies", "A toner cartridge is in the cupboard.")
    make_article("Toner only", "Nothing else here.")
    hits = kb_search.search("cartridge toner")
    assert [h.id for h in hits] == [both_in_title.id, body_only.id, split.id]
    assert [h.rank for h in hits] == sorted((h.rank for h in hits), reverse=True)
    assert kb_search.search("toner cupboard copier") == []


def test_search_reads_a_page_however_many_articles_match(app, make_article, fillers):
    """The walk stops at the page: a word in every article and a word in one find the same
    articles on every database whatever the limit, title match first."""
    title_hit = make_article("Stapler refills", "Open the lid.")
    body_hits = [make_article(f"Desk {i}", "Borrow a stapler from reception.") for i in range(6)]
    newest = [b.id for b in reversed(body_hits)]
    assert [h.id for h in kb_search.search("stapler", limit=3)] == [title_hit.id, *newest[:2]]
    assert [h.id for h in kb_search.search("staplers reception", limit=20)] == newest
    assert [h.id for h in kb_search.search("stapler lid", limit=1)] == [title_hit.id]


def test_terms_fold_case_accents_and_plurals_alike_for_articles_and_queries(
    app, make_article, fillers
):
    row = make_article("Café Invoices", "Résumé upload for STATUS pages.")
    for query in ("cafe", "CAFÉ invoice", "resume", "status", "invoices résumés"):
        assert [h.id for h in kb_search.search(query)] == [row.id], query
    assert kb_search.terms("Invoices, INVOICE; ß process") == ["invoice", "ss", "process"]
    assert kb_search.terms("x" * 500) == ["x" * MAX_TERM_LENGTH]


def test_snippets_are_plain_text_around_the_match(app, make_article, fillers):
    long_body = (
        ("Lorem ipsum dolor sit amet. " * 20)
        + "The **keyboard** shortcut is here. "
        + ("Consectetur adipiscing elit. " * 20)
    )
    make_article("Shortcuts", long_body)
    (hit,) = kb_search.search("keyboard")
    assert "keyboard shortcut" in hit.snippet and "**" not in hit.snippet
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert len(hit.snippet) <= kb_search.SNIPPET_LENGTH + 2


@pytest.mark.parametrize("bad", ["", "   ", "\t\n", None, "x" * 201, "x" * 10_000])
def test_blank_or_long_queries_are_a_validation_error(app, bad):
    with pytest.raises(ValidationError):
        kb_search.search(bad)


def test_hostile_queries_never_fail(app, api, users, client_as, make_article, fillers):
    make_article("Printer setup guide", "Connect the device to power first.")
    anonymous, agent, page = api(None), api(users.agent), client_as(None)
    for q in [*HOSTILE, "", " ", "x" * 10_000]:
        for client in (anonymous, agent):
            r = client.get("/kb/search", query_string={"q": q})
            assert r.status_code in (200, 422), (q[:30], r.status_code, r.get_data(True)[:200])
            assert "data" in r.json or r.json["error"]["code"] == "validation_error"
        r = page.get("/support/widget/kb/search", query_string={"q": q})
        assert r.status_code in (200, 422), (q[:30], r.status_code)
        r = page.get("/support/kb", query_string={"q": q})
        assert r.status_code in (200, 422), (q[:30], r.status_code)
    # Operators are only text: the table still exists and plain search still works.
    assert [h.title for h in kb_search.search("printer")] == ["Printer setup guide"]
    assert anonymous.get("/kb/search").status_code == 422


def test_tokens_are_words_only():
    assert kb_search.tokens('NEAR(a b) "x" y*') == ["NEAR", "a", "b", "x", "y"]
    assert kb_search.tokens("ünïcödé 日本語") == ["ünïcödé", "日本語"]
    assert len(kb_search.tokens("w " * 100)) == kb_search.MAX_TOKENS


def test_a_search_is_two_or_three_statements_whatever_the_matches(
    app, make_article, fillers, count_queries
):
    """One-word queries skip the count; a word no article has ends after it."""
    for i in range(5):
        make_article(f"Lamp {i}", "Every lamp needs a bulb.")
    for query, statements in (("lamp", 2), ("lamp bulb", 3), ("lamp zzzqx", 1), ("zzzqx", 1)):
        with count_queries() as q:
            kb_search.search(query)
        assert q.count == statements, (query, q.statements)
