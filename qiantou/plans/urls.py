"""Web routes of plans and tasks, under ``/plans/``."""

from django.urls import path

from qiantou.plans import views

app_name = "plans"

urlpatterns = [
    path("", views.plan_list, name="plan_list"),
    path("<int:pk>/", views.plan_detail, name="plan_detail"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
]
