"""Every verb's handler, on SQLite and (when configured) PostgreSQL, with a test clock."""

import datetime as dt
import json

from core.ui import plain_text
from tests.integration.helpers import contact, nudges_of

UTC = dt.UTC


async def run(core, actor, text):
    reply = await core.run_text(actor, text)
    assert not reply.error, reply.text
    return reply


async def test_help_lists_every_verb_and_explains_one(core, alice):
    reply = await run(core, alice, "help")
    text = plain_text(reply)
    for verb in ("log", "reached-out", "scheduled", "snooze", "forget-me", "admin stats"):
        assert f"/rapport {verb}" in text
    one = await run(core, alice, "help log")
    assert "referrals" in plain_text(one) and "Usage" in plain_text(one)


async def test_goal_set_and_show(core, alice):
    assert "haven't set" in (await run(core, alice, "goal")).title
    await run(core, alice, "goal product marketing at a B2B SaaS company")
    assert (await run(core, alice, "goal")).text == "product marketing at a B2B SaaS company"


async def test_log_creates_contact_referrals_and_nudges(core, alice, sessionmaker, clock):
    # Wednesday 15:00 UTC; logged meeting yesterday 15:00.
    reply = await run(core, alice, "log Jane Doe when: yesterday 3pm company: Acme notes: talked about SEO referrals: Bob Li, Ana Ruiz")
    text = plain_text(reply)
    assert "Tue 17 Nov 2026, 15:00 UTC" in text  # the resolved date is echoed
    assert "Bob Li (new contact, referred by Jane Doe)" in text
    bob = await contact(sessionmaker, "Bob Li")
    jane = await contact(sessionmaker, "Jane Doe")
    assert bob.referred_by_contact_id == jane.id and jane.status == "met" and jane.company == "Acme"
    kinds = [(x.kind, x.due_at) for x in await nudges_of(sessionmaker, "alice")]
    # Logged late: the thank-you is due now; last reminder at meeting + 22 h has passed.
    assert ("thank-you", clock.now()) in kinds
    assert ("second-thank-you", dt.datetime(2026, 12, 17, 15, 0, tzinfo=UTC)) in kinds
    assert ("stay-in-touch", dt.datetime(2027, 2, 15, 15, 0, tzinfo=UTC)) in kinds
    assert ("digest", dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) in kinds
    assert not any(k == "update-referrer" for k, _ in kinds)  # Jane was referred by no one


async def test_log_same_day_has_evening_thank_you_and_last_reminder(core, alice, sessionmaker):
    await run(core, alice, "log Jane when: today 10am")
    thanks = [x for x in await nudges_of(sessionmaker, "alice") if x.kind == "thank-you"]
    assert [x.due_at for x in thanks] == [
        dt.datetime(2026, 11, 18, 19, 0, tzinfo=UTC),
        dt.datetime(2026, 11, 19, 8, 0, tzinfo=UTC),
    ]
    assert thanks[1].payload == {"last": True}


async def test_log_referred_contact_plans_update_referrer_and_pending_check_back(core, alice, sessionmaker):
    await run(core, alice, "add Bob Li referred-by: Jane Doe")
    reply = await run(core, alice, "log Bob Li when: today 9am referrals: pending thanked: yes")
    assert "pending" in plain_text(reply)
    kinds = {x.kind: x.due_at for x in await nudges_of(sessionmaker, "alice")}
    assert "thank-you" not in kinds
    assert kinds["update-referrer"] == dt.datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    assert kinds["check-back"] == dt.datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


async def test_log_in_member_time_zone(core, alice, sessionmaker):
    await run(core, alice, "settings tz: America/New_York")
    reply = await run(core, alice, "log Jane when: today 9am")
    assert "09:00 EST" in plain_text(reply)
    thanks = [x for x in await nudges_of(sessionmaker, "alice") if x.kind == "thank-you"]
    assert thanks[0].due_at == dt.datetime(2026, 11, 19, 0, 0, tzinfo=UTC)  # 19:00 EST


