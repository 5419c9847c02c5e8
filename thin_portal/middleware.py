"""The Content-Security-Policy header on every response.

Django 5.2 has no CSP support of its own (6.0 adds ``SECURE_CSP`` and a middleware): this is the small
part of that we need, reading the policy from the same setting name and shape, so that upgrading means
swapping this class for ``django.middleware.csp.ContentSecurityPolicyMiddleware``.
"""

from django.conf import settings


def policy_header(policy: dict[str, list[str]]) -> str:
    """``{"default-src": ["'self'"], "upgrade-insecure-requests": []}`` -> the header's value."""
    return "; ".join(" ".join([directive, *sources]) for directive, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        policy = getattr(settings, "SECURE_CSP", None)
        self.header = policy_header(policy) if policy else ""

    def __call__(self, request):
        response = self.get_response(request)
        if not self.header or "Content-Security-Policy" in response.headers:
            return response  # a view may set a stricter policy of its own
        # Django's DEBUG error pages are styled and scripted inline; a policy would leave them unreadable.
        if settings.DEBUG and response.status_code in (404, 500):
            return response
        response.headers["Content-Security-Policy"] = self.header
        return response
