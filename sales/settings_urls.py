"""Sales pages under /o/<org_slug>/ (namespace "pipelines")."""

from django.urls import URLPattern

app_name = "pipelines"

urlpatterns: list[URLPattern] = []
