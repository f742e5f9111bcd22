/**
 * appendMessage's inputs and the append itself, which reports the new message's UID also on
 * servers without UIDPLUS (found by its Message-ID among the messages that arrived since).
 */
import { fetchExisting } from "./bodyParts";
import { ImapError, InputError } from "./errors";
import { isCalendarDay, MONTH_NAMES } from "./inputs";
import { mailboxStatus } from "./mailboxes";
import { flagList, hasFlag } from "./serialize";
import type { Session, SessionOptions } from "./session";
import { identities, messageIdOf } from "./transfer";

function bytesOf(value: unknown): Buffer | undefined {
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return undefined;
}

/** IMAP wants CRLF line ends; text typed into a step or saved by some tools has bare LF. */
function withCrlf(bytes: Buffer): Buffer {
  let bare = 0;
  for (let i = 0; i < bytes.length; i += 1)
    if (bytes[i] === 0x0a && bytes[i - 1] !== 0x0d) bare += 1;
  if (bare === 0) return bytes;
  const out = Buffer.allocUnsafe(bytes.length + bare);
  let j = 0;
  bytes.forEach((byte, i) => {
    if (byte === 0x0a && bytes[i - 1] !== 0x0d) out[j++] = 0x0d;
    out[j++] = byte;
  });
  return out;
}

const FIRST_HEADER = /^[!-9;-~]+[ \t]*:/;

/**
 * The message to append: raw RFC 5322 text, a Buffer, or file data from an earlier step
 * (`{ data, contentType }`). It must start with a header field; bare LF line ends become CRLF.
 */
export function parseRawMessage(value: unknown): Buffer {
  const data =
    typeof value === "object" && value !== null && !(value instanceof Uint8Array) && "data" in value
      ? value.data
      : value;
  const bytes = bytesOf(data);
  if (!bytes) {
    throw new InputError(
      "Message must be the raw message (RFC 5322 text: headers, a blank line, the body) or file data from an earlier step, not an object or a number.",
    );
  }
  if (bytes.toString("latin1", 0, Math.min(bytes.length, 4096)).trim() === "") {
    throw new InputError(
      "Message is empty: give the raw message (RFC 5322 text: headers, a blank line, the body).",
    );
  }
  const firstLine =
    bytes.toString("latin1", 0, Math.min(bytes.length, 1000)).split(/\r?\n/)[0] ?? "";
  if (!FIRST_HEADER.test(firstLine)) {
    throw new InputError(
      `Message does not start with a header field such as "From: ..." (it starts with "${firstLine.slice(0, 40)}"). Give the raw RFC 5322 message: headers, a blank line, the body; remove an mbox "From " line.`,
    );
  }
  return withCrlf(bytes);
}

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/i;
const MAIL_DATE =
  /^(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s+([+-]\d{4}|UT|GMT|Z)$/;

/**
 * The optional internal date: ISO 8601 (a date, or a date and time with a time zone) or an
 * RFC 5322 date as in a Date header. "" is none. A time without a zone is refused: it would
 * silently depend on the server's clock.
 */
export function parseInternalDate(value: unknown): Date | undefined {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new InputError("Internal Date is not a valid date.");
    return value;
  }
  if (value === undefined || value === null || value === "") return undefined;
  const text = typeof value === "string" ? value.trim() : "";
  const bad = () =>
    new InputError(
      `Internal Date ${JSON.stringify(value)} is not a date: use ISO 8601 such as 2024-05-17 or 2024-05-17T09:30:00Z (a time needs a zone: Z or +02:00), or a mail date such as "Fri, 17 May 2024 09:30:00 +0200".`,
    );
  if (text === "") {
    if (typeof value === "string") return undefined;
    throw bad();
  }
  const iso = ISO_DATE.exec(text);
  const mail = iso ? null : MAIL_DATE.exec(text);
  if (iso) {
    if (!isCalendarDay(Number(iso[1]), Number(iso[2]), Number(iso[3]))) throw bad();
  } else if (mail) {
    const name = (mail[2] ?? "").toLowerCase();
    const month = MONTH_NAMES.findIndex((candidate) => candidate.toLowerCase() === name) + 1;
    if (month === 0 || !isCalendarDay(Number(mail[3]), month, Number(mail[1]))) throw bad();
  } else {
    throw bad();
  }
  const time = Date.parse(
    iso ? text.replace(" ", "T").replace(/([+-]\d{2})(\d{2})$/, "$1:$2") : text,
  );
  if (Number.isNaN(time)) throw bad();
  return new Date(time);
}

export interface Appended {
  mailbox: string;
  uid: number;
  uidValidity: string;
  /** The stored message's flags as read back (without \Recent); [] when none were asked for. */
  flags: string[];
  /** Whether the server recorded the internal date asked for; null when none was. */
  internalDateApplied: boolean | null;
}

