/**
 * Parses one raw message with mailparser's streaming MailParser. simpleParser buffers every
 * attachment (a 30 MB one cost about 150 MB), so here each attachment is streamed through: its
 * size and checksum are computed on the way, and its bytes are kept only when they are returned.
 */
import { Readable } from "node:stream";
import iconv from "iconv-lite";
import libmime from "libmime";
import type { AttachmentStream, HeaderLines, MailParser, MessageText } from "mailparser";
import { addressDecoders, parseAddressList } from "./addresses";
import { ImapError } from "./errors";
import {
  decodeHeaderText,
  escapeRawBytesInMessage,
  headerMime,
  isUtf7,
  parseMailDate,
} from "./mimeText";
import type { Address } from "./serialize";
import { isoDate } from "./serialize";

export interface ParseOptions {
  /** Keep the bytes of attachments up to `maxAttachmentSize` (decoded) bytes each. */
  includeAttachments: boolean;
  maxAttachmentSize: number;
  /**
   * The most bytes the attachment with this part number can decode to (from the server's
   * BODYSTRUCTURE), or undefined when not known: its content is then received into one buffer of
   * that size instead of being collected in chunks and joined, which held it twice.
   */
  decodedSizeLimit?: (partId: string) => number | undefined;
}

export interface ParsedAttachment {
  /**
   * The parser's own part number. The one returned is the server's (see partMatch.ts): usable
   * with downloadAttachment and downloadMessage's part, or null when the server has no such part.
   */
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

/** Unfolded, raw 8-bit read as UTF-8 (RFC 6532) or else Windows-1252, with RFC 2047 encoded words decoded. */
function headerValue(line: string): string {
  // mailsplit hands header lines over as binary strings, one character per byte
  return decodeHeaderText(libmime.decodeHeader(line).value);
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

/** Every address of the header `key` (all its lines), RFC 5322 with the obsolete syntax. */
function headerAddresses(lines: HeaderLines, key: string): Address[] {
  return lines
    .filter((line) => line.key === key)
    .flatMap((line) => parseAddressList(libmime.decodeHeader(line.line).value, addressDecoders));
}

function firstHeader(headers: Record<string, string | string[]>, key: string): string | undefined {
  const value = headers[key];
  return Array.isArray(value) ? value[0] : value;
}

/** The message's own Date header; mailparser would put the current time in place of one it cannot read. */
function headerDate(headers: Record<string, string | string[]>): string | null {
  const value = firstHeader(headers, "date");
  if (value === undefined) return null;
  const date = parseMailDate(value);
  return date === null ? null : isoDate(date);
}

/** The parts of mailparser's MailParser (3.14, pinned) that are changed for one parser: not in its typings. */
interface ParserInternals {
  libmime: unknown;
  decoder: { decodeStream(charset: string): NodeJS.ReadWriteStream };
  createNode(node: SplitterNode): unknown;
}

interface SplitterNode {
  contentType: string | false;
  parentNode: SplitterNode | false;
  multipart: string | false;
  headers: { get(key: string): unknown[] };
}

/**
 * Reads mail as senders write it, where mailparser (3.14) does not:
 * - encoded words in UTF-7 are decoded (libmime reads them as UTF-8, on purpose, since UTF-7
 *   can hide markup from filters; the HTML we return is untrusted anyway), and so are text
 *   parts in UTF-7;
 * - a part of a multipart/digest without a Content-Type is message/rfc822 (RFC 2046 5.1.5),
 *   where mailsplit makes it text/plain and its message ends up inside `text`.
 */
function readRealWorldMail(parser: MailParser): void {
  const internals = parser as unknown as ParserInternals;
  internals.libmime = headerMime;
  const decoder = internals.decoder;
  internals.decoder = {
    decodeStream: (charset) =>
      isUtf7(charset) ? iconv.decodeStream("utf7") : decoder.decodeStream(charset),
  };
  const createNode = internals.createNode.bind(parser);
  internals.createNode = (node) => {
    const parent = node.parentNode;
    if (parent && parent.multipart === "digest" && node.headers.get("content-type").length === 0)
      node.contentType = "message/rfc822";
    return createNode(node);
  };
}

function* slices(source: Buffer, size = 64 * 1024): Generator<Buffer> {
  for (let start = 0; start < source.length; start += size)
    yield source.subarray(start, start + size);
}

/**
 * The attachment's file name. mailsplit decodes it with a libmime of its own, which reads UTF-7
 * encoded words as UTF-8; the part's headers as mailparser hands them over went through ours.
 * Those lose raw bytes that are not UTF-8 (U+FFFD), so mailsplit's name stays where they differ
 * that way.
 */
function attachmentName(item: AttachmentStream): string | null {
  const param = (key: string, name: string): unknown => {
    const value: unknown = item.headers?.get(key);
    if (typeof value !== "object" || value === null || !("params" in value)) return undefined;
    const params = value.params;
    return typeof params === "object" && params !== null && name in params
      ? (params as Record<string, unknown>)[name]
      : undefined;
  };
  const decoded = param("content-disposition", "filename") ?? param("content-type", "name");
  if (typeof decoded === "string" && decoded !== "" && !decoded.includes("\uFFFD")) return decoded;
  return item.filename ?? null;
}

/**
 * The decoded bytes of one attachment, received into one buffer when its largest decoded size is
 * known (and then cut to what came), else in chunks joined at the end. A part that turns out
 * larger than announced (the parser split the message otherwise than the server) goes on in
 * chunks after what the buffer holds.
 */
class ContentBuffer {
  private buffer: Buffer | undefined;
  private filled = 0;
  private chunks: Buffer[] = [];
  length = 0;

  constructor(capacity: number | undefined) {
    if (capacity !== undefined && capacity > 0) this.buffer = Buffer.allocUnsafe(capacity);
  }

  push(chunk: Buffer): void {
    this.length += chunk.length;
    if (
      this.buffer &&
      this.chunks.length === 0 &&
      this.filled + chunk.length <= this.buffer.length
    ) {
      chunk.copy(this.buffer, this.filled);
      this.filled += chunk.length;
      return;
    }
    if (this.buffer && this.chunks.length === 0)
      this.chunks.push(this.buffer.subarray(0, this.filled));
    this.chunks.push(chunk);
  }

  clear(): void {
    this.buffer = undefined;
    this.chunks = [];
    this.filled = 0;
  }

  content(): Buffer {
    if (this.chunks.length > 0 || !this.buffer) return Buffer.concat(this.chunks, this.length);
    // A buffer much larger than its content would keep the difference alive with it.
    if (this.filled < this.buffer.length * 0.9)
      return Buffer.from(this.buffer.subarray(0, this.filled));
    return this.buffer.subarray(0, this.filled);
  }
}

/**
 * Reads one attachment stream to its end, keeping the decoded bytes only when they will be
 * returned (base64 is made once, when the output is serialized).
 */
function readAttachment(item: AttachmentStream, options: ParseOptions): Promise<ParsedAttachment> {
  return new Promise((resolve, reject) => {
    // A single-part message has no part numbers in mailparser; IMAP calls its body part 1.
    const partId = item.partId ?? "1";
    const limit = options.includeAttachments ? options.decodedSizeLimit?.(partId) : undefined;
    // Nothing larger than Max Attachment Size is kept: no buffer larger than that either.
    let kept: ContentBuffer | undefined = options.includeAttachments
      ? new ContentBuffer(
          limit === undefined ? undefined : Math.min(limit, options.maxAttachmentSize),
        )
      : undefined;
    let tooLarge = false;
    item.content.on("data", (chunk: Buffer) => {
      if (!kept) return;
      if (kept.length + chunk.length > options.maxAttachmentSize) {
        tooLarge = true;
        kept.clear();
        kept = undefined;
      } else kept.push(chunk);
    });
    item.content.on("error", reject);
    item.content.once("end", () => {
      const disposition = item.contentDisposition?.toLowerCase();
      resolve({
        partId,
        filename: attachmentName(item),
        contentType: item.contentType,
        size: item.size ?? 0,
        contentId: item.cid ?? null,
        inline: disposition === "inline" || (disposition === undefined && item.related === true),
        checksum: item.checksum ?? "",
        content: kept ? kept.content() : null,
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
    readRealWorldMail(parser);
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
      const from = headerAddresses(parser.headerLines || [], "from");
      const replyTo = headerAddresses(parser.headerLines || [], "reply-to");
      resolve({
        subject: parser.subject ?? "",
        date: headerDate(headers),
        messageId: parser.messageId ?? "",
        inReplyTo: parser.inReplyTo ?? "",
        references:
          parser.references === undefined ? [] : ([] as string[]).concat(parser.references),
        from,
        to: headerAddresses(parser.headerLines || [], "to"),
        cc: headerAddresses(parser.headerLines || [], "cc"),
        bcc: headerAddresses(parser.headerLines || [], "bcc"),
        // Where a reply goes, as the envelope's reply-to says it (RFC 5322 3.6.2): Reply-To, else From.
        replyTo: replyTo.length > 0 ? replyTo : from,
        headers,
        // An empty text/plain beside an HTML part is an empty text, not a missing one.
        text: body?.text ?? (body?.html ? "" : null),
        html: body?.html ?? null,
        attachments,
      });
    });
    // Raw 8-bit bytes inside encoded words would be read as UTF-8 before the word's charset.
    Readable.from(slices(escapeRawBytesInMessage(source))).pipe(parser);
  });
}
