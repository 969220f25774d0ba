"""Assessment pages under /assessment/."""

from django.urls import path

from qiantou.assessment import views

app_name = "assessment"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("rules/", views.rules_list, name="rules_list"),
    path("rules/<int:pk>/", views.rules_detail, name="rules"),
    path("rules/<int:pk>/scorecard/", views.scorecard, name="scorecard"),
    path("rules/<int:pk>/units/<int:unit_id>/", views.scorecard_unit, name="scorecard_unit"),
    path("rules/<int:pk>/circular/", views.circular_new, name="circular_new"),
    path("circulars/<int:pk>/", views.circular, name="circular"),
    path("rate/<str:kind>/<int:pk>/", views.rate, name="rate"),
    path("report/", views.report, name="report"),
    path("ledger/", views.ledger, name="ledger"),
]
