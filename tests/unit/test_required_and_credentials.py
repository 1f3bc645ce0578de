"""core.required (which template keys an environment must have) and core.credentials (names and
values ``devsync env import`` keeps secret by their look)."""

from __future__ import annotations

import pytest

from devsync_tui.core.credentials import credential_name, looks_like_credential, url_with_password
from devsync_tui.core.required import missing_required, required_keys

TEMPLATE = {
    "NODE_ENV": "development",
    "PORT": {"value": "3000", "required": True},
    "SENTRY_DSN": {"required": True},
    "STRIPE_SECRET_KEY": {"is_secret": True, "required": True},
    "OPTIONAL": {"value": "x", "required": False},
    "ODD": {"required": "yes"},  # the database refuses this shape; never counted as required
}


def test_required_keys_are_the_entries_marked_true() -> None:
    assert required_keys(TEMPLATE) == ["PORT", "SENTRY_DSN", "STRIPE_SECRET_KEY"]
    assert required_keys(None) == []
    assert required_keys({}) == []


def test_missing_is_absent_from_the_effective_keys_in_exact_case() -> None:
    assert missing_required(TEMPLATE, ["PORT", "sentry_dsn", "NODE_ENV"]) == [
        "SENTRY_DSN",
        "STRIPE_SECRET_KEY",
    ]
    assert missing_required(TEMPLATE, {"PORT", "SENTRY_DSN", "STRIPE_SECRET_KEY"}) == []
    assert missing_required(None, []) == []


@pytest.mark.parametrize(
    ("name", "credential"),
    [
        ("GITHUB_TOKEN", True),
        ("token", True),
        ("WEBHOOK_SECRET", True),
        ("SECRET", True),
        ("MAPS_API_KEY", True),
        ("DB_PASSWORD", True),
        ("PASSWORD_FILE", True),
        ("mysql_passwd", True),
        ("KEY", False),
        ("MONKEY", False),
        ("KEYBOARD_LAYOUT", False),
        ("TOKENS_PER_MINUTE", False),
        ("NODE_ENV", False),
    ],
)
def test_credential_names(name: str, credential: bool) -> None:
    assert credential_name(name) is credential


def test_urls_with_a_password() -> None:
    assert url_with_password("postgres://bob:pw@db.internal:5432/app")
    assert url_with_password("see https://u:p@example.com/x and more")
    assert not url_with_password("postgres://bob@db.internal/app")
    assert not url_with_password("https://example.com/a:b@c")  # @ after the path: no userinfo
    assert not url_with_password("plain text")
    assert looks_like_credential("CACHE_URL", "redis://:hunter2@cache:6379")
    assert not looks_like_credential("CACHE_URL", "redis://cache:6379")
    assert looks_like_credential("API_TOKEN", None)
