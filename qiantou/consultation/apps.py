from django.apps import AppConfig


class ConsultationConfig(AppConfig):
    name = "qiantou.consultation"
    label = "consultation"

    def ready(self) -> None:
        """Guard frozen plan versions and add rounds and comments to a plan's audit trail."""
        from qiantou.consultation import signals

        signals.connect()
