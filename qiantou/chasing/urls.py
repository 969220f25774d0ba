"""Chasing pages under /chasing/."""

from django.urls import path

from qiantou.chasing import views

app_name = "chasing"

urlpatterns = [
    path("", views.home, name="home"),
    path("board/", views.board, name="board"),
    path("items/<int:pk>/", views.item, name="item"),
    path("petitions/<int:pk>/decide/", views.petition_decide, name="petition_decide"),
    path("plans/<int:plan_id>/materials/new/", views.material_request_new, name="material_request_new"),
    path("materials/<int:pk>/", views.material_request, name="material_request"),
    path("submissions/<int:pk>/decide/", views.material_decide, name="material_decide"),
    path("plans/<int:plan_id>/cycles/new/", views.report_cycle_new, name="report_cycle_new"),
    path("cycles/<int:pk>/", views.cycle, name="cycle"),
    path("requests/", views.requests_list, name="requests"),
    path("reports/<int:pk>/", views.report_request, name="report_request"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("ack/<str:token>/", views.ack, name="ack"),
    path("inbox/", views.inbox, name="inbox"),
    path("calendar/", views.calendar_view, name="calendar"),
]
