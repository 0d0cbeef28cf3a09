"""Contacts and companies under /o/<org_slug>/."""

from django.urls import path

from contacts import views

app_name = "contacts"

urlpatterns = [
    path("contacts/", views.contact_list, name="list"),
    path("contacts/new/", views.contact_new, name="new"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="detail"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="edit"),
    path("contacts/<int:contact_id>/delete/", views.contact_delete, name="delete"),
    path("contacts/<int:contact_id>/restore/", views.contact_restore, name="restore"),
    path("trash/", views.trash, name="trash"),
]
