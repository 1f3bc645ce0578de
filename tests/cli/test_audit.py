"""``devsync audit``: the team's audit log for admins, exit 3 for others, --since and --json,
never a secret value (local transport, real Postgres)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.devsync_cli import DevsyncCLI, make_devsync

BOB = ("--user", "bob", "--project", "storefront", "--env", "bob-laptop")


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def test_admins_read_the_log_newest_first_without_values(devsync: DevsyncCLI) -> None:
    secret = "audit-" + uuid.uuid4().hex
    assert devsync("env", "set", "AUDITED_TOKEN", "--secret", *BOB, stdin=secret).code == 0
    assert devsync("env", "get", "AUDITED_TOKEN", *BOB).code == 0  # a reveal
    result = devsync("audit", "--user", "alice", "--since", "1h")
    assert result.code == 0
    lines = result.out.splitlines()
    assert "bob" in lines[0]
    assert "revealed AUDITED_TOKEN" in lines[0]
    assert lines[0].endswith("[storefront/bob-laptop]")
    assert "created AUDITED_TOKEN (v1)" in lines[1]
    data = json.loads(devsync("audit", "--user", "alice", "--since", "1h", "--json").out)
    assert data["team"] == "Acme"
    assert [e["action"] for e in data["entries"][:2]] == ["secret.reveal", "config.create"]
    assert data["entries"][0]["where"] == "storefront/bob-laptop"
    everything = devsync("audit", "--user", "alice", "--json", "--limit", "1000")
    assert secret not in result.out + everything.out


def test_since_a_date_and_a_span(devsync: DevsyncCLI) -> None:
    start = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    assert devsync("env", "set", "LOG_LEVEL=trace", *BOB).code == 0
    recent = json.loads(devsync("audit", "--user", "alice", "--since", start, "--json").out)
    assert [e["description"] for e in recent["entries"]] == ["changed LOG_LEVEL (v2)"]
    span = json.loads(devsync("audit", "--user", "alice", "--since", "10m", "--json").out)
    assert span["entries"][0] == recent["entries"][0]
    future = devsync("audit", "--user", "alice", "--since", "2999-01-01")
    assert future.code == 0
    assert future.out.strip() == "No audit entries for Acme in that time."
    older = json.loads(devsync("audit", "--user", "alice", "--since", "2000-01-01", "--json").out)
    assert len(older["entries"]) > len(recent["entries"])


@pytest.mark.parametrize("user", ["bob", "carol", "dave"])
def test_others_are_refused_with_exit_3(devsync: DevsyncCLI, user: str) -> None:
    result = devsync("audit", "--user", user)
    assert result.code == 3
    assert result.err.strip() == "devsync: Only admins of Acme may read its audit log."
    assert result.out == ""


def test_bad_input_is_one_sentence(devsync: DevsyncCLI) -> None:
    result = devsync("audit", "--user", "alice", "--since", "yesterday")
    assert result.code == 2
    assert result.err.strip() == (
        "devsync: --since takes a date (2026-12-01) or a span back from now like 7d, 12h or "
        "30m (got 'yesterday')."
    )
    unknown = devsync("audit", "--user", "alice", "--team", "nope")
    assert unknown.code == 2
    assert unknown.err.strip() == "devsync: No team named 'nope' (yours: Acme)."
