"""The statement pages, open to everyone."""

from django.http import Http404
from django.shortcuts import render

from . import selectors


def page(request, kind: str):
    site_page = selectors.page_of_kind(kind)
    if site_page is None:
        raise Http404
    return render(request, "site_pages/page.html", {"page": site_page, "body": selectors.page_html(site_page)})
