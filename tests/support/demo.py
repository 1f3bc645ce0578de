"""Constants of the demo workspace that ``supabase/seed.sql`` creates (see docs/DATABASE.md).

Tests and the local mode refer to the demo by these ids; the seed uses exactly the same values.
Secret values of the demo are obviously fake (``...-not-real``) and live only in seed.sql.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

PASSWORD = "devsync-demo"


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A demo user: auth.users + profiles row."""

    id: UUID
    username: str
    email: str
    full_name: str
    #: role in team Acme; None = not a member (mallory, the outsider)
    role: str | None


ALICE = DemoUser(
    UUID("00000000-0000-4000-a000-000000000001"),
    "alice",
    "alice@example.com",
    "Alice Anders",
    "admin",
)
BOB = DemoUser(
    UUID("00000000-0000-4000-a000-000000000002"),
    "bob",
    "bob@example.com",
    "Bob Brandt",
    "member",
)
CAROL = DemoUser(
    UUID("00000000-0000-4000-a000-000000000003"),
    "carol",
    "carol@example.com",
    "Carol Chen",
    "viewer",
)
DAVE = DemoUser(
    UUID("00000000-0000-4000-a000-000000000004"),
    "dave",
    "dave@example.com",
    "Dave Diaz",
    "member",
)
ERIN = DemoUser(
    UUID("00000000-0000-4000-a000-000000000005"),
    "erin",
    "erin@example.com",
    "Erin Eze",
    "admin",
)
MALLORY = DemoUser(
    UUID("00000000-0000-4000-a000-000000000006"),
    "mallory",
    "mallory@example.com",
    "Mallory Moss",
    None,
)
USERS = (ALICE, BOB, CAROL, DAVE, ERIN, MALLORY)
USERS_BY_NAME = {u.username: u for u in USERS}

TEAM_ACME = UUID("00000000-0000-4000-b000-000000000001")
TEAM_ACME_NAME = "Acme"
TEAM_ACME_SLUG = "acme"
TEAM_OWNER = ALICE

PROJECT_STOREFRONT = UUID("00000000-0000-4000-c000-000000000001")
PROJECT_BILLING = UUID("00000000-0000-4000-c000-000000000002")
PROJECT_NAMES = {PROJECT_STOREFRONT: "storefront", PROJECT_BILLING: "billing-api"}

ENV_BOB_LAPTOP = UUID("00000000-0000-4000-d000-000000000001")  # storefront, owner bob
ENV_STAGING = UUID("00000000-0000-4000-d000-000000000002")  # storefront, owner erin
ENV_CI_RUNNER = UUID("00000000-0000-4000-d000-000000000003")  # storefront, owner alice
ENV_ALICE_MBP = UUID("00000000-0000-4000-d000-000000000004")  # billing-api, owner alice


@dataclass(frozen=True, slots=True)
class DemoEnv:
    """A demo environment."""

    id: UUID
    name: str
    project_id: UUID
    owner: DemoUser


ENVIRONMENTS = (
    DemoEnv(ENV_BOB_LAPTOP, "bob-laptop", PROJECT_STOREFRONT, BOB),
    DemoEnv(ENV_STAGING, "staging", PROJECT_STOREFRONT, ERIN),
    DemoEnv(ENV_CI_RUNNER, "ci-runner", PROJECT_STOREFRONT, ALICE),
    DemoEnv(ENV_ALICE_MBP, "alice-mbp", PROJECT_BILLING, ALICE),
)
ENVIRONMENTS_BY_NAME = {e.name: e for e in ENVIRONMENTS}

TEMPLATE_NODE_STARTER = UUID("00000000-0000-4000-e000-000000000001")  # storefront
TEMPLATE_STOREFRONT_CI = UUID("00000000-0000-4000-e000-000000000002")  # storefront
TEMPLATE_PYTHON_SERVICE = UUID("00000000-0000-4000-e000-000000000003")  # billing-api
TEMPLATE_PYTHON_DATA_SCIENCE = UUID("00000000-0000-4000-e000-000000000004")  # billing, public

#: Keys of the demo configurations (scope -> {key: is_secret}); values live in seed.sql only.
STOREFRONT_DEFAULT_KEYS = {
    "API_BASE_URL": False,
    "LOG_LEVEL": False,
    "FEATURE_FLAGS": False,
    "NODE_ENV": False,
    "DATABASE_URL": True,
    "STRIPE_SECRET_KEY": True,
    ".npmrc": False,
    "config/app.json": False,
}
BOB_LAPTOP_KEYS = {
    "API_BASE_URL": False,
    "LOG_LEVEL": False,
    "BOB_DEBUG_PORT": False,
    "DATABASE_URL": True,
}
STAGING_KEYS = {"API_BASE_URL": False, "STRIPE_SECRET_KEY": True, "SENTRY_DSN": True}
CI_RUNNER_KEYS = {"CI": False, "LOG_LEVEL": False}
BILLING_DEFAULT_KEYS = {
    "PAYMENT_PROVIDER": False,
    "DJANGO_SETTINGS_MODULE": False,
    "DATABASE_URL": True,
    "WEBHOOK_SIGNING_SECRET": True,
    "settings.toml": False,
}
ALICE_MBP_KEYS = {"DEBUG": False}

#: Version of storefront's project default LOG_LEVEL after the seed (it was edited twice).
STOREFRONT_LOG_LEVEL_VERSION = 3
#: Version of storefront's project default STRIPE_SECRET_KEY after the seed (rotated once).
STOREFRONT_STRIPE_VERSION = 2

#: Health points: one per metric every 5 minutes over the last 24 hours, per environment.
HEALTH_METRICS = ("cpu", "memory", "disk", "ping")
HEALTH_INTERVAL_MINUTES = 5
