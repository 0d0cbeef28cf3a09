"""A member's calendar feed page under /o/<org_slug>/tasks/calendar/; the feed itself is
public (interactions.public_urls)."""

from django.urls import path

from interactions import calendar_views as views

app_name = "calendar"

urlpatterns = [
    path("tasks/calendar/", views.calendar_feed_settings, name="feed"),
    path("tasks/calendar/rotate/", views.calendar_feed_rotate, name="rotate"),
    path("tasks/calendar/revoke/", views.calendar_feed_revoke, name="revoke"),
]
