from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "qiantou.web"
    label = "web"

    def ready(self) -> None:
        """Make the empty entry of every choice list Chinese, project-wide (forms and admin).

        Django 6.1 reads ``django.db.models.fields.BLANK_CHOICE_LABEL`` ("- Select an option -") each time
        a ModelChoiceField or a model field's choices need an empty entry, and lets an app's ``ready()``
        replace it; forms that know what is chosen set a more precise ``empty_label`` (e.g. 请选择单位).
        """
        from django.db.models import fields

        from qiantou.web.forms import CHOOSE

        fields.BLANK_CHOICE_LABEL = CHOOSE  # type: ignore[assignment,misc]
