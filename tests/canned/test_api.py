"""The canned-response API: strict input, keyset paging by title, type-ahead, query counts."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.all_databases


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"title": "t", "body": "b", "colour": "red"}, "colour", "unknown_field"),
    ({"title": "", "body": "b"}, "title", "validation_error"),
    ({"title": "t" * 201, "body": "b"}, "title", "validation_error"),
    ({"title": "t", "body": ""}, "body", "validation_error"),
    ({"title": "t"}, "body", "validation_error"),
    ({"title": "t", "body": "b", "shared": "true"}, "shared", "validation_error"),
    ({"title": "t", "body": "b", "shortcut": "two words"}, "shortcut", "validation_error"),
    ({"title": "t", "body": "b", "department_id": 0}, "department_id", "validation_error"),
    ({"title": "t", "body": "b", "department_id": "1"}, "department_id", "validation_error"),
    ({"title": 5, "body": "b"}, "title", "validation_error"),
])
def test_create_is_strict(api, users, body, field, code):
    r = api(users.agent).post("/canned-responses", json=body)
    assert r.status_code == 422, r.get_data(True)
    error = r.get_json()["error"]
    assert error["code"] == code and field in error["fields"]


def test_unknown_department_and_patch_null(api, users, make_canned):
    r = api(users.agent).post("/canned-responses", json={"title": "t", "body": "b",
                                                         "department_id": 999999})
    assert r.status_code == 422 and "department_id" in r.get_json()["error"]["fields"]
    mine = make_canned("agent")
    r = api(users.agent).patch(f"/canned-responses/{mine}", json={"title": None})
    assert r.status_code == 422
    r = api(users.agent).patch(f"/canned-responses/{mine}", json={"shortcut": None})
    assert r.status_code == 200 and r.get_json()["data"]["shortcut"] is None


def test_keyset_pages_by_title(api, users, make_canned):
    titles = ["Delta", "alpha", "Charlie", "Bravo", "Echo", "Delta", "Foxtrot"]
    for t in titles:
        make_canned("agent", title=t)
    seen, cursor, pages = [], None, 0
    while True:
        r = api(users.agent).get("/canned-responses", query_string={
            "limit": 3, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200
        page = r.get_json()
        seen += [(row["title"], row["id"]) for row in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == len(titles) == len(set(seen))
    # The same order as one page of everything: by title (the database's collation), then id.
    whole = api(users.agent).get("/canned-responses?limit=100").get_json()["data"]
    assert seen == [(row["title"], row["id"]) for row in whole]
    assert api(users.agent).get("/canned-responses?cursor=forged").status_code == 422


def test_type_ahead_by_title_or_shortcut(api, users, make_canned):
    refund = make_canned("agent", title="Refund issued", shortcut="refund")
    make_canned("agent", title="Password reset", shortcut="pw")
    pct = make_canned("agent", title="100% done")

    def found(q):
        return [row["id"] for row in api(users.agent).get(
            "/canned-responses", query_string={"q": q}).get_json()["data"]]

    assert found("REFUND") == [refund]
    assert found("/ref") == [refund]
    assert found("ssued") == [refund]
    assert found("%") == [pct]  # a literal percent sign, not a wildcard
    assert found("zzz") == []
    assert api(users.agent).get("/canned-responses", query_string={"q": "x" * 101}
                                ).status_code == 422


def test_list_query_count_does_not_grow(api, users, make_canned, count_queries):
    def run():
        with count_queries() as q:
            assert api(users.agent).get("/canned-responses?limit=100").status_code == 200
        return q.count

    for i in range(3):
        make_canned("agent", title=f"A{i}")
    few = run()
    for i in range(20):
        make_canned("agent", title=f"B{i}")
        make_canned("admin", title=f"S{i}", shared=True)
    assert run() == few
