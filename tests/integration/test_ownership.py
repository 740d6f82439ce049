"""Every id a member can send (in a button, a form or a command) is checked by the core to
belong to the acting member's community and, where it should, to the member. Two
communities (and a third on another platform with the same workspace and user ids), two
members in one: each action is driven with the other's ids. A foreign id is refused in one
line, word for word as an id that exists nowhere, and nothing changes."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select

from core.models import Base, ContactRow, HelperOffer, IntroRequest, Member, Nudge, PendingImport
from core.service import Actor, Rapport
from core.ui import Reply
from tests.network_files import linkedin_csv

MISSING = 987654  # an id nobody has
T1, T2 = "T1", "T2"

ALICE = Actor("slack", T1, "UALICE", display_name="Alice Example")
BOB = Actor("slack", T1, "UBOB", display_name="Bob Builder")
CAROL = Actor("slack", T1, "UCAROL", display_name="Carol Jones")
ORG1 = Actor("slack", T1, "UORG", display_name="Olga Organizer", is_organizer=True)
ZED = Actor("slack", T2, "UZED", display_name="Zed Elsewhere")
ORG2 = Actor("slack", T2, "UORG2", display_name="Oz Organizer", is_organizer=True)
# Another platform, same workspace id and user id as Alice: another community, another person.
GHOST = Actor("discord", T1, "UALICE", display_name="Alice's Namesake")
ORG3 = Actor("discord", T1, "UORG", display_name="Other Organizer", is_organizer=True)
# Someone the core has never seen, in a community it has never seen.
STRANGER = Actor("slack", "T9", "USTRANGER", display_name="Stranger")


async def ok(core: Rapport, actor: Actor, text: str, mentions: dict[str, str | None] | None = None) -> Reply:
    reply = await core.run_text(actor, text, mentions)
    assert not reply.error, reply.text
    return reply


async def snapshot(db) -> dict[str, list[tuple]]:
    """Every row of every table: a refused action must leave all of them as they were."""
    async with db.read() as session:
        out = {}
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            out[table.name] = sorted(tuple(map(repr, row)) for row in rows)
        return out


class World:
    """Alice (seeker), Bob (helper) and Carol in T1; Zed in T2; the ghost on Discord's T1."""

    def __init__(self, core: Rapport, db) -> None:
        self.core, self.db = core, db
        self.ids: dict[str, int] = {}
        self.refs: dict[str, str] = {}

    async def build(self) -> None:
        core = self.core
        for org in (ORG1, ORG2, ORG3):
            await ok(core, org, "admin channel #intros")
        for actor in (ALICE, BOB, CAROL, ZED, GHOST):
            await ok(core, actor, "goal product marketing at a B2B SaaS company")
        await ok(core, BOB, "offer fields: product marketing")
        await ok(core, ZED, "offer fields: product marketing")
        for seeker in (ALICE, ZED, GHOST):
            await ok(core, seeker, "log Jane Doe when: yesterday 3pm company: Acme")
            await ok(core, seeker, "intro product marketing leaders")
            preview = await core.import_file(seeker, "Connections.csv", linkedin_csv())
            assert not preview.error, preview.text
        await ok(core, ALICE, "intro <@UBOB> note: twenty minutes about PMM?", {"UBOB": "Bob Builder"})
        async with self.db.read() as session:
            for actor, who in ((ALICE, "alice"), (BOB, "bob"), (CAROL, "carol"), (ZED, "zed"), (GHOST, "ghost")):
                member = await session.scalar(select(Member).where(
                    Member.platform == actor.platform, Member.workspace_id == actor.workspace_id,
                    Member.user_id == actor.user_id))
                self.ids[who] = member.id
            for who in ("alice", "zed", "ghost"):
                mid = self.ids[who]
                self.ids[f"{who}.nudge"] = await session.scalar(
                    select(Nudge.id).where(Nudge.member_id == mid, Nudge.kind == "thank-you"))
                self.ids[f"{who}.contact"] = await session.scalar(
                    select(ContactRow.id).where(ContactRow.member_id == mid, ContactRow.name == "Jane Doe"))
                self.ids[f"{who}.open"] = await session.scalar(
                    select(IntroRequest.id).where(IntroRequest.member_id == mid, IntroRequest.target_member_id.is_(None)))
                pending = await session.scalar(select(PendingImport).where(PendingImport.member_id == mid))
                self.ids[f"{who}.import"], self.refs[who] = pending.id, pending.ref
            self.ids["alice.ask"] = await session.scalar(
                select(IntroRequest.id).where(IntroRequest.target_member_id == self.ids["bob"]))
            assert await session.scalar(select(HelperOffer.id).where(HelperOffer.member_id == self.ids["zed"]))
        assert all(self.ids.values()), self.ids


