"""What a contract test needs of a kind beyond what every kind has: tags, custom fields and
owners assigned in bulk are each a kind's choice (crm.records.registry.Kind), and a kind
listed newest first (interactions) is not in name order by default."""

import pytest

from crm.records import registry

_HAS = {
    "tags": lambda kind: kind.tags is not None,
    "custom_fields": lambda kind: kind.custom_fields,
    "assign_owner": lambda kind: any(a.key == "assign_owner" for a in kind.bulk_actions),
    "name_order": lambda kind: not kind.default_order[0].startswith("-"),
}


def needs(kind: registry.Kind, *features: str) -> None:
    """Skip the test for a kind that does not have these features."""
    missing = [feature for feature in features if not _HAS[feature](kind)]
    if missing:
        pytest.skip(f"{kind.nouns} have no {', '.join(missing)}")
