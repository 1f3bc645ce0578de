"""``devsync audit``: the team's audit log for admins, exit 3 for others, --since and --json,
never a secret value (local transport, real Postgres)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from tests.support import demo
from tests.support.devsync_cli import DevsyncCLI, make_devsync

BOB = ("--user", "bob", "--project", "storefront", "--env", "bob-laptop")
SIDE = uuid.UUID("00000000-0000-4000-b000-0000000000aa")


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


def _wheres(devsync: DevsyncCLI, *args: str) -> set[str | None]:
    result = devsync("audit", "--user", "alice", "--json", "--limit", "1000", *args)
    assert result.code == 0, result.err
    return {e["where"] for e in json.loads(result.out)["entries"]}


def test_project_and_env_keep_their_entries(devsync: DevsyncCLI) -> None:
    everything = _wheres(devsync)
    assert {"billing-api", "storefront/bob-laptop", "storefront/staging"} <= everything
    billing = _wheres(devsync, "--project", "billing-api")
    assert billing
    assert all(w is not None and w.startswith("billing-api") for w in billing)
    assert _wheres(devsync, "--env", "bob-laptop") == {"storefront/bob-laptop"}
    assert _wheres(devsync, "--env", "storefront/staging") == {"storefront/staging"}
    # --limit counts the entries kept, not those read.
    one = devsync("audit", "--user", "alice", "--env", "bob-laptop", "--limit", "1")
    assert len(one.out.splitlines()) == 1
    assert one.out.rstrip().endswith("[storefront/bob-laptop]")


def test_an_unknown_or_foreign_project_or_env_is_refused(devsync: DevsyncCLI) -> None:
    unknown = devsync("audit", "--user", "alice", "--env", "nonexist")
    assert unknown.code == 2
    assert unknown.err.startswith("devsync: No environment 'nonexist' is visible to you")
    assert unknown.out == ""
    typo = devsync("audit", "--user", "alice", "--project", "billing")
    assert typo.code == 2
    assert "did you mean 'billing-api'?" in typo.err
    with psycopg.connect(devsync.db_url, autocommit=True) as conn:
        conn.execute(
            "insert into public.teams (id, name, slug, owner_id) values (%s, 'Side', 'side', %s)",
            (SIDE, demo.ALICE.id),
        )
        conn.execute(
            "insert into public.team_members (team_id, user_id, role) values (%s, %s, 'admin') "
            "on conflict do nothing",
            (SIDE, demo.ALICE.id),
        )
    foreign = devsync("audit", "--user", "alice", "--team", "side", "--env", "bob-laptop")
    assert (foreign.code, foreign.err) == (
        2,
        "devsync: storefront/bob-laptop is not in team Side; leave out --team or name its team.\n",
    )
    assert devsync("audit", "--user", "alice", "--team", "side").code == 0
