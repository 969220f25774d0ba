from django.apps import AppConfig


class UnitsConfig(AppConfig):
    name = "qiantou.units"
    label = "units"