Action = Callable[[Rapport, Actor, int], Awaitable[Reply]]


def press(template: str) -> Action:
    async def run(core: Rapport, actor: Actor, target: int) -> Reply:
        return await core.press(actor, template.format(target))
    return run


def text(template: str) -> Action:
    async def run(core: Rapport, actor: Actor, target: int) -> Reply:
        return await core.run_text(actor, template.format(target))
    return run


def submit(template: str, values: dict[str, str]) -> Action:
    async def run(core: Rapport, actor: Actor, target: int) -> Reply:
        return await core.submit(actor, template.format(target), values)
    return run


def with_ref(world: World, owner: str, action: str) -> Action:
    async def run(core: Rapport, actor: Actor, target: int) -> Reply:
        return await core.press(actor, f"import:{action}:{target}:{world.refs[owner]}")
    return run


#: What a nudge id can be sent with.
NUDGE_ACTIONS = {
    "button done": press("nudge:done:{}"),
    "button skip": press("nudge:skip:{}"),
    "button snooze": press("nudge:snooze:{}"),
    "done <n>": text("done {}"),
    "skip <n>": text("skip {}"),
    "snooze <n> for:": text("snooze {} for: 2 days"),
    "snooze <n> until:": text("snooze #{} until: 2026-12-01 09:00"),
    "snooze form": submit("form:snooze:{}", {"for": "1 day"}),
}
#: What a contact id (``#12``) can be sent with.
CONTACT_ACTIONS = {
    "contact #id": text("contact #{}"),
    "log #id": text("log #{} when: yesterday 5pm"),
    "reached-out #id": text("reached-out #{}"),
    "replied #id": text("replied #{}"),
    "scheduled #id": text("scheduled #{} when: tomorrow 3pm"),
    "prep #id": text("prep #{}"),
    "add referred-by: #id": text("add Eve Stone referred-by: #{}"),
    "log form": submit("form:log:#{}", {"when": "yesterday 5pm"}),
}
#: What a request id can be sent with, by anyone who isn't its seeker.
REQUEST_ACTIONS = {
    "done R<n>": text("done R{}"),
    "button close": press("intro:close:{}"),
    "button glad": press("intro:glad:{}"),
    "button know": press("intro:know:{}"),
    "know form": submit("form:intro-offer:{}", {"name": "Eve Stone", "company": "Acme"}),
}
ANSWER_ACTIONS = {
    "button accept": press("intro:accept:{}"),
    "button decline": press("intro:decline:{}"),
}


def one_line_refusal(reply: Reply, what: str) -> str:
    assert reply.error, f"{what}: not refused: {reply.title} {reply.text}"
    assert reply.text and "\n" not in reply.text and not (reply.sections or reply.buttons or reply.form or reply.draft), what
    assert "Something went wrong" not in reply.text, what  # a refusal, not a bug
    return re.sub(r"\d+", "N", reply.text)


async def refused_as_missing(world: World, actor: Actor, action: Action, target: int, what: str) -> None:
    """``action`` with ``target`` is refused exactly as with an id that exists nowhere, and
    changes nothing."""
    before = await snapshot(world.db)
    said = one_line_refusal(await action(world.core, actor, target), what)
    assert await snapshot(world.db) == before, f"{what}: a refused action changed something"
    missing = one_line_refusal(await action(world.core, actor, MISSING), f"{what} (missing)")
    assert said == missing, f"{what}: “{said}” tells a foreign id from a missing one (“{missing}”)"


@pytest.fixture
async def world(core, db):
    w = World(core, db)
    await w.build()
    return w


OUTSIDERS = [pytest.param(ZED, id="other-workspace"), pytest.param(GHOST, id="other-platform"),
             pytest.param(STRANGER, id="unknown")]


@pytest.mark.parametrize("outsider", OUTSIDERS)
async def test_another_communitys_ids_are_refused_as_if_they_did_not_exist(world, outsider):
    ids = world.ids
    for what, action in NUDGE_ACTIONS.items():
        await refused_as_missing(world, outsider, action, ids["alice.nudge"], what)
    for what, action in CONTACT_ACTIONS.items():
        await refused_as_missing(world, outsider, action, ids["alice.contact"], what)
    for what, action in REQUEST_ACTIONS.items():
        await refused_as_missing(world, outsider, action, ids["alice.open"], what)
    for what, action in ANSWER_ACTIONS.items():
        await refused_as_missing(world, outsider, action, ids["alice.ask"], what)
    for what in ("confirm", "cancel"):
        await refused_as_missing(world, outsider, with_ref(world, "alice", what), ids["alice.import"], f"import {what}")


