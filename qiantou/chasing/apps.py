from django.apps import AppConfig


class ChasingConfig(AppConfig):
    name = "qiantou.chasing"
    label = "chasing"
