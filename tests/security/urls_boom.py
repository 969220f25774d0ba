"""The real URL map plus one view that fails, to see what a user gets from an unhandled error."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from qiantou.urls import urlpatterns as real


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret internals: /srv/qiantou/settings.py line 42")


urlpatterns = [path("boom/", boom), *real]
