from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "qiantou.notifications"
    label = "notifications"