async def test_add_contact_and_show_with_chain(core, alice):
    await run(core, alice, "add Jane Doe company: Acme role: PM field: marketing email: jane@acme.test")
    await run(core, alice, "log Jane Doe when: yesterday referrals: Bob Li")
    await run(core, alice, "log Bob Li when: today 9am referrals: Cy Oh")
    shown = plain_text(await run(core, alice, "contact cy oh"))
    assert "Cy Oh ← Bob Li ← Jane Doe" in shown
    jane = plain_text(await run(core, alice, "contact Jane Doe"))
    assert "Referred you to: Bob Li" in jane and "jane@acme.test" in jane and "Met " in jane


async def test_contacts_lists_and_filters(core, alice):
    await run(core, alice, "add Ana Ruiz")
    await run(core, alice, "log Jane Doe when: yesterday")
    listing = (await run(core, alice, "contacts")).text
    assert listing.index("Jane Doe") < listing.index("Ana Ruiz")  # most recent touch first
    met = (await run(core, alice, "contacts status: met")).text
    assert "Jane Doe" in met and "Ana Ruiz" not in met


async def test_reached_out_follow_up_and_replied_cancels(core, alice, sessionmaker):
    reply = await run(core, alice, "reached-out Jane Doe via: email")
    assert "Tue 24 Nov 2026, 15:00 UTC" in plain_text(reply)  # Wed + 5 = Mon -> Tue
    await run(core, alice, "reached-out Ana follow-up: friday 10am")
    dues = {x.contact_id: x.due_at for x in await nudges_of(sessionmaker, "alice") if x.kind == "follow-up"}
    assert dt.datetime(2026, 11, 20, 10, 0, tzinfo=UTC) in dues.values()
    reply = await run(core, alice, "replied jane doe")
    assert "cancelled 1 follow-up" in reply.text
    left = [x for x in await nudges_of(sessionmaker, "alice") if x.kind == "follow-up"]
    assert len(left) == 1 and left[0].due_at == dt.datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


async def test_scheduled_plans_prep_and_time_check_then_log_converts(core, alice, sessionmaker):
    reply = await run(core, alice, "scheduled Jane Doe when: friday 12:30 where: Blue Bottle")
    text = plain_text(reply)
    assert "Fri 20 Nov 2026, 12:30 UTC" in text and "Blue Bottle" in text
    kinds = {x.kind: x.due_at for x in await nudges_of(sessionmaker, "alice")}
    assert kinds["prep"] == dt.datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    assert kinds["time-check"] == dt.datetime(2026, 11, 20, 12, 48, tzinfo=UTC)
    assert (await contact(sessionmaker, "Jane Doe")).status == "scheduled"


async def test_prep_kit(core, alice):
    await run(core, alice, "goal data analyst roles in Portland")
    await run(core, alice, "add Jane Doe company: Acme role: Head of Data referred-by: Bob Li")
    text = plain_text(await run(core, alice, "prep Jane"))
    assert "two or three other people" in text  # the two asks (000 tip 3)
    assert "Never ask for a job" in text  # golden rules (003)
    assert "Head of Data, Acme" in text and "Bob Li" in text and "data analyst roles in Portland" in text
    assert "Questions" in plain_text(await run(core, alice, "prep"))


async def test_nudges_done_skip_snooze(core, alice, sessionmaker, clock):
    await run(core, alice, "log Jane when: today 10am")
    listing = await run(core, alice, "nudges")
    assert "Thank-you note: Jane" in plain_text(listing)
    thank, last = [x for x in await nudges_of(sessionmaker, "alice") if x.kind == "thank-you"]
    assert listing.sections[0].buttons[0].action_id == f"nudge:done:{thank.id}"
    assert "Done" in (await run(core, alice, f"done {thank.id}")).text
    # Done with the thank-you ends the last reminder too and marks the meeting thanked.
    assert not [x for x in await nudges_of(sessionmaker, "alice") if x.kind == "thank-you"]
    second = [x for x in await nudges_of(sessionmaker, "alice") if x.kind == "second-thank-you"][0]
    reply = await run(core, alice, f"snooze {second.id} until: 2026-12-25 10:00")
    assert "Fri 25 Dec 2026, 10:00 UTC" in reply.text
    reply = await run(core, alice, f"snooze #{second.id}")
    assert "Sat 26 Dec 2026, 10:00 UTC" in reply.text  # default: one day later than it was due
    await run(core, alice, f"snooze {second.id} for: 3 hours")
    assert [x.due_at for x in await nudges_of(sessionmaker, "alice") if x.id == second.id] == [
        dt.datetime(2026, 12, 26, 13, 0, tzinfo=dt.UTC)]
    assert "Skipped" in (await run(core, alice, f"skip {second.id}")).text
    assert "already skipped" in (await run(core, alice, f"done {second.id}")).text


