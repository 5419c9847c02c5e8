from django.apps import AppConfig


class ThinPortalConfig(AppConfig):
    name = "thin_portal"
    verbose_name = "THIN Community Portal"
