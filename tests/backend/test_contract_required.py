"""Backend contract, on every transport: templates with required keys (the shape refused with
one sentence), one template read by id, and an environment made from it lacking the required
keys that have no value (machine.required.missing_keys)."""

from __future__ import annotations

import pytest

from devsync_tui.backend.errors import InvalidInput
from devsync_tui.machine.required import missing_keys
from devsync_tui.machine.targets import Target
from tests.backend.conftest import Transport
from tests.support import demo

pytestmark = pytest.mark.db

CONFIG = {"PORT": {"value": "3000", "required": True}, "SENTRY_DSN": {"required": True}}


async def test_a_template_with_required_keys_and_what_an_environment_lacks(
    transport: Transport,
) -> None:
    dave = await transport.open("dave")
    template = await dave.create_template(demo.PROJECT_STOREFRONT, "Required", CONFIG, [])
    assert await dave.template(template.id) == template
    env = await dave.create_environment(demo.PROJECT_STOREFRONT, "dave-req", template.id)
    project = next(p for p in await dave.list_projects() if p.id == demo.PROJECT_STOREFRONT)
    target = Target(project, env)
    keys = [r.key for r in await dave.effective_configuration(env.id)]
    assert "PORT" in keys
    assert await missing_keys(dave, target, keys) == (["SENTRY_DSN"], "Required")
    assert await missing_keys(dave, Target(project, None), keys) == ([], None)


async def test_required_must_be_true_or_false(transport: Transport) -> None:
    dave = await transport.open("dave")
    with pytest.raises(InvalidInput) as caught:
        await dave.create_template(
            demo.PROJECT_STOREFRONT, "Odd", {"SENTRY_DSN": {"required": "yes"}}, []
        )
    assert str(caught.value) == (
        'A template marks a key required with "required": true (or false), nothing else.'
    )