async def test_another_members_ids_in_the_same_community_are_refused(world):
    ids = world.ids
    for what, action in NUDGE_ACTIONS.items():
        await refused_as_missing(world, BOB, action, ids["alice.nudge"], what)
    for what, action in CONTACT_ACTIONS.items():
        await refused_as_missing(world, BOB, action, ids["alice.contact"], what)
    for what in ("done R<n>", "button close"):  # only the seeker closes a request
        await refused_as_missing(world, BOB, REQUEST_ACTIONS[what], ids["alice.open"], what)
    for what in ("confirm", "cancel"):
        await refused_as_missing(world, BOB, with_ref(world, "alice", what), ids["alice.import"], f"import {what}")
    # Alice's direct ask is for Bob: Carol can neither answer it nor offer on it.
    for what, action in ANSWER_ACTIONS.items():
        await refused_as_missing(world, CAROL, action, ids["alice.ask"], what)
    for what in ("button glad", "button know", "know form"):
        await refused_as_missing(world, CAROL, REQUEST_ACTIONS[what], ids["alice.ask"], what)


async def test_the_ask_button_takes_only_a_helper_and_a_request_of_ones_own_community(world):
    ids = world.ids
    # Alice's own open request, with a helper from another community (or platform).
    for helper in ("zed", "ghost"):
        await refused_as_missing(world, ALICE, press(f"intro:ask:{{}}:{ids['alice.open']}"), ids[helper], f"ask {helper}")
    # Alice's own helper Bob, with a request that isn't hers (another community's, or none).
    for request in ("zed.open", "ghost.open"):
        await refused_as_missing(world, ALICE, press(f"intro:ask:{ids['bob']}:{{}}"), ids[request], f"ask for {request}")
    # Zed, with Bob (not of his community) and his own request.
    await refused_as_missing(world, ZED, press(f"intro:ask:{{}}:{ids['zed.open']}"), ids["bob"], "zed asks bob")
    # Carol, with Bob and Alice's request: the request must be the presser's own.
    await refused_as_missing(world, CAROL, press(f"intro:ask:{ids['bob']}:{{}}"), ids["alice.open"], "carol uses alice's")


async def test_the_rightful_owner_still_can(world):
    """The same actions succeed for whom the ids belong to: the refusals above are about
    ownership, not broken actions."""
    core, ids = world.core, world.ids
    assert not (await core.press(ALICE, f"nudge:snooze:{ids['alice.nudge']}")).error
    assert not (await core.run_text(ALICE, f"contact #{ids['alice.contact']}")).error
    assert not (await core.press(CAROL, f"intro:glad:{ids['alice.open']}")).error  # open to the community
    # (Bob was asked directly already; one ask of the same person a month, so ask Carol.)
    asked = await core.press(ALICE, f"intro:ask:{ids['carol']}:{ids['alice.open']}")
    assert not asked.error and asked.title.startswith("Asked Carol"), asked.text
    assert not (await core.press(BOB, f"intro:accept:{ids['alice.ask']}")).error
    assert not (await core.press(ALICE, f"import:cancel:{ids['alice.import']}:{world.refs['alice']}")).error
    assert not (await core.run_text(ALICE, f"done R{ids['alice.open']}")).error


@pytest.mark.parametrize("huge", [2**31, 10**12, 2**63, "²", "١٢"])
async def test_an_id_too_large_for_the_database_is_refused_like_a_missing_one(world, huge):
    """Ids past any column's range, or written in digits Python reads but no column holds,
    are hostile input, not a bug: refused like a missing one."""
    actions = {**NUDGE_ACTIONS, **CONTACT_ACTIONS, **REQUEST_ACTIONS, **ANSWER_ACTIONS,
               "import confirm": with_ref(world, "alice", "confirm"),
               "ask": press(f"intro:ask:{{}}:{world.ids['alice.open']}")}
    for what, action in actions.items():
        said = one_line_refusal(await action(world.core, ALICE, huge), f"{what} {huge}")
        missing = one_line_refusal(await action(world.core, ALICE, MISSING), f"{what} (missing)")
        if isinstance(huge, int):
            assert said == missing, f"{what}: “{said}” for {huge}, “{missing}” for a missing id"
