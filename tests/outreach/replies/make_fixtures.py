# ruff: noqa: E501  (message text is data: real clients write lines this long)
"""Writes the .eml fixtures and expected.json: `python tests/outreach/replies/make_fixtures.py`.

The files are committed; this script is how they were made, kept so a new case is one line.
Each message is written the way its client or server writes it (header order, MIME layout,
transfer encoding, quote header wording), not through the stdlib's email generator.
"""

from __future__ import annotations

import base64
import hashlib
import json
import quopri
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "fixtures"
US = "Bob Seller <bob@seller.io>"
DATE = "Tue, 1 Dec 2026 09:12:03 +0100"
OUR_ID = "<20261130100000.1a2b3c@seller.io>"
SUBJECT = "Quick question about your pipeline"
PITCH = "Hi,\nwe help sales teams like yours book more meetings.\nWorth a chat?\n\nBob"

EXPECTED: dict[str, dict[str, Any]] = {}


def put(kind: str, name: str, raw: str | bytes, **expected: Any) -> None:
    path = HERE / kind / f"{name}.eml"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (
        raw if isinstance(raw, bytes) else raw.replace("\r\n", "\n").replace("\n", "\r\n").encode()
    )
    path.write_bytes(data)
    EXPECTED[f"{kind}/{name}.eml"] = {"kind": kind, **expected}


def qp(text: str) -> str:
    return quopri.encodestring(text.encode("utf-8")).decode("ascii")


def b64(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    encoded = base64.b64encode(data).decode()
    return "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


def quoted(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines())


def html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def html_lines(text: str) -> str:
    return "".join(f"<div>{html_escape(line) or '<br>'}</div>" for line in text.splitlines())


def common(frm: str, subject: str, msgid: str, extra: str = "") -> str:
    return (
        f"From: {frm}\nTo: {US}\nSubject: {subject}\nDate: {DATE}\nMessage-ID: <{msgid}>\n"
        f"In-Reply-To: {OUR_ID}\nReferences: {OUR_ID}\n{extra}MIME-Version: 1.0\n"
    )


# --- clients -------------------------------------------------------------------------


def gmail(frm: str, body: str, header_line: str, subject: str = "Re: " + SUBJECT) -> str:
    plain = f"{body}\n\n{header_line}\n\n{quoted(PITCH)}\n"
    html = (
        f'<div dir="ltr">{html_lines(body)}</div><br><div class="gmail_quote">'
        f'<div dir="ltr" class="gmail_attr">{html_escape(header_line)}<br></div>'
        f'<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">'
        f"{html_lines(PITCH)}</blockquote></div>\n"
    )
    return (
        "Received: by mail-lf1-f41.google.com with SMTP id 2adb3069b0e04; Tue, 01 Dec 2026 00:12:14 -0800\n"
        + common(frm, subject, "CAJx7kQ9dM2f@mail.gmail.com")
        + 'Content-Type: multipart/alternative; boundary="0000000000004f1e2d05f1a2b3c4"\n\n'
        "--0000000000004f1e2d05f1a2b3c4\n"
        'Content-Type: text/plain; charset="UTF-8"\nContent-Transfer-Encoding: quoted-printable\n\n'
        f"{qp(plain)}\n"
        "--0000000000004f1e2d05f1a2b3c4\n"
        'Content-Type: text/html; charset="UTF-8"\nContent-Transfer-Encoding: quoted-printable\n\n'
        f"{qp(html)}\n"
        "--0000000000004f1e2d05f1a2b3c4--\n"
    )


OUTLOOK_FIELDS = {
    "en": ("From", "Sent", "To", "Subject", "Monday, November 30, 2026 10:00 AM"),
    "de": ("Von", "Gesendet", "An", "Betreff", "Montag, 30. November 2026 10:00"),
    "fr": ("De", "Envoyé", "À", "Objet", "lundi 30 novembre 2026 10:00"),
    "es": ("De", "Enviado el", "Para", "Asunto", "lunes, 30 de noviembre de 2026 10:00"),
    "nl": ("Van", "Verzonden", "Aan", "Onderwerp", "maandag 30 november 2026 10:00"),
    "it": ("Da", "Inviato", "A", "Oggetto", "lunedì 30 novembre 2026 10:00"),
    "pt": ("De", "Enviado", "Para", "Assunto", "segunda-feira, 30 de novembro de 2026 10:00"),
    "sv": ("Från", "Skickat", "Till", "Ämne", "den 30 november 2026 10:00"),
    "pl": ("Od", "Wysłano", "Do", "Temat", "poniedziałek, 30 listopada 2026 10:00"),
}


def outlook(frm: str, body: str, lang: str = "en", subject: str = "RE: " + SUBJECT) -> str:
    f_from, f_sent, f_to, f_subj, when = OUTLOOK_FIELDS[lang]
    head = f"{f_from}: {US}\n{f_sent}: {when}\n{f_to}: {frm}\n{f_subj}: {SUBJECT}"
    plain = f"{body}\n\n________________________________\n{head}\n\n{PITCH}\n"
    head_html = "<br>".join(
        f"<b>{html_escape(line.split(':', 1)[0])}:</b>{html_escape(line.split(':', 1)[1])}"
        for line in head.splitlines()
    )
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} </style>'
        '</head><body dir="ltr"><div class="elementToProof" style="font-family: Aptos, sans-serif;">'
        f"{html_lines(body)}</div>"
        '<div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">'
        f'<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt">'
        f"{head_html}</font><div>&nbsp;</div></div><div>{html_lines(PITCH)}</div></body></html>\n"
    )
    return (
        "Received: from AM9PR07MB7890.eurprd07.prod.outlook.com (2603:10a6:20b:3c1::9) by\n"
        " AM8PR07MB8123.eurprd07.prod.outlook.com with HTTPS; Tue, 1 Dec 2026 08:12:05 +0000\n"
        + common(
            frm,
            subject,
            "AM9PR07MB7890A1B2C3D4E5F6A7B8C9D0E1F2A@AM9PR07MB7890.eurprd07.prod.outlook.com",
            f"Thread-Topic: {SUBJECT}\nThread-Index: AQHbQ1x2k3v4Z5a6b7c8d9e0f1g2h3==\n"
            f"Content-Language: {lang}-{lang.upper() if lang != 'en' else 'US'}\n"
            "X-MS-Has-Attach:\nX-MS-TNEF-Correlator:\nX-Auto-Response-Suppress: All\n"
            "X-MS-Exchange-Organization-AuthAs: Internal\n",
        )
        + 'Content-Type: multipart/alternative;\n\tboundary="_000_AM9PR07MB7890A1B2C3D4E5F6_"\n\n'
        "--_000_AM9PR07MB7890A1B2C3D4E5F6_\n"
        'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: base64\n\n'
        f"{b64(plain)}\n\n"
        "--_000_AM9PR07MB7890A1B2C3D4E5F6_\n"
        'Content-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n\n'
        f"{qp(html)}\n"
        "--_000_AM9PR07MB7890A1B2C3D4E5F6_--\n"
    )


def apple(frm: str, body: str, header_line: str, subject: str = "Re: " + SUBJECT) -> str:
    plain = f"{body}\n\n{quoted(header_line + chr(10) + chr(10) + PITCH)}\n"
    html = (
        '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
        '<body style="overflow-wrap: break-word;">'
        f'{html_lines(body)}<div><br><blockquote type="cite"><div>{html_escape(header_line)}</div>'
        f"<br>{html_lines(PITCH)}</blockquote></div></body></html>\n"
    )
    return (
        common(
            frm,
            subject,
            "8F2C1B4E-3A5D-4E6F-9A7B-1C2D3E4F5A6B@acme.com",
            "X-Mailer: Apple Mail (2.3774.300.61.1.2)\n",
        )
        + 'Content-Type: multipart/alternative;\n\tboundary="Apple-Mail=_7A1B2C3D-4E5F-6A7B-8C9D-0E1F2A3B4C5D"\n\n'
        "--Apple-Mail=_7A1B2C3D-4E5F-6A7B-8C9D-0E1F2A3B4C5D\n"
        "Content-Transfer-Encoding: quoted-printable\nContent-Type: text/plain;\n\tcharset=utf-8\n\n"
        f"{qp(plain)}\n"
        "--Apple-Mail=_7A1B2C3D-4E5F-6A7B-8C9D-0E1F2A3B4C5D\n"
        "Content-Transfer-Encoding: quoted-printable\nContent-Type: text/html;\n\tcharset=utf-8\n\n"
        f"{qp(html)}\n"
        "--Apple-Mail=_7A1B2C3D-4E5F-6A7B-8C9D-0E1F2A3B4C5D--\n"
    )


def iphone(
    frm: str, body: str, footer: str, header_line: str, subject: str = "Re: " + SUBJECT
) -> str:
    plain = f"{body}\n\n{footer}\n\n{quoted(header_line + chr(10) + chr(10) + PITCH)}\n"
    return (
        common(
            frm,
            subject,
            "A1B2C3D4-E5F6-4711-8899-AABBCCDDEEFF@acme.com",
            "X-Mailer: iPhone Mail (22B91)\n",
        )
        + "Content-Type: text/plain;\n\tcharset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        f"{qp(plain)}\n"
    )


