"""Sales pages under /o/<org_slug>/ (namespace "board")."""

from django.urls import URLPattern

app_name = "board"

urlpatterns: list[URLPattern] = []
