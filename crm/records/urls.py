"""The URLs every record kind shares, under /o/<org_slug>/.

`kind_patterns(kind)` builds one kind's routes under its URL prefix, in the kind's own
namespace ("contact:list" is /o/<org>/contacts/): its list, export, bulk actions, saved
views, restoring from the Trash and, where the kind declares them, editing one fact of a
record in place, import, duplicates and merge. `urlpatterns` are the routes of the shared
objects themselves (namespace "records"): an export's file, an import's pages, a duplicate
pair, a merge's undo, the Trash, and Settings → Custom fields.
"""

from django.urls import URLPattern, URLResolver, include, path

from crm.records import registry
from crm.records.registry import Kind
from crm.records.views import (
    bulk,
    custom_fields,
    exports,
    facts,
    imports,
    lists,
    merges,
    saved_views,
    trash,
)

app_name = "records"

urlpatterns = [
    path("exports/<int:export_id>/", exports.export_job, name="export_job"),
    path("exports/<int:export_id>/download/", exports.export_download, name="export_download"),
    path("imports/<int:import_id>/", imports.import_detail, name="import_detail"),
    path("imports/<int:import_id>/map/", imports.import_map, name="import_map"),
    path("imports/<int:import_id>/commit/", imports.import_commit, name="import_commit"),
    path("imports/<int:import_id>/undo/", imports.import_undo, name="import_undo"),
    path("imports/<int:import_id>/discard/", imports.import_discard, name="import_discard"),
    path("imports/<int:import_id>/problems.csv", imports.import_problems, name="import_problems"),
    path("duplicates/<int:pair_id>/dismiss/", merges.duplicate_dismiss, name="duplicate_dismiss"),
    path("merges/<int:merge_id>/undo/", merges.merge_undo, name="merge_undo"),
    path("trash/", trash.trash_list, name="trash"),
    path("settings/custom-fields/", custom_fields.custom_fields, name="custom_fields"),
    path("settings/custom-fields/new/", custom_fields.custom_field_edit, name="custom_field_new"),
    path(
        "settings/custom-fields/<int:field_id>/",
        custom_fields.custom_field_edit,
        name="custom_field_edit",
    ),
    path(
        "settings/custom-fields/<int:field_id>/delete/",
        custom_fields.custom_field_delete,
        name="custom_field_delete",
    ),
]


def kind_patterns(kind: Kind) -> list[URLPattern]:
    """One kind's routes under its prefix; each view takes the kind's key as `kind`."""
    at, of = kind.url_prefix, {"kind": kind.key}
    found = [
        path(f"{at}/", lists.record_list, of, name="list"),
        path(f"{at}/export/", exports.records_export, of, name="export"),
        path(f"{at}/bulk/", bulk.records_bulk, of, name="bulk"),
        path(f"{at}/bulk/apply/", bulk.records_bulk_apply, of, name="bulk_apply"),
        path(f"{at}/views/save/", saved_views.saved_view_save, of, name="view_save"),
        path(f"{at}/views/<int:view_id>/", saved_views.saved_view_edit, of, name="view_edit"),
        path(
            f"{at}/views/<int:view_id>/delete/",
            saved_views.saved_view_delete,
            of,
            name="view_delete",
        ),
    ]
    if kind.has_trash:
        restore = f"{at}/<int:{kind.key}_id>/restore/"
        found += [
            path(restore, trash.record_restore, of, name="restore"),
            path(f"{at}/restore/", trash.records_restore_many, of, name="restore_many"),
            path(f"{at}/bulk/undo/<int:event_id>/", trash.bulk_delete_undo, of, name="bulk_undo"),
        ]
    if kind.facts:
        field = f"{at}/<int:{kind.key}_id>/field/<slug:field_name>/"
        found += [
            path(field, facts.record_field, of, name="field"),
            path(f"{field}value/", facts.record_field_value, of, name="field_value"),
        ]
    if kind.imports:
        found.append(path(f"{at}/import/", imports.records_import, of, name="import"))
    if kind.duplicates:
        found += [
            path(f"{at}/duplicates/", merges.records_duplicates, of, name="duplicates"),
            path(
                f"{at}/duplicates/find/",
                merges.records_duplicates_find,
                of,
                name="duplicates_find",
            ),
        ]
    if kind.merge:
        found.append(path(f"{at}/merge/", merges.records_merge, of, name="merge"))
    return found


def org_patterns() -> list[URLResolver]:
    """Every declared kind's routes, each in its namespace, then the shared ones."""
    return [
        *(path("", include((kind_patterns(kind), kind.key))) for kind in registry.kinds()),
        path("", include("crm.records.urls")),
    ]
