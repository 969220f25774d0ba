from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "qiantou.security"
    label = "security"

    def ready(self) -> None:
        """Record logins, failures, lockouts and logouts in the accountability record."""
        from qiantou.security import checks, signals  # noqa: F401  (checks registers itself)

        signals.connect()
