"""Backend contract, on every transport: templates with required keys (the shape refused with
one sentence), one template read by id, and an environment made from it lacking the required
keys that have no value (machine.required.missing_keys)."""

from __future__ import annotations

import json
from datetime import timedelta

import psycopg
import pytest

from devsync_tui.backend.errors import InvalidInput
from devsync_tui.core import clock
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


async def test_a_machine_reads_its_own_templates_required_keys(transport: Transport) -> None:
    bob = await transport.open("bob")
    # bob-laptop was made from Node.js Starter (bob's template): make it require two keys.
    config = {"NODE_ENV": {"value": "x", "required": True}, "SENTRY_DSN": {"required": True}}
    async with await psycopg.AsyncConnection.connect(transport.db_url, autocommit=True) as conn:
        await conn.execute(
            "update env_templates set config_json = %s where id = %s",
            (json.dumps(config), demo.TEMPLATE_NODE_STARTER),
        )
    made = await bob.create_machine_token(
        demo.ENV_BOB_LAPTOP, "ci", clock.now() + timedelta(days=1)
    )
    machine = await transport.open_machine(made.token)
    assert await machine.required_keys() == (["NODE_ENV", "SENTRY_DSN"], "Node.js Starter")
    ident = machine.machine
    target = Target(ident.project, ident.environment)
    keys = [r.key for r in await machine.effective_configuration(ident.environment.id)]
    assert await missing_keys(machine, target, keys) == (["SENTRY_DSN"], "Node.js Starter")
    # staging has no template: nothing is required of its machine.
    erin = await transport.open("erin")
    other = await erin.create_machine_token(demo.ENV_STAGING, "ci", None)
    assert await (await transport.open_machine(other.token)).required_keys() == ([], None)
