"""review.html: the review pack as one self-contained page (inline CSS, no script, nothing
loaded from elsewhere), from the same data as review.json."""

from __future__ import annotations

from typing import Any

from batchpay.resources import data_dir

TEMPLATE = "review.html.j2"
KIND_TITLES = {
    "new": "New payee",
    "destination": "Destination changed",
    "amount": "Amount changed",
    "missing": "Paid last time, missing now",
}


def render_review(data: dict[str, Any]) -> str:
    """The page for ``data`` (:func:`batchpay.review.pack.pack_json`); every value escaped."""
    import jinja2  # only the HTML needs it

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(data_dir("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["blank"] = lambda v: "" if v is None else v
    return env.get_template(TEMPLATE).render(pack=data, kinds=KIND_TITLES)
