"""Input validation for the pages every kind shares."""

from typing import Any

from django import forms
from django.conf import settings

from crm.records.imports.fields import Target
from crm.records.imports.importer import Match
from crm.records.models import ImportJob


class SavedViewForm(forms.Form):
    """A saved view's name and whether everyone in the organisation sees it."""

    name = forms.CharField(max_length=100)
    shared = forms.BooleanField(label="Share with the organisation", required=False)

    def __init__(self, *args: Any, may_share: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_share:  # a viewer's views are their own
            del self.fields["shared"]


class SavedViewSaveForm(SavedViewForm):
    """Saving the list as it is: its query string and its columns."""

    query = forms.CharField(required=False, widget=forms.HiddenInput)
    columns = forms.CharField(required=False, widget=forms.HiddenInput)


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV, Excel or vCard file",
        help_text="A first row naming the columns, then one row per record. CSV separated by "
        "commas, semicolons, tabs or pipes, in any common encoding; XLSX (the first sheet); "
        "or vCard (.vcf), as phones and address books export contacts.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx,.vcf"}),
    )

    def __init__(self, *args: Any, too_large: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.too_large = too_large
        if too_large:  # the handler dropped the file: say why rather than "no file"
            self.fields["file"].required = False
        megabytes = settings.IMPORT_MAX_BYTES // 1024 // 1024
        self.fields["file"].help_text += f" Up to {megabytes} MB."

    def clean_file(self) -> Any:
        if self.too_large:
            megabytes = settings.IMPORT_MAX_BYTES // 1024 // 1024
            raise forms.ValidationError(
                f"The file is larger than {megabytes} MB: split it into parts."
            )
        return self.cleaned_data["file"]


class ImportMappingForm(forms.Form):
    """A field per column of the file ("column_<n>"), how rows meet existing records."""

    mode = forms.ChoiceField(
        label="What to do", choices=ImportJob.Mode.choices, widget=forms.RadioSelect
    )
    match_by = forms.ChoiceField(
        label="Find existing records by",
        help_text="A row updates the record that has the same value; with several, the row "
        "is refused.",
    )

    def __init__(
        self, data: Any = None, *, job: ImportJob, targets: dict[str, Target],
        matches: dict[str, Match], samples: list[list[str]],
    ) -> None:  # fmt: skip
        initial = {"mode": job.mode, "match_by": job.match_by}
        initial |= {f"column_{i}": key for i, key in enumerate(job.mapping)}
        super().__init__(data, initial=initial)
        self.fields["match_by"].choices = [  # type: ignore[attr-defined]
            (key, match.label) for key, match in matches.items()
        ]
        choices = [("", "Leave out"), *((t.key, t.label) for t in targets.values())]
        self.headers = job.headers
        self.samples = [[row[i] for row in samples] for i in range(len(job.headers))]
        for index, header in enumerate(job.headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header, choices=choices, required=False
            )

    def columns(self) -> list[tuple[str, list[str], forms.BoundField]]:
        """(header, sample values, the field choosing its target) per column, for the table."""
        return [
            (header, self.samples[index], self[f"column_{index}"])
            for index, header in enumerate(self.headers)
        ]

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(f"column_{i}") or "" for i in range(len(self.headers))]
