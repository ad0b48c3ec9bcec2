"""Post text: what it mentions and tags, and its HTML form.

Text is stored exactly as typed. HTML is built here by escaping every piece of the text
and adding only our own links, then passed through nh3 as a second line of defence.
"""

import html
import re
from collections.abc import Iterable
from functools import lru_cache

import nh3
from django.urls import reverse

from accounts.validators import USERNAME_PATTERN

# Not after a word character, '@' or '/', so e-mail addresses and URL paths don't count.
MENTION_RE = re.compile(rf"(?<![\w@/.])@({USERNAME_PATTERN})(?![\w@])")
# Unicode word characters (so #话题 and #café work) with at least one letter, like
# Mastodon: "#2024" is not a tag.
HASHTAG_RE = re.compile(r"(?<![\w#&/])#(\w{0,99}[^\W\d_]\w{0,99})")
HASHTAG_MAX_LENGTH = 100
URL_RE = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]}]")
TOKEN_RE = re.compile(f"(?P<url>{URL_RE.pattern})|(?P<mention>{MENTION_RE.pattern})|(?P<tag>{HASHTAG_RE.pattern})")

ALLOWED_TAGS = {"p", "br", "a", "span"}
ALLOWED_ATTRIBUTES = {"a": {"href", "class", "title"}, "span": {"class"}}


def character_count(text: str) -> int:
    """Length as people count it: characters (code points), not bytes."""
    return len(text)


def extract_mentions(text: str) -> list[str]:
    """Usernames mentioned, in order of first appearance, case preserved, no repeats."""
    return _unique_casefolded(m.group(1) for m in MENTION_RE.finditer(text))


def normalize_hashtag(name: str) -> str:
    return name.casefold()


def extract_hashtags(text: str) -> list[str]:
    """Normalised hashtag names, in order of first appearance, no repeats.

    A tag longer than HASHTAG_MAX_LENGTH stays plain text rather than being cut short.
    """
    tags = (normalize_hashtag(m.group(1)) for m in HASHTAG_RE.finditer(text))
    return [tag for tag in _unique_casefolded(tags) if len(tag) <= HASHTAG_MAX_LENGTH]


def _unique_casefolded(names: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.casefold(), name)
    return list(seen.values())


def render_html(text: str, known_usernames: Iterable[str] | None = None, *, base_url: str = "") -> str:
    """Safe HTML for a post: escaped text, paragraphs and line breaks, and links.

    Mentions become links only for `known_usernames` (the post's resolved mentions),
    so a typo does not link to a stranger's empty profile. `base_url` makes our own links
    absolute, for API clients.
    """
    known = None if known_usernames is None else frozenset(name.casefold() for name in known_usernames)
    return _rendered(text, known, base_url)


# A pure function of its arguments, and every feed page renders the same recent posts again
# and again: remember the latest few thousand per process.
@lru_cache(maxsize=4096)
def _rendered(text: str, known: frozenset[str] | None, base_url: str) -> str:
    paragraphs = [p for p in re.split(r"\n{2,}", text.strip()) if p]
    body = "".join(f"<p>{_render_inline(p, known, base_url)}</p>" for p in paragraphs)
    return nh3.clean(
        body,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="nofollow noopener noreferrer",
    )


def _render_inline(text: str, known: set[str] | None, base_url: str) -> str:
    pieces, position = [], 0
    for match in TOKEN_RE.finditer(text):
        pieces.append(html.escape(text[position : match.start()]))
        pieces.append(_render_token(match, known, base_url))
        position = match.end()
    pieces.append(html.escape(text[position:]))
    return "".join(pieces).replace("\n", "<br>")


def _render_token(match: re.Match, known: set[str] | None, base_url: str) -> str:
    token = match.group(0)
    if match.group("url"):
        return f'<a href="{html.escape(token)}">{html.escape(token)}</a>'
    if match.group("mention"):
        username = token[1:]
        if known is not None and username.casefold() not in known:
            return html.escape(token)
        href = base_url + reverse("accounts:profile", args=[username])
        return f'<a class="mention" href="{html.escape(href)}">@{html.escape(username)}</a>'
    tag = normalize_hashtag(token[1:])
    href = base_url + reverse("posts:hashtag", args=[tag])
    return f'<a class="hashtag" href="{html.escape(href)}">#{html.escape(token[1:])}</a>'
