"""Known data for the organizers' numbers (core/stats.py, the dashboard, admin stats).

Two communities, so a test can check that the second never leaks into the first. Rows are
inserted directly with exact timestamps; ``EXPECTED_30D`` and ``EXPECTED_ALL`` are worked
out by hand from the story in :func:`seed`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core.models import (
    Community,
    ContactRow,
    HelperOffer,
    IntroOffer,
    IntroRequest,
    Meeting,
    Member,
    Nudge,
    Outreach,
)

A = ("slack", "TALPHA")
B = ("slack", "TBETA")
ORGANIZER_A = "UORGA"
ORGANIZER_B = "UORGB"


@dataclass(frozen=True)
class Seeded:
    now: dt.datetime
    community_a: int
    community_b: int


def _member(session: AsyncSession, where: tuple[str, str], user_id: str, name: str, created: dt.datetime, **kw) -> Member:
    m = Member(
        platform=where[0], workspace_id=where[1], user_id=user_id, display_name=name, quiet_start="21:00",
        quiet_end="08:00", stay_in_touch_days=90, digest=False, dm_failed_notice=False, created_at=created, **kw,
    )
    session.add(m)
    return m


def _contact(session: AsyncSession, owner: Member, name: str, created: dt.datetime, **kw) -> ContactRow:
    c = ContactRow(member_id=owner.id, name=name, name_key=name.casefold(), status="new", referrals_pending=False,
                   created_at=created, notes="PRIVATE NOTE never shown", email="secret@example.com", **kw)
    session.add(c)
    return c


async def seed(session: AsyncSession, now: dt.datetime) -> Seeded:
    """The story, all within the caller's transaction.

    Community A (last 30 days):
      r1 Sam asks "Product marketing at a B2B SaaS company" (open, 10 days ago); Hana is glad
         to chat 30 minutes later; Sam meets her 8 days ago, thanks her 2 h later; Sam
         landed yesterday.                           -> offered, met, thanked, landed
      r2 Sid asks "Data science mentor" (closed now, 5 days ago); Hugo knows someone (Dee),
         5 h later; Sid meets Dee 3 days ago, thanks her 30 h later. -> offered, met
         Sid also meets Zed (not brought by any request).
      r3 Sue asks Hana directly (4 days ago); Hana accepts 2 days later; Sue meets her
         yesterday, thanks 1 h later.                -> offered, met, thanked
      r4 Sue asks "Nursing leadership in hospitals" (open, 2 days ago): no offer.
      r7 Sid asks Hugo directly (6 days ago); Hugo says not now.
      Older (40 days ago): r5 Sam asks "product marketing"; Hana offers 10 h later.
    Helpers: Hana "Product marketing, SaaS" (2 a month, asked once: r3), Hugo "Data
    science" (1 a month, asked once: r7, so no capacity left), Ina "Nursing" but inactive.
    Failed nudges: two DMs closed, two members gone, one that kept failing (30 days);
    one more DMs closed 40 days ago.
    Community B: one request with an offer, a meeting and a failed nudge, all recent.
    """
    d = dt.timedelta
    ca = Community(platform=A[0], workspace_id=A[1], intro_channel_id="C1", created_at=now - d(days=100))
    cb = Community(platform=B[0], workspace_id=B[1], intro_channel_id="C2", created_at=now - d(days=100))
    session.add_all([ca, cb])
    start = now - d(days=60)
    sam = _member(session, A, "USAM", "Sam", start, landed_at=now - d(days=1), landed_text="PM at Acme")
    sid = _member(session, A, "USID", "Sid", start)
    sue = _member(session, A, "USUE", "Sue", start)
    hana = _member(session, A, "UHANA", "Hana", start)
    hugo = _member(session, A, "UHUGO", "Hugo", start)
    ina = _member(session, A, "UINA", "Ina", start)
    _member(session, A, ORGANIZER_A, "Olga", start)
    bea = _member(session, B, "UBEA", "Bea", start)
    bo = _member(session, B, "UBO", "Bo", start)
    _member(session, B, ORGANIZER_B, "Otto", start)
    await session.flush()

    session.add_all([
        HelperOffer(member_id=hana.id, fields="Product marketing, SaaS", per_month=2, active=True, created_at=start),
        HelperOffer(member_id=hugo.id, fields="Data science", per_month=1, active=True, created_at=start),
        HelperOffer(member_id=ina.id, fields="Nursing", per_month=3, active=False, created_at=start),
        HelperOffer(member_id=bo.id, fields="Nursing leadership", per_month=3, active=True, created_at=start),
    ])

    def request(seeker: Member, community: Community, created: dt.datetime, **kw) -> IntroRequest:
        r = IntroRequest(member_id=seeker.id, community_id=community.id, created_at=created,
                         note="PRIVATE NOTE never shown", **kw)
        session.add(r)
        return r

    r1 = request(sam, ca, now - d(days=10), what="Product marketing at a B2B SaaS company", status="open",
                 first_offer_at=now - d(days=10) + d(minutes=30))
    r2 = request(sid, ca, now - d(days=5), what="Data science mentor", status="closed",
                 first_offer_at=now - d(days=5) + d(hours=5), closed_at=now - d(days=1))
    request(sue, ca, now - d(days=4), what="Product marketing", target_member_id=hana.id, status="accepted",
                 first_offer_at=now - d(days=2), answered_at=now - d(days=2))
    request(sue, ca, now - d(days=2), what="Nursing leadership in hospitals", status="open")
    r5 = request(sam, ca, now - d(days=40), what="product marketing", status="closed",
                 first_offer_at=now - d(days=40) + d(hours=10), closed_at=now - d(days=35))
    request(sid, ca, now - d(days=6), what="Data science", target_member_id=hugo.id, status="declined",
            answered_at=now - d(days=5))
    rb = request(bea, cb, now - d(days=3), what="Nursing leadership", status="open",
                 first_offer_at=now - d(days=3) + d(minutes=5))
    await session.flush()

    c_hana = _contact(session, sam, "Hana", now - d(days=10), linked_user_id="UHANA")
    c_dee = _contact(session, sid, "Dee", now - d(days=5), referred_by_member_id=hugo.id)
    c_zed = _contact(session, sid, "Zed", now - d(days=20))
    c_sue_hana = _contact(session, sue, "Hana", now - d(days=2), linked_user_id="UHANA")
    c_old = _contact(session, sam, "Olly", now - d(days=40), linked_user_id="UHANA")
    c_bo = _contact(session, bea, "Bo", now - d(days=3), linked_user_id="UBO")
    await session.flush()
    session.add_all([
        IntroOffer(request_id=r1.id, helper_member_id=hana.id, kind="glad", contact_id=c_hana.id,
                   created_at=r1.first_offer_at),
        IntroOffer(request_id=r2.id, helper_member_id=hugo.id, kind="know", contact_id=c_dee.id,
                   created_at=r2.first_offer_at),
        IntroOffer(request_id=r5.id, helper_member_id=hana.id, kind="glad", contact_id=c_old.id,
                   created_at=r5.first_offer_at),
        IntroOffer(request_id=rb.id, helper_member_id=bo.id, kind="glad", contact_id=c_bo.id,
                   created_at=rb.first_offer_at),
    ])

    def meeting(owner: Member, contact: ContactRow, at: dt.datetime, thanked_after: dt.timedelta | None,
                logged: dt.datetime | None = None) -> None:
        session.add(Meeting(member_id=owner.id, contact_id=contact.id, at=at, status="held",
                            notes="PRIVATE NOTE never shown", created_at=logged or at + d(hours=1),
                            thanked_at=at + thanked_after if thanked_after is not None else None))

    meeting(sam, c_hana, now - d(days=8), d(hours=2))
    meeting(sid, c_dee, now - d(days=3), d(hours=30))
    meeting(sid, c_zed, now - d(days=15), d(hours=1))
    meeting(sue, c_sue_hana, now - d(days=1), d(hours=1))
    meeting(sam, c_old, now - d(days=38), None)
    meeting(bea, c_bo, now - d(days=2), d(hours=1))
    session.add(Outreach(member_id=sam.id, contact_id=c_hana.id, at=now - d(days=9)))

    def failed(owner: Member, error: str, at: dt.datetime) -> None:
        session.add(Nudge(member_id=owner.id, kind="thank-you", due_at=at, status="failed", attempts=1,
                          last_error=error, created_at=at, closed_at=at))

    failed(sam, "Slack: cannot_dm_bot", now - d(days=3))
    failed(sid, "DM to 42: 403 50007 Cannot send messages to this user", now - d(days=4))
    failed(sue, "Slack: user_not_found", now - d(days=5))
    failed(sue, "DM to 43: 404 10013 Unknown User", now - d(days=6))
    failed(sid, "gave up", now - d(days=7))
    failed(sam, "Slack: messages_tab_disabled", now - d(days=40))
    failed(bea, "Slack: account_inactive", now - d(days=1))
    await session.flush()
    return Seeded(now=now, community_a=ca.id, community_b=cb.id)


# Worked out by hand from the story above.
EXPECTED_30D = {
    "funnel": (5, 3, 3, 2, 1),  # requests, with an offer, met, thanked in 24 h, landed
    "landed_seekers": 1,
    "buckets": {"Under 1 hour": 1, "1 to 6 hours": 1, "1 to 3 days": 1},
    "median_hours": 5.0,
    "waiting": 2,
    # active in the last 30 days: Sam, Sid, Sue (asked, logged), Hana (offered, answered),
    # Hugo (offered, answered)
    "active": 5,
    "meetings": 4,  # Sam-Hana, Sid-Dee, Sid-Zed, Sue-Hana
    "thanked_in_time": 3,  # all but Sid-Dee
    "failed": {"dms_closed": 2, "member_gone": 2, "kept_failing": 1},
}
EXPECTED_ALL = {
    "funnel": (6, 4, 4, 2, 1),  # r5 offered and met (Olly, Hana's referral) but not thanked
    "meetings": 5,
    "failed_total": 6,
}
