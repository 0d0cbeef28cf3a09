"""The merge page's form: which record survives, and whose value each field keeps."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms

from crm.records import custom_fields, merging
from crm.records.models import CustomField
from crm.records.registry import Kind

Record = Any


@dataclass
class Row:
    """One line of the comparison: a field, its value on each record, and the choice."""

    name: str
    label: str
    shown: list[str]
    field: forms.BoundField | None  # None when every record has the same value


def _label(kind: Kind, name: str, definitions: dict[str, CustomField]) -> str:
    if name.startswith("custom_"):
        found = definitions.get(name.removeprefix("custom_"))
        return found.label if found else name.removeprefix("custom_")
    label = merging.field_label(kind, name)
    return label[:1].upper() + label[1:]


def shown_value(record: Record, name: str, definitions: dict[str, CustomField]) -> str:
    """A field's value as the comparison shows it; "—" for none."""
    value = merging.value_of(record, name)
    if value in (None, "", [], {}):
        return "—"
    if name.startswith("custom_"):
        found = definitions.get(name.removeprefix("custom_"))
        return custom_fields.display(found, value) if found else str(value)
    if name == "owner":
        return record.owner.display_name
    if record._meta.get_field(name).is_relation:
        return str(getattr(record, name))
    display = getattr(record, f"get_{name}_display", None)
    return str(display()) if display else str(value)


class MergeForm(forms.Form):
    """A radio per record for the survivor, and one per record for every field that
    differs between them; fields that agree need no choice."""

    def __init__(self, *args: Any, kind: Kind, records: Sequence[Record], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind, self.records = kind, list(records)
        self.ids = [record.pk for record in self.records]
        self.definitions = (
            {f.key: f for f in custom_fields.definitions(kind.key)} if kind.custom_fields else {}
        )
        self.fields["survivor"] = forms.TypedChoiceField(
            label="Keep", coerce=int, widget=forms.RadioSelect, initial=self.records[0].pk,
            choices=[(r.pk, f"{r} (#{r.pk})") for r in self.records],
        )  # fmt: skip
        self.shown: dict[str, list[str]] = {}
        for name in merging.choice_names(kind, self.records):
            values = [repr(merging.value_of(r, name)) for r in self.records]
            self.shown[name] = [shown_value(r, name, self.definitions) for r in self.records]
            if len(set(values)) > 1:
                self.fields[name] = forms.TypedChoiceField(
                    label=_label(kind, name, self.definitions), coerce=int,
                    widget=forms.RadioSelect,
                    initial=merging.default_source(self.records, name).pk,
                    choices=list(zip(self.ids, self.shown[name], strict=True)),
                )  # fmt: skip

    def rows(self) -> list[Row]:
        return [
            Row(name, _label(self.kind, name, self.definitions), shown,
                self[name] if name in self.fields else None)
            for name, shown in self.shown.items()
        ]  # fmt: skip

    def merge_arguments(self) -> dict[str, Any]:
        """survivor, others and values for records_merge."""
        by_id = {record.pk: record for record in self.records}
        survivor = by_id[self.cleaned_data["survivor"]]
        values = {n: v for n, v in self.cleaned_data.items() if n != "survivor"}
        others = [record for record in self.records if record.pk != survivor.pk]
        return {"survivor": survivor, "others": others, "values": values}
