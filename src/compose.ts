/**
 * Composing a new message (a draft) from step inputs: addresses, attachments and extra headers
 * are parsed and checked before any network traffic, and the MIME is built by nodemailer's
 * MailComposer, never by hand.
 */
import addressparser from "nodemailer/lib/addressparser";
import { InputError } from "./errors";
import { hasControlCharacters } from "./inputs";
import type { Address } from "./serialize";

export interface ComposedAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
  /** For an image the HTML shows inline (cid: link): its Content-ID, without angle brackets. */
  contentId?: string;
}

export interface Draft {
  from: Address[];
  to: Address[];
  cc: Address[];
  bcc: Address[];
  replyTo: Address[];
  subject: string;
  text?: string;
  html?: string;
  attachments: ComposedAttachment[];
  inReplyTo?: string;
  references: string[];
  headers: { key: string; value: string }[];
}

export interface Composed {
  raw: Buffer;
  messageId: string;
}

function describe(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : (JSON.stringify(value) ?? String(value));
}

const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]+$/;

function addressText(item: unknown, name: string): string {
  if (typeof item === "string") return item;
  if (typeof item === "object" && item !== null && "address" in item) {
    const { address, name: display } = item as { address: unknown; name?: unknown };
    if (typeof address === "string")
      return typeof display === "string" && display !== ""
        ? `"${display.replace(/["\\]/g, "")}" <${address}>`
        : address;
  }
  throw new InputError(`${name}: ${describe(item)} is not an email address.`);
}

/**
 * An address list: "Alice <alice@example.com>, bob@example.com", a list of such texts, or
 * `{ name, address }` objects from an earlier step (e.g. Get Message's from). "" is none.
 */
export function parseAddressList(value: unknown, name: string): Address[] {
  if (value === undefined || value === null || value === "") return [];
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (typeof value === "string") {
    const text = value.trim();
    items = text.startsWith("[") ? parseJson(text, name) : [text];
  } else items = [value];
  const out: Address[] = [];
  for (const item of items) {
    const text = addressText(item, name);
    if (hasControlCharacters(text))
      throw new InputError(`${name} ${describe(text)} contains control characters or line breaks.`);
    if (text.trim() === "") continue;
    for (const parsed of addressparser(text, { flatten: true })) {
      if (!ADDRESS.test(parsed.address)) {
        throw new InputError(
          `${name}: ${describe(parsed.address || text)} is not an email address. Give addresses such as alice@example.com or "Alice Example <alice@example.com>", separated by commas.`,
        );
      }
      out.push({ name: parsed.name, address: parsed.address });
    }
  }
  return out;
}

function parseJson(text: string, name: string): unknown[] {
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed)) return parsed;
  } catch {
    // reported below
  }
  throw new InputError(`${name} starts with "[" but is not a JSON list.`);
}

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/;

function field(item: object, key: string): unknown {
  return Reflect.get(item, key);
}

function bytesOf(value: unknown): Buffer | undefined {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  // A Buffer that went through JSON: { type: "Buffer", data: [...] }
  if (typeof value === "object" && value !== null && field(value, "type") === "Buffer") {
    const data = field(value, "data");
    if (Array.isArray(data) && data.every((n) => Number.isInteger(n) && n >= 0 && n <= 255))
      return Buffer.from(data);
  }
  return undefined;
}

