"""Replies: raw messages in (IMAP, webhook, files), parsed, threaded, understood, acted on.

- `parsing`: raw bytes to a `ParsedEmail` (pure, no database): MIME, visible text,
  auto-replies and out-of-office dates, bounces, and the rules-based classifier.
- `ingest`: store the raw message first, then parse, thread and create the `Reply`.
- `imap`: polling a mailbox's folder, once per message.
- `handling`: classify (model or rules), act (stop, suppress, resume, refer, outcome),
  and the suggested answer.
"""
