"""axe-core in the browser tests: which accessibility rules a page breaks, and how badly.

axe.min.js is vendored in tests/e2e/vendor/ by `make vendor`; the product never serves it.
It goes in through Playwright's evaluate, which DevTools runs outside the page's
Content-Security-Policy: a <script> tag added to the page (`add_script_tag`) is inline
code, which the policy rightly refuses, and the policy stays as production sends it.
"""

from functools import cache
from typing import Any

from playwright.sync_api import Page

from tests.conftest import ROOT

# What a page must never have; "moderate" and "minor" findings are left to review.
BLOCKING = ("serious", "critical")


@cache
def _source() -> str:
    return (ROOT / "tests/e2e/vendor/axe.min.js").read_text()


# Runs axe, then drops the nodes that `known` (rule id → CSS selector) names.
_RUN = """known => axe.run(document, {resultTypes: ['violations']}).then(result =>
  result.violations.map(v => ({...v, nodes: v.nodes.filter(node =>
    !(known[v.id] && document.querySelector(node.target[0])?.matches(known[v.id])))}))
  .filter(v => v.nodes.length))"""


def violations(page: Page, known: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every rule the page as shown breaks, of any impact, but on the elements that `known`
    maps the rule to (a CSS selector): findings already reported to whoever owns them."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_source())
    found: list[dict[str, Any]] = page.evaluate(_RUN, known or {})
    return found


def blocking(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [violation for violation in found if violation["impact"] in BLOCKING]


def describe(found: list[dict[str, Any]]) -> str:
    """One block per violation: its rule, impact, help and where, for a failure message."""
    lines = []
    for violation in found:
        lines.append(f"  {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}")
    return "\n".join(lines)


def assert_no_blocking_violations(page: Page) -> None:
    """Fail with every serious or critical violation on the page, and where it is."""
    found = blocking(violations(page))
    assert not found, f"axe finds on {page.url}:\n{describe(found)}"
