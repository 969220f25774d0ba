from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "qiantou.ops"
    label = "ops"
