"""Account pages under ``/accounts/``."""

from django.urls import path

from qiantou.accounts import views

app_name = "accounts"

urlpatterns = [
    path("password/", views.password_change, name="password_change"),
    path("otp/", views.otp_verify, name="otp_verify"),
    path("otp/setup/", views.otp_setup, name="otp_setup"),
]