function attachment(item: unknown, index: number): ComposedAttachment {
  const where = `Attachments: item ${index + 1}`;
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    throw new InputError(
      `${where} is ${describe(item)}, not an attachment: give { "filename", "contentType", "content" (base64) } or a file from an earlier step with a file name.`,
    );
  }
  const filenameValue = field(item, "filename") ?? field(item, "name") ?? field(item, "fileName");
  const filename = typeof filenameValue === "string" ? filenameValue.trim() : "";
  if (filename === "")
    throw new InputError(
      `${where} has no file name: give it a "filename" (e.g. "invoice.pdf"), which mail clients show.`,
    );
  if (hasControlCharacters(filename))
    throw new InputError(
      `${where}: the file name ${describe(filename)} contains control characters.`,
    );
  const typeValue = field(item, "contentType");
  const contentType =
    typeof typeValue === "string" && typeValue.trim() !== ""
      ? typeValue.trim().toLowerCase()
      : "application/octet-stream";
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(contentType.split(";")[0]?.trim() ?? ""))
    throw new InputError(
      `${where} ("${filename}"): ${describe(typeValue)} is not a content type such as application/pdf.`,
    );
  const data = field(item, "data");
  const fileBytes =
    bytesOf(data) ?? (typeof data === "string" ? Buffer.from(data, "utf8") : undefined);
  if (fileBytes) return { filename, contentType, content: fileBytes };
  const content = field(item, "content");
  const contentBytes = bytesOf(content);
  if (contentBytes) return { filename, contentType, content: contentBytes };
  if (typeof content !== "string" || !BASE64.test(content.replace(/ /g, ""))) {
    throw new InputError(
      `${where} ("${filename}"): "content" must be the file's bytes as base64${typeof content === "string" ? ", and this is not base64" : ""}. A file from an earlier step goes in as it is, with its data.`,
    );
  }
  const compact = content.replace(/[\s]/g, "");
  if (compact.length % 4 === 1)
    throw new InputError(`${where} ("${filename}"): "content" is not base64 (cut off?).`);
  return { filename, contentType, content: Buffer.from(compact, "base64") };
}

/** Attachments: one file value, or a list (or JSON list) of them. "" is none. */
export function parseAttachments(value: unknown): ComposedAttachment[] {
  if (value === undefined || value === null || value === "") return [];
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (typeof value === "string") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new InputError(
        'Attachments must be a list of { "filename", "contentType", "content" (base64) } (JSON) or files from an earlier step, not plain text.',
      );
    }
    items = Array.isArray(parsed) ? parsed : [parsed];
  } else items = [value];
  return items.map(attachment);
}

const HEADER_NAME = /^[!-9;-~]+$/;
/** Headers set from their own inputs or by the composer: an extra header must not replace them. */
const OWN_HEADERS = new Set([
  "from",
  "to",
  "cc",
  "bcc",
  "reply-to",
  "subject",
  "in-reply-to",
  "references",
  "message-id",
  "date",
  "mime-version",
  "content-type",
  "content-transfer-encoding",
]);

/** Extra headers: a key/value list, an object, or a JSON object. "" is none. */
export function parseHeaders(value: unknown): { key: string; value: string }[] {
  if (value === undefined || value === null || value === "") return [];
  let pairs: [unknown, unknown][];
  let source: unknown = value;
  if (typeof source === "string") {
    try {
      source = JSON.parse(source);
    } catch {
      throw new InputError(
        'Headers must be key/value pairs or a JSON object such as {"X-Ticket": "1234"}.',
      );
    }
  }
  if (Array.isArray(source)) {
    pairs = source.map((item): [unknown, unknown] =>
      typeof item === "object" && item !== null
        ? [field(item, "key"), field(item, "value")]
        : [item, undefined],
    );
  } else if (typeof source === "object" && source !== null) pairs = Object.entries(source);
  else throw new InputError(`Headers must be key/value pairs, not ${describe(value)}.`);
  return pairs.map(([key, item]) => {
    if (typeof key !== "string" || !HEADER_NAME.test(key.trim()))
      throw new InputError(
        `Headers: ${describe(key)} is not a header name (printable ASCII without spaces or colons, e.g. X-Ticket).`,
      );
    const name = key.trim();
    if (OWN_HEADERS.has(name.toLowerCase()))
      throw new InputError(
        `Headers: ${name} is set by its own input or by the composer; use that input instead.`,
      );
    const text =
      typeof item === "string" ? item : typeof item === "number" ? String(item) : undefined;
    if (text === undefined || hasControlCharacters(text.replace(/\t/g, " ")))
      throw new InputError(`Headers: the value of ${name} must be one line of text.`);
    return { key: name, value: text };
  });
}

const MESSAGE_ID = /^<[^<>\s]+>$/;

/** Message-IDs: "<a@x> <b@y>", a list, with or without angle brackets. */
export function parseMessageIds(value: unknown, name: string): string[] {
  if (value === undefined || value === null || value === "") return [];
  const items = Array.isArray(value) ? value : [value];
  const ids: string[] = [];
  for (const item of items) {
    if (typeof item !== "string")
      throw new InputError(`${name}: ${describe(item)} is not a Message-ID.`);
    for (const part of item.split(/[\s,]+/).filter((p) => p !== "")) {
      const id = part.startsWith("<") ? part : `<${part}>`;
      if (!MESSAGE_ID.test(id) || !id.includes("@") || hasControlCharacters(id))
        throw new InputError(
          `${name}: ${describe(part)} is not a Message-ID such as <abc123@example.com>.`,
        );
      ids.push(id);
    }
  }
  return ids;
}

