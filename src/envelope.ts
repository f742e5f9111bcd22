/**
 * The envelope of a message read from its own header fields, decoded as getMessage decodes them
 * (the server's ENVELOPE keeps raw 8-bit bytes that imapflow then reads as UTF-8, and leaves
 * UTF-7 and obsolete address syntax to the client). Fetched in the same FETCH as the ENVELOPE.
 */
import { addressDecoders, parseAddressList } from "./addresses";
import { decodeHeaderText, parseMailDate } from "./mimeText";
import type { Address } from "./serialize";

/** The header fields the envelope is read from (BODY.PEEK[HEADER.FIELDS (...)]). */
export const ENVELOPE_HEADERS = [
  "date",
  "subject",
  "from",
  "sender",
  "reply-to",
  "to",
  "cc",
  "bcc",
];

/** Header fields as a map of lower-case name to raw values (binary strings), unfolded. */
export function headerFields(block: Buffer): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const line of block.toString("latin1").split(/\r?\n(?![ \t])/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line
      .slice(colon + 1)
      .replace(/\r?\n/g, "")
      .trim();
    fields.set(key, [...(fields.get(key) ?? []), value]);
  }
  return fields;
}

export interface HeaderEnvelope {
  date: Date | null;
  subject: string;
  from: Address[];
  sender: Address[];
  replyTo: Address[];
  to: Address[];
  cc: Address[];
  bcc: Address[];
}

/** As ENVELOPE defines it (RFC 3501 7.4.2): a missing Sender or Reply-To is the From. */
export function headerEnvelope(block: Buffer): HeaderEnvelope {
  const fields = headerFields(block);
  const list = (key: string) =>
    (fields.get(key) ?? []).flatMap((value) => parseAddressList(value, addressDecoders));
  const from = list("from");
  const first = (key: string) => fields.get(key)?.[0];
  const date = first("date");
  const subject = first("subject");
  return {
    date: date === undefined ? null : parseMailDate(date),
    subject: subject === undefined ? "" : decodeHeaderText(subject),
    from,
    sender: fields.has("sender") ? list("sender") : from,
    replyTo: fields.has("reply-to") ? list("reply-to") : from,
    to: list("to"),
    cc: list("cc"),
    bcc: list("bcc"),
  };
}
