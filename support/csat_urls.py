"""The rating links of support's emails, outside /o/<org_slug>/ (crm.contributions.
register_public_urls): the signed token names the organisation, the ticket and the score."""

from django.urls import path

from support import csat_views

urlpatterns = [
    path("csat/<str:token>/", csat_views.csat_rate, name="csat_rate"),
    path("csat/<str:token>/comment/", csat_views.csat_comment, name="csat_comment"),
]
