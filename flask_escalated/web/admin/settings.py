"""The settings page (``/admin/settings``): every run-time setting on one form.

The form is read into the API's :class:`~..api.schemas.settings.SettingsUpdate` and saved
through :func:`...services.settings.update`, as ``PATCH /api/v1/settings`` is: the same
validation, the same audit row. Its inputs come from the settings catalogue
(:data:`...services.settings.SETTINGS`): the settings below get inputs of their own (branding
as four inputs, one checkbox per notification, one origin per line), and any setting added to
the catalogue later appears under "Other settings" with the input its schema calls for, so no
setting exists without a place on this page.

The page posts every setting; only those whose value changes are stored
(``skip_unchanged``), so a setting nobody touched keeps following the host's config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from ...config import Config
from ...services import ext, settings
from ...services.errors import ServiceError
from ...services.mail import NOTIFICATIONS
from ..api.schemas.settings import Branding, MailNotifications, SettingsUpdate
from ..forms import FieldSpec, FormData, initial_values, read_form, specs_for
from ..security import current_principal, requires

PERMISSION = "settings.manage"
#: Settings made of several inputs named ``<setting>.<field>``, and the schema of each.
NESTED: dict[str, Any] = {"branding": Branding, "mail_notifications": MailNotifications}


@dataclass(frozen=True)
class Group:
    """A fieldset of the page: a heading, a sentence, and the settings it holds."""

    key: str
    title: str
    intro: str
    settings: tuple[str, ...]


#: The page's fieldsets, in order. A setting in none of them is shown under "Other settings".
GROUPS: tuple[Group, ...] = (
    Group("brand", "Name and branding",
          "How pages, e-mails and the widget present the helpdesk.",
          ("app_name", "branding")),
    Group("kb", "Knowledge base", "The public help articles.", ("kb_enabled",)),
    Group("widget", "Support widget",
          "Other sites may embed the widget only once listed here; this helpdesk's own pages "
          "always may.", ("widget_origins", "guest_mailbox_proof")),
    Group("guests", "People without an account",
          "Tickets from the widget and from e-mail senders who have no account.",
          ("guest_policy_mode", "guest_policy_user_id", "guest_policy_signup_url_template")),
    Group("mail", "Notification e-mails", "Untick a notification to stop sending it.",
          ("mail_notifications",)),
)

#: How the page shows each plain setting (its help text is the catalogue's).
_INPUTS: dict[str, dict[str, Any]] = {
    "app_name": {"label": "Helpdesk name"},
    "kb_enabled": {"label": "Publish the knowledge base"},
    "guest_mailbox_proof": {
        "label": "Ask widget visitors to confirm their address with a mailed code"},
    "guest_policy_mode": {
        "label": "Who owns a guest's ticket", "blank": None,
        "choices": (("unassigned", "Nobody: the ticket keeps the guest's address only"),
                    ("guest_user", "One host user (below)"),
                    ("prompt_signup", "Nobody, and the confirmation invites them to sign up"))},
    "guest_policy_user_id": {"label": "Host user id for guest tickets", "widget": "text",
                             "max_length": 64},
    "guest_policy_signup_url_template": {"label": "Sign-up link", "widget": "text",
                                         "max_length": 500},
}
_BRANDING: dict[str, Mapping[str, Any] | FieldSpec] = {
    "logo_url": {"label": "Logo URL", "widget": "url", "max_length": 500,
                 "help": "An https:// address or a path on this site; empty for none."},
    "primary_color": {"label": "Primary colour", "widget": "color"},
    "radius": {"label": "Corner radius (px)", "minimum": 0, "maximum": settings.MAX_RADIUS,
               "help": f"0 to {settings.MAX_RADIUS}; empty for {settings.DEFAULT_RADIUS}."},
    "footer": {"label": "Footer", "widget": "text", "max_length": 500,
               "help": "A line under every page and e-mail."},
}


def register(bp: Blueprint) -> None:
    """The page and its place in the console's navigation."""
    from . import NAV, NavItem

    bp.add_url_rule("/settings", "settings", settings_page, methods=["GET", "POST"])
    item = NavItem("escalated.admin.settings", "Settings", PERMISSION)
    if item not in NAV:
        NAV.append(item)


# ---------------------------------------------------------------------------- inputs
def _nested_specs(key: str) -> list[FieldSpec]:
    """The inputs of a nested setting, named ``<key>.<field>``."""
    model = NESTED[key]
    if key == "branding":
        specs = specs_for(model, only=None, **_BRANDING)
    else:
        specs = [replace(s, label=NOTIFICATIONS.get(s.name, s.label), help=None)
                 for s in specs_for(model)]
    return [replace(s, name=f"{key}.{s.name}") for s in specs]


