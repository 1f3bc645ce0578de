"""rows.py maps JSON-ish rows (PostgREST, realtime) and native rows (psycopg) to the same models."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from devsync_tui.backend import rows
from devsync_tui.core.models import (
    ConfigType,
    Configuration,
    DependencyStatus,
    EnvStatus,
    MetricType,
    PackageManager,
    Role,
)

U1 = UUID("00000000-0000-4000-a000-000000000001")
U2 = UUID("00000000-0000-4000-c000-000000000001")
U3 = UUID("00000000-0000-4000-d000-000000000001")
WHEN = datetime(2026, 11, 25, 14, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25T14:00:00.123456+00:00", WHEN),
        ("2026-11-25T14:00:00.123456Z", WHEN),
        ("2026-11-25 14:00:00.123456+00", WHEN),
        ("2026-11-25T16:00:00.123456+02:00", WHEN),
        ("2026-11-25T14:00:00.12+00:00", WHEN.replace(microsecond=120000)),
    ],
)
def test_timestamps_from_text(text: str, expected: datetime) -> None:
    assert rows.as_datetime(text) == expected


def test_native_values_pass_through() -> None:
    assert rows.as_uuid(U1) is U1
    assert rows.as_datetime(WHEN) is WHEN
    assert rows.opt_uuid(None) is None
    with pytest.raises(ValueError, match="uuid"):
        rows.as_uuid(42)


def test_configuration_same_model_from_both_shapes() -> None:
    native = {
        "id": U1,
        "project_id": U2,
        "environment_id": None,
        "key": "LOG_LEVEL",
        "value": "info",
        "is_secret": False,
        "type": "env_var",
        "version": 3,
        "updated_at": WHEN,
    }
    jsonish = {
        **native,
        "id": str(U1),
        "project_id": str(U2),
        "updated_at": "2026-11-25T14:00:00.123456+00:00",
    }
    assert rows.configuration_from_row(native) == rows.configuration_from_row(jsonish)
    model = rows.configuration_from_row(jsonish)
    assert (model.type, model.version, model.value) == (ConfigType.ENV_VAR, 3, "info")


def test_configuration_from_values_is_configuration_from_row() -> None:
    """The save's tuple path reads ``CONFIGURATION_COLUMNS`` in order into the same model."""
    columns = [c.strip() for c in rows.CONFIGURATION_COLUMNS.split(",")]
    assert columns == [f.name for f in dataclasses.fields(Configuration)]
    for row in (
        {
            "id": U1,
            "project_id": U2,
            "environment_id": None,
            "key": "LOG_LEVEL",
            "value": "info",
            "is_secret": False,
            "type": "file",
            "version": 3,
            "updated_at": WHEN,
        },
        {
            "id": str(U1),
            "project_id": str(U2),
            "environment_id": str(U3),
            "key": "TOKEN",
            "value": "••••••••",
            "is_secret": True,
            "type": "env_var",
            "version": 1,
            "updated_at": None,
        },
    ):
        values = tuple(row[c] for c in columns)
        assert rows.configuration_from_values(values) == rows.configuration_from_row(row)
    assert rows.configuration_from_values(values).value is None


def test_secret_value_is_always_dropped() -> None:
    row = {
        "id": str(U1),
        "project_id": str(U2),
        "environment_id": str(U3),
        "key": "TOKEN",
        "value": "••••••••",  # a placeholder must never pass for a value
        "is_secret": True,
        "type": "env_var",
        "version": 1,
    }
    assert rows.configuration_from_row(row).value is None
    effective = {**row, "configuration_id": row["id"], "source": "override"}
    assert rows.effective_from_row(effective).value is None
    history = {**row, "id": 7, "configuration_id": row["id"], "op": "insert", "changed_at": WHEN}
    assert rows.history_from_row(history).value is None


def test_member_with_embedded_profile() -> None:
    flat = {"team_id": str(U2), "user_id": str(U1), "role": "admin", "username": "alice"}
    embedded = {
        "team_id": str(U2),
        "user_id": str(U1),
        "role": "admin",
        "profiles": {"username": "alice", "full_name": "Alice Anders"},
    }
    assert rows.member_from_row(flat).username == "alice"
    member = rows.member_from_row(embedded)
    assert (member.role, member.username, member.full_name) == (
        Role.ADMIN,
        "alice",
        "Alice Anders",
    )


def test_json_columns_from_text_or_native() -> None:
    template = {
        "id": str(U1),
        "project_id": str(U2),
        "name": "t",
        "config_json": '{"A": "1"}',
        "dependencies_json": [],
        "is_public": None,
    }
    model = rows.template_from_row(template)
    assert (model.config_json, model.dependencies_json, model.is_public) == ({"A": "1"}, [], False)
    health = {
        "id": str(U1),
        "environment_id": str(U3),
        "metric_type": "cpu",
        "value": {"percent": 5},
        "recorded_at": "2026-11-25T14:00:00Z",
    }
    point = rows.health_from_row(health)
    assert (point.metric_type, point.value) == (MetricType.CPU, {"percent": 5})
    assert point.recorded_at.utcoffset() == timedelta(0)


def test_other_tables() -> None:
    env = rows.environment_from_row(
        {"id": str(U3), "project_id": str(U2), "user_id": str(U1), "name": "x", "status": None}
    )
    assert env.status is EnvStatus.OFFLINE
    dep = rows.dependency_from_row(
        {
            "id": str(U1),
            "project_id": str(U2),
            "environment_id": None,
            "package_manager": "cargo",
            "package_name": "serde",
            "version_constraint": "1",
            "resolved_version": "1.0.200",
            "status": "vulnerable",
        }
    )
    assert (dep.package_manager, dep.status) == (PackageManager.CARGO, DependencyStatus.VULNERABLE)
    audit = rows.audit_from_row(
        {
            "id": "12",
            "team_id": str(U2),
            "actor_id": str(U1),
            "profiles": {"username": "alice"},
            "action": "secret.reveal",
            "target_type": "configuration",
            "target_id": str(U3),
            "details": None,
            "created_at": "2026-11-25T15:00:00+01:00",
        }
    )
    assert (audit.id, audit.actor_username, audit.details) == (12, "alice", {})
    assert audit.created_at == datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    team = rows.row_to_model(
        "teams", {"id": str(U2), "name": "Acme", "slug": "acme", "owner_id": str(U1)}
    )
    assert team.owner_id == U1
    with pytest.raises(ValueError, match="no model"):
        rows.row_to_model("configuration_secrets", {})


def test_bad_enum_values_raise() -> None:
    with pytest.raises(ValueError, match="source"):
        rows.effective_from_row(
            {
                "configuration_id": str(U1),
                "project_id": str(U2),
                "key": "K",
                "is_secret": False,
                "type": "env_var",
                "version": 1,
                "source": "elsewhere",
            }
        )