def thunderbird(frm: str, body: str, header_line: str, subject: str = "Re: " + SUBJECT) -> str:
    plain = (
        f"{body}\n\n{header_line}\n{quoted(PITCH)}\n\n-- \nAcme GmbH, Musterstr. 1, 10115 Berlin\n"
    )
    return (
        common(
            frm,
            subject,
            "5b1e2c3d-4f5a-6b7c-8d9e-0f1a2b3c4d5e@acme.com",
            "User-Agent: Mozilla Thunderbird\nContent-Language: en-US\n",
        )
        + "Content-Type: text/plain; charset=UTF-8; format=flowed\nContent-Transfer-Encoding: 8bit\n\n"
        + plain
    )


def html_only(
    frm: str, body: str, quote_html: str, subject: str = "Re: " + SUBJECT, cte: str = "base64"
) -> str:
    html = f"<html><body><p>{'</p><p>'.join(html_escape(p) for p in body.split(chr(10) + chr(10)))}</p>{quote_html}</body></html>"
    payload = b64(html) if cte == "base64" else qp(html)
    return (
        common(frm, subject, "html.1234@webmail.acme.com", "X-Mailer: Zimbra 10.0.6_GA_4613\n")
        + f"Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: {cte}\n\n{payload}\n"
    )


GMAIL_HEADERS = {
    "en": "On Mon, Nov 30, 2026 at 10:00\u202fAM Bob Seller <bob@seller.io> wrote:",
    "de": "Am Mo., 30. Nov. 2026 um 10:00 Uhr schrieb Bob Seller <bob@seller.io>:",
    "fr": "Le lun. 30 nov. 2026 à 10:00, Bob Seller <bob@seller.io> a écrit :",
    "es": "El lun, 30 nov 2026 a las 10:00, Bob Seller (<bob@seller.io>) escribió:",
    "nl": "Op ma 30 nov 2026 om 10:00 schreef Bob Seller <bob@seller.io>:",
    "it": "Il giorno lun 30 nov 2026 alle ore 10:00 Bob Seller <bob@seller.io> ha scritto:",
    "pt": "Em seg., 30 de nov. de 2026 às 10:00, Bob Seller <bob@seller.io> escreveu:",
    "sv": "Den mån 30 nov. 2026 kl 10:00 skrev Bob Seller <bob@seller.io>:",
    "pl": "pon., 30 lis 2026 o 10:00 Bob Seller <bob@seller.io> napisał(a):",
}
APPLE_HEADERS = {
    "en": "On 30 Nov 2026, at 10:00, Bob Seller <bob@seller.io> wrote:",
    "de": "Am 30.11.2026 um 10:00 schrieb Bob Seller <bob@seller.io>:",
    "fr": "Le 30 nov. 2026 à 10:00, Bob Seller <bob@seller.io> a écrit :",
    "es": "El 30 nov 2026, a las 10:00, Bob Seller <bob@seller.io> escribió:",
    "nl": "Op 30 nov. 2026 om 10:00 heeft Bob Seller <bob@seller.io> het volgende geschreven:",
    "it": "Il giorno 30 nov 2026, alle ore 10:00, Bob Seller <bob@seller.io> ha scritto:",
    "pt": "No dia 30/11/2026, às 10:00, Bob Seller <bob@seller.io> escreveu:",
    "sv": "30 nov. 2026 kl. 10:00 skrev Bob Seller <bob@seller.io>:",
    "pl": "Wiadomość napisana przez Bob Seller <bob@seller.io> w dniu 30.11.2026, o godz. 10:00:",
}
THUNDERBIRD_HEADERS = {
    "en": "On 30.11.26 10:00, Bob Seller wrote:",
    "de": "Am 30.11.26 um 10:00 schrieb Bob Seller:",
    "fr": "Le 30/11/2026 à 10:00, Bob Seller a écrit :",
    "es": "El 30/11/26 a las 10:00, Bob Seller escribió:",
    "nl": "Op 30-11-2026 om 10:00 schreef Bob Seller:",
    "it": "Il 30/11/26 10:00, Bob Seller ha scritto:",
    "pt": "Em 30/11/2026 10:00, Bob Seller escreveu:",
}
FOOTERS = {
    "en": "Sent from my iPhone",
    "de": "Von meinem iPhone gesendet",
    "fr": "Envoyé de mon iPhone",
    "es": "Enviado desde mi iPhone",
    "nl": "Verstuurd vanaf mijn iPhone",
    "it": "Inviato da iPhone",
    "pt": "Enviado do meu iPhone",
    "sv": "Skickat från min iPhone",
    "pl": "Wysłane z iPhone'a",
}
SIGN_OFFS = {
    "en": "Best regards,\nJane Doe\nHead of Operations | Acme Inc.\n+1 415 555 0100",
    "de": "Viele Grüße\nJana Müller\nLeiterin Vertrieb\nAcme GmbH",
    "fr": "Cordialement,\nJeanne Dupont\nAcme SAS",
    "es": "Saludos cordiales,\nJuana García\nAcme S.L.",
    "nl": "Met vriendelijke groet,\nJanneke de Vries\nAcme B.V.",
    "it": "Cordiali saluti,\nGiovanna Rossi\nAcme S.r.l.",
    "pt": "Atenciosamente,\nJoana Silva\nAcme Ltda.",
    "sv": "Med vänliga hälsningar,\nJohanna Svensson\nAcme AB",
    "pl": "Pozdrawiam,\nJoanna Kowalska\nAcme Sp. z o.o.",
}
# (category, text that must stay visible) per language.
BODIES: dict[str, list[tuple[str, str]]] = {
    "de": [
        ("interested", "Klingt spannend, schicken Sie mir gerne mehr Informationen."),
        ("meeting_request", "Lassen Sie uns einen Termin machen: passt Dienstag um 15 Uhr?"),
        ("not_now", "Danke, aber derzeit nicht. Melden Sie sich gerne im nächsten Quartal."),
        ("not_interested", "Danke, aber wir haben kein Interesse."),
        (
            "wrong_person",
            "Dafür bin ich nicht zuständig. Wenden Sie sich bitte an Thomas Weber (thomas.weber@acme.de), unser Leiter Einkauf.",
        ),
        ("unsubscribe", "Bitte entfernen Sie mich aus Ihrem Verteiler und abmelden Sie mich."),
        ("question", "Was kostet das für ein Team mit zehn Personen?"),
    ],
    "fr": [
        ("interested", "Ça m'intéresse, pouvez-vous m'envoyer plus d'informations ?"),
        ("meeting_request", "Avec plaisir pour un appel : mardi à 15h vous convient ?"),
        ("not_now", "Merci, mais pas pour le moment. Recontactez-moi l'année prochaine."),
        ("not_interested", "Merci, mais nous ne sommes pas intéressés."),
        (
            "wrong_person",
            "Je ne suis pas la bonne personne. Contactez plutôt Marie Laurent (marie.laurent@acme.fr), notre Directrice commerciale.",
        ),
        ("unsubscribe", "Merci de me retirer de votre liste, je souhaite me désinscrire."),
        ("question", "Quel est le prix pour une équipe de dix personnes ?"),
    ],
    "es": [
        ("interested", "Me interesa, ¿me puede enviar más información?"),
        ("meeting_request", "Podemos tener una llamada el martes a las 15:00."),
        ("not_now", "Gracias, pero ahora no. Escríbame más adelante, quizás el próximo año."),
        ("not_interested", "No, gracias. No estamos interesados."),
        (
            "wrong_person",
            "No soy la persona adecuada. Contacte con Carlos Pérez (carlos.perez@acme.es), nuestro Director de Compras.",
        ),
        ("unsubscribe", "Por favor, darme de baja de su lista."),
        ("question", "¿Cuánto cuesta para un equipo de diez personas?"),
    ],
    "nl": [
        ("interested", "Klinkt interessant, stuur me graag meer informatie."),
        ("meeting_request", "Zullen we een afspraak maken? Dinsdag om 15 uur bellen past mij."),
        ("not_now", "Bedankt, maar op dit moment niet. Probeer het volgend jaar nog eens."),
        ("not_interested", "Nee, bedankt. Geen interesse."),
        (
            "wrong_person",
            "Ik ben niet de juiste persoon. Neem contact op met Pieter Jansen (pieter.jansen@acme.nl), onze Hoofd Inkoop.",
        ),
        ("unsubscribe", "Graag afmelden, verwijder mij uit uw lijst."),
        ("question", "Wat kost dit voor een team van tien mensen?"),
    ],
    "it": [
        ("interested", "Mi interessa, può mandarmi maggiori informazioni?"),
        ("meeting_request", "Possiamo fissare una chiamata martedì alle 15?"),
        ("not_now", "Grazie, ma non al momento. Mi ricontatti più avanti."),
        ("not_interested", "No, grazie. Non siamo interessati."),
        (
            "wrong_person",
            "Non sono la persona giusta. Contatti Marco Bianchi (marco.bianchi@acme.it), il nostro Responsabile Acquisti.",
        ),
        ("unsubscribe", "Per favore, cancellarmi dalla vostra lista."),
        ("question", "Quanto costa per un team di dieci persone?"),
    ],
    "pt": [
        ("interested", "Tenho interesse, pode me enviar mais informações?"),
        ("meeting_request", "Podemos marcar uma reunião na terça às 15h?"),
        ("not_now", "Obrigada, mas agora não. Fale comigo no próximo ano."),
        ("not_interested", "Não, obrigado. Não temos interesse."),
        (
            "wrong_person",
            "Não sou a pessoa certa. Fale com Pedro Costa (pedro.costa@acme.com.br), nosso Diretor Comercial.",
        ),
        ("unsubscribe", "Por favor, parem de me enviar e-mails e façam o descadastro."),
        ("question", "Quanto custa para uma equipe de dez pessoas?"),
    ],
    "sv": [
        ("interested", "Låter intressant, jag är intresserad av att veta mer."),
        ("not_interested", "Nej tack, vi är inte intresserade."),
        ("meeting_request", "Vi kan ta ett möte på tisdag kl 15."),
    ],
    "pl": [
        ("interested", "Brzmi ciekawie, jestem zainteresowana."),
        ("not_interested", "Nie jestem zainteresowany, dziękuję."),
        ("meeting_request", "Proponuję spotkanie we wtorek o 15:00."),
    ],
}
REFERRALS = {
    "de": {"name": "Thomas Weber", "email": "thomas.weber@acme.de"},
    "fr": {"name": "Marie Laurent", "email": "marie.laurent@acme.fr"},
    "es": {"name": "Carlos Pérez", "email": "carlos.perez@acme.es"},
    "nl": {"name": "Pieter Jansen", "email": "pieter.jansen@acme.nl"},
    "it": {"name": "Marco Bianchi", "email": "marco.bianchi@acme.it"},
    "pt": {"name": "Pedro Costa", "email": "pedro.costa@acme.com.br"},
}
SENDERS = {
    "en": "Jane Doe <jane.doe@acme.com>",
    "de": "Jana Müller <jana.mueller@acme.de>",
    "fr": "Jeanne Dupont <jeanne.dupont@acme.fr>",
    "es": "Juana García <juana.garcia@acme.es>",
    "nl": "Janneke de Vries <janneke@acme.nl>",
    "it": "Giovanna Rossi <giovanna.rossi@acme.it>",
    "pt": "Joana Silva <joana.silva@acme.com.br>",
    "sv": "Johanna Svensson <johanna@acme.se>",
    "pl": "Joanna Kowalska <joanna.kowalska@acme.pl>",
}
QUOTE_HTML = {
    "gmail": '<div class="gmail_quote"><div class="gmail_attr">On Mon, Nov 30, 2026 Bob Seller wrote:</div><blockquote class="gmail_quote">We help sales teams like yours book more meetings.</blockquote></div>',
    "outlook": '<hr><div id="divRplyFwdMsg"><b>From:</b> Bob Seller<br><b>Sent:</b> Monday</div><div>We help sales teams like yours book more meetings.</div>',
    "apple": '<div><br><blockquote type="cite"><div>On 30 Nov 2026, Bob Seller wrote:</div>We help sales teams like yours book more meetings.</blockquote></div>',
    "yahoo": '<div class="yahoo_quoted"><div>On Monday, November 30, 2026, Bob Seller wrote:</div><div>We help sales teams like yours book more meetings.</div></div>',
    "thunderbird": '<div class="moz-cite-prefix">On 30.11.26 10:00, Bob Seller wrote:<br></div><blockquote type="cite" cite="mid:x@seller.io">We help sales teams like yours book more meetings.</blockquote>',
}
PITCH_SNIPPET = "book more meetings"


