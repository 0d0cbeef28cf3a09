"""A project's edit form: what its facts are edited with, one at a time."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from crm.forms import apply_errors
from crm.models import Organization, User
from crm.records import versions
from crm.records.custom_field_forms import CustomValuesMixin
from crm.selectors import org_users
from tests.projects.models import Project
from tests.projects.services import project_update


class ProjectForm(CustomValuesMixin, forms.Form):
    custom_kind = "project"

    name = forms.CharField(max_length=200)
    status = forms.ChoiceField(choices=Project.Status.choices)
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    version = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = org_users()  # type: ignore[attr-defined]


def project_initial(project: Project, form: type[forms.Form]) -> dict[str, Any]:
    custom = {f"custom_{key}": value for key, value in project.custom.items()}
    return {"name": project.name, "status": project.status, "owner": project.owner_id,
            "version": versions.version_of(project), **custom}  # fmt: skip


def project_form_save(
    form: ProjectForm, *, org: Organization, by: User, record: Project
) -> Project | None:
    data = dict(form.cleaned_data)
    custom = form.pop_custom(data, record)
    if custom is not None:
        data["custom"] = custom
    try:
        return project_update(org=org, project=record, by=by, **data)
    except ValidationError as error:
        apply_errors(form, error)
        versions.renew(form, record)
        return None
