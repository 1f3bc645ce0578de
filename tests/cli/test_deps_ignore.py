"""``devsync deps ignore|ignored|unignore``: accepted risks per project. On the demo, bob's
laptop runs lodash 4.17.20, vulnerable to GHSA-35jh-r3h4-6jhm (the seed stores it).
Accepted, it shows as ignored with its reason and date and stops counting as drift; withdrawn
or expired, it counts again; viewers may not accept; bad input is one sentence, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.support import demo
from tests.support.devsync_cli import DevsyncCLI, make_devsync

GHSA = "GHSA-35jh-r3h4-6jhm"
BOB = ("--user", "bob", "--project", "storefront")
LAPTOP = ("--env", "bob-laptop")


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    cli = make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)
    with psycopg.connect(fresh_db_url) as conn:
        # the seed stores a second advisory of 4.17.20 (ReDoS): left out, so that accepting
        # GHSA-35jh-r3h4-6jhm covers the version
        conn.execute(
            "delete from package_advisories where team_id = %s and package_name = 'lodash'"
            " and version = '4.17.20' and advisory_id <> %s",
            (demo.TEAM_ACME, GHSA),
        )
    return cli


def _vulnerable(devsync: DevsyncCLI) -> list[str]:
    data = json.loads(devsync("drift", "--json", *BOB, *LAPTOP).out)
    return [f["package_name"] for f in data["outdated_or_vulnerable"] if f["kind"] == "vulnerable"]


def test_accept_list_withdraw(devsync: DevsyncCLI) -> None:
    assert "lodash" in _vulnerable(devsync)
    done = devsync(
        "deps", "ignore", "CVE-2021-23337", "--until", "2999-03-01", "--reason", "not reachable",
        *BOB,
    )  # fmt: skip
    assert done.code == 0, done.err
    assert "CVE-2021-23337 is accepted for storefront until 2999-03-01" in done.err
    listed = devsync("deps", "ignored", *BOB)
    assert listed.out.split() == ["CVE-2021-23337", "until", "2999-03-01", "not", "reachable"]
    assert "lodash" not in _vulnerable(devsync)  # accepted by its alias
    data = json.loads(devsync("drift", "--json", *BOB, *LAPTOP).out)
    (ignored,) = [f for f in data["ignored"] if f["package_name"] == "lodash"]
    assert ignored["advisories"][0]["accepted"] == {
        "until": "2999-03-01",
        "reason": "not reachable",
    }
    text = devsync("drift", *BOB, *LAPTOP).out
    assert (
        f"npm lodash  [bob-laptop]  4.17.20 ignored: {GHSA} accepted until 2999-03-01: "
        "not reachable" in text
    )
    # the member who may: the audit log has it
    with psycopg.connect(devsync.db_url) as conn:
        actions = conn.execute(
            "select action, actor_id from audit_log where action like 'risk.%' order by id"
        ).fetchall()
    assert actions == [("risk.accept", demo.BOB.id)]
    withdrawn = devsync("deps", "unignore", "CVE-2021-23337", *BOB, "--json")
    assert withdrawn.code == 0, withdrawn.err
    assert json.loads(withdrawn.out) == {
        "advisory_id": "CVE-2021-23337",
        "project": "storefront",
        "withdrawn": True,
    }
    assert withdrawn.err == ""
    assert "lodash" in _vulnerable(devsync)
    again = devsync("deps", "unignore", "CVE-2021-23337", *BOB)
    assert again.code == 2
    assert "not on this project's accepted list" in again.err


def test_an_expired_entry_counts_again(devsync: DevsyncCLI) -> None:
    with psycopg.connect(devsync.db_url) as conn:
        conn.execute(
            "insert into accepted_risks (project_id, advisory_id, reason, until)"
            " values (%s, %s, 'was fine', current_date - 1)",
            (demo.PROJECT_STOREFRONT, GHSA),
        )
    assert "lodash" in _vulnerable(devsync)
    listed = devsync("deps", "ignored", "--json", *BOB)
    assert json.loads(listed.out)[0]["expired"] is True


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("--until", "2999-01-01", "--reason", "r", "--user", "carol"),
            3,
            "Only admins and members may accept a risk",
        ),
        (("--until", "yesterday", "--reason", "r", "--user", "bob"), 2, "--until takes a date"),
        (("--until", "2001-01-01", "--reason", "r", "--user", "bob"), 2, "in the future"),
        (("--until", "2999-01-01", "--reason", " ", "--user", "bob"), 2, "--reason takes"),
    ],
)
def test_refusals(devsync: DevsyncCLI, args: tuple[str, ...], code: int, message: str) -> None:
    result = devsync("deps", "ignore", GHSA, *args, "--project", "storefront")
    assert result.code == code, result.err
    assert message in result.err
    assert "Traceback" not in result.err
    with psycopg.connect(devsync.db_url) as conn:
        assert conn.execute("select count(*) from accepted_risks").fetchone() == (0,)


def test_an_id_no_stored_advisory_has_is_accepted_with_a_warning(devsync: DevsyncCLI) -> None:
    # Accepted all the same (a risk may be accepted before a scan fetches the advisory), but
    # no longer silently: a typo would otherwise leave the real advisory counting.
    unknown = devsync("deps", "ignore", "NOT-AN-ID", "--until", "2999-03-01", "--reason", "x", *BOB)
    assert unknown.code == 0, unknown.err
    assert unknown.err.splitlines() == [
        "devsync: NOT-AN-ID is accepted for storefront until 2999-03-01: shown as ignored, not "
        "vulnerable, until then.",
        "devsync: warning: no advisory NOT-AN-ID is stored for storefront's packages yet; the "
        "acceptance applies once a scan finds it.",
    ]
    typo = devsync(
        "deps", "ignore", "GHSA-35jh-r3h4-6jhn", "--until", "2999-03-01", "--reason", "x", *BOB,
        "--json",
    )  # fmt: skip
    assert typo.code == 0, typo.err
    assert json.loads(typo.out)["advisory_id"] == "GHSA-35jh-r3h4-6jhn"
    assert typo.err == (
        "devsync: warning: no advisory GHSA-35jh-r3h4-6jhn is stored for storefront's packages "
        f"yet; the acceptance applies once a scan finds it; did you mean {GHSA}?\n"
    )
    listed = devsync("deps", "ignored", "--json", *BOB)
    assert {r["advisory_id"] for r in json.loads(listed.out)} == {
        "NOT-AN-ID",
        "GHSA-35jh-r3h4-6jhn",
    }
    for known in (GHSA, "CVE-2021-23337"):  # its id, or an alias of it
        done = devsync("deps", "ignore", known, "--until", "2999-03-01", "--reason", "x", *BOB)
        assert done.code == 0, done.err
        assert "warning" not in done.err


def test_the_audit_log_names_the_advisory_not_the_row(devsync: DevsyncCLI) -> None:
    assert devsync(
        "deps", "ignore", "CVE-2021-23337", "--until", "2999-03-01", "--reason", "x", *BOB
    ).code == 0  # fmt: skip
    assert devsync("deps", "unignore", "CVE-2021-23337", *BOB).code == 0
    audit = devsync("audit", "--user", "alice", "--project", "storefront", "--json")
    assert audit.code == 0, audit.err
    said = [
        (e["actor"], e["description"])
        for e in json.loads(audit.out)["entries"]
        if e["action"].startswith("risk.")
    ]
    assert said == [
        ("bob", "withdrew accepted risk CVE-2021-23337"),
        ("bob", "accepted risk CVE-2021-23337 until 2999-03-01"),
    ]
    text = devsync("audit", "--user", "alice", "--project", "storefront").out
    (line,) = [line for line in text.splitlines() if "risk CVE-2021-23337 until" in line]
    assert line.endswith("  accepted risk CVE-2021-23337 until 2999-03-01  [storefront]")
