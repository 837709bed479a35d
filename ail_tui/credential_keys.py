"""Credentials in pipeline source text: keys that name one, and where their values are.

Used wherever source lines are quoted (validation reports, the problems pane), so a
token written in a pipeline file is masked even under a misspelt or misplaced key.
"""

from __future__ import annotations

import functools
import re
from itertools import pairwise

_CREDENTIAL_WORDS = ("token", "authtoken", "apikey", "accesskey", "privatekey", "secret",
                     "secretkey", "password", "passwd", "passphrase", "credential",
                     "credentials", "authorization", "bearer")
_COUNTS = ("tokens",)  # max_tokens, output_tokens: numbers of tokens, not credentials
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_KEY = re.compile(r"""(?<![\w.-])["']?(?P<key>[A-Za-z_][\w.-]*)["']?[ \t]*:(?=[ \t]|$)""")


@functools.lru_cache(maxsize=4096)  # a file repeats a few keys thousands of times
def is_credential_key(key: str) -> bool:
    """Whether a mapping key names a credential, also misspelt (``auth_tokn``, ``api_kye``).

    A key matches when one of its words, two adjacent words or all of them together is
    a credential word give or take one typo (two for words of nine letters or more).
    """
    words = [word.lower() for word in _WORD.findall(key)]
    candidates = {*words, *(first + second for first, second in pairwise(words)),
                  "".join(words)} - set(_COUNTS)
    return any(
        _distance(candidate, word) <= (len(word) >= 9) + (len(word) >= 5)
        for candidate in candidates
        for word in _CREDENTIAL_WORDS
    )


def _distance(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) that turn ``a`` into ``b``."""
    if abs(len(a) - len(b)) > 2:
        return 3
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        earlier, before, row = before, row, [i] + [0] * len(b)
        for j, other in enumerate(b, 1):
            row[j] = min(before[j] + 1, row[j - 1] + 1, before[j - 1] + (char != other))
            if i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == other:
                row[j] = min(row[j], earlier[j - 2] + 1)
    return row[-1]


def credential_spans(line: str) -> list[tuple[int, int]]:
    """Where the values of credential keys are in one YAML source line (``(start, end)``).

    A value in a flow mapping (``{auth_token: x, model: y}``) ends at its ``,`` or ``}``;
    anywhere else it runs to the end of the line.
    """
    spans: list[tuple[int, int]] = []
    for match in _KEY.finditer(line):
        if not is_credential_key(match["key"]):
            continue
        start = len(line) - len(line[match.end() :].lstrip(" \t"))
        flow = line[: match.start()].rstrip().endswith(("{", ","))
        end = _flow_value_end(line, start) if flow else len(line.rstrip())
        if end > start:
            spans.append((start, end))
    return spans


def _flow_value_end(line: str, start: int) -> int:
    """Where a flow-collection value starting at ``start`` ends (quotes and brackets kept)."""
    depth, quote = 0, ""
    for index in range(start, len(line)):
        char = line[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}," and depth == 0:
            return len(line[:index].rstrip())
        elif char in "]}":
            depth -= 1
    return len(line.rstrip())


_NODE_PROPERTIES = re.compile(r"(?:^|\s)[!&]\S*")  # tags (!!str) and anchors (&token)


def credential_values(line: str) -> list[str]:
    """The scalars written as credentials on one source line (``[sk-a, sk-b]`` gives two)."""
    values: list[str] = []
    for start, end in credential_spans(line):
        text = _NODE_PROPERTIES.sub(" ", line[start:end].split(" #")[0])
        for item in re.split(r"[\[\]{},]", text):
            values.append(item.rpartition(": ")[2].strip(" \t\"'"))
    return [value for value in values if value]
