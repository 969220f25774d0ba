"""Sign-off and issuing pages under /approvals/."""

from django.urls import path

from qiantou.approvals import views

app_name = "approvals"

urlpatterns = [
    path("", views.index, name="index"),
    path("plans/<int:plan_id>/", views.plan_page, name="plan"),
    path("plans/<int:plan_id>/chain/", views.chain_set, name="chain"),
    path("plans/<int:plan_id>/submit/", views.submit, name="submit"),
    path("plans/<int:plan_id>/issue/", views.issue, name="issue"),
    path("plans/<int:plan_id>/official.<str:fmt>", views.official_file, name="official"),
    path("requests/<int:pk>/decide/", views.decide, name="decide"),
]
