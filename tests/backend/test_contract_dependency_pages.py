"""``Backend.dependency_pages``: a project's dependency rows a page of whole packages at a
time (issue 16, the Dependencies view of a 1M-row team), on every transport.

Whole packages means every row of one package — baseline, every environment, every version,
and every spelling the ecosystem counts as the same package (pip's ``Foo_Bar`` is
``foo-bar``) — is in one page, so the view can build each page's matrix rows alone."""

from __future__ import annotations

import re
from typing import Any

import pytest

from devsync_tui.backend.errors import PermissionDenied
from devsync_tui.core.drift import build_matrix
from devsync_tui.core.models import Dependency, DependencyInput, PackageManager
from devsync_tui.core.names import package_key
from tests.backend.conftest import Transport
from tests.support import demo

pytestmark = pytest.mark.db

_NPM, _PIP = PackageManager.NPM, PackageManager.PIP

#: Names that share a page key: one pip package in three spellings, two npm packages that
#: differ only in case, and one npm package at many versions (more rows than a small page).
_REPORT = [
    DependencyInput(_PIP, "Foo_Bar", "*", "1.0.0"),
    DependencyInput(_PIP, "foo.bar", "*", "1.1.0"),
    DependencyInput(_PIP, "foo-bar", "*", "1.2.0"),
    DependencyInput(_NPM, "JSONStream", "*", "1.3.5"),
    DependencyInput(_NPM, "jsonstream", "*", "0.0.1"),
    *(DependencyInput(_NPM, "many-versions", "*", f"1.0.{n}") for n in range(7)),
]


def _key(d: Dependency) -> tuple[object, ...]:
    return (d.id,)


@pytest.mark.parametrize("rows_per_page", [1, 3, 5, 20_000])
async def test_pages_are_whole_packages_and_hold_every_row(
    transport: Transport, rows_per_page: int
) -> None:
    bob = await transport.open("bob")
    await bob.report_dependencies(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, _REPORT)
    everything = await bob.list_dependencies(demo.PROJECT_STOREFRONT)

    pages = [page async for page in bob.dependency_pages(demo.PROJECT_STOREFRONT, rows_per_page)]

    assert all(pages)
    got = [d for page in pages for d in page]
    assert sorted(got, key=_key) == sorted(everything, key=_key)  # each row once
    # No package (as the ecosystem names it) is cut between two pages.
    seen: dict[object, int] = {}
    for number, page in enumerate(pages):
        for d in page:
            key = (d.package_manager, package_key(d.package_manager, d.package_name))
            assert seen.setdefault(key, number) == number, key
    # Small pages: a package with more rows than a page still comes whole, and alone.
    if rows_per_page == 3:
        many = [p for p in pages if any(d.package_name == "many-versions" for d in p)]
        assert len(many) == 1
        assert len([d for d in many[0] if d.package_name == "many-versions"]) >= 7
        spellings = [p for p in pages if any(d.package_manager is _PIP and "bar" in
                                             d.package_name.lower() for d in p)]  # fmt: skip
        assert len(spellings) == 1


@pytest.mark.parametrize("first_pages", [(1,), (4,), (2, 5), (9, 1, 3)])
async def test_the_first_pages_have_the_sizes_asked(
    transport: Transport, first_pages: tuple[int, ...]
) -> None:
    # What fills a screen comes first: pages of whole packages of at most the sizes asked
    # (unless one package alone has more rows), then whole pages (one per manager here).
    bob = await transport.open("bob")
    await bob.report_dependencies(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, _REPORT)
    everything = await bob.list_dependencies(demo.PROJECT_STOREFRONT)

    pages = [
        page
        async for page in bob.dependency_pages(demo.PROJECT_STOREFRONT, first_pages=first_pages)
    ]

    got = [d for page in pages for d in page]
    assert sorted(got, key=_key) == sorted(everything, key=_key)  # each row once
    seen: dict[object, int] = {}
    for number, page in enumerate(pages):
        keys = {(d.package_manager, package_key(d.package_manager, d.package_name)) for d in page}
        for key in keys:
            assert seen.setdefault(key, number) == number, key  # no package cut
        # One page key (private.package_fold) can be two npm packages (JSONStream, jsonstream).
        folds = {re.sub(r"[-_.]+", "-", d.package_name).lower() for d in page}
        if number < len(first_pages):
            assert len(page) <= first_pages[number] or len(folds) == 1, (number, len(page))
    assert len(pages) <= len(first_pages) + 1  # the rest in one whole page, every manager
    with pytest.raises(ValueError, match="at least 1"):
        async for _ in bob.dependency_pages(demo.PROJECT_STOREFRONT, first_pages=(4, 0)):
            pass


