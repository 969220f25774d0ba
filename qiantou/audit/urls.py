"""Web routes of the accountability record, under ``/audit/``."""

from django.urls import path

from qiantou.audit import views

app_name = "audit"

urlpatterns = [
    path("<str:object_type>/<str:object_id>/", views.audit_trail, name="audit_trail"),
]
