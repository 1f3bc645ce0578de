"""Required keys: what an environment template asks every environment made from it to have.

A template marks a key required in its ``config_json`` (docs/DATABASE.md, "Required keys"):

- ``{"DATABASE_URL": {"required": true}}`` — no value: the environment must get the key from
  the project defaults or an override of its own (creating the environment copies nothing);
- ``{"PORT": {"value": "3000", "required": true}}`` — copied as usual, and required.

A required key is *missing* when the environment's effective configuration has no key of that
name (exact case). A key present with an empty value is present: that is a value someone set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def required_keys(template_config: Mapping[str, Any] | None) -> list[str]:
    """The keys ``template_config`` (a template's config_json) marks required, sorted."""
    if not template_config:
        return []
    return sorted(
        key
        for key, entry in template_config.items()
        if isinstance(entry, Mapping) and entry.get("required") is True
    )


def missing_required(
    template_config: Mapping[str, Any] | None, effective_keys: Iterable[str]
) -> list[str]:
    """The required keys of ``template_config`` that ``effective_keys`` (the keys of an
    environment's effective configuration) lacks, sorted. No template: nothing is missing."""
    present = set(effective_keys)
    return [key for key in required_keys(template_config) if key not in present]
