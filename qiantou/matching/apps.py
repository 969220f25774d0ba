from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "qiantou.matching"
    label = "matching"
