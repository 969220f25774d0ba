"""Web UI routes. Each app may add ``urls.py``; they are included here under their prefix."""

from importlib import import_module

from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from qiantou.web import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
]

for _app in [
    "units",
    "plans",
    "audit",
    "consultation",
    "approvals",
    "chasing",
    "assessment",
    "allocation",
    "matching",
    "imports",
]:
    try:
        import_module(f"qiantou.{_app}.urls")
    except ModuleNotFoundError as exc:
        if exc.name != f"qiantou.{_app}.urls":
            raise
        continue
    urlpatterns.append(path(f"{_app}/", include(f"qiantou.{_app}.urls")))
