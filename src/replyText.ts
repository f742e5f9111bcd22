/**
 * The text the sender wrote in this message: without the quoted messages it answers (Gmail's
 * "On ... wrote:", Outlook's "-----Original Message-----" and "From: ... Sent: ...", "> "
 * quoting, top or bottom posted) and without its signature ("-- ", "Sent from my iPhone").
 * email-reply-parser does the recognising.
 */
import EmailReplyParser from "email-reply-parser";

/**
 * Longer text is cut before parsing: what the sender wrote this time is at its start, and the
 * parser's regular expressions take time that grows with the square of a line's length (a
 * crafted 20,000-character line: about 0.5 s, 50,000: 4 s).
 */
export const MAX_REPLY_PARSE_LENGTH = 20_000;

/** The reply part of `text` (a message's plain text or its HTML rendered as text); null for null. */
export function replyTextOf(text: string | null): string | null {
  if (text === null) return null;
  const head = text.length > MAX_REPLY_PARSE_LENGTH ? text.slice(0, MAX_REPLY_PARSE_LENGTH) : text;
  const normalized = head.replace(/\r\n?/g, "\n");
  const visible = new EmailReplyParser().read(normalized).getVisibleText();
  // A rule above the quoted header (Outlook's <hr>, rendered as dashes) stays behind: drop it.
  return visible.replace(/(?:\n\s*[-_=]{4,}\s*)+$/, "").trim();
}
