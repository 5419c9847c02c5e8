import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thin_portal.settings")

application = get_wsgi_application()

from django.conf import settings  # noqa: E402  (settings are ready only after the line above)

from thin_portal.workers import settle  # noqa: E402

if not settings.DEBUG and settings.SECRET_KEY == settings.INSECURE_DEVELOPMENT_KEY:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY before serving the portal in production.")

settle()
