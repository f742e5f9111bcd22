/**
 * Parses one raw message with mailparser's streaming MailParser. simpleParser buffers every
 * attachment (a 30 MB one cost about 150 MB), so here each attachment is streamed through: its
 * size and checksum are computed on the way, and its bytes are kept only when they are returned.
 */
import { Readable } from "node:stream";
import libmime from "libmime";
import type {
  AddressObject,
  AttachmentStream,
  EmailAddress,
  HeaderLines,
  MessageText,
} from "mailparser";
import { ImapError } from "./errors";
import type { Address } from "./serialize";
import { isoDate } from "./serialize";

export interface ParseOptions {
  /** Keep the bytes of attachments up to `maxAttachmentSize` (decoded) bytes each. */
  includeAttachments: boolean;
  maxAttachmentSize: number;
}

export interface ParsedAttachment {
  /** IMAP body part number, usable with downloadAttachment and downloadMessage's part. */
  partId: string;
  filename: string | null;
  contentType: string;
  /** Decoded size in bytes. */
  size: number;
  /** Content-ID without angle brackets, as `cid:` links in the HTML name it. */
  contentId: string | null;
  inline: boolean;
  /** SHA-256 of the decoded content, hex. */
  checksum: string;
  /** The decoded bytes (base64 once serialized by toJson), or null when not asked for or too large. */
  content: Buffer | null;
  tooLarge: boolean;
}

export interface ParsedMessage {
  subject: string;
  date: string | null;
  messageId: string;
  inReplyTo: string;
  references: string[];
  from: Address[];
  to: Address[];
  cc: Address[];
  bcc: Address[];
  /** Where a reply goes: the Reply-To addresses, or From when the message has no Reply-To. */
  replyTo: Address[];
  headers: Record<string, string | string[]>;
  text: string | null;
  html: string | null;
  attachments: ParsedAttachment[];
}

/** HTML longer than this is not converted to text for a message without a text part (about a second of CPU per MB). */
export const MAX_HTML_TO_TEXT = 1_000_000;

/** Unfolded, read as UTF-8 (RFC 6532), with RFC 2047 encoded words decoded. */
function headerValue(line: string): string {
  // mailsplit hands header lines over as binary strings, one character per byte
  const text = Buffer.from(libmime.decodeHeader(line).value, "binary").toString("utf8");
  try {
    return libmime.decodeWords(text);
  } catch {
    // an unknown charset in an encoded word: the raw text is still better than nothing
    return text;
  }
}

function headersObject(lines: HeaderLines): Record<string, string | string[]> {
  const grouped = new Map<string, string[]>();
  for (const { key, line } of lines) {
    const values = grouped.get(key);
    if (values) values.push(headerValue(line));
    else grouped.set(key, [headerValue(line)]);
  }
  // fromEntries defines own properties: a header named __proto__ cannot reach the prototype
  return Object.fromEntries(
    Array.from(grouped, ([key, values]) => [
      key,
      values.length === 1 ? (values[0] as string) : values,
    ]),
  );
}

function addresses(value: AddressObject | AddressObject[] | undefined): Address[] {
  const flatten = (entry: EmailAddress): Address[] =>
    entry.group
      ? entry.group.flatMap(flatten)
      : [{ name: entry.name ?? "", address: entry.address ?? "" }];
  return (value === undefined ? [] : ([] as AddressObject[]).concat(value)).flatMap((object) =>
    object.value.flatMap(flatten),
  );
}

function firstHeader(headers: Record<string, string | string[]>, key: string): string | undefined {
  const value = headers[key];
  return Array.isArray(value) ? value[0] : value;
}

/** The message's own Date header; mailparser would put the current time in place of one it cannot read. */
function headerDate(headers: Record<string, string | string[]>): string | null {
  const value = firstHeader(headers, "date");
  if (value === undefined) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : isoDate(date);
}

function* slices(source: Buffer, size = 64 * 1024): Generator<Buffer> {
  for (let start = 0; start < source.length; start += size)
    yield source.subarray(start, start + size);
}

