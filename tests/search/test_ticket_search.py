"""Full-text ticket search on each database: what it finds, how it ranks, what customers may
match, highlighting hostile text, currency inside the transaction, keyset pages by relevance
and a flat query count."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from flask_escalated.events import Actor
from flask_escalated.models import Contact, TicketSearchDocument
from flask_escalated.services import queries, replies, session, ticket_search, tickets
from flask_escalated.services.permissions import Principal
from flask_escalated.services.queries import TicketFilter

from .conftest import document

pytestmark = pytest.mark.all_databases


def found(api_client, q: str, **params) -> list[int]:
    res = api_client.get("/tickets", query_string={"q": q, **params})
    assert res.status_code == 200, res.json
    return [t["id"] for t in res.json["data"]]


def snippet_of(api_client, q: str, ticket_id: int) -> str | None:
    res = api_client.get("/tickets", query_string={"q": q})
    return next(t["search_snippet"] for t in res.json["data"] if t["id"] == ticket_id)


def test_finds_every_searchable_part(api, users, make_ticket, backend):
    subject = make_ticket("Quarterly zeppelin report")
    described = make_ticket(description="The gyroscope rattles when cold.")
    replied = make_ticket(public=("Please send the flamingo serial number.",))
    noted = make_ticket(notes=("Customer is a known walrus enthusiast.",))
    contact = make_ticket(requester_email="Penelope.Quill@example.test",
                          requester_name="Penelope Quill")
    other = make_ticket()
    agent = api(users.agent)
    assert found(agent, "zeppelin") == [subject.id]
    assert found(agent, "gyroscope") == [described.id]
    assert found(agent, "flamingo") == [replied.id]
    assert found(agent, "walrus") == [noted.id]
    assert found(agent, "penelope") == [contact.id]
    assert found(agent, "Penelope.Quill@example.test") == [contact.id]
    # The reference, exactly as shown, and a stemmed form of a word.
    assert found(agent, other.reference) == [other.id]
    assert found(agent, other.reference.lower()) == [other.id]
    if backend != "mariadb":  # InnoDB FULLTEXT does not stem
        assert found(agent, "rattling gyroscopes") == [described.id]
    assert found(agent, "nonexistentword") == []


def test_ranking_subject_before_body_and_reference_first(api, users, make_ticket):
    in_body = make_ticket("Something else", "the invoice total was wrong")
    in_subject = make_ticket("Invoice missing", "nothing to add")
    in_note = make_ticket("Another", "unrelated", notes=("check the invoice",))
    agent = api(users.agent)
    ids = found(agent, "invoice")
    assert ids == [in_subject.id, in_body.id, in_note.id]
    # An explicit sort wins over relevance; relevance without q is refused.
    assert found(agent, "invoice", sort="id") == sorted(ids)
    res = agent.get("/tickets", query_string={"sort": "-relevance"})
    assert res.status_code == 422 and "sort" in res.json["error"]["fields"]


HOSTILE = ('<script>alert("x")</script> refund 100% of the_refund \'quoted\' & "double" '
           "\u00e9t\u00e9 \U0001F525 " + "z" * 3000 + " end")


def test_snippets_escape_hostile_text(api, users, make_ticket):
    t = make_ticket("Hostile", HOSTILE)
    agent = api(users.agent)
    html = snippet_of(agent, "refund", t.id)
    assert html is not None
    assert "<mark>refund</mark>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&#34;" in html or "&quot;" in html
    # Every tag in the snippet is a mark.
    stripped = html.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped and ">" not in stripped
    assert len(html) < 1000  # the 3,000-letter word is cut, not copied whole


@pytest.mark.parametrize("q", ['%', '_', "'", '"', '100%', 'the_refund', 'NEAR(a b)', 'a*',
                               '"unclosed', '-', 'x:y', '\U0001F525', 'é', '\x00refund',
                               'OR AND NOT', '+-><()~*"@', "z" * 200, "\\"])
def test_hostile_queries_are_answered(api, users, make_ticket, q):
    make_ticket("Hostile", HOSTILE)
    for client in (api(users.agent), api(users.customer)):
        res = client.get("/tickets", query_string={"q": q})
        if "\x00" in q:  # refused at the edge, naming the field
            assert res.status_code == 422 and "q" in res.json["error"]["fields"]
            continue
        assert res.status_code == 200, (q, res.json)
        for item in res.json["data"]:
            text = item["search_snippet"] or ""
            assert "<script" not in text


def test_snippet_function_marks_after_escaping():
    pattern = ticket_search.highlight_pattern(["refunds"])
    html = ticket_search.snippet("<b>refunded</b> & refund\x00 \U0001F525", pattern)
    assert isinstance(html, Markup)
    assert html == Markup("&lt;b&gt;<mark>refunded</mark>&lt;/b&gt; &amp; <mark>refund</mark>"
                          "\x00 \U0001F525")
    assert ticket_search.snippet("nothing here", pattern) is None
    assert ticket_search.highlight_pattern([]) is None


def test_customers_never_match_note_text(api, users, make_ticket, client_as):
    own = make_ticket("My order", "where is it", notes=("secret marmalade remark",))
    public_and_note = make_ticket("Order two", "pickled marmalade please",
                                  notes=("internal marmalade gossip",))
    make_ticket("Not mine", "marmalade", requester=users.other)
    customer = api(users.customer)
    assert found(customer, "marmalade") == [public_and_note.id]
    assert found(customer, "secret") == []
    assert found(customer, "gossip") == []
    html = snippet_of(customer, "marmalade", public_and_note.id)
    assert "pickled" in html and "gossip" not in html
    agent = api(users.agent)
    assert set(found(agent, "marmalade")) >= {own.id, public_and_note.id}
    # The portal's own search box.
    page = client_as(users.customer).get("/support/tickets", query_string={"q": "gossip"})
    assert page.status_code == 200
    assert own.subject not in page.get_data(as_text=True)
    page = client_as(users.customer).get("/support/tickets", query_string={"q": "marmalade"})
    body = page.get_data(as_text=True)
    assert "Order two" in body and "<mark>marmalade</mark>" in body
    assert "Not mine" not in body and "gossip" not in body


def _agent(users) -> Principal:
    return Principal.build(str(users.agent.id), is_agent=True)


def _search(users, q: str) -> list[int]:
    rows, _ = queries.list_tickets(_agent(users), TicketFilter(q=q), limit=50)
    return [t.id for t in rows]


def test_index_follows_the_transaction(app, users, make_ticket, ext, backend):
    t = make_ticket()
    db = session()
    replies.add_reply(tickets.get_ticket(t.id), "a pangolin appeared", Actor.agent(users.agent.id))
    # Inside the transaction the document is already rewritten (and, except on MariaDB whose
    # FULLTEXT index applies changes at commit, the search sees it).
    ticket_search.bring_current(db)
    assert "pangolin" in db.get(TicketSearchDocument, t.id).public_text
    if backend != "mariadb":
        assert _search(users, "pangolin") == [t.id]
    db.rollback()
    assert "pangolin" not in document(t.id).public_text
    assert _search(users, "pangolin") == []
    with ext.unit_of_work():
        replies.add_reply(tickets.get_ticket(t.id), "the pangolin again",
                          Actor.agent(users.agent.id))
    assert _search(users, "pangolin") == [t.id]


def test_changes_update_the_document(app, users, make_ticket, ext):
    t = make_ticket(requester_email="mo@example.test", requester_name="Mo Lasagna")
    system = Actor.system()
    with ext.unit_of_work():
        tickets.update_ticket(tickets.get_ticket(t.id), {"subject": "Tangerine outage",
                                                        "description": "all tangerines"},
                              system)
    doc = document(t.id)
    assert "Tangerine outage" in doc.title_text and "all tangerines" in doc.public_text
    with ext.unit_of_work():
        note = replies.add_reply(tickets.get_ticket(t.id), "note about kumquats", system,
                                 internal=True)
    assert "kumquats" in document(t.id).note_text
    assert "kumquats" not in document(t.id).public_text
    with ext.unit_of_work():
        session().get(type(note), note.id).is_internal = False
    assert "kumquats" in document(t.id).public_text
    with ext.unit_of_work():
        contact = session().get(Contact, tickets.get_ticket(t.id).contact_id)
        contact.name = "Mo Rigatoni"
    doc = document(t.id)
    assert "Rigatoni" in doc.public_text and "Lasagna" not in doc.public_text
    with ext.unit_of_work():
        tickets.delete_ticket(tickets.get_ticket(t.id), system)
    assert document(t.id) is None
    assert _search(users, "tangerine") == []


def test_keyset_pages_by_relevance_have_no_gaps_or_duplicates(api, users, make_ticket):
    made = set()
    for i in range(13):
        # Varying densities of the word give varying ranks, with ties.
        made.add(make_ticket(f"Ticket {i}", " ".join(["quokka"] * (1 + i % 4) + ["filler"] * i)).id)
    make_ticket("Unrelated")
    agent = api(users.agent)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"q": "quokka", "limit": 4, **({"cursor": cursor} if cursor else {})}
        res = agent.get("/tickets", query_string=params)
        assert res.status_code == 200, res.json
        seen += [t["id"] for t in res.json["data"]]
        pages += 1
        cursor = res.json["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == len(made) and set(seen) == made
    assert pages == 4
    assert seen == found(agent, "quokka", limit=50)


def test_search_query_count_is_flat(api, users, make_ticket, count_queries):
    for i in range(12):
        make_ticket(f"Heron {i}", "heron sighting", public=("another heron",))
    agent = api(users.agent)
    agent.get("/tickets?limit=1&q=heron")  # warm-up
    with count_queries() as small:
        assert len(found(agent, "heron", limit=2)) == 2
    with count_queries() as large:
        assert len(found(agent, "heron", limit=12)) == 12
    assert small.count == large.count, (small.statements, large.statements)


def test_agent_queue_shows_the_snippet(users, make_ticket, client_as):
    t = make_ticket("Boring subject", "<em>the</em> ocelot escaped", public=("ocelot found",))
    page = client_as(users.agent).get("/support/agent/tickets", query_string={"q": "ocelot"})
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and t.reference in body
    assert 'class="esc-snippet"' in body and "<mark>ocelot</mark>" in body
    assert "&lt;em&gt;the&lt;/em&gt;" in body


def test_reindex_command_rebuilds_documents(app, users, make_ticket, ext):
    a, b = make_ticket("Alpha narwhal"), make_ticket("Beta narwhal")
    db = session()
    db.query(TicketSearchDocument).delete()
    db.commit()
    assert _search(users, "narwhal") == []
    result = app.test_cli_runner().invoke(args=["escalated", "reindex-tickets",
                                                "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert "Indexed 2 tickets." in result.output
    assert set(_search(users, "narwhal")) == {a.id, b.id}


def test_a_savepoint_after_a_change_keeps_the_document_current(app, users, make_ticket, ext):
    """A SAVEPOINT released (or rolled back) after a reply must not drop the pending rewrite:
    the reply is still in the transaction that commits."""
    from flask_escalated.services import savepoint

    t = make_ticket()
    with ext.unit_of_work():
        replies.add_reply(tickets.get_ticket(t.id), "an okapi wandered in",
                          Actor.agent(users.agent.id))
        session().flush()
        with savepoint():
            pass
        try:
            with savepoint():
                raise RuntimeError("undone")
        except RuntimeError:
            pass
    assert "okapi" in document(t.id).public_text
    assert _search(users, "okapi") == [t.id]
