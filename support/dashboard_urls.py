"""The support dashboard under /o/<org_slug>/ (namespace "support_dashboard")."""

from django.urls import path

from support import dashboard_views as views
from support.dashboard import CARDS

app_name = "support_dashboard"

urlpatterns = [
    path("dashboards/support/", views.support, name="support"),
    # A route per table rather than a <str:table> keyword, as the pipeline dashboard's: every
    # keyword of the organisation's URLs is a record's id. Reverse it with table=<key>.
    *(
        path(f"dashboards/support/{key}.csv", views.support_csv, {"table": key}, name="csv")
        for key in CARDS
    ),
]
