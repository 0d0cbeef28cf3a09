"""A ticket's pages under /o/<org_slug>/tickets/<number>/; the inboxes are the platform's
list (crm.records.urls)."""

from django.urls import path

from support import views

app_name = "tickets"

_TICKET = "tickets/<int:number>/"

urlpatterns = [
    path("tickets/new/", views.ticket_new, name="new"),
    path("tickets/availability/", views.availability, name="availability"),
    path("tickets/id/<int:ticket_id>/", views.ticket_by_id, name="by_id"),
    path(_TICKET, views.ticket_detail, name="detail"),
    path(f"{_TICKET}reply/", views.ticket_reply, name="reply"),
    path(f"{_TICKET}note/", views.ticket_note, name="note"),
    path(f"{_TICKET}properties/", views.ticket_properties, name="properties"),
    path(f"{_TICKET}take/", views.ticket_take, name="take"),
    path(f"{_TICKET}solve/", views.ticket_solve, name="solve"),
    path(f"{_TICKET}next/", views.ticket_next, name="next"),
    path(f"{_TICKET}merge/", views.ticket_merge, name="merge"),
]
