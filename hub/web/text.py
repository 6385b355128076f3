"""What the pages say, in Bahasa Indonesia (default, KBBI spelling) and English (`?lang=en`).

The words are the `web.` part of the one catalogue (`antrian.i18n`, `hub/locale/`); this is the
view the server-rendered HTML and the page scripts read (they get the chosen language's texts
as JSON, keyed without the prefix), so a wording change is still made in one place.
"""

from __future__ import annotations

from antrian import i18n


def texts(lang: str) -> dict[str, str]:
    """The pages' texts in one language: `id` (default) or `en`."""
    return i18n.texts(lang, "web.")
