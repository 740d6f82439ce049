"""Forms for the verbs that create something, and turning a submission into a command."""

from __future__ import annotations

from core import commands as c
from core.errors import UserError
from core.ui import Field, Form

FORMS: dict[str, Form] = {
    "log": Form(
        "form:log",
        "Log a meeting",
        (
            Field("subject", "Who did you meet?", required=True, placeholder="Jane Doe", max_length=c.NAME_MAX),
            Field("when", "When?", kind="date", placeholder="yesterday 3pm", max_length=60),
            Field("notes", "Notes: what you learned, what they suggested", kind="long", max_length=c.NOTES_MAX),
            Field("referrals", "People they suggested (comma-separated, or 'pending')", max_length=1000),
            Field("company", "Company", placeholder="Acme", max_length=c.SHORT_MAX),
            Field("role", "Their role", placeholder="Head of Marketing", max_length=c.SHORT_MAX),
            Field("opportunities", "Opportunities they mentioned", kind="long", max_length=1000),
            Field("thanked", "Already sent your thank-you?", kind="select", options=("no", "yes")),
        ),
        "Log it",
    ),
    "add": Form(
        "form:add",
        "Add a contact",
        (
            Field("subject", "Name", required=True, placeholder="Jane Doe", max_length=c.NAME_MAX),
            Field("company", "Company", max_length=c.SHORT_MAX),
            Field("role", "Role", max_length=c.SHORT_MAX),
            Field("field", "Field", placeholder="product marketing", max_length=c.SHORT_MAX),
            Field("email", "Email", max_length=c.SHORT_MAX),
            Field("referred-by", "Referred by", placeholder="Bob Li", max_length=c.NAME_MAX),
            Field("notes", "Notes", kind="long", max_length=c.NOTES_MAX),
        ),
        "Add",
    ),
    "reached-out": Form(
        "form:reached-out",
        "Log an outreach",
        (
            Field("subject", "Whom did you contact?", required=True, placeholder="Jane Doe", max_length=c.NAME_MAX),
            Field("via", "How?", placeholder="email, LinkedIn, phone", max_length=c.SHORT_MAX),
            Field("follow-up", "When did you say you'd follow up?", kind="date", placeholder="next Tuesday 10am", max_length=60),
        ),
        "Log it",
    ),
    "scheduled": Form(
        "form:scheduled",
        "Schedule a meeting",
        (
            Field("subject", "With whom?", required=True, placeholder="Jane Doe", max_length=c.NAME_MAX),
            Field("when", "When?", kind="date", required=True, placeholder="Thursday 12:30", max_length=60),
            Field("where", "Where?", placeholder="Blue Bottle, Market St", max_length=c.SHORT_MAX),
        ),
        "Schedule",
    ),
    "intro": Form(
        "form:intro",
        "Ask for an introduction",
        (
            Field("subject", "Whom would you like to meet?", required=True, placeholder="product marketing at a B2B SaaS company", max_length=c.TEXT_MAX),
            Field("note", "A note for helpers", kind="long", max_length=1000),
        ),
        "Ask",
    ),
    "settings": Form(
        "form:settings",
        "Your settings",
        (
            Field("tz", "Time zone", placeholder="America/New_York", max_length=64),
            Field("quiet", "Quiet hours", placeholder="21:00-08:00, or off", max_length=20),
            Field("stay-in-touch", "Stay in touch every ... days", placeholder="90", max_length=4),
            Field("digest", "Weekly digest", kind="select", options=("on", "off")),
        ),
        "Save",
    ),
}


def form_for(verb: str) -> Form | None:
    return FORMS.get(verb)


def command_from_form(form_id: str, values: dict[str, str]) -> c.Command:
    """Builds the command a submitted form stands for; empty fields are left out."""
    kind, _, rest = form_id.partition(":")
    if kind != "form" or not rest:
        raise UserError("That form is no longer in use. Run the command again.")
    verb, _, arg = rest.partition(":")
    clean = {k: v.strip() for k, v in values.items() if v is not None and str(v).strip()}
    subject = clean.pop("subject", None) or (arg or None)
    if verb == "settings" or verb in c.SPECS and not c.SPECS[verb].subject:
        subject = None
    if verb in FORMS and not clean and not subject:
        raise UserError("The form was empty, so nothing was saved.")
    return c.build(verb, subject, clean)
