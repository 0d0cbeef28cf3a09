"""What the tests run over every kind share: the member below manager who owns records of
the kind (a rep; for tickets, which a rep reads but is never given, an agent)."""

import pytest

from crm.models import Role, User
from crm.permissions import ACTIONS
from crm.records import registry


@pytest.fixture
def worker_role(kind: registry.Kind) -> str:
    return Role.REP if Role.REP in ACTIONS[kind.action("edit")] else Role.AGENT


@pytest.fixture
def worker(worker_role: str, rita: User, sam: User) -> User:
    return rita if worker_role == Role.REP else sam
