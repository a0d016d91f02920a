"""The new part of a reply (no quoted history, no signature) and the language it is in."""

from __future__ import annotations

import re

from langdetect import DetectorFactory, LangDetectException, detect_langs
from mailparser_reply import EmailMessage, EmailReply

MAX_VISIBLE_CHARS = 20_000
# The new part of a reply sits at the top; scanning more of a long body only costs time.
MAX_SCANNED_CHARS = 100_000
LANGUAGES = ("en", "de", "fr", "es", "nl", "it", "pt", "sv", "pl", "da")

# langdetect samples at random; a fixed seed makes the same text give the same answer.
DetectorFactory.seed = 0

# Each is matched against a whole line (or two joined). These are the quote headers
# mail-parser-reply 1.36 misses: it has no Portuguese, its Spanish, Dutch and Polish patterns
# miss Gmail's and Apple Mail's current wording, and none allow a header split over two lines.
_QUOTE_HEADERS: dict[str, str] = {
    "en": r"On\s.{4,300}?\bwrote\s?:",
    "de": r"Am\s.{4,300}?\bschrieb\b.{0,200}?:",
    "fr": r"Le\s.{4,300}?\ba\s+écrit\s?:",
    "es": r"El\s.{4,300}?\bescribió\s?:",
    "nl": r"Op\s.{4,300}?\b(?:schreef\b.{0,200}?|het volgende geschreven\s?):",
    "it": r"Il\s.{4,300}?\bha\s+scritto\s?:",
    "pt": r"(?:Em|No\sdia)\s.{4,300}?\bescreveu\s?:",
    "sv": r"(?:Den\s)?.{4,300}?\bskrev\b.{0,200}?:",
    "pl": r"(?:(?:W\sdniu\s|Dnia\s)?.{4,300}?\b(?:napisał\(a\)|napisała?|pisze)|"
    r"Wiadomość napisana przez\s.{4,300}?\bw dniu\b.{4,100}?)\s?:",
    "da": r"Den\s.{4,300}?\bskrev\b.{0,200}?:",
}
_HEADER_RES = {
    lang: re.compile(r"[ \t>]*" + pattern + r"[ \t]*") for lang, pattern in _QUOTE_HEADERS.items()
}
# Outlook and friends: a separator line, or a block of From/Sent/To/Subject header lines.
_SEPARATORS = re.compile(
    r"^[ \t>]*(?:-{3,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|"
    r"Mensaje original|Oorspronkelijk bericht|Messaggio originale|Mensagem original|"
    r"Originalmeddelande|Wiadomość oryginalna|Forwarded message|Weitergeleitete Nachricht)"
    r"\s*-{3,}|_{20,}|-{20,}|Begin forwarded message:|Anfang der weitergeleiteten Nachricht:|"
    r"Début du message réexpédié :|Inicio del mensaje reenviado:)[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
_FIELD = (
    r"(?:From|Von|De|Van|Da|Från|Od|Fra|Sent|Gesendet|Envoyé|Enviado|Verzonden|Inviato|"
    r"Skickat|Wysłano|Date|Datum|Fecha|Data|To|An|À|Para|Aan|A|Till|Do|Til|Subject|Betreff|"
    r"Objet|Asunto|Onderwerp|Oggetto|Assunto|Ämne|Temat|Emne|Cc)"
)
_HEADER_BLOCK = re.compile(
    rf"^[ \t>*]*{_FIELD}\s*:[^\n]*\n(?:[ \t>*]*\n)?[ \t>*]*{_FIELD}\s*:", re.MULTILINE
)
_MOBILE_FOOTER = re.compile(
    r"^[ \t]*(?:Sent from my \w+|Sent from (?:Mail|Outlook) for \w+|Get Outlook for \w+|"
    r"Sent from Yahoo Mail.*|Von meinem \w+ gesendet|Gesendet von meinem \w+|"
    r"Envoyé de mon \w+|Enviado desde mi \w+|Enviado do meu \w+|Enviado de meu \w+|"
    r"Verzonden (?:vanaf|met) mijn \w+|Inviato da(?:l mio)? \w+|Skickat från min \w+|"
    r"Wysłane z (?:mojego )?\w+.*|Sendt fra min \w+)\W*$",
    re.MULTILINE | re.IGNORECASE,
)
# Sign-offs, per language; what follows one is a signature. mail-parser-reply has no
# Portuguese and misses several common closings.
_SIGN_OFF = re.compile(
    r"^[ \t]*(?:--|Best(?: regards| wishes)?|Kind regards|Regards|Warm regards|Thanks(?: again)?|"
    r"Thank you|Cheers|Sincerely|Mit freundlichen Grüßen|Viele Grüße|Beste Grüße|"
    r"Liebe Grüße|(?:Freundliche )?Grüße|LG|MfG|Cordialement|Bien à vous|Bien cordialement|"
    r"Salutations|Saludos(?: cordiales)?|Un saludo|Atentamente|Met vriendelijke groet(?:en)?|"
    r"Groeten|Groetjes|Mvg|Cordiali saluti|Distinti saluti|Saluti|Un saluto|"
    r"Atenciosamente|Cumprimentos|Abraços?|Obrigad[oa]|Med vänliga hälsningar|Vänliga hälsningar|"
    r"Mvh|Hälsningar|Z poważaniem|Pozdrawiam|Pozdrowienia)[ \t]*[,.!]?[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
_PARSER_LANGUAGES = ("en", "de", "fr", "es", "nl", "it", "pl", "sv", "da")
_MAX_SIGNATURE_LINES = 15
_MAX_SIGN_OFF_CHARS = 30
_SHORT_TEXT_CHARS = 40


def visible_text(body: str) -> tuple[str, str]:
    """The new part of a reply, and the language of the quote header that ended it (or "")."""
    text = body[:MAX_SCANNED_CHARS].replace("\r\n", "\n").replace("\r", "\n")
    new, header_language = _cut_history(text)
    text = _cut_signature(new if new.strip() else _bottom_posted(text))
    if text.strip():
        # keep_hyphen_lists: "- pricing\n- SSO" is a list in the reply, not a signature.
        message = EmailMessage(text=text, languages=list(_PARSER_LANGUAGES), keep_hyphen_lists=True)
        replies = message.read().replies
        if replies:
            text = _library_body(replies[0]) or text
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.splitlines()))
    return text.strip()[:MAX_VISIBLE_CHARS], header_language


