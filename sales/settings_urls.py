"""Settings → Pipelines, Lost reasons and Exchange rates, under /o/<org_slug>/settings/
(namespace "pipelines"): admins only."""

from django.urls import path

from sales import settings_views as views

app_name = "pipelines"

_PIPELINE = "settings/pipelines/<int:pipeline_id>/"
_STAGE = f"{_PIPELINE}stages/<int:stage_id>/"
_REASON = "settings/lost-reasons/<int:reason_id>/"

urlpatterns = [
    path("settings/pipelines/", views.pipeline_list, name="list"),
    path("settings/pipelines/new/", views.pipeline_new, name="new"),
    path(_PIPELINE, views.pipeline_edit, name="edit"),
    path(f"{_PIPELINE}move/", views.pipeline_move, name="move"),
    path(f"{_PIPELINE}archive/", views.pipeline_archive, name="archive"),
    path(f"{_PIPELINE}stages/new/", views.stage_new, name="stage_new"),
    path(_STAGE, views.stage_edit, name="stage_edit"),
    path(f"{_STAGE}move/", views.stage_move, name="stage_move"),
    path(f"{_STAGE}archive/", views.stage_archive, name="stage_archive"),
    path(f"{_STAGE}delete/", views.stage_delete, name="stage_delete"),
    path("settings/lost-reasons/", views.reason_list, name="reasons"),
    path(_REASON, views.reason_edit, name="reason_edit"),
    path(f"{_REASON}archive/", views.reason_archive, name="reason_archive"),
    path("settings/exchange-rates/", views.rate_list, name="rates"),
    path("settings/exchange-rates/<int:rate_id>/delete/", views.rate_delete, name="rate_delete"),
]
