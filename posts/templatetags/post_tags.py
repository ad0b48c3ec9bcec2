from django import template
from django.utils.safestring import mark_safe

from posts import text

register = template.Library()


@register.filter
def post_html(post):
    """The post's text as safe HTML (escaped, linked, then cleaned by nh3)."""
    known = [user.username for user in post.mentioned_users.all()]
    return mark_safe(text.render_html(post.text, known_usernames=known))  # noqa: S308 - built by render_html
