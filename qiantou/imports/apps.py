from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "qiantou.imports"
    label = "imports"
    verbose_name = "方案导入"
