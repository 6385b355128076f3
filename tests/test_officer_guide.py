"""The officers' guide as the hub serves it (`/help`): every picture it shows is in docs/img and
every picture there is shown; what the markdown holds is drawn as text, never as markup, and a
link leaves the hub for nowhere (the office has no internet)."""

from __future__ import annotations

import re

from antrian.web.officer import GUIDE, IMAGES, render_markdown


def test_the_guide_shows_every_screenshot_of_docs_img_and_only_those():
    shown = set(re.findall(r"!\[[^\]]*\]\(img/([^)]+)\)", GUIDE.read_text(encoding="utf-8")))
    assert shown == {p.name for p in IMAGES.glob("*.png")}
    html = render_markdown(GUIDE.read_text(encoding="utf-8"))
    assert html.count('<img src="/help/img/') == len(re.findall(r"!\[", GUIDE.read_text(encoding="utf-8")))
    assert "<table>" in html
    assert "<ol>" in html


def test_markup_in_the_guide_is_drawn_as_text_and_links_stay_inside_the_hub():
    html = render_markdown(
        "# Judul <b>\n\nTeks <script>alert(1)</script> [luar](http://contoh.id) [dalam](/officer)\n\n"
        "- satu\n- dua\n\n1. pertama\n2. kedua\n\n```sh\nantrian <x>\n```\n"
    )
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'href="http' not in html
    assert '<a href="/officer">dalam</a>' in html
    assert "<ul><li>satu</li><li>dua</li></ul>" in html
    assert "<ol><li>pertama</li><li>kedua</li></ol>" in html
    assert "<pre><code>antrian &lt;x&gt;</code></pre>" in html
