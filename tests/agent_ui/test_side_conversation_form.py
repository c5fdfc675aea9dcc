"""The ticket page's "Start a side conversation" form: a refusal says why beside the field at
fault, and without outgoing mail the form offers no outside address."""

from __future__ import annotations

import re

from sqlalchemy import select

from flask_escalated.models import SideConversation

from .conftest import Page, open_in


def _start(page: Page, reference: str, **fields: str):
    return page.post(f"/support/agent/tickets/{reference}/side-conversations",
                     {"subject": "Ask the vendor", "body": "Is part 7 in stock?", **fields})


def test_without_mail_the_form_has_no_outside_address_and_says_why(browser, users,
                                                                    make_ticket, ext):
    t = make_ticket()
    page = browser(users.agent)
    html = page.get(f"/support/agent/tickets/{t.reference}")
    form = html[html.index('class="esc-side-start"'):]
    form = form[:form.index("</details>")]
    assert 'name="to_email"' not in form
    assert "Outgoing mail is not configured" in form

    # Sent anyway (an old page, a hand-made post): the real reason, beside where it belongs.
    r = _start(page, t.reference, to_email="vendor@example.com")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    alert = re.search(r'<p class="esc-flash esc-flash-error" role="alert">([^<]*)</p>', html)
    assert alert and alert.group(1).startswith("Outgoing mail is not configured")
    assert "not valid" not in alert.group(1)
    assert ('<p class="esc-error" id="side-to-error">E-mail to: outgoing mail is not '
            "configured</p>") in html
    assert 'value="Ask the vendor"' in html and "Is part 7 in stock?" in html
    # The composer's own fields are not marked by the side form's errors.
    assert 'id="composer-body-error"' not in html
    ext.session.rollback()
    assert ext.session.execute(select(SideConversation)).first() is None


def test_a_refused_field_is_named_beside_its_input(make_app, users_for):
    app = make_app(ESCALATED_MAIL_FROM="help@desk.test", ESCALATED_MAIL_DOMAIN="desk.test")
    people = users_for(app)
    reference = open_in(app, people.customer)
    page = Page(app.test_client(user=people.agent))
    html = page.get(f"/support/agent/tickets/{reference}")
    assert 'name="to_email"' in html and "Outgoing mail is not configured" not in html
    r = _start(page, reference, to_email="help@desk.test", subject=" ")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'aria-invalid="true" aria-describedby="side-to-error"' in html
    assert '<p class="esc-error" id="side-to-error">E-mail to: our own address</p>' in html
    assert '<p class="esc-error" id="side-subject-error">Subject: required</p>' in html
    assert "A subject is required. The outside address (to_email) is one of our own." in html
