"""ModelWriter: writes parameter values into tagged configuration files.

A tag is ``;name;`` by default (``set_tag`` changes the delimiter). Each tag whose name is a
parameter of the model is replaced by ``str(value)``; tags naming no parameter are left as
they are and reported in one warning per file. Substitution is a single regex pass per file
over the model's own parameter names, so text that merely contains the delimiter (``a; b;``)
is never mistaken for a tag and nothing can loop.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from smartsim.error import ParameterWriterError

logger = logging.getLogger(__name__)

_NAME = r"[A-Za-z_][A-Za-z0-9_.\-]*"


class ModelWriter:
    """Configures tagged files for one model at a time."""

    def __init__(self, tag: str = ";", regex: str | None = None) -> None:
        self.set_tag(tag, regex)

    def set_tag(self, tag: str, regex: str | None = None) -> None:
        """Use ``tag`` as the delimiter, or ``regex`` (group 1 = the parameter name)."""
        if not isinstance(tag, str) or not tag:
            raise TypeError("the tag must be a non-empty str, e.g. ';' or '@'")
        self.tag = tag
        self.regex = re.compile(regex) if regex else None

    def _pattern(self, names: list[str]) -> re.Pattern[str]:
        t = re.escape(self.tag)
        alts = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        return re.compile(f"{t}({alts}){t}")

    def _unused_pattern(self) -> re.Pattern[str]:
        if self.regex is not None:
            return self.regex
        t = re.escape(self.tag)
        return re.compile(f"{t}({_NAME}){t}")

    def render(self, text: str, params: Mapping[str, Any], file_path: str = "") -> str:
        """``text`` with every tag of a known parameter replaced."""
        values = {str(k): str(v) for k, v in params.items()}
        if self.regex is not None:

            def custom(match: re.Match[str]) -> str:
                name = match.group(1) if match.groups() else match.group(0).strip(self.tag)
                return values.get(name, match.group(0))

            result = self.regex.sub(custom, text)
        elif values:
            result = self._pattern(list(values)).sub(lambda m: values[m.group(1)], text)
        else:
            result = text
        self._warn_unused(result, values, file_path)
        return result

    def _warn_unused(self, text: str, values: Mapping[str, str], file_path: str) -> None:
        unused: dict[str, list[int]] = {}
        pattern = self._unused_pattern()
        for lineno, line in enumerate(text.splitlines(), start=1):
            for match in pattern.finditer(line):
                name = match.group(1) if match.groups() else match.group(0)
                if name not in values:
                    unused.setdefault(name, []).append(lineno)
        if unused:
            details = "; ".join(
                f"{self.tag}{n}{self.tag} on line(s) {', '.join(map(str, ls))}"
                for n, ls in unused.items()
            )
            logger.warning("unused tag(s) in %s left unchanged: %s", file_path or "file", details)

    def configure_file(self, src: str, dest: str, params: Mapping[str, Any]) -> None:
        """Read ``src``, substitute, write ``dest``."""
        try:
            with open(src, encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError as exc:
            raise ParameterWriterError(src) from exc
        except OSError as exc:
            raise ParameterWriterError(src) from exc
        result = self.render(text, params, src)
        try:
            with open(dest, "w", encoding="utf-8") as f:
                f.write(result)
        except OSError as exc:
            raise ParameterWriterError(dest, read=False) from exc
