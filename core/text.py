"""Text that organisations write themselves: Markdown turned into HTML that is safe to show.

Markdown passes raw HTML through, so its output is never trusted: nh3 (a whitelist sanitiser) keeps
only the tags below, drops script and style with their content, removes every event-handler
attribute, and lets links go only to http, https and mailto addresses.
"""

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

ALLOWED_TAGS = {"p", "br", "ul", "ol", "li", "em", "strong", "a", "h2", "h3", "h4", "blockquote"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener nofollow"


class _DemoteHeadings(Treeprocessor):
    """The page's own title is the only h1, so "# Heading" becomes h2 and anything deeper stops at h4."""

    def run(self, root):
        for element in root.iter():
            if len(element.tag) == 2 and element.tag[0] == "h" and element.tag[1].isdigit():
                element.tag = f"h{min(int(element.tag[1]) + 1, 4)}"


class _DemoteHeadingsExtension(Extension):
    def extendMarkdown(self, md):
        md.treeprocessors.register(_DemoteHeadings(md), "demote_headings", 5)


def sanitise_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel=LINK_REL,
        clean_content_tags={"script", "style"},
        strip_comments=True,
    )


def render_markdown(text: str) -> SafeString:
    """Markdown to sanitised HTML, ready for a template."""
    if not text or not text.strip():
        return mark_safe("")
    html = markdown.markdown(text, extensions=[_DemoteHeadingsExtension(), "sane_lists"], output_format="html")
    return mark_safe(sanitise_html(html))
