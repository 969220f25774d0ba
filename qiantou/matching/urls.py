"""Data-check pages under ``/matching/``."""

from django.urls import path

from qiantou.matching import views

app_name = "matching"

urlpatterns = [
    path("", views.index, name="index"),
    path("request/", views.request_start, name="request"),
    path("respond/", views.respond, name="respond"),
    path("finish/", views.finish, name="finish"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/download/<str:name>", views.download, name="download"),
    path("runs/<int:pk>/tasks/", views.create_tasks, name="create_tasks"),
]
