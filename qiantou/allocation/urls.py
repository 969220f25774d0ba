"""Web routes of allocation, under ``/allocation/``."""

from django.urls import path

from qiantou.allocation import views

app_name = "allocation"

urlpatterns = [
    path("load/", views.load_overview, name="load"),
    path("suggest/", views.suggest_text, name="suggest_text"),
    path("plans/<int:pk>/suggestions/", views.plan_suggestions, name="plan_suggestions"),
    path("plans/<int:pk>/balance/", views.plan_balance, name="plan_balance"),
]
