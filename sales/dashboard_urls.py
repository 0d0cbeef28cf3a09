"""Sales pages under /o/<org_slug>/ (namespace "dashboards")."""

from django.urls import URLPattern

app_name = "dashboards"

urlpatterns: list[URLPattern] = []
