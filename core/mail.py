"""Drafts one click from sending: "Open in email" beside Done / Snooze / Skip.

Where the contact has an email address, the nudges whose draft is written to them (the
thank-you, the follow-up, the one-month note, and the pitch to someone a helper suggested)
get a link button that opens the member's mail program with the address, a subject and the
draft filled in. The button is a signed link to the bot's listener (see ``core.links`` for
why not ``mailto:`` itself); opening it renders the nudge again and redirects to the
``mailto:`` URL, so the mail holds the draft as it reads in the message.
"""

from __future__ import annotations

from dataclasses import replace

from core import nudges as n
from core.drafts import first_name
from core.links import Links, mailto
from core.ui import Button, Reply
from core.views import ContactInfo, NudgeInfo

LABEL = "Open in email"
SUBJECTS = {
    n.THANK_YOU: "Thank you for your time",
    n.FOLLOW_UP: "Following up: twenty minutes of your advice",
    n.SECOND_THANK_YOU: "A month on: thank you again",
    n.NOTICE: "Twenty minutes of your advice",  # the pitch to someone a helper suggested
}


def mailable(nudge: NudgeInfo, contact: ContactInfo | None, reply: Reply) -> bool:
    """Whether this nudge's draft is a mail to the contact, and the contact has an address."""
    return (
        nudge.kind in SUBJECTS
        and contact is not None
        and bool(contact.email and "@" in contact.email)
        and bool(reply.draft)
        and not reply.error
    )


def subject(nudge: NudgeInfo, contact: ContactInfo, referrer: str | None = None) -> str:
    if nudge.kind == n.NOTICE and referrer:
        return f"{first_name(referrer)} suggested I get in touch"
    return SUBJECTS.get(nudge.kind, "Hello")


def with_button(reply: Reply, nudge: NudgeInfo, contact: ContactInfo | None, links: Links | None) -> Reply:
    """``reply`` with the "Open in email" link after its buttons, where it applies."""
    if links is None or not links.ready or not mailable(nudge, contact, reply):
        return reply
    return replace(reply, buttons=(*reply.buttons, Button(LABEL, url=links.mail_url(nudge.id))))


def url(reply: Reply, nudge: NudgeInfo, contact: ContactInfo | None, referrer: str | None = None) -> str | None:
    """The ``mailto:`` URL for a rendered nudge, or None when it has no mail to write."""
    if contact is None or contact.email is None or not mailable(nudge, contact, reply):
        return None
    return mailto(contact.email, subject(nudge, contact, referrer), reply.draft)