def reply(kind: str, name: str, raw: str, category: str, visible: str, **extra: Any) -> None:
    put(
        kind,
        name,
        raw,
        category=category,
        visible_contains=[visible],
        visible_absent=[PITCH_SNIPPET, "Bob Seller"],
        is_auto_reply=False,
        is_bounce=False,
        **extra,
    )


def client_replies() -> None:
    en = SENDERS["en"]
    sig = SIGN_OFFS["en"]
    cases = [
        (
            "gmail_interested",
            "interested",
            "This sounds interesting, tell me more about pricing.",
            "gmail",
        ),
        ("gmail_meeting", "meeting_request", "Sure, can we talk Tuesday at 3pm?", "gmail"),
        ("gmail_question", "question", "How does this integrate with Salesforce?", "gmail"),
        (
            "gmail_wrapped_header",
            "not_interested",
            "Thanks, but we're not interested.",
            "gmail_wrapped",
        ),
        ("outlook_not_now", "not_now", "Not right now, try again in Q3.", "outlook"),
        ("outlook_question", "question", "What does it cost for 10 seats?", "outlook"),
        (
            "apple_not_interested",
            "not_interested",
            "No thanks, we already have a solution for this.",
            "apple",
        ),
        (
            "apple_meeting",
            "meeting_request",
            "Happy to meet. Does Thursday at 10:30 work for you?",
            "apple",
        ),
        ("iphone_interested", "interested", "Yes please, send me more info.", "iphone"),
        ("android_unsubscribe", "unsubscribe", "Please remove me from your list.", "android"),
        ("thunderbird_question", "question", "Which CRMs do you support?", "thunderbird"),
        (
            "thunderbird_not_now",
            "not_now",
            "We have no budget this year, check back next year.",
            "thunderbird",
        ),
        (
            "html_gmail_interested",
            "interested",
            "I'd be interested in a trial for my team.",
            "html:gmail",
        ),
        (
            "html_outlook_meeting",
            "meeting_request",
            "Let's schedule a call next week, send me an invite.",
            "html:outlook",
        ),
        ("html_apple_unsubscribe", "unsubscribe", "Stop emailing me.", "html:apple"),
        ("html_yahoo_question", "question", "Is there a free tier?", "html:yahoo"),
        (
            "html_thunderbird_not_interested",
            "not_interested",
            "Not interested, thank you.",
            "html:thunderbird",
        ),
    ]
    for name, category, text, client in cases:
        body = f"Hi Bob,\n\n{text}\n\n{sig}"
        raw = _client(client, "en", en, body)
        reply("clients", name, raw, category, text, visible_absent_extra=["+1 415 555 0100"])


def more_client_replies() -> None:
    en = SENDERS["en"]
    bottom = (
        common(en, "Re: " + SUBJECT, "bottom.1@acme.com", "User-Agent: Mozilla Thunderbird\n")
        + "Content-Type: text/plain; charset=UTF-8; format=flowed\nContent-Transfer-Encoding: 7bit\n\n"
        + "On 30.11.26 10:00, Bob Seller wrote:\n"
        + quoted(PITCH)
        + "\n\nSure, let's talk. Does Tuesday at 3pm work?\n\n-- \nJane Doe\n"
    )
    reply(
        "clients",
        "thunderbird_bottom_posted",
        bottom,
        "meeting_request",
        "Does Tuesday at 3pm work?",
    )
    classic = (
        common(
            SENDERS["de"],
            "AW: " + SUBJECT,
            "classic.1@acme.de",
            "X-Mailer: Microsoft Outlook 16.0\n",
        )
        + 'Content-Type: text/plain; charset="iso-8859-1"\nContent-Transfer-Encoding: quoted-printable\n\n'
        + quopri.encodestring(
            (
                "Hallo Herr Seller,\n\nwir haben kein Interesse.\n\nMit freundlichen Grüßen\nJana Müller\n\n"
                "-----Ursprüngliche Nachricht-----\nVon: Bob Seller <bob@seller.io>\nGesendet: Montag, 30. November 2026 10:00\n"
                "An: Jana Müller <jana.mueller@acme.de>\nBetreff: "
                + SUBJECT
                + "\n\n"
                + PITCH
                + "\n"
            ).encode("iso-8859-1")
        ).decode("ascii")
        + "\n"
    )
    reply(
        "clients",
        "outlook_classic_de_latin1",
        classic,
        "not_interested",
        "wir haben kein Interesse.",
        language="de",
    )
    headers_only = (
        common(
            en, "RE: " + SUBJECT, "plainoutlook.1@acme.com", "X-Mailer: Microsoft Outlook 16.0\n"
        )
        + 'Content-Type: text/plain; charset="us-ascii"\nContent-Transfer-Encoding: 7bit\n\n'
        + "Bob - what integrations do you have?\n\nJane\n\nFrom: Bob Seller <bob@seller.io>\nSent: Monday, November 30, 2026 10:00 AM\n"
        + "To: Jane Doe <jane.doe@acme.com>\nSubject: "
        + SUBJECT
        + "\n\n"
        + PITCH
        + "\n"
    )
    reply(
        "clients",
        "outlook_plain_no_separator",
        headers_only,
        "question",
        "what integrations do you have?",
    )
    forward = apple(
        en,
        "Looping in Tom Baker (tom.baker@acme.com), our COO, who owns this. Tom, see below.",
        APPLE_HEADERS["en"],
    ).replace(
        "On 30 Nov 2026, at 10:00, Bob Seller <bob@seller.io> wrote:", "Begin forwarded message:"
    )
    reply(
        "clients",
        "apple_forward_with_note",
        forward,
        "wrong_person",
        "Looping in Tom Baker",
        referral={"name": "Tom Baker", "email": "tom.baker@acme.com", "title": "COO"},
    )


