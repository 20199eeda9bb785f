"""The desk's pages: Jinja2 templates shipped in the package, one environment per
language with its gettext catalogue installed (``jinja2.ext.i18n``), autoescaped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from services.desk import event_labels, guidance_labels, labels
from services.desk.i18n import LANGUAGE_NAMES, LANGUAGES, Formats, translations


class Renderer:
    """Renders a template in a language."""

    def __init__(self, municipalities: tuple[str, ...] = ()) -> None:
        self._envs: dict[str, Environment] = {}
        for language in LANGUAGES:
            env = Environment(
                loader=PackageLoader("services.desk", "templates"),
                autoescape=select_autoescape(default=True),
                extensions=["jinja2.ext.i18n"],
                trim_blocks=True,
                lstrip_blocks=True,
            )
            env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
            env.globals.update(
                fmt=Formats(language),
                language=language,
                languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
                labels=labels,
                glabels=guidance_labels,
                elabels=event_labels,
                consent_needs=lambda needs: labels.consent_needs(tuple(needs), municipalities),
            )
            self._envs[language] = env

    def render(self, language: str, template: str, context: Mapping[str, Any]) -> str:
        return self._envs[language].get_template(template).render(**context)

    def gettext(self, language: str, message: str) -> str:
        """``message`` in ``language`` (for text outside a template: a page's title)."""
        found: str = self._envs[language].globals["gettext"](message)  # type: ignore[operator]
        return found
