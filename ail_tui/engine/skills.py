"""The built-in skills (brief §2): fixed prompt templates over ``{{ last_response }}``."""

from __future__ import annotations

BUILTIN_SKILLS = {
    "ail/code_review": (
        "Review the following work as a careful senior engineer. Point out bugs, risky "
        "changes and missing tests, most important first.\n\n{{ last_response }}"
    ),
    "ail/test_writer": (
        "Write focused automated tests for the following work, covering its edge cases "
        "and failure paths.\n\n{{ last_response }}"
    ),
    "ail/security_audit": (
        "Audit the following work for security problems: injection, secrets, unsafe "
        "input handling, excessive permissions. Rank findings by severity.\n\n"
        "{{ last_response }}"
    ),
    "ail/janitor": (
        "Tidy the following work: remove dead code, fix naming and formatting, keep the "
        "behaviour the same.\n\n{{ last_response }}"
    ),
}


def skill_template(name: str) -> str | None:
    """The prompt template of a built-in skill, or None when the skill is unknown."""
    return BUILTIN_SKILLS.get(name.strip())
