"""Sales' demo data: two pipelines and a year of deals."""

from typing import Any


def seed(sender: Any, *, org: Any, users: dict[str, Any], **kwargs: Any) -> None:
    """Add the demo organisation's pipelines and deals (once)."""
