"""The repository explains itself: its docs are there, linked from the README, cover every
verb and nudge, and point nowhere a person who clones it can't follow."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from core import commands as c
from core import nudges as n

ROOT = Path(__file__).resolve().parents[2]


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / line for line in out.splitlines() if (ROOT / line).is_file()]


OUTSIDE = "../" + "shared"  # the project's private notes, beside the repository (spelled apart: not a reference)


def test_nothing_refers_to_files_outside_the_repository():
    bad = [str(p.relative_to(ROOT)) for p in tracked_files()
           if p.suffix in {".md", ".py", ".toml", ".yml", ".yaml", ".txt", ".cfg", ""}
           and OUTSIDE in p.read_text(errors="ignore")]
    assert not bad, bad


def test_the_readme_starts_with_the_two_commands_and_links_the_docs():
    readme = (ROOT / "README.md").read_text()
    head = readme.split("\n\n")[1]
    assert "make run" in head and "make test" in head
    for doc in ("docs/guide.md", "docs/architecture.md"):
        assert f"]({doc})" in readme and (ROOT / doc).exists()


def test_the_guide_covers_every_verb_and_every_nudge():
    guide = (ROOT / "docs" / "guide.md").read_text()
    missing = [verb for verb in c.SPECS if f"`{verb}" not in guide]
    assert not missing, f"docs/guide.md doesn't explain: {missing}"
    labels = {kind: label for kind, label in n.KIND_LABELS.items() if kind not in (n.UPDATE_REFERRER, n.LANDED, n.NOTICE)}
    missing = [label for label in labels.values() if label.casefold() not in guide.casefold()]
    assert not missing, f"docs/guide.md has no row for: {missing}"


def test_member_facing_code_has_no_internal_references():
    """The spec's codes for the source articles (000 to 003) mean nothing to a member."""
    pattern = re.compile(r"\(00[0-3]|00[0-3] tip")
    bad = [f"{p.relative_to(ROOT)}:{i}" for p in tracked_files() if p.suffix == ".py" and p.parts[len(ROOT.parts)] in ("core", "adapters")
           for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not bad, bad


def test_make_bench_has_an_entry_point():
    out = subprocess.run([sys.executable, "-m", "bench", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "--pending" in out.stdout
