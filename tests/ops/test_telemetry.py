"""What the core and the dispatcher tell their observer (core.telemetry), and how it shows
in Prometheus' text format (bot/metrics.py)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics
from core.dispatch import Dispatcher
from core.ports import RateLimited


class Recording:
    def __init__(self):
        self.commands, self.nudges, self.limits, self.retries, self.sweeps = [], [], [], [], []

    def command_finished(self, verb, platform, outcome, seconds):
        assert seconds >= 0
        self.commands.append((verb, platform, outcome))

    def nudge_finished(self, kind, platform, outcome):
        self.nudges.append((kind, platform, outcome))

    def rate_limited(self, platform):
        self.limits.append(platform)

    def retried(self, platform):
        self.retries.append(platform)

    def sweep_finished(self, seconds, claimed):
        self.sweeps.append(claimed)


class Deliverer:
    def __init__(self, fail_first: int = 0):
        self.fail_first = fail_first
        self.sent = []

    async def deliver(self, message):
        if self.fail_first:
            self.fail_first -= 1
            raise RateLimited(5)
        self.sent.append(message.nudge_id)
        return None


async def test_commands_are_counted_by_verb_platform_and_outcome(core, alice):
    seen = Recording()
    core.telemetry = seen
    await core.run_text(alice, "goal product marketing")
    await core.run_text(alice, "log Jane when: someday maybe")  # a bad date: refused
    await core.run_text(alice, "frobnicate the widgets")  # not a verb
    await core.press(alice, "nudge:done:999999")
    assert seen.commands[0] == ("goal", "console", "ok")
    assert seen.commands[1] == ("log", "console", "refused")
    assert seen.commands[2] == ("unknown", "console", "refused")
    assert seen.commands[3][0] == "button" and len(seen.commands) == 4


async def test_the_dispatcher_reports_each_delivery_and_sweep(core, alice, db, clock):
    await core.run_text(alice, "log Jane Doe when: 2 days ago")
    seen = Recording()
    deliverer = Deliverer(fail_first=1)
    dispatcher = Dispatcher(db, clock, {"console": deliverer}, "UTC", telemetry=seen)
    await dispatcher.sweep()
    assert ("thank-you", "console", "rate_limited") in seen.nudges
    assert seen.limits == ["console"] and seen.retries == ["console"] and seen.sweeps[-1] >= 1
    clock.advance(seconds=10)
    await dispatcher.sweep()
    assert ("thank-you", "console", "sent") in seen.nudges and deliverer.sent


async def test_prometheus_text_has_the_families_and_no_member_data():
    metrics = Metrics()
    metrics.command_finished("log", "slack", "ok", 0.012)
    metrics.nudge_finished("thank-you", "slack", "sent")
    metrics.rate_limited("discord")
    metrics.retried("discord")
    metrics.sweep_finished(0.3, 10)

    async def oldest() -> float:
        return 42.0

    metrics.read_oldest_due_with(oldest)
    response = await metrics.handler(None)
    body = response.body.decode()
    families = {f.name: f for f in text_string_to_metric_families(body)}
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families.values() for s in f.samples}
    assert samples[("rapport_commands_total", (("outcome", "ok"), ("platform", "slack"), ("verb", "log")))] == 1
    assert samples[("rapport_nudges_total", (("kind", "thank-you"), ("outcome", "sent"), ("platform", "slack")))] == 1
    assert samples[("rapport_platform_rate_limited_total", (("platform", "discord"),))] == 1
    assert samples[("rapport_platform_retries_total", (("platform", "discord"),))] == 1
    assert samples[("rapport_nudge_oldest_due_seconds", ())] == 42
    assert samples[("rapport_sweep_seconds_count", ())] == 1
    assert samples[("rapport_command_seconds_count", (("platform", "slack"),))] == 1
    assert samples[("rapport_uptime_seconds", ())] >= 0
    assert "process_start_time_seconds" in families or "process" in body
    label_names = {k for f in families.values() for s in f.samples for k in s.labels}
    assert label_names <= {"verb", "platform", "outcome", "kind", "le", "version", "implementation", "major", "minor", "patchlevel"}
