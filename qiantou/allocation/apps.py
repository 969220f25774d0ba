from django.apps import AppConfig


class AllocationConfig(AppConfig):
    name = "qiantou.allocation"
    label = "allocation"
