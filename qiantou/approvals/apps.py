from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "qiantou.approvals"
    label = "approvals"
