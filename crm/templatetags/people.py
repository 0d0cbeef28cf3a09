"""{% avatar %}: a member's initials avatar, alone or beside their name, in the markup that
list cells rendered in Python write too (crm.people)."""

from django import template
from django.utils.safestring import SafeString

from crm import people
from crm.models import User

register = template.Library()


@register.simple_tag
def avatar(person: User | None, size: str = "", named: bool = False) -> SafeString | str:
    """{% avatar user %}, {% avatar contact.owner size="sm" named=True %}; nothing for no one."""
    if not person:  # no owner, or a variable the template does not have
        return ""
    name = person.display_name
    return people.person_html(name, size=size) if named else people.avatar_html(name, size=size)
