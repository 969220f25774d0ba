from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "qiantou.audit"
    label = "audit"

    def ready(self) -> None:
        """Give every SQLite connection the function the append-only triggers consult."""
        from django.db.backends.signals import connection_created

        from qiantou.audit.protection import register_sqlite_function

        connection_created.connect(register_sqlite_function, dispatch_uid="qiantou.audit.sqlite_function")
