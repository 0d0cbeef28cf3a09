"""Sales pages under /o/<org_slug>/ (namespace "dashboards")."""

from django.urls import path

from sales import dashboard_views as views
from sales.dashboard import CARDS

app_name = "dashboards"

urlpatterns = [
    path("dashboards/pipeline/", views.pipeline, name="pipeline"),
    # A route per table rather than a <str:table> keyword, so that every keyword of the
    # organisation's URLs is a record's id: reverse it with table=<key>.
    *(
        path(
            f"dashboards/pipeline/{key}.csv",
            views.pipeline_csv,
            {"table": key},
            name="pipeline_csv",
        )
        for key in CARDS
    ),
    path("settings/targets/", views.targets, name="targets"),
]
