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
        contributions.register_navigation("Home", "crm:home", order=0)
        contributions.register_navigation("Trash", "records:trash", order=1000)
        contributions.register_navigation(
            "Settings", "crm:profile", order=1100, action="org.manage"
        )
        contributions.register_isolation_seeder(isolation.seed, isolation.URL_KWARGS)


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
