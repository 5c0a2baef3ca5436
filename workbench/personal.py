"""Personal data in text: codici fiscali (refused everywhere) and contacts or names (warned about).

One definition for the tables (``workbench.inputs.validation``) and the workshop's free text
(``workbench.workshop.store``). Light on purpose: standard library only.
"""

from __future__ import annotations

import re

__all__ = ["CODICE_FISCALE", "codici_fiscali", "is_codice_fiscale", "personal_data_found"]

_SEP = r"[ .\-]?"
_DIGIT = "[0-9LMNPQRSTUV]"  # digits, or the letters that replace them in «omocodia»
_SHAPE = ([r"[A-Z]"] * 6 + [_DIGIT] * 2 + [r"[A-EHLMPR-T]"] + [_DIGIT] * 2 + [r"[A-Z]"] + [_DIGIT] * 3
          + [r"[A-Z]"])
#: A codice fiscale, written compact or with spaces, dots or dashes between its characters.
CODICE_FISCALE = re.compile(r"(?<![A-Z0-9])" + _SEP.join(_SHAPE) + r"(?![A-Z0-9])", re.IGNORECASE)

_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8,
                 12, 14, 16, 10, 22, 25, 24, 23]))
_EVEN = {c: (int(c) if c.isdigit() else ord(c) - ord("A")) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w.,/])(?:(?:\+|00)39[ .\-/]?)?[03](?:[ .\-/]?\d){5,10}(?![\w,/]|\.\d)")
_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+")
_TITLED_NAME = re.compile(r"\b(?:[Ss]ig(?:\.ra|\.na|nor[ae]?|nora)?|[Dd]ott(?:\.ssa|oressa)?|[Aa]vv|"
                          r"[Pp]rof(?:\.ssa|essoressa)?)\.?\s+[A-ZÀ-Ý][a-zà-ÿ']+")


def _phones(text: str) -> list[str]:
    """Italian numbers: mobiles (3xx, 9–10 digits) and landlines (0x, 8–11 digits), not amounts like 300.000.000."""
    found = []
    for m in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", re.sub(r"^(?:\+|00)39", "", m.group(0)))
        if not _THOUSANDS.fullmatch(m.group(0)) and (9 <= len(digits) <= 10 and digits[1] != "0"
                                                       if digits[0] == "3" else 8 <= len(digits) <= 11):
            found.append(m.group(0))
    return found


def _check_letter(code: str) -> str:
    """The control character (16th) of a codice fiscale from its first 15 characters."""
    total = sum(_ODD[c] if i % 2 == 0 else _EVEN[c] for i, c in enumerate(code[:15]))
    return chr(ord("A") + total % 26)


def is_codice_fiscale(text: str) -> bool:
    """True for a codice fiscale: 16 characters, compact, or spaced and with a valid control letter.

    A compact code is refused even with a wrong control letter (a typo is still personal data); a spaced
    one must pass the check, so that ordinary words and numbers are not mistaken for one.

    >>> is_codice_fiscale("RSSMRA85T10A562S"), is_codice_fiscale("RSS MRA 85T10 A562S")
    (True, True)
    >>> is_codice_fiscale("RSS MRA 85T10 A562X"), is_codice_fiscale("ciao")
    (False, False)
    """
    match = CODICE_FISCALE.fullmatch(text.strip())
    if match is None:
        return False
    compact = re.sub(r"[ .\-]", "", text.strip()).upper()
    return compact == text.strip().upper() or _check_letter(compact) == compact[15]


def codici_fiscali(text: str) -> list[str]:
    """The codici fiscali found in a text, as written.

    >>> codici_fiscali("Il sig. RSSMRA85T10A562S e RSS MRA 85T10 A562S, non PROVA 12 ABC")
    ['RSSMRA85T10A562S', 'RSS MRA 85T10 A562S']
    """
    return [m.group(0) for m in CODICE_FISCALE.finditer(str(text)) if is_codice_fiscale(m.group(0))]


def personal_data_found(text: str) -> list[str]:
    """What in a free text looks like personal data other than a codice fiscale (Italian, for a warning).

    >>> personal_data_found("Chiamare la sig.ra Bianchi al 333 1234567 o a m.rossi@example.org")
    ['un indirizzo e-mail', 'un numero di telefono', 'il nome di una persona']
    >>> personal_data_found("Spesa di 300.000.000 euro nel 2023 per 1.234 utenti (019035)")
    []
    """
    text = str(text)
    found = [("un indirizzo e-mail", _EMAIL.search(text)), ("un numero di telefono", _phones(text)),
             ("il nome di una persona", _TITLED_NAME.search(text))]
    return [label for label, hit in found if hit]
