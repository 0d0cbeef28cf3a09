"""What `make vendor` copied from npm (static/vendor/, tests/e2e/vendor/) is whole and used
as the templates and the stylesheet expect: no network, only the committed files."""

import re

from django.template import Context, Template

from scripts.vendor import ICONS, PACKAGES
from tests.conftest import ROOT

SPRITE = ROOT / "static/vendor/lucide/sprite.svg"


def test_it_has_every_file_it_vendors_with_its_licence() -> None:
    for package in PACKAGES:
        targets = set(package.files.values())
        assert any(target.endswith("LICENSE") for target in targets), package.name
        for target in targets:
            assert (ROOT / target).stat().st_size > 0, target


def test_it_builds_the_sprite_from_exactly_the_listed_icons() -> None:
    ids = re.findall(r'<symbol id="([a-z0-9-]+)" viewBox="0 0 24 24">', SPRITE.read_text())
    assert ids == sorted(ICONS)


def test_it_has_every_icon_a_template_names() -> None:
    used = {
        name
        for path in (ROOT / "templates").rglob("*.html")
        for name in re.findall(r'\{% icon "([^"]+)"', path.read_text())
    }
    assert used <= set(ICONS), used - set(ICONS)


def test_it_renders_an_icon_as_a_use_of_the_sprite_without_inline_style() -> None:
    html = Template('{% load crm_tags %}{% icon "search" %}').render(Context())
    assert '<svg class="icon" aria-hidden="true" focusable="false">' in html
    assert '<use href="/static/vendor/lucide/sprite.svg#search"></use>' in html
    assert "style=" not in html


def test_it_loads_each_vendored_weight_of_inter_first() -> None:
    css = (ROOT / "static/css/app.css").read_text()
    for url in re.findall(r'url\("\.\./(vendor/inter/[^"]+)"\)', css):
        assert (ROOT / "static" / url).exists(), url
    assert len(re.findall(r"font-display: swap", css)) == 4
    assert re.search(r'--font-sans: "Inter", system-ui', css)
