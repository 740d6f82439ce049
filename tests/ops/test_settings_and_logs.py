"""Operator settings (log format, Discord shards, lease, drain) and the log formats."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot import logs
from bot.config import ConfigError, load_settings, parse_shard_ids
from core.telemetry import log_fields


def settings(**env):
    return load_settings(_env_file=None, **env)


def test_defaults():
    s = settings()
    assert s.log_format == "text" and s.shard_ids is None and s.discord_shard_count is None
    assert s.dispatch_lease == 120 and s.drain_seconds == 2


def test_shard_ids_are_a_list_or_ranges():
    assert parse_shard_ids("0,2") == (0, 2)
    assert parse_shard_ids(" 0-2 , 5") == (0, 1, 2, 5)
    assert settings(RAPPORT_DISCORD_SHARD_COUNT=6, RAPPORT_DISCORD_SHARD_IDS="4-5").shard_ids == (4, 5)


@pytest.mark.parametrize(("env", "words"), [
    ({"RAPPORT_DISCORD_SHARD_IDS": "0"}, "needs RAPPORT_DISCORD_SHARD_COUNT"),
    ({"RAPPORT_DISCORD_SHARD_COUNT": 2, "RAPPORT_DISCORD_SHARD_IDS": "2"}, "out of range"),
    ({"RAPPORT_DISCORD_SHARD_COUNT": 2, "RAPPORT_DISCORD_SHARD_IDS": "one"}, "not a shard id"),
    ({"RAPPORT_DISCORD_SHARD_COUNT": 0}, "RAPPORT_DISCORD_SHARD_COUNT"),
    ({"RAPPORT_LOG_FORMAT": "xml"}, "RAPPORT_LOG_FORMAT"),
    ({"RAPPORT_DISPATCH_LEASE": 0}, "RAPPORT_DISPATCH_LEASE"),
    ({"RAPPORT_DRAIN_SECONDS": 30}, "RAPPORT_DRAIN_SECONDS"),
])
def test_bad_values_stop_start_up_in_one_line(env, words):
    with pytest.raises(ConfigError) as err:
        settings(**env)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_log_format_is_case_insensitive():
    assert settings(RAPPORT_LOG_FORMAT="JSON").log_format == "json"


def _capture(fmt: str, secrets=()) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter(secrets) if fmt == "json" else logs.TextFormatter(secrets))
    logger = logging.getLogger(f"tests.ops.{fmt}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_json_lines_carry_the_context_and_nothing_secret():
    log, out = _capture("json", secrets=("sign1ng-secret-value",))
    with log_fields(verb="log", platform="slack", workspace="T1", request_id="r-1"):
        log.info("answered in %d ms", 12)
    log.warning("token xoxb-123456-abcdef and xapp-1-A0-123456 and sign1ng-secret-value")
    try:
        raise RuntimeError("Authorization: Bearer xoxb-999999-zzzzzz")
    except RuntimeError:
        log.exception("boom")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0] == {**lines[0], "level": "info", "logger": "tests.ops.json", "message": "answered in 12 ms",
                        "verb": "log", "platform": "slack", "workspace": "T1", "request_id": "r-1"}
    assert "verb" not in lines[1]  # the context ended with its block
    text = out.getvalue()
    for secret in ("xoxb-123456", "xapp-1-A0", "sign1ng-secret-value", "xoxb-999999"):
        assert secret not in text
    assert "[secret]" in lines[1]["message"] and "RuntimeError" in lines[2]["exc"]


def test_text_lines_show_the_context_in_brackets():
    log, out = _capture("text")
    with log_fields(verb="nudges", platform="discord", workspace="G9"):
        log.info("hello xoxb-1234567-abc")
    line = out.getvalue().strip()
    assert "[verb=nudges platform=discord workspace=G9]: hello [secret]" in line
