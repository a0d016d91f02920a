"""The rules classifier: phrase lists in the languages we sell in, checked in a fixed order.

The order is the precedence: "please remove me" is an unsubscribe however polite, "not
right now" is not a no, and "not interested" wins over the "interested" inside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from outreach.replies.decode import checked_address, clean_line
from outreach.replies.types import Classification, ParsedEmail


def _phrases(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"(?:" + "|".join(patterns) + r")", re.IGNORECASE | re.MULTILINE)


UNSUBSCRIBE = _phrases(
    r"\bunsubscribe\b",
    r"\bremove (?:me|us|my (?:e-?mail|address))\b",
    r"\btake (?:me|us) off\b",
    r"\bstop (?:e-?mailing|emailing|contacting|sending|writing)\b",
    r"\b(?:do not|don'?t|never) (?:e-?mail|contact|write to) (?:me|us)\b",
    r"\bopt(?:ed)? (?:me )?out\b",
    r"\bno more (?:e-?mails|emails|messages)\b",
    r"\b(?:bitte )?(?:austragen|abmelden|entfernen sie mich)\b",
    r"\bkeine (?:weiteren )?(?:e-?mails|nachrichten)\b",
    r"\bdésinscri|\bdésabonn|\bretirez[- ]moi\b|\bne plus (?:me )?(?:contacter|écrire)\b",
    r"\bdarme de baja\b|\bdar(?:me)? de baja\b|\beliminarme\b|\bno me (?:escriba|contacte)",
    r"\bafmelden\b|\buitschrijven\b|\bverwijder (?:mij|me)\b",
    r"\bcancellarmi\b|\bdisiscriv|\brimuover(?:mi|e il mio)\b|\bnon (?:mi )?contatt",
    r"\bdescadastr|\bremover meu e-?mail\b|\bparem de (?:me )?enviar\b|\bnão me (?:envie|contate)",
    r"\btragen sie (?:mich|uns)\b[^.!?]{0,30}\baus\b",
    r"\bavregistrera\b|\bta bort mig\b|\bwypisz\b|\busuń mnie\b|\busunięcie\b|\bwypisanie\b",
)
WRONG_PERSON = _phrases(
    r"\bnot the (?:right|correct|best|appropriate) (?:person|contact)\b",
    r"\bwrong (?:person|contact)\b",
    r"\bno longer (?:with|at|work(?:ing)? (?:for|at))\b",
    r"\bleft the company\b",
    r"\bforward(?:ing|ed)? (?:this |it |your (?:email|note|message) )?to (?:my|our) colleague\b",
    r"\bbei (?:meinem|meiner) (?:kollegen|kollegin)\b|\bnão é comigo\b|\bno es conmigo\b",
    r"\b(?:please )?(?:contact|reach out to|speak (?:with|to)|talk to) my colleague\b",
    r"\b(?:the right|the best|a better) (?:person|contact) (?:is|would be|for this)\b",
    r"\b(?:handles|is responsible for|is in charge of|owns) (?:this|that|these|our|purchasing)\b",
    r"\bnicht (?:der|die) (?:richtige|zuständige) (?:ansprechpartner(?:in)?|person)\b",
    r"\bnicht zuständig\b|\bzuständig ist\b|\bwenden sie sich (?:bitte )?an\b",
    r"\bce n'est pas moi qui\b|\bvous pouvez écrire à\b|\bpas la bonne personne\b",
    r"\bpas le bon interlocuteur\b|\bcontactez plutôt\b",
    r"\bno soy la persona (?:adecuada|indicada|correcta)\b|\bcontacte con\b",
    r"\bniet de juiste persoon\b|\bneem contact op met\b",
    r"\bnon sono la persona giusta\b|\bnon mi occupo\b",
    r"\bnão sou a pessoa (?:certa|correta|indicada)\b|\bfale com\b",
)
NOT_NOW = _phrases(
    r"\bnot (?:right )?now\b",
    r"\bnot at (?:the|this) (?:moment|time)\b",
    r"\bnot (?:a priority|the right time)\b",
    r"\b(?:maybe|perhaps|try|check back|reach out|follow up|circle back|ping me|come back)\b"
    r"[^.?!]{0,40}\b(?:later|next (?:year|quarter|month)|in (?:q[1-4]|\d+ (?:months|weeks))|"
    r"in (?:the )?(?:spring|summer|autumn|fall|winter|new year)|after)\b",
    r"\b(?:next|later this) (?:year|quarter)\b",
    r"\b(?:no|don'?t have (?:the |any )?)budget\b[^.!?]{0,40}\b(?:until|till|before|this)\b",
    r"\bcircle back\b|\bsem orçamento\b|\bde novo em\b|\bmais tarde\b",
    r"\bin q[1-4]\b|\bbudget (?:is )?(?:frozen|closed|spent)\b|\bno budget (?:this|right)\b",
    r"\bderzeit nicht\b|\bmomentan nicht\b|\baktuell nicht\b|\bzurzeit nicht\b",
    r"\bim nächsten (?:jahr|quartal)\b|\bspäter (?:noch )?einmal\b",
    r"\bpas pour le moment\b|\bpas maintenant\b|\bpas en ce moment\b|\bplus tard\b",
    r"\bl'année prochaine\b|\bau prochain trimestre\b",
    r"\bahora no\b|\ben este momento no\b|\bmás adelante\b|\bel próximo (?:año|trimestre)\b",
    r"\bnu (?:even )?niet\b|\bop dit moment niet\b|\blater (?:dit|volgend) jaar\b|\bvolgend jaar\b",
    r"\bnon (?:ora|adesso|al momento|in questo momento)\b|\bpiù avanti\b|\bl'anno prossimo\b",
    r"\bal momento non\b|\bci risentiamo\b|\bper ora no\b",
    r"\bagora não\b|\bno momento não\b|\bmais para frente\b|\bno próximo ano\b",
    r"\binte (?:just )?nu\b|\bnästa år\b|\bnie teraz\b|\bw przyszłym roku\b",
)
NOT_INTERESTED = _phrases(
    r"\bnot (?:at all |really |very |that )?interested\b|\bno interest\b",
    r"\bnot (?:a )?(?:fit|good fit|relevant)\b",
    r"\bno,? thanks?\b|\bno,? thank you\b|\bwe(?:'re| are) (?:all )?(?:good|set)\b",
    r"\bwe (?:already )?(?:have|use) (?:a|an|our own) (?:solution|tool|vendor|provider)\b",
    r"\bnot (?:looking|in the market)\b|\b(?:i|we)'?ll pass\b|\bno need\b",
    r"\b(?:is not|isn'?t|not|aren'?t) (?:a (?:good |great )?fit|for us|something we)\b",
    r"\balready (?:using|use|have|work with)\b[^.!?]{0,40}\b(?:happy|satisfied)\b",
    r"\bkein(?:e)? interesse\b|\bnicht interessiert\b|\bkein(?:en)? bedarf\b|\bnein,? danke\b",
    r"\bpas intéressée?s?\b|\bça ne m'intéresse pas\b|\bnon merci\b|\bpas besoin\b",
    r"\bno (?:nos |me )?interesa\b|\bno estamos interesados\b|\bno,? gracias\b",
    r"\bgeen (?:behoefte|interesse)\b|\bniet geïnteresseerd\b|\bnee,? bedankt\b",
    r"\bnon (?:sono |siamo )?interessat[oi]\b|\bnon ci interessa\b|\bno,? grazie\b",
    r"\bnão (?:tenho|temos) interesse\b|\bnão (?:estou|estamos) interessad[oa]s?\b",
    r"\bnão,? obrigad[oa]\b|\binte intresserad(?:e)?\b|\bnej tack\b|\bnie jestem zainteresowan",
)
MEETING = _phrases(
    r"\b(?:call|meeting|meet|demo|chat|talk|zoom|teams|hop on|catch up|calendar|calendly)\b"
    r"[^.!?]{0,60}\b(?:monday|tuesday|wednesday|thursday|friday|tomorrow|next week|this week|"
    r"\d{1,2}(?::\d\d)?\s?(?:am|pm)|at \d{1,2}\b|[01]?\d:\d\d)",
    r"\b(?:monday|tuesday|wednesday|thursday|friday|tomorrow|next week)\b[^.!?]{0,60}"
    r"\b(?:call|meeting|meet|demo|chat|talk|works|work for you|free|available)\b",
    r"\b(?:schedule|book|set up|arrange|find) (?:a )?(?:time|call|meeting|demo|slot)\b",
    r"\b(?:monday|tuesday|wednesday|thursday|friday|tomorrow)\b[^.!?\n]{0,20}"
    r"\b\d{1,2}(?::\d\d)?\s?(?:am|pm)\b",
    r"\bsend (?:me )?(?:a |an )?(?:calendar )?invite\b|\bmy calendar\b|\bcalendly\.com\b",
    r"\btermin\b|\btelefonat\b|\b(?:montag|dienstag|mittwoch|donnerstag|freitag|morgen)\b"
    r"[^.!?]{0,40}\b(?:uhr|passt|telefonieren|sprechen)\b",
    r"\brendez-vous\b|\bun appel\b|\bune (?:démo|réunion|visio)\b|"
    r"\b(?:lundi|mardi|mercredi|jeudi|vendredi|demain)\b[^.!?]{0,40}\b(?:\d+h|heures?|appel)\b",
    r"\buna (?:llamada|videollamada|reunión|demo)\b|\bvideollamada\b|\breunirnos\b|"
    r"\b(?:lunes|martes|miércoles|jueves|viernes|mañana)\b"
    r"[^.!?]{0,40}\b(?:a las|hablar|llamada|por la (?:mañana|tarde))\b",
    r"\bafspraak\b|\b(?:gesprek|belafspraak|videocall)\b[^.!?]{0,40}\b(?:in)?plannen\b|"
    r"\b(?:maandag|dinsdag|woensdag|donderdag|vrijdag|morgen)\b[^.!?]{0,40}\b(?:uur|bellen)\b",
    r"\buna (?:chiamata|call|riunione|demo)\b|\bfissare\b|"
    r"\b(?:lunedì|martedì|mercoledì|giovedì|venerdì|domani)\b[^.!?]{0,40}\b(?:alle|sentirci)\b",
    r"\buma (?:reunião|chamada|ligação|demo)\b|\bmarcar\b|\bagendar\b",
    r"\bett (?:möte|samtal)\b|\bspotkanie\b|\brozmow[ay]\b[^.!?]{0,30}\b(?:wtorek|środ|czwart)",
)
INTERESTED = _phrases(
    r"\b(?:i'?m|i am|we'?re|we are|would be|i'?d be|sounds?) (?:very |quite |definitely )?"
    r"(?:interested|interesting|intrigued|great|good)\b",
    r"\btell me (?:more|how)\b|\blooking for something like this\b",
    r"\bsend (?:me |us |over )?(?:the |your |some |a )?(?:more )?"
    r"(?:info|information|details|pricing|deck|slides|brochure)\b",
    r"\blearn more\b|\bhappy to (?:chat|talk|learn)\b|\blet'?s (?:talk|chat|connect)\b",
    r"^\W*interested\b|\bi'?m in\b|\byes,? please\b|\bkeen to\b",
    r"\binterested (?:to|in (?:hearing|learning|a))\b",
    r"\binteressiert\b|\bklingt (?:gut|spannend|interessant)\b|\bgerne mehr\b",
    r"\bmehr (?:infos|informationen)\b",
    r"\bintéressée?s?\b|\bça m'intéresse\b|\bplus d'informations\b|\bavec plaisir\b",
    r"\binteresad[oa]s?\b|\bme interesa\b|\bmás información\b|\bsuena (?:bien|interesante)\b",
    r"\bgeïnteresseerd\b|\bklinkt (?:goed|interessant)\b|\bmeer informatie\b|\bja,? graag\b",
    r"\bstuur\b[^.!?]{0,25}\b(?:informatie|info)\b",
    r"\bsembra interessante\b|\bqualche dettaglio\b|\binteressat[oi]\b|\bmi interessa\b",
    r"\bmaggiori informazioni\b|\bvolentieri\b",
    r"\binteressad[oa]s?\b|\btenho interesse\b|\bmais informações\b",
    r"\bparece (?:bom|interessante)\b",
    r"\bintresserad\b|\blåter (?:bra|intressant|spännande)\b|\bberätta gärna mer\b",
    r"\bzainteresowan[ya]\b|\bbrzmi (?:dobrze|ciekawie)\b",
)
QUESTION = re.compile(r"\?|^\s*(?:how|what|why|who|which|when|where|do|does|is|are|can)\b", re.I)


@dataclass(frozen=True)
class _Rule:
    category: str
    pattern: re.Pattern[str]
    confidence: float


_RULES = (
    _Rule("unsubscribe", UNSUBSCRIBE, 0.9),
    _Rule("wrong_person", WRONG_PERSON, 0.8),
    _Rule("not_now", NOT_NOW, 0.75),
    _Rule("not_interested", NOT_INTERESTED, 0.8),
    _Rule("meeting_request", MEETING, 0.8),
    _Rule("interested", INTERESTED, 0.7),
)


def classify(parsed: ParsedEmail) -> Classification:
    for decide in _DECIDERS:
        found = decide(parsed)
        if found:
            return found
    return Classification("other", 0.3, "no rule matched")


def _from_parse(parsed: ParsedEmail) -> Classification | None:
    if parsed.is_bounce:
        return Classification("bounce", 0.99, "delivery failure report")
    if parsed.is_auto_reply:
        return Classification("auto_reply", 0.95, "auto-reply headers or subject")
    return None


def _from_phrases(parsed: ParsedEmail) -> Classification | None:
    text = _subject_text(parsed.subject) + "\n" + parsed.visible_text
    for rule in _RULES:
        found = rule.pattern.search(text)
        if found:
            referral = referral_from(parsed) if rule.category == "wrong_person" else {}
            reason = f'said "{clean_line(found.group(0), 60)}"'
            return Classification(rule.category, rule.confidence, reason, referral)
    return None


def _from_question(parsed: ParsedEmail) -> Classification | None:
    if any(QUESTION.search(line) for line in parsed.visible_text.splitlines()):
        return Classification("question", 0.6, "asks a question")
    return None


_DECIDERS: tuple[Callable[[ParsedEmail], Classification | None], ...] = (
    _from_parse,
    _from_phrases,
    _from_question,
)


def _subject_text(subject: str) -> str:
    """The sender's own subject words only: "Re: <our subject>" says nothing about them."""
    return "" if re.match(r"^\s*(?:re|aw|sv|antw|r|res|rif|odp|vs)\s*:", subject, re.I) else subject


