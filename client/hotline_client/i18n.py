"""The CLI's language: Chinese unless ``--lang en`` or ``HOTLINE_LANG=en`` asks for English.

Help texts are built when the command line is read, so the choice is taken from the
arguments and the environment before anything else runs.
"""

from __future__ import annotations

import os
import sys


def _chosen(argv: list[str]) -> str:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return os.environ.get("HOTLINE_LANG", "zh-CN")


ENGLISH = _chosen(sys.argv).lower().startswith("en")
ACCEPT_LANGUAGE = "en" if ENGLISH else "zh-CN"


def T(zh: str, en: str) -> str:
    """The Chinese text, or its English when English was asked for."""
    return en if ENGLISH else zh
