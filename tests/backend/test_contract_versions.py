"""Backend contract: every version of a package is its own row on every transport — the
report keeps them all with their kinds, the list returns them in the contract's order (a
package's baseline first, then each environment, versions within a scope), pages cut through
versions without losing or repeating one, and a machine reads back what it reported."""

from __future__ import annotations

from datetime import timedelta

import pytest

from devsync_tui.core import clock
from devsync_tui.core.models import (
    Dependency,
    DependencyInput,
    DependencyStatus,
    PackageKind,
    PackageManager,
)
from tests.backend.conftest import Transport
from tests.support import demo

pytestmark = pytest.mark.db

NPM = PackageManager.NPM
REPORT = [
    DependencyInput(NPM, "lodash", "^4.17.21", "4.17.21"),
    DependencyInput(NPM, "lodash", None, "4.17.11", DependencyStatus.VULNERABLE),
    DependencyInput(NPM, "lodash", None, "3.10.1"),
    DependencyInput(NPM, "storefront-ui", None, "0.1.0", kind=PackageKind.WORKSPACE),
    DependencyInput(NPM, "local-lib", "file:../lib", None, kind=PackageKind.PATH),
]


def _versions(deps: list[Dependency]) -> list[tuple[str, str | None, str]]:
    return [(d.package_name, d.resolved_version, d.kind.value) for d in deps]


async def test_every_version_is_stored_and_listed_in_order(transport: Transport) -> None:
    bob = await transport.open("bob")
    mine = [demo.ENV_BOB_LAPTOP]
    stored = await bob.report_dependencies(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, REPORT)
    assert stored == 5
    found = await bob.list_dependencies(demo.PROJECT_STOREFRONT, environment_ids=mine)
    assert _versions(found) == [
        ("local-lib", None, "path"),
        ("lodash", "3.10.1", "registry"),
        ("lodash", "4.17.11", "registry"),
        ("lodash", "4.17.21", "registry"),
        ("storefront-ui", "0.1.0", "workspace"),
    ]
    assert next(d for d in found if d.resolved_version == "4.17.11").status.value == "vulnerable"
    # pages of two cut through lodash's versions without a gap or a repeat
    pages = [
        await bob.list_dependencies(
            demo.PROJECT_STOREFRONT, environment_ids=mine, limit=2, offset=offset
        )
        for offset in (0, 2, 4)
    ]
    assert [d for page in pages for d in page] == found
    # the baseline comes first within a package, then the environment's versions
    both = await bob.list_dependencies(
        demo.PROJECT_STOREFRONT, environment_ids=[None, demo.ENV_BOB_LAPTOP], name_filter="lodash"
    )
    assert [(d.environment_id, d.resolved_version) for d in both] == [
        (None, "4.17.21"),
        (demo.ENV_BOB_LAPTOP, "3.10.1"),
        (demo.ENV_BOB_LAPTOP, "4.17.11"),
        (demo.ENV_BOB_LAPTOP, "4.17.21"),
    ]


async def test_a_machine_reports_and_reads_back_every_version(transport: Transport) -> None:
    bob = await transport.open("bob")
    made = await bob.create_machine_token(
        demo.ENV_BOB_LAPTOP, "ci box", clock.now() + timedelta(days=1)
    )
    machine = await transport.open_machine(made.token)
    assert (
        await machine.report_dependencies(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, REPORT) == 5
    )
    back = await machine.list_dependencies(
        demo.PROJECT_STOREFRONT, environment_ids=[demo.ENV_BOB_LAPTOP]
    )
    assert sorted(_versions(back), key=str) == sorted(
        [(p.package_name, p.resolved_version, p.kind.value) for p in REPORT], key=str
    )
