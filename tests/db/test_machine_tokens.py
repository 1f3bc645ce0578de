"""Machine tokens in the database: made once and stored as a hash, refused at once when
expired, revoked or orphaned, each refusal with its reason; use, reveals, creation and
revocation audited (use at most hourly), never the token or a value. Who may call what is in
the permission matrix (matrix_cells_machine.py); here is how it behaves."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.db.helpers import (
    MACHINE,
    MACHINE_EXPIRED,
    MACHINE_REVOKED,
    MACHINE_STAGING,
    Conn,
    Cur,
    Identity,
    Machine,
    config_id,
    impersonate,
    install_machine_tokens,
)
from tests.support import demo

pytestmark = pytest.mark.db

S = demo.PROJECT_STOREFRONT
BOB_ENV = demo.ENV_BOB_LAPTOP


@pytest.fixture(scope="module", autouse=True)
def _tokens(su: Conn) -> None:
    install_machine_tokens(su)


@pytest.fixture
def cur(su: Conn) -> Iterator[Cur]:
    with su.transaction(force_rollback=True), su.cursor() as c:
        yield c


def as_(cur: Cur, who: Identity) -> Cur:
    impersonate(cur, who)
    return cur


def one(cur: Cur, query: str, params: Any = None) -> Any:
    cur.execute(query, params)
    row = cur.fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row


def refusal(cur: Cur, query: str = "select * from machine_whoami()") -> tuple[str, dict[str, Any]]:
    """(message, detail) of the PT401 the call raises."""
    with pytest.raises(psycopg.DatabaseError) as caught, cur.connection.transaction():
        cur.execute(query)
    assert caught.value.sqlstate == "PT401", caught.value
    diag = caught.value.diag
    return diag.message_primary or "", json.loads(diag.message_detail or "{}")


def test_a_token_is_shown_once_and_stored_as_its_hash(cur: Cur) -> None:
    token_id, token = one(
        as_(cur, demo.BOB), "select * from create_machine_token(%s, 'ci box', null)", (BOB_ENV,)
    )
    assert re.fullmatch(r"dsm_[0-9a-f]{64}", token)
    cur.execute("reset role")
    stored = one(cur, "select token_hash from machine_tokens where id = %s", (token_id,))
    assert bytes(stored) == hashlib.sha256(token.encode()).digest()
    # nowhere in the database as text: not in the tokens table, the audit log, anywhere
    for table in ("machine_tokens", "audit_log", "configuration_history", "environments"):
        text = one(cur, f"select coalesce(string_agg(to_jsonb(t)::text, ' '), '') from {table} t")
        assert token[4:] not in text, table
    entry = one(
        cur,
        "select details from audit_log where action = 'token.create' and target_id = %s",
        (str(token_id),),
    )
    assert entry["name"] == "ci box"
    # and it works at once, for that environment
    env = one(as_(cur, _machine(token)), "select environment from machine_whoami()")
    assert env["id"] == str(BOB_ENV)


def _machine(token: str) -> Machine:
    return Machine(MACHINE.token_id, token, BOB_ENV, demo.BOB, "valid")


def test_two_tokens_differ(cur: Cur) -> None:
    as_(cur, demo.ERIN)
    tokens = {
        one(cur, "select token from create_machine_token(%s, 't', null)", (BOB_ENV,))
        for _ in range(20)
    }
    assert len(tokens) == 20


@pytest.mark.parametrize(
    ("name", "expires", "message"),
    [
        ("", None, "1 to 200 characters"),
        ("  ", None, "1 to 200 characters"),
        ("x" * 201, None, "1 to 200 characters"),
        ("bad\x1b[2Jname", None, "control characters"),
        ("ok", "2000-01-01T00:00:00Z", "expire in the future"),
    ],
)
def test_bad_token_requests_are_one_sentence(
    cur: Cur, name: str, expires: str | None, message: str
) -> None:
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        as_(cur, demo.ALICE).execute(
            "select * from create_machine_token(%s, %s, %s)", (BOB_ENV, name, expires)
        )


@pytest.mark.parametrize(
    ("who", "reason", "words"),
    [
        (MACHINE_EXPIRED, "expired", "has expired"),
        (MACHINE_REVOKED, "revoked", "was revoked"),
        (
            Machine(MACHINE.token_id, "dsm_" + "0" * 64, BOB_ENV, demo.BOB, "valid"),
            "unknown",
            "not valid",
        ),
        (
            Machine(MACHINE.token_id, "not-a-token", BOB_ENV, demo.BOB, "valid"),
            "unknown",
            "not a DevSync machine token",
        ),
        (None, "missing", "no machine token was sent"),
    ],
)
def test_refusals_say_why(cur: Cur, who: Identity, reason: str, words: str) -> None:
    message, detail = refusal(as_(cur, who))
    assert words in message
    assert detail["reason"] == reason
    if reason in ("expired", "revoked"):
        assert detail["at"] is not None


def test_every_machine_rpc_refuses_an_expired_token(cur: Cur) -> None:
    cid = config_id(cur.connection, S, BOB_ENV, "DATABASE_URL")
    as_(cur, MACHINE_EXPIRED)
    for call in (
        "select * from machine_whoami()",
        "select * from machine_effective_configuration()",
        "select machine_config_fingerprint()",
        f"select machine_reveal_secret('{cid}')",
        "select machine_report_dependencies('[]')",
        "select machine_report_health('[]')",
        "select * from machine_set_status('active', null)",
    ):
        assert refusal(cur, call)[1]["reason"] == "expired", call


def test_revoking_takes_effect_at_once_and_is_audited_once(cur: Cur) -> None:
    one(as_(cur, MACHINE), "select token_id from machine_whoami()")
    revoked_at = one(
        as_(cur, demo.BOB), "select revoked_at from revoke_machine_token(%s)", (MACHINE.token_id,)
    )
    assert revoked_at is not None
    again = one(cur, "select revoked_at from revoke_machine_token(%s)", (MACHINE.token_id,))
    assert again == revoked_at
    assert refusal(as_(cur, MACHINE))[1]["reason"] == "revoked"
    cur.execute("reset role")
    count = one(
        cur,
        "select count(*) from audit_log where action = 'token.revoke' and target_id = %s",
        (str(MACHINE.token_id),),
    )
    assert count == 1


def test_a_token_dies_with_its_creators_access(cur: Cur) -> None:
    one(as_(cur, MACHINE), "select token_id from machine_whoami()")
    as_(cur, demo.ALICE).execute(
        "select set_member_role(%s, %s, 'viewer')", (demo.TEAM_ACME, demo.BOB.id)
    )
    assert refusal(as_(cur, MACHINE))[1]["reason"] == "creator"
    as_(cur, demo.ALICE).execute(
        "select set_member_role(%s, %s, 'member')", (demo.TEAM_ACME, demo.BOB.id)
    )
    one(as_(cur, MACHINE), "select token_id from machine_whoami()")
    as_(cur, demo.ALICE).execute("select remove_team_member(%s, %s)", (demo.TEAM_ACME, demo.BOB.id))
    assert refusal(as_(cur, MACHINE))[1]["reason"] == "creator"


def test_tokens_go_with_their_environment(cur: Cur) -> None:
    as_(cur, demo.BOB).execute("delete from environments where id = %s", (BOB_ENV,))
    assert refusal(as_(cur, MACHINE))[1]["reason"] == "unknown"


def test_use_is_recorded_at_a_bounded_rate(cur: Cur) -> None:
    for _ in range(3):
        one(as_(cur, MACHINE), "select machine_config_fingerprint()")
    cur.execute("reset role")
    used = one(
        cur,
        "select count(*) from audit_log where action = 'token.use' and target_id = %s",
        (str(MACHINE.token_id),),
    )
    assert used == 1
    last = one(cur, "select last_used_at from machine_tokens where id = %s", (MACHINE.token_id,))
    assert last is not None
    # an hour later the next use is recorded again; within the minute last_used_at stays
    cur.execute(
        "update machine_tokens set use_logged_at = now() - interval '61 minutes' where id = %s",
        (MACHINE.token_id,),
    )
    one(as_(cur, MACHINE), "select machine_config_fingerprint()")
    cur.execute("reset role")
    used = one(
        cur,
        "select count(*) from audit_log where action = 'token.use' and target_id = %s",
        (str(MACHINE.token_id),),
    )
    assert used == 2
    assert (
        one(cur, "select last_used_at from machine_tokens where id = %s", (MACHINE.token_id,))
        == last
    )


def test_reveals_through_a_token_are_audited_without_the_value(cur: Cur) -> None:
    cid = config_id(cur.connection, S, BOB_ENV, "DATABASE_URL")
    value = one(as_(cur, MACHINE), "select machine_reveal_secret(%s)", (cid,))
    assert "demo-local-password-not-real" in value
    cur.execute("reset role")
    actor, details = one(
        cur,
        "select actor_id, details from audit_log where action = 'secret.reveal' and target_id = %s",
        (str(cid),),
    )
    assert actor is None
    assert details["token_id"] == str(MACHINE.token_id)
    assert details["key"] == "DATABASE_URL"
    assert value not in json.dumps(details)


def test_the_machine_and_its_owner_see_the_same_effective_configuration(cur: Cur) -> None:
    as_(cur, demo.BOB).execute("select * from effective_configuration(%s)", (BOB_ENV,))
    owner = cur.fetchall()
    as_(cur, MACHINE).execute("select * from machine_effective_configuration()")
    machine = cur.fetchall()
    assert machine == owner
    assert any(r[3] == "DATABASE_URL" and r[5] and r[4] is None for r in machine)  # masked


def test_reports_land_in_the_tokens_environment(cur: Cur) -> None:
    packages = json.dumps([{"package_manager": "npm", "package_name": "only-this"}])
    for who in (MACHINE, MACHINE_STAGING):
        assert one(as_(cur, who), "select machine_report_dependencies(%s)", (packages,)) == 1
        points = json.dumps(
            [{"metric_type": "cpu", "value": {"value": 1}, "recorded_at": "2099-01-01T00:00:00Z"}]
        )
        assert one(cur, "select machine_report_health(%s)", (points,)) == 1
        one(cur, "select id from machine_set_status('error', '2099-01-01T00:00:00Z')")
    cur.execute("reset role")
    for env in (BOB_ENV, demo.ENV_STAGING):
        names = one(
            cur,
            "select array_agg(package_name) from dependencies where environment_id = %s",
            (env,),
        )
        assert names == ["only-this"]
        status = one(cur, "select status from environments where id = %s", (env,))
        assert status == "error"
    untouched = one(cur, "select status from environments where id = %s", (demo.ENV_CI_RUNNER,))
    assert untouched != "error"


def test_the_fingerprint_follows_only_the_effective_configuration(cur: Cur) -> None:
    def fingerprint() -> str:
        value = one(as_(cur, MACHINE), "select machine_config_fingerprint()")
        cur.execute("reset role")
        return str(value)

    first = fingerprint()
    assert fingerprint() == first
    # a default bob-laptop overrides (DATABASE_URL): no change for it
    cur.execute(
        "select private.write_configuration(%s, null, 'DATABASE_URL', 'x', true, 'env_var',"
        " (select version from configurations where project_id = %s and environment_id is null"
        " and key = 'DATABASE_URL'))",
        (S, S),
    )
    assert fingerprint() == first
    # an inherited default changes it, so does a new override
    cur.execute(
        "select private.write_configuration(%s, null, 'NODE_ENV', 'test', false, 'env_var',"
        " (select version from configurations where project_id = %s and environment_id is null"
        " and key = 'NODE_ENV'))",
        (S, S),
    )
    second = fingerprint()
    assert second != first
    cur.execute(
        "select private.write_configuration(%s, %s, 'NEW_ONE', 'x', false, 'env_var', null)",
        (S, BOB_ENV),
    )
    assert fingerprint() != second


def test_listing_shows_no_hash_and_follows_the_select_policy(cur: Cur) -> None:
    as_(cur, demo.BOB).execute("select * from list_machine_tokens(%s)", (S,))
    names = [d.name for d in cur.description or []]
    assert "token_hash" not in names
    rows = cur.fetchall()
    assert {r[2] for r in rows} == {BOB_ENV}  # bob sees his environment's tokens only
    as_(cur, demo.ERIN).execute("select environment_id from list_machine_tokens(null)")
    assert {r[0] for r in cur.fetchall()} == {BOB_ENV, demo.ENV_STAGING}
    as_(cur, demo.DAVE).execute("select * from list_machine_tokens(null)")
    assert cur.fetchall() == []