/**
 * Reads one attachment stream to its end, keeping the decoded bytes only when they will be
 * returned (base64 is made once, when the output is serialized).
 */
function readAttachment(item: AttachmentStream, options: ParseOptions): Promise<ParsedAttachment> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let tooLarge = false;
    item.content.on("data", (chunk: Buffer) => {
      if (!options.includeAttachments || tooLarge) return;
      kept += chunk.length;
      if (kept > options.maxAttachmentSize) {
        tooLarge = true;
        chunks.length = 0;
      } else chunks.push(chunk);
    });
    item.content.on("error", reject);
    item.content.once("end", () => {
      const disposition = item.contentDisposition?.toLowerCase();
      resolve({
        // A single-part message has no part numbers in mailparser; IMAP calls its body part 1.
        partId: item.partId ?? "1",
        filename: item.filename ?? null,
        contentType: item.contentType,
        size: item.size ?? 0,
        contentId: item.cid ?? null,
        inline: disposition === "inline" || (disposition === undefined && item.related === true),
        checksum: item.checksum ?? "",
        content: options.includeAttachments && !tooLarge ? Buffer.concat(chunks, kept) : null,
        tooLarge,
      });
    });
  });
}

/** The message could not be parsed at all (mailparser refuses e.g. a header block over 1 MB). */
function unparseable(err: unknown, where: { mailbox: string; uid: number }): ImapError {
  const reason = err instanceof Error ? err.message : String(err);
  return new ImapError(
    `The message with UID ${where.uid} in mailbox "${where.mailbox}" could not be parsed: ${reason}. Download Message still returns it as it is.`,
    { code: "MESSAGE_UNPARSEABLE", mailbox: where.mailbox, uid: where.uid, cause: err },
  );
}

/** Parses `source`; with `where`, a failure is an ImapError naming the message, else mailparser's own error. */
export async function parseMessage(
  source: Buffer,
  options: ParseOptions,
  where?: { mailbox: string; uid: number },
): Promise<ParsedMessage> {
  // Loaded on first use: most steps never parse a message, and every step pays the bundle's load time.
  const { MailParser } = await import("mailparser");
  return new Promise((resolve, rejectWith) => {
    const reject = (err: unknown) => rejectWith(where ? unparseable(err, where) : err);
    const parser = new MailParser({
      // An attached message stays one attachment (its .eml), numbered as the server numbers it.
      ignoreEmbedded: true,
      // textAsHtml is not returned: no text-to-HTML conversion, and html is only the message's own.
      skipTextToHtml: true,
      maxHtmlLengthToParse: MAX_HTML_TO_TEXT,
      checksumAlgo: "sha256",
    });
    const attachments: ParsedAttachment[] = [];
    let body: MessageText | undefined;
    parser.on("data", (item: AttachmentStream | MessageText) => {
      if (item.type === "text") {
        body = item;
        return;
      }
      // The parser waits for release() before it goes on: one attachment at a time.
      readAttachment(item, options).then(
        (attachment) => {
          attachments.push(attachment);
          item.release?.();
        },
        (err: unknown) => parser.destroy(err instanceof Error ? err : new Error(String(err))),
      );
    });
    // on, not once: a second error event without a listener would crash the process.
    parser.on("error", reject);
    parser.once("end", () => {
      const headers = headersObject(parser.headerLines || []);
      const from = addresses(parser.from);
      const replyTo = addresses(parser.replyTo);
      resolve({
        subject: parser.subject ?? "",
        date: headerDate(headers),
        messageId: parser.messageId ?? "",
        inReplyTo: parser.inReplyTo ?? "",
        references:
          parser.references === undefined ? [] : ([] as string[]).concat(parser.references),
        from,
        to: addresses(parser.to),
        cc: addresses(parser.cc),
        bcc: addresses(parser.bcc),
        // Where a reply goes, as the envelope's reply-to says it (RFC 5322 3.6.2): Reply-To, else From.
        replyTo: replyTo.length > 0 ? replyTo : from,
        headers,
        text: body?.text ?? null,
        html: body?.html ?? null,
        attachments,
      });
    });
    Readable.from(slices(source)).pipe(parser);
  });
}