/**
 * What the server made of the flags and internal date given with APPEND, read back from the
 * message found: some servers accept APPEND but ignore both. Missing flags are stored
 * afterwards; a date cannot be set afterwards, so it is reported as not applied. Nothing here
 * fails the step: the message is stored, and a retry would store it twice.
 */
async function checkAppended(
  session: Session,
  mailbox: string,
  uid: number,
  flags: string[],
  internalDate: Date | undefined,
): Promise<Pick<Appended, "flags" | "internalDateApplied">> {
  if (flags.length === 0 && internalDate === undefined)
    return { flags: [], internalDateApplied: null };
  return session.withMailbox(mailbox, { readOnly: flags.length === 0 }, async (selected) => {
    const read = () => fetchExisting(selected, uid, { flags: true, internalDate: true });
    let message = await read();
    const missing = flags.filter((flag) => !hasFlag(message.flags ?? [], flag));
    if (missing.length > 0) {
      // a refusal (e.g. keywords the mailbox does not keep) shows in the flags read back
      await session.client.messageFlagsAdd(String(uid), missing, { uid: true }).catch(() => false);
      message = await read();
    }
    const stored = message.internalDate ? new Date(message.internalDate).getTime() : Number.NaN;
    return {
      flags: flagList(message.flags),
      internalDateApplied:
        internalDate === undefined
          ? null
          : Math.floor(stored / 1000) === Math.floor(internalDate.getTime() / 1000),
    };
  });
}

/** The highest UID since `uidNext` whose Message-ID is `messageId`: the message just appended. */
async function findAppended(
  session: Session,
  mailbox: string,
  before: { uidNext: number; uidValidity: bigint },
  messageId: string,
): Promise<number | undefined> {
  return session.withMailbox(mailbox, { readOnly: true }, async (selected) => {
    const box = selected.box;
    if (box.uidValidity !== before.uidValidity || box.exists === 0) return undefined;
    const arrived = await identities(
      selected,
      `${before.uidNext}:*`,
      "find the appended message",
      before.uidNext,
    );
    return arrived.filter((message) => message.messageId === messageId).pop()?.uid;
  });
}

/** Appends `content` and returns its UID: from APPENDUID with UIDPLUS, else by its Message-ID. */
/** What an append reads of its mailbox first (the UIDs it may get, and under which UIDVALIDITY). */
const APPEND_STATUS = { uidNext: true, uidValidity: true } as const;

/** The session of an append: it reads the mailbox's STATUS first. */
export function appending(mailbox: string): SessionOptions {
  return { ahead: [{ command: "STATUS", mailbox, query: APPEND_STATUS }] };
}

export async function appendToMailbox(
  session: Session,
  mailbox: string,
  content: Buffer,
  flags: string[],
  internalDate?: Date,
): Promise<Appended> {
  const status = await mailboxStatus(session, mailbox, APPEND_STATUS);
  const before = { uidNext: status.uidNext ?? 1, uidValidity: status.uidValidity ?? BigInt(0) };
  const uidPlus = session.has("UIDPLUS");
  const messageId = messageIdOf(content);
  if (!uidPlus && messageId === "") {
    throw new ImapError(
      `Did not append the message to "${status.path}": the server has no UIDPLUS extension, so the new message's UID can only be found by its Message-ID header, and this message has none. Add a Message-ID header (e.g. Message-ID: <unique-id@your-domain>) and retry.`,
      { code: "MISSING_EXTENSION", mailbox: status.path },
    );
  }
  const result = await session.run({ doing: "append the message", mailbox, into: mailbox }, () =>
    session.client.append(mailbox, content, flags, internalDate),
  );
  if (uidPlus && result.uid !== undefined && result.uidValidity !== undefined) {
    return {
      mailbox: result.destination,
      uid: result.uid,
      uidValidity: result.uidValidity.toString(),
      ...(await checkAppended(session, result.destination, result.uid, flags, internalDate)),
    };
  }
  const uid =
    messageId === ""
      ? undefined
      : await findAppended(session, result.destination, before, messageId);
  if (uid === undefined) {
    throw new ImapError(
      `The message was appended to "${result.destination}", but its UID could not be found (the server reported none, and no new message with Message-ID ${messageId || "(none)"} is there now: another client may have moved it). Do not retry this step: it would append the message again.`,
      { code: "APPENDED_UID_UNKNOWN", mailbox: result.destination },
    );
  }
  return {
    mailbox: result.destination,
    uid,
    uidValidity: before.uidValidity.toString(),
    ...(await checkAppended(session, result.destination, uid, flags, internalDate)),
  };
}
