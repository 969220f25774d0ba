from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "qiantou.assessment"
    label = "assessment"
