"""deploy/slack-manifest.yml asks for exactly what the app uses."""

from __future__ import annotations

import re
from pathlib import Path

from adapters.slack.oauth import SCOPES

MANIFEST = Path(__file__).resolve().parents[3] / "deploy" / "slack-manifest.yml"


def items_under(text: str, key: str) -> list[str]:
    """The ``- item`` lines of a YAML list under ``key:`` (comments dropped)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"^\s*{re.escape(key)}:\s*$", line))
    indent = len(lines[start]) - len(lines[start].lstrip())
    out = []
    for line in lines[start + 1 :]:
        stripped = line.split("#", 1)[0].rstrip()
        if not stripped:
            continue
        if len(line) - len(line.lstrip()) <= indent and not stripped.lstrip().startswith("-"):
            break
        if stripped.lstrip().startswith("- "):
            out.append(stripped.lstrip()[2:].strip())
    return out


def test_scopes_events_and_command_match_the_app():
    text = MANIFEST.read_text()
    assert items_under(text, "bot") == list(SCOPES)
    assert items_under(text, "bot_events") == ["app_home_opened", "user_change", "app_uninstalled", "tokens_revoked", "message.im"]
    assert "- command: /rapport" in text and re.search(r"^\s+should_escape: true", text, re.M)
    assert re.search(r"^\s+home_tab_enabled: true", text, re.M) and re.search(r"^\s+messages_tab_enabled: true", text, re.M)
    assert re.search(r"interactivity:\n\s+is_enabled: true", text)


def test_importing_a_shared_file_has_what_it_needs():
    """message.im needs im:history to arrive, and the download needs files:read."""
    text = MANIFEST.read_text()
    assert "message.im" in items_under(text, "bot_events")
    assert {"im:history", "files:read", "files:write"} <= set(items_under(text, "bot"))