def _library_body(reply: EmailReply) -> str:
    # The library starts a signature at any line beginning with a closing word, so
    # "Thanks, but we're not interested." would go; a real sign-off line is short.
    signature = reply.signatures.strip()
    if signature and len(signature.splitlines()[0]) > _MAX_SIGN_OFF_CHARS:
        return str(reply.full_body)
    return str(reply.body)


def _cut_history(text: str) -> tuple[str, str]:
    cut, language = _first_quote_header(text)
    for pattern in (_SEPARATORS, _HEADER_BLOCK):
        found = pattern.search(text)
        if found and found.start() < cut:
            cut = found.start()
    quoted = re.search(r"^>", text, re.MULTILINE)
    if quoted and quoted.start() < cut and text[: quoted.start()].strip():
        cut = quoted.start()
    return text[:cut], language


def _bottom_posted(text: str) -> str:
    """The answer written below a ">"-quoted message (Thunderbird and mailing-list habit)."""
    lines = text.split("\n")
    first_quoted = next((i for i, line in enumerate(lines) if line.startswith(">")), None)
    if first_quoted is None:
        return ""  # Outlook-style history has no markers: nothing below it is new
    below = [line for line in lines[first_quoted:] if not line.startswith(">")]
    return _cut_history("\n".join(below))[0]


def _first_quote_header(text: str) -> tuple[int, str]:
    """Where the first "On ... wrote:" line starts, in any language, and that language.

    Clients wrap a long header over two lines, so each line is also tried joined to the next.
    """
    lines = text.split("\n")
    offset = 0
    for index, line in enumerate(lines):
        if line.strip():
            following = lines[index + 1] if index + 1 < len(lines) else ""
            for candidate in (line, f"{line} {following}"):
                for lang, pattern in _HEADER_RES.items():
                    if pattern.fullmatch(candidate):
                        return offset, lang
        offset += len(line) + 1
    return len(text), ""


def _cut_signature(text: str) -> str:
    text = _MOBILE_FOOTER.split(text, maxsplit=1)[0]
    for found in _SIGN_OFF.finditer(text):
        rest = [line for line in text[found.end() :].splitlines() if line.strip()]
        # "Thanks." followed by a whole paragraph is a sentence, not the start of a signature.
        if text[: found.start()].strip() and len(rest) <= _MAX_SIGNATURE_LINES:
            return text[: found.start()]
    return text


def detect_language(text: str, hint: str = "") -> str:
    """ISO 639-1 of the text among the languages we serve; the quote header's when too short."""
    letters = re.sub(r"[\W\d_]+", " ", text).strip()
    # Below a sentence or two, n-gram guesses are noise; the quote header is the better clue.
    if len(letters) < 12 or (hint and len(letters) < _SHORT_TEXT_CHARS):
        return hint
    try:
        guesses = detect_langs(letters[:2000])
    except LangDetectException:
        return hint
    for guess in guesses:
        if guess.lang in LANGUAGES and guess.prob >= 0.5:
            return str(guess.lang)
    return hint
