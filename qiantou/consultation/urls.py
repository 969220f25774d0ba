"""Consultation pages under /consultation/."""

from django.urls import path

from qiantou.consultation import views

app_name = "consultation"

urlpatterns = [
    path("", views.index, name="index"),
    path("plans/<int:plan_id>/", views.plan_page, name="plan"),
    path("plans/<int:plan_id>/open/", views.round_open, name="open"),
    path("plans/<int:plan_id>/revise/", views.revise, name="revise"),
    path("plans/<int:plan_id>/diff/", views.diff_page, name="diff"),
    path("plans/<int:plan_id>/diff.xlsx", views.diff_file, name="diff_xlsx"),
    path("rounds/<int:pk>/", views.round_page, name="round"),
    path("rounds/<int:pk>/comment/", views.comment_add, name="comment"),
    path("rounds/<int:pk>/no-objection/", views.no_objection, name="no_objection"),
    path("rounds/<int:pk>/close/", views.round_close, name="close"),
    path("rounds/<int:pk>/statement.<str:fmt>", views.statement_file, name="statement"),
    path("comments/<int:pk>/dispose/", views.comment_dispose, name="dispose"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task_edit"),
]
