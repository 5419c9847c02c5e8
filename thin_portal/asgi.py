import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thin_portal.settings")

application = get_asgi_application()

from thin_portal.workers import settle  # noqa: E402  (needs the settings loaded above)

settle()
