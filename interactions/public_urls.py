"""URLs outside /o/<org_slug>/ (crm.contributions.register_public_urls): the token names
the organisation."""

from django.urls import path

from interactions import calendar_views, inbound_views, webform_views

urlpatterns = [
    path("inbound/email/<str:token>/", inbound_views.inbound_email, name="inbound_email"),
    # The same, for Mailgun: it posts the raw message (body-mime) only to a URL ending in "mime".
    path("inbound/email/<str:token>/mime", inbound_views.inbound_email),
    path("forms/<str:token>/", webform_views.webform_public, name="webform_public"),
    path("calendar/<str:token>.ics", calendar_views.calendar_feed_ics, name="calendar_feed"),
]