def _setting_specs(key: str) -> list[FieldSpec]:
    """The inputs of one setting."""
    if key in NESTED:
        return _nested_specs(key)
    help_text = settings.SETTINGS[key].help
    if key == "widget_origins":
        return [FieldSpec(name=key, label="Sites that may embed the widget", widget="textarea",
                          help="One origin per line, such as https://shop.example (scheme, "
                               "host and port; no path), or * for any site.", rows=5)]
    if key == "kb_enabled" and not current_app.config[Config.ENABLE_KB]:
        help_text += " ESCALATED_ENABLE_KB is off in the config, so it stays closed."
    overrides: dict[str, Mapping[str, Any] | FieldSpec] = {
        key: {"help": help_text, **_INPUTS.get(key, {})}}
    return specs_for(SettingsUpdate, only=[key], **overrides)


def sections() -> list[tuple[Group, list[FieldSpec]]]:
    """Every fieldset with its inputs; settings no group names come last, under "Other"."""
    placed = {key for group in GROUPS for key in group.settings}
    rest = tuple(key for key in settings.SETTINGS if key not in placed)
    groups = GROUPS + ((Group("other", "Other settings", "", rest),) if rest else ())
    return [(g, [s for key in g.settings if key in settings.SETTINGS
                 for s in _setting_specs(key)]) for g in groups]


def _flat(values: dict[str, Any]) -> dict[str, Any]:
    """Settings as the form's inputs hold them (nested ones by ``<key>.<field>``)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "branding":
            value = settings.branding(value)
            # A colour input always holds a colour: the one the pages use.
            value["primary_color"] = settings.theme(value)["--esc-primary"]
        if key in NESTED:
            out.update({f"{key}.{name}": v for name, v in (value or {}).items()})
        elif key == "widget_origins":
            out[key] = "\n".join(value or [])
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------------------- reading
def read_settings(specs: list[FieldSpec]) -> FormData[Any]:
    """The posted form as :class:`SettingsUpdate` (every setting), errors named by input."""
    form = request.form
    extra: dict[str, Any] = {}
    kept: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, model in NESTED.items():
        prefix = key + "."
        sub_specs = [replace(s, name=s.name[len(prefix):])
                     for s in specs if s.name.startswith(prefix)]
        values = MultiDict([(k[len(prefix):], v) for k, v in form.items(multi=True)
                            if k.startswith(prefix)])
        sub = read_form(model, sub_specs, values=values)
        kept.update({prefix + k: v for k, v in sub.values.items()})
        errors.update({prefix + k: v for k, v in sub.errors.items()})
        if sub.model is not None:
            extra[key] = sub.model.model_dump(exclude_unset=True)
    plain = [s for s in specs if "." not in s.name]
    if "widget_origins" in form:
        extra["widget_origins"] = [line.strip() for line in form["widget_origins"].splitlines()
                                   if line.strip()]
    for spec in plain:
        # Every setting is on the page: an emptied one that may not be empty is refused by
        # the schema, not read as "leave it alone".
        if spec.widget in ("text", "textarea") and not spec.nullable \
                and form.get(spec.name, "") == "" and spec.name not in extra:
            extra[spec.name] = ""
    consumed = [k for k in form if k.split(".", 1)[0] in NESTED]
    result = read_form(SettingsUpdate, plain, extra=extra, consumed=consumed)
    result.values.update(kept)
    # "widget_origins[2]": shown under the input the origin was typed in.
    result.errors = {_input_of(k, specs): v for k, v in result.errors.items()}
    if errors:
        result.model = None
        result.errors.update(errors)
    return result


def _input_of(error_key: str, specs: list[FieldSpec]) -> str:
    base = error_key.split("[", 1)[0]
    return base if base != error_key and any(s.name == base for s in specs) else error_key


# ---------------------------------------------------------------------------- the page
@requires(PERMISSION)
def settings_page() -> Response | tuple[str, int] | str:
    groups = sections()
    specs = [s for _, group_specs in groups for s in group_specs]
    if request.method == "POST":
        form = read_settings(specs)
        if form.ok:
            assert form.model is not None
            try:
                with ext().unit_of_work():
                    settings.update(current_principal().actor, form.model.changes(),
                                    skip_unchanged=True)
            except ServiceError as exc:
                form.fail(exc)
                return _page(groups, specs, form, exc.status)
            flash("The settings were saved.", "success")
            return redirect(url_for("escalated.admin.settings"))
        return _page(groups, specs, form, 422)
    form = FormData(values=initial_values(_flat(settings.effective()), specs))
    return _page(groups, specs, form, 200)


def _page(groups: list[tuple[Group, list[FieldSpec]]], specs: list[FieldSpec],
          form: FormData[Any], status: int) -> tuple[str, int]:
    return render_template("escalated/admin/settings_form.html", groups=groups, specs=specs,
                           values=form.values, errors=form.errors), status
