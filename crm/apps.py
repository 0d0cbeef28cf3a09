from functools import partial

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
        _register_jobs()
        contributions.register_navigation("Home", "crm:home", order=0, icon="home")
        contributions.register_navigation("Trash", "records:trash", order=1000, icon="trash-2")
        contributions.register_navigation(
            "Settings", "crm:profile", order=1100, action="org.manage", icon="settings"
        )
        contributions.register_isolation_seeder(isolation.seed, isolation.URL_KWARGS)
        _register_pages()


def _register_jobs() -> None:
    """Imports and exports: each running status, and the task that works on it."""
    from crm import jobs
    from crm.records.models import ExportJob, ImportJob

    imports, exports = ImportJob.Status, ExportJob.Status
    jobs.register("import", ImportJob, {
        imports.READING: "records.import_read", imports.CHECKING: "records.import_check",
        imports.IMPORTING: "records.import_commit", imports.UNDOING: "records.import_undo",
    }, "import_id")  # fmt: skip
    jobs.register(
        "export", ExportJob,
        {exports.QUEUED: "records.export_run", exports.RUNNING: "records.export_run"},
        "export_id",
    )  # fmt: skip


def _register_pages() -> None:
    """The platform's settings and account pages, for the quick search and the palette."""
    from crm.contributions import register_page

    settings = partial(register_page, section="Settings", action="org.manage")
    settings("Organisation profile", "crm:profile", keywords="name")
    settings("Members", "crm:members", keywords="invite people roles users")
    settings("Teams", "crm:teams")
    settings("Record visibility", "crm:visibility", keywords="own access")
    settings("Permissions", "crm:permissions", keywords="roles")
    settings("Security", "crm:security", keywords="two-factor mfa")
    settings("Custom fields", "records:custom_fields", action="settings.configure")
    settings("Audit log", "crm:audit", action="audit.view", keywords="history events")
    account = partial(register_page, section="Account", org=False)
    account("Your name", "account_profile", keywords="profile")
    account("Email addresses", "account_email")
    account("Password", "account_change_password")
    account("Two-factor and passkeys", "mfa_index", keywords="mfa security")