def _client(client: str, lang: str, frm: str, body: str) -> str:
    if client == "gmail":
        return gmail(frm, body, GMAIL_HEADERS[lang])
    if client == "gmail_wrapped":
        return gmail(
            frm,
            body,
            GMAIL_HEADERS[lang].replace(" <bob@", "\n<bob@")
            if lang != "en"
            else "On Mon, Nov 30, 2026 at 10:00\u202fAM Bob Seller <bob@seller.io>\nwrote:",
        )
    if client == "android":
        return gmail(frm, body + "\n\nSent from my Android", GMAIL_HEADERS[lang])
    if client == "outlook":
        return outlook(frm, body, lang)
    if client == "apple":
        return apple(frm, body, APPLE_HEADERS[lang])
    if client == "iphone":
        return iphone(frm, body, FOOTERS[lang], APPLE_HEADERS[lang])
    if client == "thunderbird":
        return thunderbird(frm, body, THUNDERBIRD_HEADERS.get(lang, THUNDERBIRD_HEADERS["en"]))
    return html_only(
        frm,
        body,
        QUOTE_HTML[client.split(":")[1]],
        cte="base64" if len(body) % 2 else "quoted-printable",
    )


def language_replies() -> None:
    clients = [
        "gmail",
        "outlook",
        "apple",
        "iphone",
        "thunderbird",
        "html:gmail",
        "gmail_wrapped",
        "html:outlook",
    ]
    for lang, bodies in BODIES.items():
        for index, (category, text) in enumerate(bodies):
            client = clients[(index + len(lang)) % len(clients)]
            if lang in ("sv", "pl") and client in ("thunderbird",):
                client = "gmail"
            body = f"{text}\n\n{SIGN_OFFS[lang]}"
            raw = _client(client, lang, SENDERS[lang], body)
            extra: dict[str, Any] = {"language": lang}
            if category == "wrong_person":
                extra["referral"] = REFERRALS[lang]
            name = f"{lang}_{category}_{client.replace(':', '_')}"
            reply("languages", name, raw, category, text, **extra)


CLASSIFY = [
    ("remove_me", "unsubscribe", "Please remove me from this list, I am not interested."),
    (
        "not_interested_beats_interested",
        "not_interested",
        "We are not interested. I don't know why you thought we'd be interested.",
    ),
    ("not_now_q3", "not_now", "Not right now, try again in Q3."),
    ("talk_tuesday", "meeting_request", "Can we talk Tuesday at 3?"),
    ("bare_question", "question", "Do you also work with agencies?"),
    (
        "referral_full",
        "wrong_person",
        "I'm not the right person for this. Please contact Jane Roe (jane.roe@acme.com), our Head of Sales.",
    ),
    (
        "left_company",
        "wrong_person",
        "I have left the company. Please reach out to Michael Chen, michael.chen@acme.com, our VP Marketing.",
    ),
    ("all_set", "not_interested", "No thanks, we're all set."),
    ("send_info", "interested", "Sounds good, send me some details and pricing."),
    ("thanks_only", "other", "Thanks!"),
    ("stop_emailing", "unsubscribe", "Stop emailing me or I will report this as spam."),
    ("calendly", "meeting_request", "Sure. Grab a slot here: https://calendly.com/jane-roe/30min"),
    (
        "list_question",
        "question",
        "A few questions:\n- does it support SSO?\n- where is the data hosted?",
    ),
    ("budget_next_year", "not_now", "Maybe next year, our budget is frozen."),
    ("who_are_you", "question", "Who are you and how did you get my email?"),
    ("keen", "interested", "I'm interested. Who else on your side should I loop in"),
    ("unsubscribe_word", "unsubscribe", "unsubscribe"),
    ("we_pass", "not_interested", "We'll pass on this one."),
]


def classification() -> None:
    for name, category, text in CLASSIFY:
        raw = gmail(SENDERS["en"], f"{text}\n\n{SIGN_OFFS['en']}", GMAIL_HEADERS["en"])
        extra: dict[str, Any] = {}
        if name == "referral_full":
            extra["referral"] = {
                "name": "Jane Roe",
                "email": "jane.roe@acme.com",
                "title": "Head of Sales",
            }
        if name == "left_company":
            extra["referral"] = {
                "name": "Michael Chen",
                "email": "michael.chen@acme.com",
                "title": "VP Marketing",
            }
        reply("classification", name, raw, category, text.splitlines()[0], **extra)


# --- auto-replies ----------------------------------------------------------------------

OOO = [
    # name, headers, subject, body, expected date (message sent 1 Dec 2026)
    (
        "en_exchange",
        "Auto-Submitted: auto-generated\nX-MS-Exchange-Inbox-Rules-Loop: jane@acme.com\n",
        "Automatic reply: " + SUBJECT,
        "Thank you for your email. I am out of the office and will be back on 12 January with limited access to email.",
        "2027-01-12",
    ),
    (
        "en_gmail_vacation",
        "Auto-Submitted: auto-replied\n",
        "Re: " + SUBJECT,
        "I'm on vacation. I'll be back Monday.",
        "2026-12-07",
    ),
    (
        "en_iso_date",
        "X-Autoreply: yes\n",
        "Out of Office: " + SUBJECT,
        "I am travelling, returning 2026-12-15.",
        "2026-12-15",
    ),
    (
        "en_until",
        "Precedence: auto_reply\n",
        "Out of office",
        "I am out of the office until December 18, 2026. For urgent matters contact support@acme.com.",
        "2026-12-18",
    ),
    (
        "de_numeric",
        "Auto-Submitted: auto-replied\n",
        "Abwesenheitsnotiz: " + SUBJECT,
        "Vielen Dank für Ihre Nachricht. Ich bin nicht im Büro und ab dem 05.01. wieder erreichbar.",
        "2027-01-05",
    ),
    (
        "de_worded",
        "X-Autorespond: Abwesenheit\n",
        "Automatische Antwort: " + SUBJECT,
        "Ich bin bis einschließlich 8. Januar 2027 im Urlaub. Zurück am 11. Januar.",
        "2027-01-08",
    ),
    (
        "fr",
        "Auto-Submitted: auto-replied\n",
        "Réponse automatique : " + SUBJECT,
        "Bonjour, je suis absente. Je serai de retour le 5 janvier.",
        "2027-01-05",
    ),
    (
        "es",
        "Auto-Submitted: auto-replied\n",
        "Respuesta automática: " + SUBJECT,
        "Estoy fuera de la oficina. Estaré de vuelta el 7 de enero.",
        "2027-01-07",
    ),
    (
        "nl",
        "Auto-Submitted: auto-replied\n",
        "Automatisch antwoord: " + SUBJECT,
        "Ik ben afwezig en ben terug op 4 januari.",
        "2027-01-04",
    ),
    (
        "it",
        "Auto-Submitted: auto-replied\n",
        "Risposta automatica: " + SUBJECT,
        "Sono fuori sede. Rientro in ufficio l'8 gennaio.",
        "2027-01-08",
    ),
    (
        "pt",
        "Auto-Submitted: auto-replied\n",
        "Resposta automática: " + SUBJECT,
        "Estou fora do escritório. Estarei de volta a 6 de janeiro.",
        "2027-01-06",
    ),
    (
        "sv",
        "Auto-Submitted: auto-replied\n",
        "Autosvar: " + SUBJECT,
        "Jag är på semester och tillbaka den 11 januari.",
        "2027-01-11",
    ),
    (
        "pl",
        "Auto-Submitted: auto-replied\n",
        "Autoodpowiedź: " + SUBJECT,
        "Jestem na urlopie. Wracam 7 stycznia.",
        "2027-01-07",
    ),
    (
        "en_no_date",
        "Auto-Submitted: auto-generated\nPrecedence: bulk\n",
        "We received your request [#48213]",
        "Thanks for contacting Acme Support. A member of our team will get back to you shortly.",
        None,
    ),
    (
        "subject_only",
        "",
        "Out of Office: " + SUBJECT,
        "I am currently out of the office with no access to email. I will return on Wednesday, 9 December.",
        "2026-12-09",
    ),
    (
        "de_subject_only",
        "",
        "Abwesenheitsnotiz",
        "Ich bin bis zum 14.12.2026 nicht im Büro.",
        "2026-12-14",
    ),
]


def auto_replies() -> None:
    for name, headers, subject, body, until in OOO:
        raw = (
            f"From: Jane Doe <jane.doe@acme.com>\nTo: {US}\nSubject: {subject}\nDate: {DATE}\n"
            f"Message-ID: <ooo.{name}@acme.com>\nIn-Reply-To: {OUR_ID}\n{headers}MIME-Version: 1.0\n"
            'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n\n'
            f"{qp(body)}\n"
        )
        put(
            "auto_replies",
            name,
            raw,
            category="auto_reply",
            is_auto_reply=True,
            out_of_office_until=until,
            is_bounce=False,
        )
    # Outlook marks ordinary mail written by a person with this header; it is not an auto-reply.
    put(
        "auto_replies",
        "suppress_header_is_human",
        outlook(SENDERS["en"], "Thanks Bob, tell me more.\n\n" + SIGN_OFFS["en"]),
        category="interested",
        is_auto_reply=False,
        out_of_office_until=None,
        is_bounce=False,
        visible_contains=["tell me more"],
    )
    put(
        "auto_replies",
        "human_says_out_of_office",
        gmail(
            SENDERS["en"],
            "Sorry, I was out of office last week. Can we talk Tuesday at 3pm?",
            GMAIL_HEADERS["en"],
        ),
        category="meeting_request",
        is_auto_reply=False,
        out_of_office_until=None,
        is_bounce=False,
    )


# --- bounces ---------------------------------------------------------------------------

ORIGINAL = (
    f"Return-Path: <bob@seller.io>\nFrom: {US}\nTo: {{rcpt}}\nSubject: {SUBJECT}\n"
    f"Date: Mon, 30 Nov 2026 10:00:00 +0000\nMessage-ID: {OUR_ID}\n\n{PITCH}\n"
)


