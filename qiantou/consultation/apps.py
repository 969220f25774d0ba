from django.apps import AppConfig


class ConsultationConfig(AppConfig):
    name = "qiantou.consultation"
    label = "consultation"
