"""What a browser would submit from the forms on a page, for tests that edit like a person."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, action: str | None) -> None:
        super().__init__()
        self.action = action
        self.inside = action is None
        self.values: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and self.action is not None:
            self.inside = found.get("action") == self.action
        if not self.inside:
            return
        name = found.get("name")
        if tag == "input" and name and found.get("type") != "submit":
            if found.get("type") in ("checkbox", "radio") and "checked" not in found:
                self.values.setdefault(name, [])
                return
            self.values.setdefault(name, []).append(found.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.values[name] = []
        elif tag == "option" and self._select and "selected" in found:
            self.values[self._select].append(found.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = [""]

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea][0] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self.action is not None:
            self.inside = False


def form_values(html: str, action: str | None = None) -> dict[str, list[str]]:
    """Field name -> submitted values of the form posting to `action` (or of every form)."""
    reader = _FormReader(action)
    reader.feed(html)
    return reader.values
