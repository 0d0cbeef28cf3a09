from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "tests.projects"
    label = "projects"
    verbose_name = "Projects (tests only)"

    def ready(self) -> None:
        from crm import contributions, permissions
        from crm.models import Role
        from crm.permissions import ALL_ROLES, CRM_WRITERS
        from crm.records import registry
        from tests.projects import isolation
        from tests.projects.records import PROJECT

        registry.register(PROJECT)
        permissions.register_actions({
            "project.view": ALL_ROLES,
            "project.edit": CRM_WRITERS | {Role.REP},
        })  # fmt: skip
        contributions.register_org_urls("tests.projects.urls")
        contributions.register_navigation(
            "Projects", "project:list", order=90, action="project.view"
        )
        contributions.register_isolation_seeder(isolation.seed, isolation.URL_KWARGS)
