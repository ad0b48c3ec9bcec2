"""Shared by the browser views: a feed page is the whole page, or for HTMX's infinite
scroll only the next page of posts (and the trigger for the one after)."""

from django.shortcuts import render

FEED_PAGE_TEMPLATE = "posts/_feed_page.html"


def render_feed(request, template_name: str, context: dict, **kwargs):
    if request.htmx and context.get("max_id") is not None:
        return render(request, FEED_PAGE_TEMPLATE, context, **kwargs)
    return render(request, template_name, context, **kwargs)