_REFERRAL_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_NAME = (
    r"((?:[A-Z][a-zà-ÿ'’-]+|[A-Z]\.)(?:\s(?:van|de|der|von|da|di|la|le)?\s?[A-Z][a-zà-ÿ'’-]+){1,2})"
)
# The verbs in any case, the name itself capitalised: that is what tells a name apart.
_REFERRAL_NAME = re.compile(
    r"(?i:contact|reach out to|speak (?:with|to)|talk to|email|e-mail|write to|forward(?:ed)? "
    r"(?:this|it|your (?:email|note|message)) to|cc'?(?:e)?d|colleague|kollegin|kollegen|"
    r"wenden sie sich(?: bitte)? an|écrire à|écrivez à|contactez(?: plutôt)?|contacter|"
    r"contacte con|contacte a|"
    r"contacta a|contacta con|hablar con|neem contact op met|contatti|contattare|fale com|"
    r"entre em contato com|is|ist|est|es|handles|forward(?:ing|ed)? (?:this |it )?to)\s+"
    r"(?i:my colleague\s+|our\s+|unser(?:e|em)?\s+|meine[mr]? kolleg(?:en|in)\s+|a\s+|o\s+)?"
    + _NAME
)
# Or no verb at all: "Elena Rossi, our Head of Operations" or "Sam Patel at sam@acme.com".
_NAME_BEFORE = re.compile(
    _NAME + r"(?=,?\s+(?:\(|<|at\s+)?[A-Za-z0-9._%+'-]+@|,\s+(?i:our|is our|unser|notre|"
    r"nuestr[oa]|onze|il nostro|la nostra|nosso|nossa)\s)"
)
_TITLE = re.compile(
    r"(?:our|is our|unser(?:e|em)?|notre|nuestr[oa]|onze|il nostro|la nostra|nosso|nossa|,)\s+"
    r"((?:Head|VP|Vice President|Director|Manager|Chief|CEO|CTO|CFO|COO|CMO|CRO|Lead|"
    r"Leiter(?:in)?|Responsable|Directeur|Directrice|Director[a]?|Gerente|Hoofd|"
    r"Responsabile|Diretor[a]?|Chef(?:in)?)\b[^.,;()\n]{0,60})"
)


def referral_from(parsed: ParsedEmail) -> dict[str, str]:
    """{name, email, title} of the person the reply sends us to, with what it names."""
    text = parsed.visible_text
    referral: dict[str, str] = {}
    for match in _REFERRAL_EMAIL.finditer(text):
        address = checked_address(match.group(0))
        if address and address != parsed.from_email:
            referral["email"] = address
            break
    name = _REFERRAL_NAME.search(text) or _NAME_BEFORE.search(text)
    if name and name.group(1).split()[0] not in ("The", "This", "He", "She", "Our"):
        referral["name"] = clean_line(name.group(1), 100)
    title = _TITLE.search(text)
    if title:
        referral["title"] = clean_line(title.group(1), 100)
    return referral
