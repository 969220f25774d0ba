"""URL map: the web UI at /, the REST API at /api/, the Django admin at /admin/."""

from django.contrib import admin
from django.urls import include, path

from qiantou.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("qiantou.accounts.urls")),
    path("", include("qiantou.web.urls")),
]
