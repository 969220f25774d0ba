from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "qiantou.web"
    label = "web"
