"""Web routes of the import flow, under ``/imports/``."""

from django.urls import path

from qiantou.imports import views

app_name = "imports"

urlpatterns = [
    path("new/", views.upload, name="upload"),
    path("<str:token>/", views.preview, name="preview"),
    path("<str:token>/choose/", views.choose, name="choose"),
    path("<str:token>/candidates/", views.candidates, name="candidates"),
    path("<str:token>/confirm/", views.confirm, name="confirm"),
    path("<str:token>/cancel/", views.cancel, name="cancel"),
]
