"""``DEVSYNC_TOKEN`` set but empty: a CI job whose secret did not reach it. Taken as unset it
would act with the rights of whoever is signed in on the machine; it is refused instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.devsync_cli import DevsyncCLI, make_devsync


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def test_an_empty_token_variable_stops_a_machine_command(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVSYNC_TOKEN", "")
    result = devsync("env", "export", "--project", "storefront", "--env", "staging")
    assert result.code == 2
    assert "DEVSYNC_TOKEN is set but empty" in result.err
    assert result.out == ""  # nothing exported as the signed-in user
    assert "Traceback" not in result.err


def test_an_empty_token_variable_leaves_a_personal_command_alone(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command that acts as a person anyway (env list) runs as before."""
    monkeypatch.setenv("DEVSYNC_TOKEN", "")
    result = devsync("env", "list", "--user", "bob", "--project", "storefront", "--env", "staging")
    assert result.code == 0, result.err