async def test_buttons_and_snooze_form(core, alice, sessionmaker):
    await run(core, alice, "log Jane when: today 10am")
    thank = [x for x in await nudges_of(sessionmaker, "alice") if x.kind == "thank-you"][0]
    form_reply = await core.press(alice, f"nudge:snooze:{thank.id}")
    assert form_reply.form.form_id == f"form:snooze:{thank.id}"
    reply = await core.submit(alice, form_reply.form.form_id, {"for": "2 days", "until": ""})
    assert "Fri 20 Nov 2026" in reply.text
    assert "Done" in (await core.press(alice, f"nudge:done:{thank.id}")).text
    assert (await core.press(alice, "nudge:explode:1")).error


async def test_bare_creating_verbs_open_forms(core, alice):
    for verb in ("log", "add", "scheduled", "reached-out"):
        reply = await core.run_text(alice, verb)
        assert reply.form is not None and reply.form.form_id == f"form:{verb}"
    reply = await core.submit(alice, "form:log", {"subject": "Jane Doe", "when": "yesterday 3pm", "notes": "SEO"})
    assert "Logged your meeting with Jane Doe" in reply.title


async def test_settings_show_and_change(core, alice, sessionmaker):
    shown = await run(core, alice, "settings")
    assert "21:00–08:00" in plain_text(shown) and shown.form is not None
    reply = await run(core, alice, "settings tz: europe/berlin quiet: 22:00-07:30 stay-in-touch: 60 digest: off")
    text = plain_text(reply)
    assert "Europe/Berlin" in text and "22:00–07:30" in text and "60 days" in text and "off" in text
    assert not [x for x in await nudges_of(sessionmaker, "alice") if x.kind == "digest"]
    await run(core, alice, "settings digest: on")
    assert len([x for x in await nudges_of(sessionmaker, "alice") if x.kind == "digest"]) == 1


async def test_export_json_and_csv(core, alice):
    await run(core, alice, "log Jane Doe when: yesterday notes: talked about SEO")
    reply = await run(core, alice, "export")
    names = [f.filename for f in reply.files]
    assert names == ["rapport-export-20261118.json", "rapport-contacts-20261118.csv", "rapport-meetings-20261118.csv"]
    data = json.loads(reply.files[0].content)
    assert data["contacts"][0]["name"] == "Jane Doe" and data["meetings"][0]["notes"] == "talked about SEO"
    assert b"Jane Doe" in reply.files[1].content


async def test_forget_me_needs_confirmation(core, alice, bob, sessionmaker):
    await run(core, alice, "log Jane Doe when: yesterday")
    await run(core, bob, "add Zed")
    ask = await run(core, alice, "forget-me")
    assert ask.buttons[0].action_id == "forget:confirm"
    assert await contact(sessionmaker, "Jane Doe") is not None
    done = await core.press(alice, "forget:confirm")
    assert "deleted" in done.title
    assert await contact(sessionmaker, "Jane Doe") is None
    assert await nudges_of(sessionmaker, "alice", status=("pending", "sent", "done")) == []
    assert await contact(sessionmaker, "Zed") is not None  # others untouched


async def test_members_see_only_their_own(core, alice, bob):
    await run(core, alice, "log Jane Doe when: yesterday notes: secret")
    assert "No contacts yet" in (await run(core, bob, "contacts")).title
    reply = await core.run_text(bob, "contact Jane Doe")
    assert reply.error and "no contact named Jane Doe" in reply.text
    nudge_id = 1
    assert (await core.run_text(bob, f"done {nudge_id}")).error