def dsn(
    name: str,
    *,
    frm: str,
    subject: str,
    human: str,
    per_msg: str,
    recipients: list[tuple[str, str, str, str]],
    expected: list[dict[str, Any]],
    boundary: str = "7F1A2B3C4D.1764579123/mail.acme.com",
    headers_only: bool = False,
    extra: str = "",
) -> None:
    blocks = "\n".join(
        f"Final-Recipient: rfc822; {addr}\nOriginal-Recipient: rfc822;{addr}\nAction: {action}\n"
        f"Status: {status}\nDiagnostic-Code: smtp; {diag}\n"
        for addr, action, status, diag in recipients
    )
    rcpt = recipients[0][0]
    original_type = "text/rfc822-headers" if headers_only else "message/rfc822"
    original = ORIGINAL.format(rcpt=rcpt)
    if headers_only:
        original = original.split("\n\n")[0] + "\n"
    raw = (
        f"Return-Path: <>\nFrom: {frm}\nTo: bob@seller.io\nSubject: {subject}\nDate: {DATE}\n"
        f"Message-ID: <dsn.{name}@mail.acme.com>\nAuto-Submitted: auto-replied\n{extra}MIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=delivery-status;\n\tboundary="{boundary}"\n'
        "\nThis is a MIME-encapsulated message.\n\n"
        f"--{boundary}\nContent-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\n{human}\n\n"
        f"--{boundary}\nContent-Description: Delivery report\nContent-Type: message/delivery-status\n\n{per_msg}\n\n{blocks}\n"
        f"--{boundary}\nContent-Description: Undelivered Message\nContent-Type: {original_type}\n\n{original}\n"
        f"--{boundary}--\n"
    )
    put(
        "bounces",
        name,
        raw,
        category="bounce",
        is_bounce=True,
        is_auto_reply=False,
        bounced=expected,
    )


def plain_bounce(
    name: str, *, frm: str, subject: str, body: str, expected: list[dict[str, Any]], extra: str = ""
) -> None:
    raw = (
        f"Return-Path: <>\nFrom: {frm}\nTo: bob@seller.io\nSubject: {subject}\nDate: {DATE}\n"
        f"Message-ID: <bounce.{name}@mx.acme.com>\n{extra}MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=us-ascii\n\n" + body
    )
    put(
        "bounces",
        name,
        raw,
        category="bounce",
        is_bounce=True,
        is_auto_reply=False,
        bounced=expected,
    )


