"""Forms for logging in."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from . import selectors


class LoginForm(AuthenticationForm):
    """Log in with a username or with the email address on the account."""

    username = forms.CharField(
        label=_("Username or email address"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}),
    )

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # Django sizes the box for a username; an email address can be longer.
        self.fields["username"].max_length = 254
        self.fields["username"].widget.attrs["maxlength"] = 254

    def clean(self):
        given = self.cleaned_data.get("username", "")
        if "@" in given:
            username = selectors.username_for_email(given)
            if username:
                self.cleaned_data["username"] = username
        return super().clean()
