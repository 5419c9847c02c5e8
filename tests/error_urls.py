"""The portal's URLs and error handlers, plus one page that fails, for tests/test_error_pages.py."""

from django.urls import path

from thin_portal.urls import handler400, handler500  # noqa: F401
from thin_portal.urls import urlpatterns as portal_urlpatterns


def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [path("broken-for-tests/", broken), *portal_urlpatterns]
