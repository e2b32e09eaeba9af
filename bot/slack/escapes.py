"""Slack's own escaping of what people type: `&`, `<` and `>` arrive as `&amp;`, `&lt;` and `&gt;`."""


def typed_text(text: str) -> str:
    """What the person typed, from the escaped text Slack sends (a command's `text`, a message's `text`).

    Only Slack's three entities are undone, `&amp;` last, so `&amp;lt;` (someone typing `&lt;`) stays `&lt;`."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