def bounces() -> None:
    postfix_human = (
        "This is the mail system at host mail.seller.io.\n\nI'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients. It's attached below.\n\n"
        "                   The mail system\n\n<{addr}>: host mx.acme.com[203.0.113.5] said: 550 5.1.1\n"
        "    <{addr}>: Recipient address rejected: User unknown in virtual mailbox table\n"
        "    (in reply to RCPT TO command)"
    )
    pmsg = "Reporting-MTA: dns; mail.seller.io\nX-Postfix-Queue-ID: 7F1A2B3C4D\nX-Postfix-Sender: rfc822; bob@seller.io\nArrival-Date: Mon, 30 Nov 2026 10:00:00 +0000"
    dsn(
        "postfix_hard",
        frm="MAILER-DAEMON@mail.seller.io (Mail Delivery System)",
        subject="Undelivered Mail Returned to Sender",
        human=postfix_human.format(addr="ghost@acme.com"),
        per_msg=pmsg,
        recipients=[
            (
                "ghost@acme.com",
                "failed",
                "5.1.1",
                "550 5.1.1 <ghost@acme.com>: Recipient address rejected: User unknown",
            )
        ],
        expected=[{"address": "ghost@acme.com", "permanent": True}],
    )
    dsn(
        "postfix_delayed",
        frm="MAILER-DAEMON@mail.seller.io (Mail Delivery System)",
        subject="Delayed Mail (still being retried)",
        human="This is the mail system at host mail.seller.io.\n\n####################################################################\n"
        "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n####################################################################\n\n"
        "Your message could not be delivered for more than 4 hour(s).\nIt will be retried until it is 5 day(s) old.",
        per_msg=pmsg,
        recipients=[
            (
                "slow@acme.com",
                "delayed",
                "4.4.1",
                "connect to mx.acme.com[203.0.113.5]:25: Connection timed out",
            )
        ],
        expected=[{"address": "slow@acme.com", "permanent": False}],
        headers_only=True,
    )
    dsn(
        "postfix_mailbox_full",
        frm="MAILER-DAEMON@mail.seller.io (Mail Delivery System)",
        subject="Undelivered Mail Returned to Sender",
        human=postfix_human.format(addr="full@acme.com"),
        per_msg=pmsg,
        recipients=[("full@acme.com", "failed", "5.2.2", "552 5.2.2 Mailbox full")],
        expected=[{"address": "full@acme.com", "permanent": True}],
    )
    dsn(
        "postfix_two_recipients",
        frm="MAILER-DAEMON@mail.seller.io (Mail Delivery System)",
        subject="Undelivered Mail Returned to Sender",
        human=postfix_human.format(addr="one@acme.com"),
        per_msg=pmsg,
        recipients=[
            ("one@acme.com", "failed", "5.1.1", "550 5.1.1 User unknown"),
            ("two@acme.com", "delayed", "4.7.1", "450 4.7.1 Greylisted, try again later"),
        ],
        expected=[
            {"address": "one@acme.com", "permanent": True},
            {"address": "two@acme.com", "permanent": False},
        ],
    )
    dsn(
        "gmail_hard",
        frm="Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        subject="Delivery Status Notification (Failure)",
        human="** Address not found **\n\nYour message wasn't delivered to nobody@acme.com because the address couldn't be found, or is unable to receive mail.\n\n"
        "The response from the remote server was:\n550 5.1.1 The email account that you tried to reach does not exist.",
        per_msg="Reporting-MTA: dns; googlemail.com\nArrival-Date: Mon, 30 Nov 2026 02:00:00 -0800 (PST)\nX-Original-Message-ID: <20261130100000.1a2b3c@seller.io>",
        recipients=[
            (
                "nobody@acme.com",
                "failed",
                "5.1.1",
                "550-5.1.1 The email account that you tried to reach does not exist.",
            )
        ],
        expected=[{"address": "nobody@acme.com", "permanent": True}],
        boundary="00000000000012ab34cd56ef7890",
    )
    dsn(
        "gmail_delay",
        frm="Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        subject="Delivery Status Notification (Delay)",
        human="** Message not delivered yet **\n\nThere was a temporary problem delivering your message to later@acme.com. Gmail will retry for 46 more hours. You'll be notified if the delivery fails permanently.",
        per_msg="Reporting-MTA: dns; googlemail.com\nArrival-Date: Mon, 30 Nov 2026 02:00:00 -0800 (PST)",
        recipients=[
            (
                "later@acme.com",
                "delayed",
                "4.4.3",
                "DNS Error: DNS server returned answer with no data",
            )
        ],
        expected=[{"address": "later@acme.com", "permanent": False}],
        boundary="000000000000ab12cd34ef567890",
    )
    dsn(
        "exchange_o365",
        frm="Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@acme.onmicrosoft.com>",
        subject="Undeliverable: " + SUBJECT,
        human="Your message to former@acme.com couldn't be delivered.\n\nformer wasn't found at acme.com.\n\nAction Required\nRecipient\n\nUnknown To address\n\n"
        "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'",
        per_msg="Reporting-MTA: dns;AM9PR07MB7890.eurprd07.prod.outlook.com\nReceived-From-MTA: dns;mail.seller.io\nArrival-Date: Tue, 1 Dec 2026 08:12:00 +0000",
        recipients=[
            (
                "former@acme.com",
                "failed",
                "5.1.10",
                "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
            )
        ],
        expected=[{"address": "former@acme.com", "permanent": True}],
        boundary="_000_dsn_AM9PR07MB7890_",
        headers_only=True,
        extra="X-MS-Exchange-Message-Is-Ndr:\nContent-Language: en-US\n",
    )
    dsn(
        "exchange_delayed",
        frm="postmaster@acme.com",
        subject="Delivery delayed:" + SUBJECT,
        human="Delivery is delayed to these recipients or groups:\n\nwait@acme.com\n\nThis message hasn't been delivered yet. Delivery will continue to be attempted.",
        per_msg="Reporting-MTA: dns;EX01.acme.local\nArrival-Date: Tue, 1 Dec 2026 08:12:00 +0000",
        recipients=[("wait@acme.com", "delayed", "4.4.7", "400 4.4.7 Message delayed")],
        expected=[{"address": "wait@acme.com", "permanent": False}],
        boundary="_dsn_EX01_delay_",
        headers_only=True,
    )
    dsn(
        "sendmail_hard",
        frm="Mail Delivery Subsystem <MAILER-DAEMON@mx.acme.com>",
        subject="Returned mail: see transcript for details",
        human="The original message was received at Mon, 30 Nov 2026 10:00:01 GMT\nfrom mail.seller.io [198.51.100.7]\n\n   ----- The following addresses had permanent fatal errors -----\n<olduser@acme.com>\n"
        "    (reason: 550 5.1.1 <olduser@acme.com>... User unknown)\n\n   ----- Transcript of session follows -----\n... while talking to mail.acme.com.:\n>>> DATA\n<<< 550 5.1.1 <olduser@acme.com>... User unknown\n550 5.1.1 olduser@acme.com... User unknown",
        per_msg="Reporting-MTA: dns; mx.acme.com\nReceived-From-MTA: DNS; mail.seller.io\nArrival-Date: Mon, 30 Nov 2026 10:00:01 GMT",
        recipients=[
            ("olduser@acme.com", "failed", "5.1.1", "550 5.1.1 <olduser@acme.com>... User unknown")
        ],
        expected=[{"address": "olduser@acme.com", "permanent": True}],
        boundary="2BA0Aq7Q012345.1764579123/mx.acme.com",
    )
    dsn(
        "sendmail_warning",
        frm="Mail Delivery Subsystem <MAILER-DAEMON@mx.acme.com>",
        subject="Warning: could not send message for past 4 hours",
        human="    **********************************************\n    **      THIS IS A WARNING MESSAGE ONLY      **\n    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **\n    **********************************************\n\n"
        "The original message was received at Mon, 30 Nov 2026 10:00:01 GMT\n\n   ----- Transcript of session follows -----\n<busy@acme.com>... Deferred: Connection timed out with mail.acme.com.\nWarning: message still undelivered after 4 hours\nWill keep trying until message is 5 days old",
        per_msg="Reporting-MTA: dns; mx.acme.com\nArrival-Date: Mon, 30 Nov 2026 10:00:01 GMT",
        recipients=[
            (
                "busy@acme.com",
                "delayed",
                "4.4.1",
                "Deferred: Connection timed out with mail.acme.com.",
            )
        ],
        expected=[{"address": "busy@acme.com", "permanent": False}],
        boundary="2BA0Aq7Q099999.1764579999/mx.acme.com",
        headers_only=True,
    )
    dsn(
        "exchange_global_dsn",
        frm="Microsoft Outlook <postmaster@acme.onmicrosoft.com>",
        subject="Undeliverable: " + SUBJECT,
        human="Your message to müller@acme.de couldn't be delivered.",
        per_msg="Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.outlook.com",
        recipients=[
            ("mueller@acme.de", "failed", "5.1.1", "550 5.1.1 RESOLVER.ADR.RecipientNotFound")
        ],
        expected=[{"address": "mueller@acme.de", "permanent": True}],
        headers_only=True,
        boundary="_global_dsn_",
    )
    # RFC 6533's "global" report, which Exchange sends for internationalised addresses.
    global_dsn = HERE / "bounces/exchange_global_dsn.eml"
    global_dsn.write_bytes(
        global_dsn.read_bytes().replace(
            b"message/delivery-status", b"message/global-delivery-status"
        )
    )
    plain_bounce(
        "exim_hard",
        frm="Mail Delivery System <Mailer-Daemon@mx.acme.com>",
        subject="Mail delivery failed: returning message to sender",
        extra="X-Failed-Recipients: gone@acme.com\nAuto-Submitted: auto-replied\n",
        body="This message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n  gone@acme.com\n    host mail.acme.com [203.0.113.9]\n"
        "    SMTP error from remote mail server after RCPT TO:<gone@acme.com>:\n    550 5.1.1 No such user here\n\n------ This is a copy of the message, including all the headers. ------\n\n"
        + ORIGINAL.format(rcpt="gone@acme.com"),
        expected=[{"address": "gone@acme.com", "permanent": True}],
    )
    plain_bounce(
        "exim_no_header",
        frm="Mail Delivery System <Mailer-Daemon@mx2.acme.com>",
        subject="Mail delivery failed: returning message to sender",
        body="This message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n  lost@acme.com\n    Unrouteable address\n\n"
        "------ This is a copy of the message, including all the headers. ------\n\n"
        + ORIGINAL.format(rcpt="lost@acme.com"),
        expected=[{"address": "lost@acme.com", "permanent": True}],
    )
    plain_bounce(
        "exim_delay",
        frm="Mail Delivery System <Mailer-Daemon@mx.acme.com>",
        subject="Warning: message 1vQxYz-0004Ab-Cd delayed 24 hours",
        extra="Auto-Submitted: auto-replied\nX-Failed-Recipients: \n",
        body="This message was created automatically by mail delivery software.\nA message that you sent has not yet been delivered to one or more of its\n"
        "recipients after more than 24 hours on the queue on mx.acme.com.\n\nThe message identifier is:     1vQxYz-0004Ab-Cd\n\n"
        "The address to which the message has not yet been delivered is:\n\n  queued@acme.com\n    host mail.acme.com [203.0.113.9]\n"
        "    Delay reason: SMTP error from remote mail server after RCPT TO:<queued@acme.com>:\n    451 4.3.0 Temporary lookup failure\n\n"
        "No action is required on your part. Delivery attempts will continue for\nsome time, and this warning may be repeated at intervals if the message\nremains undelivered.\n",
        expected=[{"address": "queued@acme.com", "permanent": False}],
    )
    plain_bounce(
        "qmail_hard",
        frm="MAILER-DAEMON@mail.acme.com",
        subject="failure notice",
        body="Hi. This is the qmail-send program at mail.acme.com.\nI'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n<nobody.here@acme.com>:\n203.0.113.9 does not like recipient.\n"
        "Remote host said: 550 5.1.1 unknown or illegal alias: nobody.here@acme.com\nGiving up on 203.0.113.9.\n\n--- Below this line is a copy of the message.\n\n"
        + ORIGINAL.format(rcpt="nobody.here@acme.com"),
        expected=[{"address": "nobody.here@acme.com", "permanent": True}],
    )
    plain_bounce(
        "qmail_yahoo",
        frm="MAILER-DAEMON@yahoo.com",
        subject="failure notice",
        body="Sorry, we were unable to deliver your message to the following address.\n\n<deleted.account@yahoo.com>:\n"
        "554: delivery error: dd This user doesn't have a yahoo.com account (deleted.account@yahoo.com) [0] - mta1234.mail.bf1.yahoo.com\n\n"
        "--- Below this line is a copy of the message.\n\n"
        + ORIGINAL.format(rcpt="deleted.account@yahoo.com"),
        expected=[{"address": "deleted.account@yahoo.com", "permanent": True}],
    )
    plain_bounce(
        "exchange_2007_text",
        frm="System Administrator <postmaster@acme.local>",
        subject="Undeliverable: " + SUBJECT,
        body="Your message did not reach some or all of the intended recipients.\n\n      Subject:\t"
        + SUBJECT
        + "\n      Sent:\t30/11/2026 10:00\n\n"
        "The following recipient(s) cannot be reached:\n\n      Mark Old on 30/11/2026 10:01\n            mark.old@acme.com\n"
        "            The e-mail account does not exist at the organization this message was sent to.\n            <mail.acme.local #5.1.1 smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound; not found>\n",
        expected=[{"address": "mark.old@acme.com", "permanent": True}],
    )
    plain_bounce(
        "postfix_german_text",
        frm="MAILER-DAEMON (Mail Delivery System) <MAILER-DAEMON@mx.acme.de>",
        subject="Unzustellbar: " + SUBJECT,
        body="Dies ist der Mailserver mx.acme.de.\n\nIhre Nachricht konnte nicht zugestellt werden.\n\n<niemand@acme.de>: host mail.acme.de[203.0.113.20] said: 550 5.1.1\n    Benutzer unbekannt (in reply to RCPT TO command)\n",
        expected=[{"address": "niemand@acme.de", "permanent": True}],
    )
    # A person answering "Re: Undeliverable..." is not a bounce.
    put(
        "bounces",
        "human_reply_about_bounce",
        gmail(
            SENDERS["en"],
            "Sorry, my old address bounced. Please use this one, interested to hear more.",
            GMAIL_HEADERS["en"],
            subject="Re: Undeliverable: " + SUBJECT,
        ),
        category="interested",
        is_bounce=False,
        is_auto_reply=False,
        bounced=[],
    )


# --- broken input ----------------------------------------------------------------------


