"""The signed-in member's notifications under /o/<org_slug>/notifications/."""

from django.urls import path

from interactions import notification_views as views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/menu/", views.notification_menu, name="menu"),
    path("notifications/read/", views.notifications_read, name="read"),
    path("notifications/<int:notification_id>/", views.notification_open, name="open"),
]
