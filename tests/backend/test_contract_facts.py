"""Backend contract: package facts (advisories and freshness) on every transport — reported by
a person's scan and by a machine, read back by any member of the project, never by others."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from devsync_tui.backend.errors import NotFound, PermissionDenied
from devsync_tui.core import clock
from devsync_tui.core.models import Advisory, AdvisoryCheck, Freshness, PackageManager
from tests.backend.conftest import Transport
from tests.support import demo

pytestmark = pytest.mark.db

NPM = PackageManager.NPM
GHSA = Advisory(
    "GHSA-35jh-r3h4-6jhm", ("CVE-2021-23337",), "HIGH", "Command Injection in lodash", "4.17.21"
)


async def test_facts_are_reported_and_read_by_members(transport: Transport) -> None:
    # newer than the demo's own check of lodash 4.17.20 (seed.sql), which it replaces
    checked = clock.now().replace(microsecond=0)
    bob = await transport.open("bob")
    written = await bob.report_package_facts(
        [AdvisoryCheck(NPM, "lodash", "4.17.20", checked, (GHSA,))],
        [Freshness(NPM, "lodash", "^4.17.21", "4.17.21", "4.17.21", checked)],
    )
    assert written == 2
    carol = await transport.open("carol")  # a viewer reads them
    facts = await carol.package_facts(demo.PROJECT_STOREFRONT)
    assert facts.advisories_of(NPM, "lodash", "4.17.20") == [GHSA]
    assert facts.advisories_of(NPM, "lodash", "4.17.21") == []
    fresh = facts.freshness_of(NPM, "lodash", "^4.17.21")
    assert fresh is not None
    assert (fresh.latest, fresh.wanted, fresh.checked_at) == ("4.17.21", "4.17.21", checked)
    mallory = await transport.open("mallory")
    assert (await mallory.package_facts(demo.PROJECT_STOREFRONT)).advisories == ()


async def test_a_machine_reports_facts_of_its_versions_only(transport: Transport) -> None:
    checked = clock.now().replace(microsecond=0)  # newer than the seed's check
    bob = await transport.open("bob")
    made = await bob.create_machine_token(
        demo.ENV_BOB_LAPTOP, "ci box", clock.now() + timedelta(days=1)
    )
    machine = await transport.open_machine(made.token)
    ours = AdvisoryCheck(NPM, "lodash", "4.17.20", checked, (GHSA,))
    theirs = AdvisoryCheck(NPM, "typescript", "5.4.2", checked, ())  # ci-runner's only
    assert await machine.report_package_facts([ours, theirs], []) == 1
    with pytest.raises(PermissionDenied):
        await machine.package_facts(demo.PROJECT_STOREFRONT)
    facts = await bob.package_facts(demo.PROJECT_STOREFRONT)
    assert facts.advisories_of(NPM, "lodash", "4.17.20") == [GHSA]  # the seed's list replaced
    assert facts.advisories_of(NPM, "typescript", "5.4.2") == []


async def test_accepted_risks_round_trip(transport: Transport) -> None:
    dave = await transport.open("dave")  # a member
    until = date(2999, 3, 1)
    risk = await dave.ignore_advisory(demo.PROJECT_STOREFRONT, GHSA.id, until, "not reachable")
    assert (risk.advisory_id, risk.until, risk.reason) == (GHSA.id, until, "not reachable")
    carol = await transport.open("carol")  # a viewer reads, never writes
    assert [r.advisory_id for r in await carol.accepted_risks(demo.PROJECT_STOREFRONT)] == [GHSA.id]
    with pytest.raises(PermissionDenied):
        await carol.ignore_advisory(demo.PROJECT_STOREFRONT, "CVE-2021-1", until, "no")
    with pytest.raises(PermissionDenied):
        await carol.unignore_advisory(demo.PROJECT_STOREFRONT, GHSA.id)
    await dave.unignore_advisory(demo.PROJECT_STOREFRONT, GHSA.id)
    assert await dave.accepted_risks(demo.PROJECT_STOREFRONT) == []
    with pytest.raises(NotFound):
        await dave.unignore_advisory(demo.PROJECT_STOREFRONT, GHSA.id)