/** One line of text; "" is none. */
export function parseSubject(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string" && typeof value !== "number")
    throw new InputError(`Subject must be text, not ${describe(value)}.`);
  const subject = String(value).trim();
  if (hasControlCharacters(subject.replace(/\t/g, " ")))
    throw new InputError("Subject must be one line of text, without line breaks.");
  return subject;
}

/** A body as typed: kept as it is (no trimming); empty or blank is none. */
export function parseBody(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" && typeof value !== "number")
    throw new InputError(`${name} must be text, not ${describe(value)}.`);
  const text = String(value);
  return text.trim() === "" ? undefined : text;
}

/** The connection's username as an address, when it is one (the default sender). */
export function ownAddress(user: string): Address[] {
  return ADDRESS.test(user) ? [{ name: "", address: user }] : [];
}

/** Create Draft's inputs as a draft, checked before connecting; `user` is the connection's username. */
export function parseDraft(params: Record<string, unknown>, user: string): Draft {
  const from = parseAddressList(params.from, "From");
  const draft: Draft = {
    from: from.length ? from : ownAddress(user),
    to: parseAddressList(params.to, "To"),
    cc: parseAddressList(params.cc, "Cc"),
    bcc: parseAddressList(params.bcc, "Bcc"),
    replyTo: parseAddressList(params.replyTo, "Reply To"),
    subject: parseSubject(params.subject),
    text: parseBody(params.text, "Text"),
    html: parseBody(params.html, "HTML"),
    attachments: parseAttachments(params.attachments),
    inReplyTo: parseInReplyTo(params.inReplyTo),
    references: parseMessageIds(params.references, "References"),
    headers: parseHeaders(params.headers),
  };
  checkDraft(draft);
  return draft;
}

function parseInReplyTo(value: unknown): string | undefined {
  const ids = parseMessageIds(value, "In Reply To");
  if (ids.length > 1)
    throw new InputError(
      `In Reply To names ${ids.length} Message-IDs: give the one message the draft answers; the thread goes in References.`,
    );
  return ids[0];
}

/** Refuses a draft with nothing in it, before connecting. */
export function checkDraft(draft: Draft): void {
  const recipients = draft.to.length + draft.cc.length + draft.bcc.length;
  const body =
    (draft.text ?? "") !== "" || (draft.html ?? "") !== "" || draft.attachments.length > 0;
  if (recipients === 0 && draft.subject === "" && !body)
    throw new InputError(
      "The draft is empty: give at least a recipient (To, Cc or Bcc), a subject or a body (Text or HTML).",
    );
}

const formatted = (list: Address[]) =>
  list.map((entry) => (entry.name ? { name: entry.name, address: entry.address } : entry.address));

/** Builds the MIME message; Bcc stays in it, as a draft must keep it for whoever sends it. */
export async function composeMessage(draft: Draft): Promise<Composed> {
  // Loaded by the draft steps only: every step loads the bundle, few compose.
  const { default: MailComposer } = await import("nodemailer/lib/mail-composer");
  const composer = new MailComposer({
    from: formatted(draft.from),
    to: formatted(draft.to),
    cc: formatted(draft.cc),
    bcc: formatted(draft.bcc),
    replyTo: formatted(draft.replyTo),
    subject: draft.subject,
    text: draft.text,
    html: draft.html,
    inReplyTo: draft.inReplyTo,
    references: draft.references.length ? draft.references.join(" ") : undefined,
    headers: draft.headers,
    attachments: draft.attachments.map((item) => ({
      filename: item.filename,
      contentType: item.contentType,
      content: item.content,
      ...(item.contentId ? { cid: item.contentId } : {}),
    })),
    // Content only ever comes from the inputs: never from a local file or a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const node = composer.compile();
  node.keepBcc = true;
  const raw = await new Promise<Buffer>((resolve, reject) =>
    node.build((err, message) => (err ? reject(err) : resolve(message))),
  );
  return { raw, messageId: node.messageId() };
}
