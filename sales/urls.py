"""A deal's pages under /o/<org_slug>/deals/; the Deals list is the platform's
(crm.records.urls)."""

from django.urls import path

from sales import views

app_name = "deals"

urlpatterns = [
    path("deals/new/", views.deal_new, name="new"),
    path("deals/<int:deal_id>/", views.deal_detail, name="detail"),
    path("deals/<int:deal_id>/edit/", views.deal_edit, name="edit"),
    path("deals/<int:deal_id>/move/", views.deal_move, name="move"),
    path("deals/<int:deal_id>/won/", views.deal_won, name="won"),
    path("deals/<int:deal_id>/lost/", views.deal_lost, name="lost"),
    path("deals/<int:deal_id>/reopen/", views.deal_reopen, name="reopen"),
    path("deals/<int:deal_id>/delete/", views.deal_delete, name="delete"),
]
