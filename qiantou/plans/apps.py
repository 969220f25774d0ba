from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "qiantou.plans"
    label = "plans"