async def test_a_project_that_fits_a_page_is_one_request(transport: Transport) -> None:
    # One keyset across the package managers (migration 20261207060000): no request per
    # manager, so no round trip that answers nothing for the managers a project does not use.
    bob = await transport.open("bob")
    everything = await bob.list_dependencies(demo.PROJECT_STOREFRONT)
    assert len({d.package_manager for d in everything}) >= 2
    calls: list[object] = []
    real = bob._dependency_page

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return await real(*args, **kwargs)

    bob._dependency_page = counted  # type: ignore[method-assign]
    pages = [page async for page in bob.dependency_pages(demo.PROJECT_STOREFRONT)]
    assert len(pages) == 1
    assert sorted(d.id for d in pages[0]) == sorted(d.id for d in everything)
    assert len(calls) == 1


async def test_pages_show_only_what_the_reader_may_see(transport: Transport) -> None:
    mallory = await transport.open("mallory")
    assert [page async for page in mallory.dependency_pages(demo.PROJECT_STOREFRONT)] == []
    bob = await transport.open("bob")
    with pytest.raises(ValueError, match="at least 1"):
        async for _ in bob.dependency_pages(demo.PROJECT_STOREFRONT, 0):
            pass


async def test_a_machine_may_not_page_the_whole_project(transport: Transport) -> None:
    bob = await transport.open("bob")
    token = await bob.create_machine_token(demo.ENV_BOB_LAPTOP, "laptop", None)
    machine = await transport.open_machine(token.token)
    with pytest.raises(PermissionDenied):
        async for _ in machine.dependency_pages(demo.PROJECT_STOREFRONT):
            pass


async def test_the_summary_counts_what_the_pages_hold(transport: Transport) -> None:
    # dependency_summary (the Dependencies view's counts while pages still arrive) is the
    # matrix of every page's rows counted, on every transport; the reader's rules apply.
    bob = await transport.open("bob")
    await bob.report_dependencies(demo.PROJECT_STOREFRONT, demo.ENV_BOB_LAPTOP, _REPORT)
    envs = [e.id for e in await bob.list_environments(demo.PROJECT_STOREFRONT)]
    rows = [d async for page in bob.dependency_pages(demo.PROJECT_STOREFRONT) for d in page]
    summary = await bob.dependency_summary(demo.PROJECT_STOREFRONT, envs)
    assert summary is not None
    assert summary == build_matrix(rows, envs).summary()
    # Foo_Bar, foo.bar and foo-bar are one pip package; JSONStream and jsonstream two npm ones.
    names = {(d.package_manager, package_key(d.package_manager, d.package_name)) for d in rows}
    assert summary.packages == len(names)
    # Only bob's laptop: what the other environments alone run is not counted.
    only_bob = await bob.dependency_summary(demo.PROJECT_STOREFRONT, [demo.ENV_BOB_LAPTOP])
    assert only_bob == build_matrix(rows, [demo.ENV_BOB_LAPTOP]).summary()
    mallory = await transport.open("mallory")
    assert await mallory.dependency_summary(demo.PROJECT_STOREFRONT, envs) is None
    token = await bob.create_machine_token(demo.ENV_BOB_LAPTOP, "laptop", None)
    machine = await transport.open_machine(token.token)
    with pytest.raises(PermissionDenied):
        await machine.dependency_summary(demo.PROJECT_STOREFRONT, envs)
