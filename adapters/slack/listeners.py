"""Bolt listeners. Each does four things: acknowledge, translate, dispatch, render.

- ``/rapport <text>`` → ``core.run_text(actor, text, mentions)``; the reply is the
  ephemeral answer in the ack itself, or, when the core needs longer than ``ACK_BUDGET``,
  an empty ack followed by the answer at the command's ``response_url``. A reply with a
  form opens it as a modal.
- every button → ``core.press(actor, action_id)``, whatever the id (``nudge:done:42``,
  ``run:log``, ``intro:know:7`` …), so new buttons need no change here. A link button
  (``link:…``) opens its URL in Slack; its action payload is acked and dropped.
- a modal submission → ``core.submit(actor, form_id, values)``; an error is shown on the
  field it is about (``Reply.error_field``, the input block of that key), else on top of
  the modal.
- a file dropped into the member's DM with the app (``message.im``, ``file_share``) →
  downloaded with the bot token (size-checked first, see ``files``) and handed to
  ``core.import_file(actor, name, bytes)``; the preview is posted in that DM.
- ``app_home_opened`` → ``core.home(actor)`` is published; ``user_change`` → the cached
  profile is replaced and ``core.refresh_profile`` told; ``app_uninstalled`` /
  ``tokens_revoked`` → the workspace's token is dropped (and, with OAuth, its installation).
- before any of these, a middleware drops a request already handled (Slack's retries).

Mentions are platform facts. With ``should_escape`` on, Slack writes a mention picked from
its list as ``<@U123|name>`` in the command text, and escapes whatever the member typed
(``<@U2>`` arrives as ``&lt;@U2&gt;``). So mentions are read from the raw text, before
unescaping, and each is checked with users.info (a person of the acting member's
workspace, not deleted, not a bot) before the core hears of it. Anything else that looks
like a mention is typed text, and the core treats it so.

The core decides everything; nothing here knows what a verb or a button means.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace

import aiohttp
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack import PLATFORM, render
from adapters.slack import files as shared
from adapters.slack.clients import Clients
from adapters.slack.directory import Directory, profile_from_user
from adapters.slack.platform import SlackPlatform
from adapters.slack.seen import SeenRequests, request_key
from core.errors import UserError
from core.service import Actor, Rapport
from core.ui import Reply

log = logging.getLogger(__name__)

ACK_BUDGET = 2.0  # seconds of work before acking empty (Slack gives up at 3)
LOOKUP_BUDGET = 1.0  # seconds users.info may take before the command goes on without it
MENTION_BUDGET = 5.0  # seconds to confirm a mention (past ACK_BUDGET the answer goes to response_url)
MAX_MENTIONS = 10  # mentions checked per command; more are typed text
OOPS = "Something went wrong on my side; nothing was changed. Please try again."
# A mention Slack produced: with should_escape on, a "<" in the raw text is Slack's markup.
PLATFORM_MENTION = re.compile(r"<@([UW][A-Z0-9]{1,30})(?:\|[^<>]*)?>")


def platform_mentions(raw: str) -> list[str]:
    """The user ids Slack itself mentioned in a command's raw (still escaped) text, in order."""
    return list(dict.fromkeys(PLATFORM_MENTION.findall(raw)))[:MAX_MENTIONS]


def home_key(team: str, user: str) -> str:
    """The core's key for "this member has opened the App Home"."""
    return f"slack.home:{team}:{user}"[:100]


def team_of(body: dict) -> str:
    """The workspace a request comes from (team id; on Enterprise Grid, the workspace's)."""
    return (
        body.get("team_id")
        or (body.get("team") or {}).get("id")
        or (body.get("user") or {}).get("team_id")
        or ""
    )


def is_simple(reply: Reply) -> bool:
    """A one-line outcome (``Done: #42 …``) that can stand where the buttons were."""
    return not (reply.sections or reply.buttons or reply.draft or reply.fields or reply.files or reply.form)


def outcome(reply: Reply) -> str:
    return " ".join(part for part in (reply.title, reply.text) if part) or "Done."


