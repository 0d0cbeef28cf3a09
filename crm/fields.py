"""Form fields as HTML, written in Python from each widget's own context.

Django renders every widget, and every option of a select, through a template: a list
page's filters took some 110 templates and a quarter of the page's CPU. The markup is the
same as Django's templates give (and components/_field.html around it), built from
`widget.get_context()`, so the attributes Django computes (ids, required, aria-invalid,
aria-describedby, selected) are kept. Widgets this does not know (radio buttons, several
checkboxes, file inputs) are rendered by Django as before.
"""

from typing import Any

from django.forms import BoundField
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django_filters.widgets import RangeWidget

_INPUT = {
    "django/forms/widgets/" + name
    for name in ("input.html", "text.html", "number.html", "email.html", "url.html",
                 "date.html", "datetime.html", "time.html", "search.html", "tel.html",
                 "password.html", "hidden.html", "checkbox.html", "color.html")
}  # fmt: skip
_SELECT = "django/forms/widgets/select.html"
_MULTI = "django/forms/widgets/multiwidget.html"
# django-filter's range widgets: the two inputs with a dash between them.
_RANGE = "django_filters/widgets/multiwidget.html"
_TEXTAREA = "django/forms/widgets/textarea.html"


def _attrs(attrs: dict[str, Any]) -> str:
    return "".join(
        f" {name}" if value is True else f' {name}="{escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _widget(context: dict[str, Any]) -> str | None:
    """One widget from its context, or None when this module does not know its template."""
    template = context["template_name"]
    if template in _INPUT:
        value = context["value"]
        shown = f' value="{escape(value)}"' if value is not None else ""
        return (
            f'<input type="{context["type"]}" name="{escape(context["name"])}"{shown}'
            f"{_attrs(context['attrs'])}>"
        )
    if template == _SELECT:
        parts = [f'<select name="{escape(context["name"])}"{_attrs(context["attrs"])}>']
        for group, options, _ in context["optgroups"]:
            if group:
                parts.append(f'\n  <optgroup label="{escape(group)}">')
            for option in options:
                parts.append(
                    f'\n  <option value="{escape(option["value"])}"{_attrs(option["attrs"])}>'
                    f"{conditional_escape(option['label'])}</option>"
                )
            if group:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return "".join(parts)
    if template in (_MULTI, _RANGE):
        found = [_widget(sub) for sub in context["subwidgets"]]
        if None in found:
            return None
        return ("\n-" if template == _RANGE else "").join(found)  # type: ignore[arg-type]
    if template == _TEXTAREA:
        value = context["value"]
        return (
            f'<textarea name="{escape(context["name"])}"{_attrs(context["attrs"])}>\n'
            f"{conditional_escape(value) if value else ''}</textarea>"
        )
    return None


def widget_html(field: BoundField) -> SafeString:
    """The field's input, as `{{ field }}` renders it."""
    widget = field.field.widget
    if field.field.show_hidden_initial:
        return SafeString(str(field))  # nosec B703  # rendered by Django's own templates
    if field.field.localize:
        widget.is_localized = True
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    found = _widget(context)
    # Bandit B308, B703: str(field) is Django's own rendering; _widget escapes every value.
    return SafeString(str(field)) if found is None else mark_safe(found)  # noqa: S308  # nosec B308, B703


def field_html(field: BoundField) -> SafeString:
    """A field laid out: label and input (a checkbox before its label; a group of boxes,
    buttons or a range's two inputs as a fieldset under its legend), then its errors and
    help, tied to the input by aria-describedby."""
    kind = field.widget_type
    check = kind == "checkbox"  # one box, beside its label
    # Several boxes, buttons or inputs (a range's two ends): a group, named by its legend
    # above them, since one <label> can name only one of them.
    group = field.use_fieldset
    range_ = isinstance(field.field.widget, RangeWidget)
    if range_:
        _name_range_ends(field.field.widget)
    classes = (
        "field field--check" if check
        else "field field--range" if range_
        else "field field--choices" if group
        else "field"
    )  # fmt: skip
    if field.errors:
        classes += " field--invalid"
    label = (
        f'<legend class="field__label">{conditional_escape(field.label)}</legend>'
        if group
        else f'<label class="field__label" for="{escape(field.id_for_label)}">'
        f"{conditional_escape(field.label)}</label>"
    )
    widget: str = widget_html(field)
    if range_:  # the two ends side by side, the dash between them
        widget = f'<div class="range">{widget}</div>'
    tag = "fieldset" if group else "div"
    parts = [f'<{tag} class="{classes}">', f"{widget}{label}" if check else f"{label}{widget}"]
    for number, error in enumerate(field.errors, start=1):
        parts.append(
            f'<p class="field__error" id="{escape(field.auto_id)}_error_{number}">'
            f"{conditional_escape(str(error))}</p>"
        )
    if field.help_text:
        parts.append(
            f'<div class="field__help" id="{escape(field.auto_id)}_helptext">'
            f"{conditional_escape(field.help_text)}</div>"
        )
    parts.append(f"</{tag}>")
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308, B703  # every value above escaped


def _name_range_ends(widget: RangeWidget) -> None:
    """Name a range's two inputs "From" and "To": the legend names only the pair."""
    for end, name in zip(widget.widgets, ("From", "To"), strict=True):
        end.attrs.setdefault("aria-label", name)
