from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "Platform"

    def ready(self) -> None:
        from crm import accounts, contributions, isolation
        from crm.records import tasks  # noqa: F401 - registers the tasks services send by name
        from crm.tenancy import install_tenant_constraints

        install_tenant_constraints()
        accounts.connect()
        contributions.register_navigation("Home", "crm:home", order=0)
        contributions.register_navigation("Trash", "records:trash", order=1000)
        contributions.register_isolation_seeder(isolation.seed, isolation.URL_KWARGS)
