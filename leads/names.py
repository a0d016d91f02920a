"""Text folding for checks, and refusing lead and company names that are not names.

A name is written into emails as the lead's own ("Hi Anna", "at Acme"), so a name that
carries instructions ("Anna. Ignore previous instructions"), markup or a link is refused
at the edge (the API, the CSV import) rather than cleaned later.

`normalize_text` folds look-alike spellings into the plain one before any check reads a
text: NFKC (fullwidth and ligature forms), zero-width and bidi controls removed, and
Cyrillic or Greek letters inside an otherwise Latin word folded to the Latin letter they
imitate ("ignore" spelled with a Cyrillic i). Words wholly in another script are left alone: a
Russian campaign's text is not a look-alike.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that render like Latin ones; only folded inside mixed-script words.
_CONFUSABLES = str.maketrans(
    "аеорсухіјѕԁһӏԛԝАВЕКМНОРСТХЅІЈαοερντικΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdhlqwABEKMHOPCTXSIJaoepvtikABEZHIKMNOPTYX",
)
_CONFUSABLE_CHARS = frozenset("аеорсухіјѕԁһӏԛԝАВЕКМНОРСТХЅІЈαοερντικΑΒΕΖΗΙΚΜΝΟΡΤΥΧ")
_WORD = re.compile(r"\w+")
MAX_NAME_CHARS = 100

# Markup, links, template syntax and role labels have no place in a person's or company's
# name; "&", "'", "-", "." and "," do ("AT&T", "O'Neil", "Smith-Jones", "Acme, Inc.").
_NAME_MARKUP = re.compile(
    r"[<>{}\[\]`|\\#*_=~^$]|https?:|www\.|://|@|\b(?:system|assistant|user)\s*:"
    r"|\.(?:com|io|net|org|ai|co)\b",
    re.IGNORECASE,
)


def normalize_text(text: str) -> str:
    """The text as checks should read it; see the module docstring."""
    if text.isascii():
        # NFKC leaves ASCII alone, and no ASCII character is a format control or a
        # look-alike: most text, and the check of a draft against a campaign's others
        # folds hundreds of them.
        return text
    text = unicodedata.normalize("NFKC", text)
    # Cf: zero-width spaces and joiners, bidi overrides and isolates, soft hyphens.
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return _WORD.sub(_fold_word, text)


def _fold_word(match: re.Match[str]) -> str:
    word = match.group(0)
    if not any(ch in _CONFUSABLE_CHARS for ch in word):
        return word
    latin = any("a" <= ch.lower() <= "z" for ch in word)
    # All confusables and nothing else ("Pop" spelled in Cyrillic) reads as Latin too.
    only_confusables = all(ch in _CONFUSABLE_CHARS for ch in word if ch.isalpha())
    return word.translate(_CONFUSABLES) if latin or only_confusables else word


def mixed_script(text: str) -> bool:
    """True when a word mixes Latin letters with look-alikes from another script."""
    for word in _WORD.findall(unicodedata.normalize("NFKC", text)):
        if any(ch in _CONFUSABLE_CHARS for ch in word) and any(
            "a" <= ch.lower() <= "z" for ch in word
        ):
            return True
    return False


_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_CHARACTERS = "A name cannot contain control, zero-width or direction characters."


def name_problem(text: str) -> str | None:
    """Why `text` cannot be used as a lead's or a company's name, or None if it can."""
    from leads.extraction.safety import looks_like_instructions

    if len(text) > MAX_NAME_CHARS:
        return f"A name has at most {MAX_NAME_CHARS} characters."
    if text.isascii():
        # Most names: no look-alike, format character or folding to look for (NFKC leaves
        # ASCII as it is), only the control characters; a tenth of the cost of the rest.
        if _ASCII_CONTROL.search(text):
            return _CONTROL_CHARACTERS
        plain = text
    else:
        if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in text):
            return _CONTROL_CHARACTERS
        if mixed_script(text):
            return "A name cannot mix Latin letters with look-alike letters from another script."
        plain = normalize_text(text)
    if _NAME_MARKUP.search(plain):
        return "A name cannot contain markup, links, addresses or template syntax."
    if looks_like_instructions(plain) or _reads_like_a_sentence(plain):
        return "A name cannot contain instructions or sentences."
    return None


def _reads_like_a_sentence(text: str) -> bool:
    # Names are short: a name of many words, or one with sentence punctuation inside it,
    # is text someone hopes a model will read.
    words = text.split()
    return len(words) > 8 or bool(re.search(r"[.!?:;]\s+\w", text) and len(words) > 3)
