/**
 * Turns what imapflow and mailparser return into plain JSON that survives `JSON.stringify`
 * unchanged: bigint becomes a decimal string, Set and Map become arrays, Date becomes an ISO 8601
 * string, Buffers become base64 and undefined object members are dropped.
 */
import { headerEnvelope } from "./envelope";

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export function toJson(value: unknown): Json {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : null;
    case "bigint":
      return value.toString(10);
    case "object":
      break;
    default:
      return null;
  }
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? null : value.toISOString();
  }
  if (Buffer.isBuffer(value)) return value.toString("base64");
  if (value instanceof Set || Array.isArray(value)) return Array.from(value, toJson);
  if (value instanceof Map) {
    return Array.from(value, ([key, item]) => [toJson(key), toJson(item)]);
  }
  const entries: [string, Json][] = [];
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined && typeof item !== "function") entries.push([key, toJson(item)]);
  }
  // fromEntries defines own properties: a key such as __proto__ (a mail header) stays a plain key
  return Object.fromEntries(entries);
}

/** Dates from the server as ISO strings; imapflow gives a Date, or the raw string it could not parse. */
export function isoDate(value: Date | string | undefined | null): string | null {
  if (value === undefined || value === null || value === "") return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
}

export interface Address {
  name: string;
  address: string;
}

export function addressList(
  list: ReadonlyArray<{ name?: string; address?: string }> | undefined,
): Address[] {
  return (list ?? []).map((entry) => ({ name: entry.name ?? "", address: entry.address ?? "" }));
}

export interface Envelope {
  date: string | null;
  subject: string;
  messageId: string;
  inReplyTo: string;
  from: Address[];
  to: Address[];
  cc: Address[];
  bcc: Address[];
  replyTo: Address[];
  sender: Address[];
}

interface EnvelopeSource {
  date?: Date | string;
  subject?: string;
  messageId?: string;
  inReplyTo?: string;
  from?: { name?: string; address?: string }[];
  to?: { name?: string; address?: string }[];
  cc?: { name?: string; address?: string }[];
  bcc?: { name?: string; address?: string }[];
  replyTo?: { name?: string; address?: string }[];
  sender?: { name?: string; address?: string }[];
}

/** Every key present, even when the message lacks the header, so later steps can rely on the shape. */
export function envelopeJson(envelope: EnvelopeSource | undefined): Envelope {
  const e = envelope ?? {};
  return {
    date: isoDate(e.date),
    subject: e.subject ?? "",
    messageId: e.messageId ?? "",
    inReplyTo: e.inReplyTo ?? "",
    from: addressList(e.from),
    to: addressList(e.to),
    cc: addressList(e.cc),
    bcc: addressList(e.bcc),
    replyTo: addressList(e.replyTo),
    sender: addressList(e.sender),
  };
}

const SYSTEM_FLAGS = [
  "\\Answered",
  "\\Flagged",
  "\\Deleted",
  "\\Seen",
  "\\Draft",
  "\\Recent",
  "\\*",
];

/** A system flag in the letter case of RFC 9051 (a server may write \SEEN); any other flag as given. */
export function canonicalFlag(flag: string): string {
  return SYSTEM_FLAGS.find((system) => hasFlag([flag], system)) ?? flag;
}

/** Whether `flags` holds `flag`; flags and mailbox attributes compare in any letter case. */
export function hasFlag(flags: Iterable<string>, flag: string): boolean {
  const wanted = flag.toLowerCase();
  for (const candidate of flags) if (candidate.toLowerCase() === wanted) return true;
  return false;
}

/**
 * A message's flags as every output shows them: \Recent left out (in any letter case). It only
 * says which session saw the message first (whichever looked first, e.g. this very call), cannot
 * be set or acted on, and IMAP4rev2 dropped it: the same call would otherwise return different
 * flags depending on who looked first.
 */
export function flagList(flags: Iterable<string> | undefined): string[] {
  return Array.from(flags ?? []).filter((flag) => !hasFlag([flag], "\\Recent"));
}

/**
 * The identities some servers give a message: Gmail's labels (X-GM-LABELS), thread and message
 * ids (X-GM-THRID, X-GM-MSGID), or RFC 8474's THREADID and EMAILID. Each is present only when the
 * server sent it: a missing one is left out, never guessed.
 */
export interface MessageIdentity {
  labels?: string[];
  threadId?: string;
  emailId?: string;
}

export interface MessageSummary extends MessageIdentity {
  uid: number;
  flags: string[];
  size: number;
  internalDate: string | null;
  envelope: Envelope;
}

interface FetchedIdentity {
  labels?: Set<string>;
  threadId?: string;
  emailId?: string;
}

interface FetchedSummary extends FetchedIdentity {
  uid: number;
  flags?: Set<string>;
  size?: number;
  internalDate?: Date | string;
  envelope?: EnvelopeSource;
  /** The ENVELOPE_HEADERS fields, when fetched: the envelope's text is then read from them. */
  headers?: Buffer;
}

/** What the FETCH query must ask for to get `messageIdentity`: imapflow adds EMAILID / X-GM-MSGID itself. */
export const IDENTITY_QUERY = { threadId: true, labels: true } as const;

export function messageIdentity(message: FetchedIdentity): MessageIdentity {
  return {
    ...(message.labels ? { labels: Array.from(message.labels) } : {}),
    ...(typeof message.threadId === "string" && message.threadId !== ""
      ? { threadId: message.threadId }
      : {}),
    ...(typeof message.emailId === "string" && message.emailId !== ""
      ? { emailId: message.emailId }
      : {}),
  };
}

export function messageSummary(message: FetchedSummary): MessageSummary {
  const envelope = envelopeJson(message.envelope);
  return {
    uid: message.uid,
    flags: flagList(message.flags),
    size: message.size ?? 0,
    internalDate: isoDate(message.internalDate),
    envelope: message.headers ? fromHeaders(envelope, message.headers) : envelope,
    ...messageIdentity(message),
  };
}

/** The envelope's dates, text and addresses from the message's own header fields, decoded as getMessage does. */
function fromHeaders(envelope: Envelope, headers: Buffer): Envelope {
  const read = headerEnvelope(headers);
  return { ...envelope, ...read, date: read.date ? isoDate(read.date) : envelope.date };
}
