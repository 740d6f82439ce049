"""Slack on /metrics and /readyz: a 429 waited out inside a call is counted, commands are
counted by verb, and HTTP mode is ready once it listens."""

from __future__ import annotations

import asyncio


async def test_a_429_and_its_retry_show_on_metrics(slack):
    slack.standin.rate_limit("chat.postMessage", retry_after=1)
    answer = await slack.send.ask("log Jane Doe when: 2 days ago notes: SEO")
    assert "Jane Doe" in answer
    await slack.standin.wait_for("chat.postMessage", lambda c: c.params["channel"] == "DU1", within=10)
    # The DM is out; the sweep counts it once its mark has committed, a moment later.
    sent = 'rapport_nudges_total{kind="thank-you",outcome="sent",platform="slack"} 1.0'
    for _ in range(50):
        async with slack.http.get(f"{slack.base}/metrics") as resp:
            body = await resp.text()
        if sent in body:
            break
        await asyncio.sleep(0.1)
    assert 'rapport_platform_rate_limited_total{platform="slack"} 1.0' in body
    assert 'rapport_platform_retries_total{platform="slack"} 1.0' in body
    assert 'rapport_commands_total{outcome="ok",platform="slack",verb="log"} 1.0' in body
    assert sent in body
    async with slack.http.get(f"{slack.base}/readyz") as resp:
        assert resp.status == 200 and (await resp.json())["ready"] is True
