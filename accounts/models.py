"""The portal's user: a person who logs in, with a portal-wide role."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who logs in. Their rights come from `role` plus their affiliations to organisations."""

    class Role(models.TextChoices):
        VCO_STAFF = "vco_staff", _("VCO staff")
        OFFICER = "officer", _("Infrastructure officer")
        NETWORK_ADMIN = "network_admin", _("Network admin")
        FUNDER = "funder", _("Funder or commissioner")

    email = models.EmailField(_("email address"), unique=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VCO_STAFF)

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def is_network_admin(self) -> bool:
        return self.is_active and (self.is_superuser or self.role == self.Role.NETWORK_ADMIN)

    @property
    def is_funder(self) -> bool:
        return self.is_active and self.role == self.Role.FUNDER