class SlackListeners:
    """The listeners and what they share: the core, clients, caches, background work.

    Bolt runs with ``process_before_response=True``: a listener's HTTP answer goes out when
    the listener returns, so every listener acks and returns within Slack's 3 seconds and
    leaves slower work (a late answer, uploads, App Home publishes) to ``spawn``.
    """

    def __init__(
        self,
        core: Rapport,
        clients: Clients,
        directory: Directory,
        platform: SlackPlatform,
        seen: SeenRequests,
        session: aiohttp.ClientSession,
    ) -> None:
        self.core = core
        self.clients = clients
        self.directory = directory
        self.platform = platform
        self.seen = seen
        self.session = session
        # Members who have opened the App Home: a fact kept in the database through the core
        # (any process may get their next command); this set only caches the yeses.
        self.home_viewers: set[tuple[str, str]] = set()
        self._refreshing: set[tuple[str, str]] = set()
        self._tasks: set[asyncio.Task] = set()

    def register(self, bolt: AsyncApp, *, oauth: bool = False) -> None:
        bolt.use(self.dedupe)
        # Any command name: a test or staging app may call it /rapport-dev.
        bolt.command(re.compile(r"^/"))(self.on_command)
        bolt.action(re.compile(r".+"))(self.on_action)
        bolt.view_submission(re.compile(r".+"))(self.on_submit)
        bolt.event("app_home_opened")(self.on_home_opened)
        bolt.event("message")(self.on_message)
        bolt.event("user_change")(self.on_user_change)
        # With OAuth, Bolt's own listeners delete a workspace's installation rows.
        self._on_revoked = bolt.default_tokens_revoked_event_listener() if oauth else None
        self._on_uninstalled = bolt.default_app_uninstalled_event_listener() if oauth else None
        bolt.event("tokens_revoked")(self.on_tokens_revoked)
        bolt.event("app_uninstalled")(self.on_app_uninstalled)

    # -- plumbing -----------------------------------------------------------------------

    def spawn(self, coro: Awaitable, what: str) -> None:
        """Runs work after the ack; failures are logged, and stop() waits for what's left."""

        async def guarded():
            try:
                await coro
            except Exception:
                log.exception("slack: %s failed", what)

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, grace: float) -> None:
        """Waits up to ``grace`` seconds for background work, then cancels the rest."""
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1)
        await self.seen.close()

    async def dedupe(self, req, resp, next_):  # Bolt injects middleware arguments by name
        """Global middleware: a request already handled (Slack's retry, or a signed request
        replayed in Slack's five minutes) is acked, not redone, in any process."""
        key = request_key(req.body, req.raw_body)
        try:
            fresh = await self.seen.claim(key)
        except Exception:
            log.exception("slack: dedupe check failed; handling the request anyway")
            fresh = True
        if not fresh:
            log.info("slack: request already handled (X-Slack-Retry-Num=%s); not again",
                     req.headers.get("x-slack-retry-num") or "none")
            return BoltResponse(status=200, body="")
        return await next_()

    async def actor(self, team: str, user: str, client: AsyncWebClient) -> Actor:
        """The acting member, with the time zone and organizer flag users.info gives."""
        profile = await self.directory.get(team, user, client, within=LOOKUP_BUDGET)
        if profile is None:
            return Actor(PLATFORM, team, user)
        return Actor(PLATFORM, team, user, display_name=profile.name, tz=profile.tz, is_organizer=profile.is_organizer)

    async def verified_mentions(self, team: str, user_ids: list[str], client: AsyncWebClient) -> dict[str, str | None]:
        """Of the users Slack mentioned, those users.info confirms are people of workspace
        ``team`` (not deleted, not bots): user id -> display name."""
        profiles = await asyncio.gather(*(self.directory.get(team, u, client, within=MENTION_BUDGET) for u in user_ids))
        return {p.user_id: p.name for p in profiles if p is not None and p.member_of(team)}

    async def within_budget(self, work: Callable[[], Awaitable]):
        """Starts ``work``; returns ``(done, task)`` after at most ``ACK_BUDGET`` seconds."""
        task = asyncio.ensure_future(work())
        done, _ = await asyncio.wait({task}, timeout=ACK_BUDGET)
        return bool(done), task

    @staticmethod
    async def outcome_of(task: asyncio.Future, what: str) -> Reply:
        try:
            return await task
        except Exception:
            log.exception("slack: %s failed", what)
            return Reply.fail(OOPS)

    async def respond(self, response_url: str, payload: dict) -> None:
        await AsyncWebhookClient(response_url, session=self.session, timeout=15).send_dict(payload)

    async def ephemeral(self, response_url: str | None, team: str, user: str, reply: Reply) -> None:
        """Shows a reply to the member only: at ``response_url``, else in their DM."""
        if response_url:
            await self.respond(response_url, {"response_type": "ephemeral", "replace_original": False, **render.post(reply)})
        else:
            await self.dm(team, user, reply)

    async def dm(self, team: str, user: str, reply: Reply) -> None:
        client = await self.clients.for_team(team)
        channel = await self.platform.dm_channel(client, team, user)
        await self.platform.post(client, channel, reply)

    async def send_files(self, team: str, user: str, reply: Reply) -> None:
        client = await self.clients.for_team(team)
        channel = await self.platform.dm_channel(client, team, user)
        await self.platform.send_files(client, channel, reply.files, reply.title or "Your files")

    # -- App Home -------------------------------------------------------------------------

    async def publish_home(self, team: str, user: str, client: AsyncWebClient | None = None, notice: str = "") -> None:
        """Publishes the member's Home; ``notice`` (the outcome of a press there) goes on top."""
        reply = await self.core.home(Actor(PLATFORM, team, user))
        view = render.home_view(reply, notice)
        client = client or await self.clients.for_team(team)
        await client.views_publish(user_id=user, view=view)

    async def note_home_viewer(self, team: str, user: str) -> None:
        """Records, for every process, that this member has opened the App Home."""
        if (team, user) in self.home_viewers:
            return
        await self.core.remember(home_key(team, user), "opened")
        self.home_viewers.add((team, user))

    async def has_opened_home(self, team: str, user: str) -> bool:
        if (team, user) in self.home_viewers:
            return True
        if await self.core.recall(home_key(team, user)):
            self.home_viewers.add((team, user))
            return True
        return False

    def refresh_home(self, team: str, user: str) -> None:
        """Republishes the Home of a member who has opened it, once per burst of changes.

        Only members who opened the tab (in any process) are refreshed: Home is published
        afresh every time it is opened anyway, and views.publish is rate-limited per workspace.
        """
        key = (team, user)
        if key in self._refreshing:
            return
        self._refreshing.add(key)

        async def later():
            try:
                if not await self.has_opened_home(team, user):
                    return
                await asyncio.sleep(0.05)  # let a burst of changes settle into one publish
                await self.publish_home(team, user)
            finally:
                self._refreshing.discard(key)

        self.spawn(later(), "App Home refresh")

    # -- /rapport -------------------------------------------------------------------------

    async def on_command(self, ack, body: dict, client: AsyncWebClient) -> None:
        team, user = team_of(body), body.get("user_id", "")
        raw = body.get("text") or ""
        # should_escape: Slack sent a typed & < > as entities; the core wants the text itself.
        text = render.unescape(raw).strip()

        async def work() -> Reply:
            actor, mentions = await asyncio.gather(
                self.actor(team, user, client), self.verified_mentions(team, platform_mentions(raw), client)
            )
            return await self.core.run_text(actor, text, mentions=mentions)

        in_time, task = await self.within_budget(work)
        if in_time:
            await self.answer_command(body, client, await self.outcome_of(task, "/rapport"), ack)
            return
        await ack()  # Slack shows nothing yet; the answer follows at response_url

        async def finish():
            reply = await self.outcome_of(task, "/rapport")
            await self.answer_command(body, client, reply, None)

        self.spawn(finish(), "a slow /rapport")

    async def answer_command(self, body: dict, client: AsyncWebClient, reply: Reply, ack) -> None:
        """Renders a command's reply: in the ack when there is one, else at response_url."""
        team, user = team_of(body), body.get("user_id", "")
        response_url = body.get("response_url")
        if reply.form is not None and body.get("trigger_id"):
            metadata = {"response_url": response_url, "channel": body.get("channel_id")}
            if await self.open_modal(client, body["trigger_id"], reply, metadata):
                if ack is not None:
                    await ack()
                return
        if reply.files:
            note = ("The file is on its way" if len(reply.files) == 1 else "The files are on their way") + " to your DM with Rapport."
            reply = replace(reply, context=f"{reply.context} {note}".strip())
            self.spawn(self.send_files(team, user, reply), "file upload")
        if ack is not None:
            await ack(response_type="ephemeral", **render.post(reply))
        else:
            await self.ephemeral(response_url, team, user, reply)
        if reply.changed:
            self.refresh_home(team, user)

    async def open_modal(self, client: AsyncWebClient, trigger_id: str, reply: Reply, metadata: dict, *, push: bool = False) -> bool:
        view = render.modal(reply.form, hint=reply.text, metadata={k: v for k, v in metadata.items() if v})
        try:
            if push:
                await client.views_push(trigger_id=trigger_id, view=view)
            else:
                await client.views_open(trigger_id=trigger_id, view=view)
            return True
        except Exception as err:  # e.g. expired_trigger_id: fall back to the text form
            log.warning("slack: could not open the %s modal: %s", reply.form.form_id, err)
            return False

    # -- buttons ------------------------------------------------------------------------

    async def on_action(self, ack, body: dict, client: AsyncWebClient) -> None:
        await ack()  # a button's ack carries nothing; the outcome follows
        action_id = (body.get("actions") or [{}])[0].get("action_id", "")
        if render.is_link(action_id):
            return  # a link button: Slack opened its URL; there is nothing to do
        self.spawn(self.handle_action(body, client), "a button")

    async def handle_action(self, body: dict, client: AsyncWebClient) -> None:
        action = (body.get("actions") or [{}])[0]
        action_id = action.get("action_id", "")
        team, user = team_of(body), (body.get("user") or {}).get("id", "")
        container = body.get("container") or {}
        view = body.get("view") or {}
        response_url = body.get("response_url")

        async def work() -> Reply:
            return await self.core.press(await self.actor(team, user, client), action_id)

        reply = await self.outcome_of(asyncio.ensure_future(work()), f"button {action_id}")
        if reply.form is not None:
            metadata = {"response_url": response_url, "source": view.get("type") or "message"}
            if await self.open_modal(client, body.get("trigger_id", ""), reply, metadata, push=view.get("type") == "modal"):
                return
        if view.get("type") == "home":
            notice = ""
            if is_simple(reply):
                notice = outcome(reply)
            else:
                await self.dm(team, user, reply)
            await self.publish_home(team, user, client, notice)
            return
        message = body.get("message")
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id") or ""
        private = bool(container.get("is_ephemeral")) or channel.startswith("D")
        if response_url and message and private and is_simple(reply) and not reply.error:
            # In the member's own DM (or an ephemeral message), the outcome replaces the
            # buttons that were pressed. A shared channel's post is left to the core.
            blocks = render.outcome_blocks(message.get("blocks") or [], action.get("block_id", ""), outcome(reply))
            await self.respond(response_url, {"replace_original": True, "text": message.get("text") or render.fallback_text(reply),
                                              "blocks": blocks, **render.NO_UNFURL})
        else:
            await self.ephemeral(response_url, team, user, reply)
        if reply.changed:
            self.refresh_home(team, user)

    # -- modals ---------------------------------------------------------------------------

    async def on_submit(self, ack, body: dict, view: dict, client: AsyncWebClient) -> None:
        team, user = team_of(body), (body.get("user") or {}).get("id", "")
        form_id = view.get("callback_id", "")
        values = render.view_values(view)
        metadata = render.view_metadata(view)

        async def work() -> Reply:
            actor = await self.actor(team, user, client)
            return await self.core.submit(actor, form_id, values)

        in_time, task = await self.within_budget(work)
        if not in_time:
            await ack()  # the modal closes; the outcome follows in a message

            async def finish():
                await self.show_outcome(team, user, await self.outcome_of(task, f"form {form_id}"), metadata, client)

            self.spawn(finish(), f"a slow {form_id}")
            return
        reply = await self.outcome_of(task, f"form {form_id}")
        if reply.error:
            # The modal stays open with what was typed: the error beside its field, or on top.
            if reply.error_field in render.input_keys(view):
                await ack(response_action="errors", errors={reply.error_field: render.clip(reply.text, 300)})
            else:
                await ack(response_action="update", view=render.with_error(view, reply.text))
            return
        if reply.form is not None:
            await ack(response_action="update", view=render.modal(reply.form, hint=reply.text, metadata=metadata))
            return
        await ack()
        self.spawn(self.show_outcome(team, user, reply, metadata, client), f"the outcome of {form_id}")

    async def show_outcome(self, team: str, user: str, reply: Reply, metadata: dict, client: AsyncWebClient) -> None:
        """A submission's outcome: on the Home it came from, else where the form was opened."""
        if metadata.get("source") == "home":
            notice = ""
            if is_simple(reply):
                notice = outcome(reply)
            else:
                await self.dm(team, user, reply)
            await self.publish_home(team, user, client, notice)
        else:
            if reply.files:
                self.spawn(self.send_files(team, user, reply), "export upload")
            await self.ephemeral(metadata.get("response_url"), team, user, reply)
        if reply.changed:
            self.refresh_home(team, user)

    # -- events ---------------------------------------------------------------------------

    async def on_home_opened(self, ack, body: dict, event: dict, client: AsyncWebClient) -> None:
        await ack()
        if event.get("tab") != "home":
            return
        team, user = team_of(body), event.get("user", "")
        self.spawn(self.note_home_viewer(team, user), "noting an App Home viewer")
        self.spawn(self.publish_home(team, user, client), "App Home publish")

    async def on_message(self, ack, body: dict, event: dict, client: AsyncWebClient) -> None:
        """A message in a DM with the app: a file shared there is a contacts file to import.
        Anything else (text typed in the DM, the app's own uploads) is left alone."""
        await ack()
        found = shared.shared_in_dm(event)
        if found:
            team, user, channel = team_of(body), event.get("user", ""), event.get("channel", "")
            self.spawn(self.import_shared(team, user, channel, found, client), "a shared file")

    async def import_shared(self, team: str, user: str, channel: str, found: list[dict], client: AsyncWebClient) -> None:
        actor = await self.actor(team, user, client)
        for file in found:
            reply = await self.import_one(actor, file, client)
            await self.platform.post(client, channel, reply)

    async def import_one(self, actor: Actor, file: dict, client: AsyncWebClient) -> Reply:
        name = str(file.get("name") or file.get("title") or "your file")
        try:
            if not (file.get("url_private_download") or file.get("url_private")):
                # Some workspaces send a file's details only on request (file_access: check_file_info).
                file = (await client.files_info(file=file["id"]))["file"]
            shared.checked_size(file)
            data = await shared.download(self.session, file, client.token or "", self.clients.base_url)
        except (UserError, shared.DownloadError) as err:
            return Reply.fail(shared.one_line(err))
        except Exception:
            log.warning("slack: downloading a shared file failed", exc_info=True)
            return Reply.fail(f"I couldn't download {name} from Slack just now. Drop it here again in a minute.")
        return await self.core.import_file(actor, name, data)

    async def on_user_change(self, ack, body: dict, event: dict) -> None:
        """A profile changed: the cached one is replaced, and the core told of a new name or
        time zone (members it has follow; nobody is created by an event)."""
        await ack()
        user = event.get("user") or {}
        profile = profile_from_user(user)
        teams = {t for t in (team_of(body), user.get("team_id")) if t} | profile.teams
        if not profile.user_id or not teams:
            return
        before = [self.directory.cached(team, profile.user_id) for team in teams]
        for team in teams:
            self.directory.put(team, profile)
        # user_change also fires for status and avatar changes: only a new name or time zone
        # (or one this process never saw) is worth a write.
        if any(b is None or (b.name, b.tz) != (profile.name, profile.tz) for b in before):
            self.spawn(
                self.core.refresh_profile(PLATFORM, sorted(teams), profile.user_id, display_name=profile.name, tz=profile.tz),
                "refreshing a profile",
            )

    async def on_tokens_revoked(self, ack, body: dict, event: dict, context) -> None:
        await ack()
        team = team_of(body)
        self.clients.forget(team)
        log.warning("slack: tokens revoked in workspace %s", team)
        if self._on_revoked is not None:
            await self._on_revoked(event=event, context=context)

    async def on_app_uninstalled(self, ack, body: dict, context) -> None:
        """Rapport was removed from a workspace: its DMs will fail (permanently) from now on."""
        await ack()
        team = team_of(body)
        self.clients.forget(team)
        log.warning("slack: Rapport was uninstalled from workspace %s", team)
        if self._on_uninstalled is not None:
            await self._on_uninstalled(context=context)