def broken() -> None:
    base = (
        "From: Jana Müller <jana.mueller@acme.de>\nTo: bob@seller.io\nSubject: Re: Angebot\nDate: "
        + DATE
        + "\n"
        "Message-ID: <broken.{name}@acme.de>\nMIME-Version: 1.0\n"
    )

    def raw(name: str, rest: bytes) -> bytes:
        return base.format(name=name).replace("\n", "\r\n").encode() + rest

    text = "Ja, klingt interessant. Schicken Sie mir gerne mehr Informationen. Grüße aus Köln"
    put(
        "broken",
        "unknown_charset",
        raw(
            "unknown_charset",
            b"Content-Type: text/plain; charset=x-unknown-9\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            + text.encode("utf-8")
            + b"\r\n",
        ),
        visible_contains=["Grüße aus Köln"],
        category="interested",
        is_auto_reply=False,
        is_bounce=False,
    )
    put(
        "broken",
        "utf8_labelled_ascii",
        raw(
            "utf8_labelled_ascii",
            b"Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            + text.encode("utf-8")
            + b"\r\n",
        ),
        visible_contains=["Grüße aus Köln"],
        category="interested",
        is_auto_reply=False,
        is_bounce=False,
    )
    put(
        "broken",
        "latin1_labelled_utf8",
        raw(
            "latin1_labelled_utf8",
            b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            + text.encode("latin-1")
            + b"\r\n",
        ),
        visible_contains=["Grüße aus Köln"],
        category="interested",
        is_auto_reply=False,
        is_bounce=False,
    )
    put(
        "broken",
        "missing_final_boundary",
        raw(
            "missing_final_boundary",
            b'Content-Type: multipart/alternative; boundary="XYZ"\r\n\r\n--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
            + text.encode()
            + b"\r\n\r\n--XYZ\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>"
            + text.encode()
            + b"</p>\r\n",
        ),
        visible_contains=["Grüße aus Köln"],
        category="interested",
        is_auto_reply=False,
        is_bounce=False,
    )
    truncated = base64.b64encode(("Not interested, thanks. " * 20).encode()).decode()[:-7]
    put(
        "broken",
        "truncated_base64",
        raw(
            "truncated_base64",
            b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + truncated.encode()
            + b"\r\n",
        ),
        visible_contains=["Not interested, thanks."],
        category="not_interested",
        is_auto_reply=False,
        is_bounce=False,
    )
    put(
        "broken",
        "eight_bit_headers",
        (
            "From: Jürgen Groß <juergen@acme.de>\r\nTo: bob@seller.io\r\nSubject: Re: Größere Teams – Preise?\r\nDate: "
            + DATE
            + "\r\n"
            "Message-ID: <broken.8bit@acme.de>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nWas kostet das für 50 Nutzer?\r\n"
        ).encode("utf-8"),
        visible_contains=["Was kostet das"],
        subject="Re: Größere Teams – Preise?",
        from_name="Jürgen Groß",
        category="question",
        is_auto_reply=False,
        is_bounce=False,
    )
    put(
        "broken",
        "nul_bytes",
        raw(
            "nul_bytes",
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nSounds\x00 good, tell me more.\x00\r\n",
        ),
        visible_contains=["tell me more"],
        category="interested",
        is_auto_reply=False,
        is_bounce=False,
    )
    put(
        "broken",
        "crlf_in_encoded_subject",
        (
            base.format(name="crlf")
            .replace(
                "Subject: Re: Angebot",
                "Subject: =?utf-8?b?"
                + base64.b64encode(b"Re: Angebot\r\nBcc: victim@example.com").decode()
                + "?=",
            )
            .replace("\n", "\r\n")
            .encode()
            + b"Content-Type: text/plain; charset=utf-8\r\n\r\nGerne mehr Infos.\r\n"
        ),
        subject="Re: Angebot Bcc: victim@example.com",
        visible_contains=["Gerne mehr Infos"],
        category="interested",
        is_auto_reply=False,
        is_bounce=False,
    )
    blob = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(5 * 1024 * 1024 // 32))
    put(
        "broken",
        "five_mb_attachment",
        raw(
            "five_mb_attachment",
            b'Content-Type: multipart/mixed; boundary="mix"\r\n\r\n--mix\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
            b'Signed contract attached. Can we talk Tuesday at 3pm?\r\n\r\n--mix\r\nContent-Type: application/pdf; name="contract.pdf"\r\n'
            b'Content-Disposition: attachment; filename="contract.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            + b64(blob).replace("\n", "\r\n").encode()
            + b"\r\n--mix--\r\n",
        ),
        visible_contains=["Signed contract attached"],
        category="meeting_request",
        is_auto_reply=False,
        is_bounce=False,
    )
    nested = b"Content-Type: text/plain; charset=utf-8\r\n\r\nSounds good, tell me more.\r\n"
    for depth in range(60):
        nested = (
            f'Content-Type: multipart/mixed; boundary="b{depth}"\r\n\r\n--b{depth}\r\n'.encode()
            + nested
            + f"\r\n--b{depth}\r\nContent-Type: text/plain\r\n\r\nfiller {depth}\r\n--b{depth}--\r\n".encode()
        )
    put(
        "broken",
        "deeply_nested_multipart",
        raw("deeply_nested", nested),
        is_auto_reply=False,
        is_bounce=False,
        defect_contains="nested",
    )
    wide = (
        b'Content-Type: multipart/mixed; boundary="w"\r\n\r\n'
        + b"".join(
            b"--w\r\nContent-Type: text/plain\r\n\r\nSounds good, tell me more.\r\n"
            for _ in range(5000)
        )
        + b"--w--\r\n"
    )
    put(
        "broken",
        "five_thousand_parts",
        raw("wide", wide),
        is_auto_reply=False,
        is_bounce=False,
        defect_contains="nested",
        visible_contains=["tell me more"],
    )
    put(
        "broken",
        "enormous_subject",
        raw("enormous", b"").replace(b"Subject: Re: Angebot", b"Subject: Re: " + b"A" * 200_000)
        + b"Content-Type: text/plain\r\n\r\nQuestion: what is the price?\r\n",
        visible_contains=["what is the price"],
        category="question",
        is_auto_reply=False,
        is_bounce=False,
        subject_max=2000,
    )
    put(
        "broken",
        "lookalike_from",
        (
            "From: Jane Doe <jane@аcme.com>\r\nTo: bob@seller.io\r\nSubject: Re: hi\r\nDate: "
            + DATE
            + "\r\nMessage-ID: <look@x>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nSounds interesting.\r\n"
        ).encode("utf-8"),
        from_email="jane@xn--cme-5cd.com",
        category="interested",
        is_auto_reply=False,
        is_bounce=False,
    )
    put(
        "broken",
        "from_without_address",
        raw("noaddr", b"Content-Type: text/plain\r\n\r\nThanks!\r\n").replace(
            b"From: Jana M\xc3\xbcller <jana.mueller@acme.de>", b"From: undisclosed sender"
        ),
        from_email="",
        category="other",
        is_auto_reply=False,
        is_bounce=False,
    )
    put("broken", "empty_file", b"", error=True)
    put("broken", "no_headers_binary", bytes(range(256)) * 4, error=True)


# --- holdout ---------------------------------------------------------------------------
# Written after the rules, in wording the rules were not written from, and not tuned
# against afterwards: this kind is the honest estimate of accuracy on unseen replies.
HOLDOUT = [
    (
        "timing_after_new_year",
        "gmail",
        "en",
        "not_now",
        "Hey Bob - timing's not great, we're mid-migration. Ping me after the new year?",
    ),
    (
        "would_not_consider",
        "outlook",
        "en",
        "not_interested",
        "Appreciate the note but this isn't something we'd consider.",
    ),
    (
        "case_study_question",
        "gmail",
        "en",
        "question",
        "Could you send over a case study from a similar company? Also, what's the typical onboarding time?",
    ),
    ("thursday_2pm", "iphone", "en", "meeting_request", "Yes. Let's do it. Thursday 2pm EST?"),
    (
        "de_kollege",
        "outlook",
        "de",
        "wrong_person",
        "Hallo Herr Seller, vielen Dank. Das Thema liegt bei meinem Kollegen Stefan Braun (s.braun@acme.de).",
    ),
    (
        "fr_jeudi_11h",
        "gmail",
        "fr",
        "meeting_request",
        "Bonjour, oui pourquoi pas, on peut en discuter jeudi à 11h ?",
    ),
    ("es_no_nos_interesa", "apple", "es", "not_interested", "Hola Bob, no nos interesa, gracias."),
    (
        "nl_stuur_informatie",
        "gmail",
        "nl",
        "interested",
        "Hoi Bob, stuur maar wat informatie door, dan kijk ik ernaar.",
    ),
    (
        "it_settembre",
        "outlook",
        "it",
        "not_now",
        "Buongiorno, la ringrazio ma al momento non abbiamo budget. Ci risentiamo a settembre.",
    ),
    (
        "pt_nao_e_comigo",
        "gmail",
        "pt",
        "wrong_person",
        "Olá Bob, não é comigo. Por favor fale com a Ana Souza, ana.souza@acme.com.br.",
    ),
    ("take_me_off", "android", "en", "unsubscribe", "Please take me off your mailing list."),
    (
        "who_handles",
        "thunderbird",
        "en",
        "question",
        "Who's handling onboarding on your side? Is there a free trial?",
    ),
    (
        "forward_colleague",
        "outlook",
        "en",
        "wrong_person",
        "Forwarding this to my colleague Maria Lopez, who handles procurement.",
    ),
    (
        "isnt_a_fit",
        "html:outlook",
        "en",
        "not_interested",
        "Thanks Bob, but this isn't a fit for us.",
    ),
    (
        "pl_usuniecie",
        "gmail",
        "pl",
        "unsubscribe",
        "Dzień dobry, proszę o usunięcie mojego adresu z listy.",
    ),
    ("send_the_deck", "apple", "en", "interested", "Sure, send me the deck and I'll take a look."),
]
# A second batch, written after the rules were extended from the first and then left as
# measured: its misses are the ones reported, not fixed.
HOLDOUT += [
    (
        "hold2_lets_chat_next_week",
        "gmail",
        "en",
        "meeting_request",
        "Happy to chat next week. What does your calendar look like on Wednesday afternoon?",
    ),
    (
        "hold2_not_in_budget",
        "outlook",
        "en",
        "not_now",
        "We don't have budget for this until Q2. Feel free to circle back then.",
    ),
    (
        "hold2_already_use",
        "apple",
        "en",
        "not_interested",
        "We're already using Outreach and happy with it.",
    ),
    (
        "hold2_pricing_question",
        "iphone",
        "en",
        "question",
        "What's the pricing like for a team of 5?",
    ),
    (
        "hold2_de_kein_bedarf",
        "gmail",
        "de",
        "not_interested",
        "Hallo, danke für die Nachricht, aber wir haben aktuell keinen Bedarf und werden auch künftig keinen haben.",
    ),
    (
        "hold2_de_austragen",
        "html:gmail",
        "de",
        "unsubscribe",
        "Bitte tragen Sie mich aus Ihrem Verteiler aus.",
    ),
    (
        "hold2_fr_pas_le_bon",
        "outlook",
        "fr",
        "wrong_person",
        "Bonjour, ce n'est pas moi qui gère ce sujet. Vous pouvez écrire à Paul Martin (paul.martin@acme.fr).",
    ),
    (
        "hold2_es_reunion",
        "gmail",
        "es",
        "meeting_request",
        "Hola Bob, ¿te va bien una videollamada el jueves por la tarde?",
    ),
    (
        "hold2_nl_niet_nodig",
        "apple",
        "nl",
        "not_interested",
        "Dank je, maar we hebben hier geen behoefte aan.",
    ),
    (
        "hold2_it_interessante",
        "gmail",
        "it",
        "interested",
        "Buongiorno, sembra interessante. Mi mandi pure qualche dettaglio in più.",
    ),
    (
        "hold2_pt_depois",
        "outlook",
        "pt",
        "not_now",
        "Oi Bob, agora estamos sem orçamento. Me procure de novo em março.",
    ),
    (
        "hold2_sv_intresserad",
        "gmail",
        "sv",
        "interested",
        "Hej! Det här låter spännande, berätta gärna mer.",
    ),
    (
        "hold2_en_yes_interested_noquestion",
        "thunderbird",
        "en",
        "interested",
        "Yes, we have been looking for something like this. Tell me how it works.",
    ),
    ("hold2_en_stop", "gmail", "en", "unsubscribe", "Please don't email me again."),
]
# A third batch, written after the rules took in the second batch's misses; measured once.
HOLDOUT += [
    (
        "hold3_en_demo_request",
        "outlook",
        "en",
        "meeting_request",
        "Could you give us a quick demo sometime next week? Mornings work best.",
    ),
    (
        "hold3_en_not_a_priority",
        "gmail",
        "en",
        "not_now",
        "It's not a priority for us this quarter, but feel free to reach out in the spring.",
    ),
    (
        "hold3_en_no_longer",
        "iphone",
        "en",
        "wrong_person",
        "I'm no longer with Acme. Try reaching Sam Patel at sam.patel@acme.com instead.",
    ),
    (
        "hold3_en_leave_me_alone",
        "gmail",
        "en",
        "unsubscribe",
        "This is the third email. Please stop, I'm not interested.",
    ),
    (
        "hold3_en_interested_numbers",
        "apple",
        "en",
        "interested",
        "Interesting - we book about 20 meetings a month today. Curious what you'd do differently.",
    ),
    (
        "hold3_en_how_much",
        "thunderbird",
        "en",
        "question",
        "How much does it cost and is there a contract minimum?",
    ),
    (
        "hold3_de_gerne_termin",
        "outlook",
        "de",
        "meeting_request",
        "Gerne, lassen Sie uns nächste Woche telefonieren. Wann passt es Ihnen?",
    ),
    (
        "hold3_fr_pas_interesse",
        "apple",
        "fr",
        "not_interested",
        "Bonjour, cela ne nous intéresse pas. Bonne journée.",
    ),
    (
        "hold3_es_mas_adelante",
        "outlook",
        "es",
        "not_now",
        "Gracias, lo vemos más adelante, ahora estamos con otros proyectos.",
    ),
    ("hold3_nl_bellen", "gmail", "nl", "meeting_request", "Prima, bel me donderdag om 14:00 even."),
    ("hold3_it_non_interessa", "apple", "it", "not_interested", "Grazie, ma non ci interessa."),
    (
        "hold3_pt_reuniao",
        "gmail",
        "pt",
        "meeting_request",
        "Pode ser, vamos marcar uma conversa na quinta?",
    ),
    ("hold3_pl_pytanie", "gmail", "pl", "question", "Ile to kosztuje dla zespołu pięciu osób?"),
    (
        "hold3_sv_nej",
        "apple",
        "sv",
        "not_interested",
        "Tack, men vi har redan ett system för detta och är nöjda.",
    ),
]
# What the rules got wrong when each holdout batch was first measured (batch 1's misses
# were then taught to the rules; batch 2's too; batch 3's are left, except the referral name
# in hold3_en_no_longer, fixed by a rule written for the demo replies). The test expects
# these to fail, strictly, so a fix shows up as an unexpected pass.
KNOWN_MISSES = {
    "hold3_de_gerne_termin": "a meeting asked for as a question ('Wann passt es Ihnen?')",
    "hold3_en_interested_numbers": "interest shown by curiosity, no keyword",
    "hold3_en_leave_me_alone": "'Please stop' without 'emailing' reads as not interested",
    "hold3_fr_pas_interesse": "'cela ne nous intéresse pas' is not in the French list",
    "hold3_nl_bellen": "'bel me donderdag om 14:00' has no Dutch meeting word the rules know",
    "hold3_sv_nej": "'vi har redan ett system ... nöjda' is not in the Swedish list",
}
HOLDOUT_REFERRALS = {
    "de_kollege": {"name": "Stefan Braun", "email": "s.braun@acme.de"},
    "pt_nao_e_comigo": {"name": "Ana Souza", "email": "ana.souza@acme.com.br"},
    "forward_colleague": {"name": "Maria Lopez"},
    "hold2_fr_pas_le_bon": {"name": "Paul Martin", "email": "paul.martin@acme.fr"},
    "hold3_en_no_longer": {"name": "Sam Patel", "email": "sam.patel@acme.com"},
}


def holdout() -> None:
    for name, client, lang, category, text in HOLDOUT:
        raw = _client(client, lang, SENDERS[lang], f"{text}\n\n{SIGN_OFFS[lang]}")
        extra: dict[str, Any] = {"language": lang}
        if name in HOLDOUT_REFERRALS:
            extra["referral"] = HOLDOUT_REFERRALS[name]
        if name in KNOWN_MISSES:
            extra["known_miss"] = KNOWN_MISSES[name]
        reply("holdout", name, raw, category, text, **extra)
    put(
        "holdout",
        "ooo_de_montag",
        f"From: {SENDERS['de']}\nTo: {US}\nSubject: Automatische Antwort: {SUBJECT}\nDate: {DATE}\n"
        "Message-ID: <ooo.hold.de@acme.de>\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
        "Sehr geehrte Damen und Herren,\n\nich bin ab Montag, 4. Januar wieder im Haus. In dringenden F=E4llen\n"
        "wenden Sie sich bitte an vertrieb@acme.de.\n",
        category="auto_reply",
        is_auto_reply=True,
        out_of_office_until="2027-01-04",
        is_bounce=False,
    )
    put(
        "holdout",
        "ticket_received",
        f"From: Acme Support <support@acme.com>\nTo: {US}\nSubject: [Acme] Request received: {SUBJECT}\nDate: {DATE}\n"
        "Message-ID: <ticket.48213@acme.zendesk.com>\nAuto-Submitted: auto-generated\nX-Autoreply: yes\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n\nYour request (48213) has been received and is being reviewed by our support staff.\n",
        category="auto_reply",
        is_auto_reply=True,
        out_of_office_until=None,
        is_bounce=False,
    )
    put(
        "holdout",
        "ooo_friday_11th",
        f"From: {SENDERS['en']}\nTo: {US}\nSubject: Away: {SUBJECT}\nDate: {DATE}\n"
        "Message-ID: <ooo.hold.en@acme.com>\nX-Auto-Response-Suppress: All\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n\nHi, I'm away until Friday 11th December and will reply when I'm back.\n",
        category="auto_reply",
        is_auto_reply=True,
        out_of_office_until="2026-12-11",
        is_bounce=False,
    )
    dsn(
        "holdout_o365_blocked",
        frm="Microsoft Outlook <postmaster@acme.onmicrosoft.com>",
        subject="Undeliverable: " + SUBJECT,
        human="Your message to blocked@acme.com couldn't be delivered.\nThe recipient's email system rejected the message.",
        per_msg="Reporting-MTA: dns;BN8PR12MB3456.namprd12.prod.outlook.com",
        recipients=[
            (
                "blocked@acme.com",
                "failed",
                "5.4.1",
                "550 5.4.1 Recipient address rejected: Access denied.",
            )
        ],
        expected=[{"address": "blocked@acme.com", "permanent": True}],
        headers_only=True,
    )
    EXPECTED["holdout/holdout_o365_blocked.eml"] = {
        **EXPECTED.pop("bounces/holdout_o365_blocked.eml"),
        "kind": "holdout",
    }
    (HERE / "bounces/holdout_o365_blocked.eml").rename(HERE / "holdout/holdout_o365_blocked.eml")


def main() -> None:
    client_replies()
    more_client_replies()
    language_replies()
    classification()
    auto_replies()
    bounces()
    broken()
    holdout()
    for entry in EXPECTED.values():
        entry.setdefault("visible_absent", [])
        entry["visible_absent"] = entry["visible_absent"] + entry.pop("visible_absent_extra", [])
    (HERE / "expected.json").write_text(
        json.dumps(EXPECTED, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    )
    print(f"{len(EXPECTED)} fixtures")


if __name__ == "__main__":
    main()
