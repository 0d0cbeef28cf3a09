"""/o/<org>/segments/…"""

from django.urls import path

from contacts.segments import views

app_name = "segments"

urlpatterns = [
    path("segments/", views.segment_list, name="list"),
    path("segments/new/", views.segment_new, name="new"),
    path("segments/<int:segment_id>/", views.segment_detail, name="detail"),
    path("segments/<int:segment_id>/edit/", views.segment_edit, name="edit"),
    path("segments/<int:segment_id>/status/", views.segment_status, name="status"),
    path("segments/<int:segment_id>/refresh/", views.segment_refresh, name="refresh"),
    path("segments/<int:segment_id>/freeze/", views.segment_freeze, name="freeze"),
    path("segments/<int:segment_id>/delete/", views.segment_delete, name="delete"),
    path("segments/<int:segment_id>/restore/", views.segment_restore, name="restore"),
    path("segments/<int:segment_id>/remove/", views.segment_remove_member, name="remove"),
]
