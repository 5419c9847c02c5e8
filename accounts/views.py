"""Django's account views with the portal's login form and password-reset emails."""

from django.conf import settings
from django.contrib.auth import views as auth_views

from .forms import LoginForm

ORGANISATIONS_PER_PAGE = 25
MEMBERS_PER_PAGE = 25
HISTORY_PER_PAGE = 20


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset flow, with an email in text and HTML whose link uses the portal's public address."""

    email_template_name = "registration/password_reset_email.txt"
    html_email_template_name = "registration/password_reset_email.html"
    subject_template_name = "registration/password_reset_subject.txt"

    @property
    def extra_email_context(self) -> dict:
        # The configured address, not the request's Host header, so a forged Host cannot redirect the link.
        return {"site_url": settings.SITE_URL, "site_name": settings.SITE_NAME}
