"""How a person shows: display name, initials, the avatar's colour and markup."""

import re
from pathlib import Path

import pytest
from django.template import Context, Template

from crm import people
from crm.models import User

CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "app.css"


def test_it_calls_a_person_by_their_full_name() -> None:
    user = User(email="ada@example.com", first_name="Ada", last_name=" Lovelace ")
    assert user.display_name == "Ada Lovelace"
    assert str(user) == "Ada Lovelace"


def test_it_falls_back_on_the_addresss_local_part_never_the_address() -> None:
    user = User(email="ada.lovelace@example.com")
    assert user.display_name == "ada.lovelace"
    assert User(email="ada@example.com", last_name="Lovelace").display_name == "Lovelace"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ada Lovelace", "AL"),
        ("Maria de la Cruz", "MC"),
        ("ada", "AD"),
        ("ada.lovelace", "AL"),
        ("Jean-Luc", "JL"),
        ("O'Brien", "OB"),
        ("élodie durand", "ÉD"),
        ("x", "X"),
        ("", "?"),
        ("---", "?"),
    ],
)
def test_it_takes_two_initials(name: str, expected: str) -> None:
    assert people.initials(name) == expected


def test_a_users_initials_come_from_the_name_shown() -> None:
    assert User(email="grace@example.com", first_name="Grace", last_name="Hopper").initials == "GH"
    assert User(email="grace@example.com").initials == "GR"


def test_it_splits_a_name_at_the_first_space_so_it_joins_again_as_typed() -> None:
    assert people.split_name("  Maria   de la Cruz ") == ("Maria", "de la Cruz")
    assert people.split_name("Madonna") == ("Madonna", "")


def test_it_gives_a_name_the_same_colour_every_time_and_spreads_names_out() -> None:
    # A known value: CRC-32 is the same in every process, where hash() is salted.
    assert people.avatar_class("Ada Lovelace") == people.avatar_class("ada lovelace")
    assert people.avatar_class("Ada Lovelace") == "avatar--c2"
    names = [f"Person {n}" for n in range(200)]
    assert {people.avatar_class(name) for name in names} == {
        f"avatar--c{n}" for n in range(1, people.AVATAR_COLOURS + 1)
    }


def _contrast(hex_colour: str) -> float:
    """WCAG contrast ratio of white text on this colour."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def test_every_avatar_colour_meets_wcag_aa_with_white_initials() -> None:
    found = re.findall(r"\.avatar--c(\d+) \{ --avatar-bg: (#[0-9a-f]{6}); \}", CSS.read_text())
    assert {int(n) for n, _ in found} == set(range(1, people.AVATAR_COLOURS + 1))
    for n, colour in found:
        assert _contrast(colour) >= 4.5, f"avatar--c{n} {colour}"


def test_it_escapes_the_name_in_the_markup() -> None:
    html = people.person_html("<b>Eve</b>")
    assert "<b>" not in html
    assert '<span class="person__name">&lt;b&gt;Eve&lt;/b&gt;</span>' in html
    assert 'aria-hidden="true">BE</span>' in html


def test_the_template_component_writes_the_same_markup_as_python() -> None:
    user = User(email="ada@example.com", first_name="Ada", last_name="Lovelace")
    template = Template(
        '{% include "components/_avatar.html" with person=user size="sm" named=True %}'
    )
    assert template.render(Context({"user": user})).strip() == people.person_html("Ada Lovelace")
    alone = Template('{% include "components/_avatar.html" with person=user %}')
    assert alone.render(Context({"user": user})).strip() == people.avatar_html("Ada Lovelace")
    assert alone.render(Context({"user": None})).strip() == ""
