from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "qiantou.accounts"
    label = "accounts"
