from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "qiantou.audit"
    label = "audit"
