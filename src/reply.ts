/**
 * Replies and forwards as mail clients write them: recipients from Reply-To / From (and To / Cc
 * for reply-all, without the account's own addresses), one "Re: " or "Fwd: " prefix, In-Reply-To
 * and References that thread the draft under the original, and the original quoted below the new
 * text. The original is read part by part: its header block, its text and HTML bodies, and (for
 * a forward) each attachment in its own FETCH, never the whole message at once.
 */
import type { BodyPart } from "./bodyParts";
import { fetchExisting, fetchPart, listParts } from "./bodyParts";
import type { ComposedAttachment, Draft } from "./compose";
import { composeMessage, ownAddress, parseAddressList, parseBody } from "./compose";
import type { StoredDraft } from "./drafts";
import { storeDraft } from "./drafts";
import { InputError } from "./errors";
import { optionalMailbox, parseBool, parseMailbox, parseUid, parseUidValidity } from "./inputs";
import { requireUidValidity } from "./messages";
import { parseMessage } from "./parseMessage";
import type { Address } from "./serialize";
import type { Selected, Session } from "./session";

export type ReplyMode = "reply" | "replyAll" | "forward";

export const REPLY_MODES: readonly ReplyMode[] = ["reply", "replyAll", "forward"];

export function parseReplyMode(value: unknown): ReplyMode {
  const text = typeof value === "string" ? value.trim() : "";
  if (text === "") return "reply";
  const mode = REPLY_MODES.find((candidate) => candidate.toLowerCase() === text.toLowerCase());
  if (!mode)
    throw new InputError(`Mode must be reply, replyAll or forward, not ${JSON.stringify(value)}.`);
  return mode;
}

export interface ReplySource {
  mailbox: string;
  uid: number;
  /** Where the draft goes; undefined: the account's drafts mailbox. */
  drafts: string | undefined;
  withAttachments: boolean;
  /** The original's mailbox must still have this UIDVALIDITY (the optional guard); undefined: no check. */
  uidValidity: string | undefined;
}

/** Create Reply Draft's inputs, checked before connecting; `user` is the connection's username. */
export function parseReplyRequest(
  params: Record<string, unknown>,
  user: string,
): { source: ReplySource; options: ReplyOptions } {
  const mode = parseReplyMode(params.mode);
  const self = ownAddress(user);
  const from = parseAddressList(params.from, "From");
  const excluded = parseAddressList(params.excludeAddresses, "Exclude Addresses");
  return {
    source: {
      mailbox: parseMailbox(params.mailbox),
      uid: parseUid(params.uid),
      uidValidity: parseUidValidity(params.uidValidity),
      drafts: optionalMailbox(params.draftsMailbox, "Drafts Mailbox"),
      withAttachments:
        mode === "forward" && parseBool(params.includeAttachments, "Include Attachments", true),
    },
    options: {
      mode,
      from: from.length ? from : self,
      text: parseBody(params.text, "Text"),
      html: parseBody(params.html, "HTML"),
      to: parseAddressList(params.to, "To"),
      cc: parseAddressList(params.cc, "Cc"),
      quoteOriginal: parseBool(params.quoteOriginal, "Quote Original", true),
      exclude: (excluded.length ? excluded : [...self, ...from]).map((entry) =>
        entry.address.toLowerCase(),
      ),
    },
  };
}

export interface Original {
  messageId: string;
  inReplyTo: string;
  references: string[];
  subject: string;
  /** The Date header as the message has it. */
  date: string;
  from: Address[];
  replyTo: Address[];
  to: Address[];
  cc: Address[];
  /** The text body decoded from its charset (rendered from the HTML when there is only HTML). */
  text: string | null;
  html: string | null;
}

export interface ReplyOptions {
  mode: ReplyMode;
  from: Address[];
  text?: string;
  html?: string;
  to: Address[];
  cc: Address[];
  quoteOriginal: boolean;
  /** Lower-case addresses left out of the recipients of a reply. */
  exclude: string[];
}

const REPLY_PREFIX = /^\s*(?:re|aw|sv|vs|antw)\s*(?:\[\d+\])?\s*:\s*/i;
const FORWARD_PREFIX = /^\s*(?:fwd?|wg|tr|rv)\s*(?:\[\d+\])?\s*:\s*/i;

/** "Re: " or "Fwd: " once, however many the original's subject had. */
export function replySubject(subject: string, mode: ReplyMode): string {
  const prefix = mode === "forward" ? FORWARD_PREFIX : REPLY_PREFIX;
  let rest = subject.trim();
  while (prefix.test(rest)) rest = rest.replace(prefix, "");
  return `${mode === "forward" ? "Fwd" : "Re"}: ${rest}`;
}

/** The longest References header kept; past it, ids are left out from the middle. */
export const MAX_REFERENCES = 20;
const MAX_REFERENCES_LENGTH = 1800;

/**
 * The thread's Message-IDs, shortened from the middle: the first (the thread's root) and the
 * most recent are what clients thread by.
 */
export function shortenReferences(ids: string[]): string[] {
  const out = Array.from(new Set(ids));
  while (
    out.length > 2 &&
    (out.length > MAX_REFERENCES || out.join(" ").length > MAX_REFERENCES_LENGTH)
  )
    out.splice(1, 1);
  return out;
}

/** In-Reply-To and References of a reply or forward to `original` (RFC 5322 3.6.4). */
export function threading(
  original: Original,
  mode: ReplyMode,
): { inReplyTo?: string; references: string[] } {
  const parents =
    original.references.length > 0
      ? original.references
      : original.inReplyTo
          .split(/\s+/)
          .filter((id) => /^<[^<>\s]+>$/.test(id))
          .slice(0, 1);
  const references = shortenReferences(
    original.messageId ? [...parents, original.messageId] : parents,
  );
  if (mode === "forward" || original.messageId === "") return { references };
  return { inReplyTo: original.messageId, references };
}

function without(list: Address[], exclude: Set<string>): Address[] {
  const out: Address[] = [];
  for (const entry of list) {
    const key = entry.address.toLowerCase();
    if (key === "" || exclude.has(key)) continue;
    exclude.add(key);
    out.push(entry);
  }
  return out;
}

/** The draft's To and Cc. */
export function recipients(
  original: Original,
  options: ReplyOptions,
): { to: Address[]; cc: Address[] } {
  if (options.mode === "forward") return { to: options.to, cc: options.cc };
  const own = new Set(options.exclude);
  const seen = new Set(own);
  const author = original.replyTo.length ? original.replyTo : original.from;
  // A reply to one's own message goes to whom it was sent to, as mail clients do.
  const ownMessage = author.every((entry) => own.has(entry.address.toLowerCase()));
  const primary = ownMessage ? original.to : author;
  const to = without([...primary, ...options.to], seen);
  if (options.mode === "reply") return { to, cc: without(options.cc, seen) };
  const others = without(ownMessage ? [] : original.to, seen);
  return { to: [...to, ...others], cc: without([...original.cc, ...options.cc], seen) };
}

function display(list: Address[]): string {
  return list
    .map((entry) => (entry.name ? `${entry.name} <${entry.address}>` : entry.address))
    .join(", ");
}

/** "On <date>, <name> wrote:" */
export function attribution(original: Original): string {
  const who = display(original.from.slice(0, 1)) || "the sender";
  return original.date ? `On ${original.date}, ${who} wrote:` : `${who} wrote:`;
}

/** The text with "> " before each line (">" before a line already quoted, as clients nest). */
export function quoteText(text: string): string {
  return text
    .replace(/\r\n/g, "\n")
    .replace(/\n+$/, "")
    .split("\n")
    .map((line) => (line === "" ? ">" : line.startsWith(">") ? `>${line}` : `> ${line}`))
    .join("\n");
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** What is inside <body>, or the whole HTML when it has no body element. */
function bodyOf(html: string): string {
  const match = /<body[^>]*>([\s\S]*)<\/body>/i.exec(html);
  return match?.[1] ?? html;
}

function textAsHtml(text: string): string {
  return escapeHtml(text).replace(/\r?\n/g, "<br>\n");
}

function forwardHeader(original: Original): string[] {
  return [
    "---------- Forwarded message ----------",
    `From: ${display(original.from)}`,
    ...(original.date ? [`Date: ${original.date}`] : []),
    `Subject: ${original.subject}`,
    `To: ${display(original.to)}`,
    ...(original.cc.length ? [`Cc: ${display(original.cc)}`] : []),
  ];
}

/** The new text, then the original quoted (reply) or included (forward). */
export function replyBodies(
  original: Original,
  options: ReplyOptions,
): { text?: string; html?: string } {
  const mode = options.mode;
  const newText = options.text ?? "";
  const wantHtml =
    options.html !== undefined || (options.text === undefined && original.html !== null);
  const originalText = original.text ?? "";
  const originalHtml = original.html !== null ? bodyOf(original.html) : textAsHtml(originalText);
  if (!options.quoteOriginal) {
    return { text: options.text ?? (wantHtml ? undefined : ""), html: options.html };
  }
  const text =
    mode === "forward"
      ? `${newText}\n\n${forwardHeader(original).join("\n")}\n\n${originalText}`
      : `${newText}\n\n${attribution(original)}\n${quoteText(originalText)}\n`;
  if (!wantHtml) return { text };
  const newHtml = options.html ?? textAsHtml(newText);
  const html =
    mode === "forward"
      ? `${newHtml}<br><br>\n<div>${forwardHeader(original).map(escapeHtml).join("<br>\n")}</div><br>\n${originalHtml}`
      : `${newHtml}<br><br>\n<div>${escapeHtml(attribution(original))}</div>\n<blockquote type="cite" style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">${originalHtml}</blockquote>`;
  return { text, html };
}

/** The draft of a reply or forward to `original`. */
export function replyDraft(
  original: Original,
  options: ReplyOptions,
  attachments: ComposedAttachment[],
): Draft {
  const { to, cc } = recipients(original, options);
  const { inReplyTo, references } = threading(original, options.mode);
  const bodies = replyBodies(original, options);
  return {
    from: options.from,
    to,
    cc,
    bcc: [],
    replyTo: [],
    subject: replySubject(original.subject, options.mode),
    text: bodies.text,
    html: bodies.html,
    attachments,
    inReplyTo,
    references,
    headers: [],
  };
}

/** A text part's bytes in its declared charset (UTF-8 when it names none or one Node does not know). */
export function decodeCharset(bytes: Buffer, charset: string | null): string {
  const label = charset ?? "utf-8";
  try {
    return new TextDecoder(label === "us-ascii" ? "utf-8" : label).decode(bytes);
  } catch {
    return new TextDecoder("utf-8").decode(bytes);
  }
}

function isBody(part: BodyPart, type: string): boolean {
  return part.contentType === type && part.filename === null && part.disposition !== "attachment";
}

/** The text of HTML as mailparser renders it (the same text Get Message gives for an HTML-only message). */
async function htmlAsText(html: string): Promise<string> {
  const message = Buffer.from(`Content-Type: text/html; charset=utf-8\r\n\r\n${html}`, "utf8");
  const parsed = await parseMessage(message, { includeAttachments: false, maxAttachmentSize: 0 });
  return parsed.text ?? "";
}

/**
 * Reads the original in the selected mailbox: headers, text and HTML bodies, and, when asked,
 * each attachment in a FETCH of its own.
 */
export async function readOriginal(
  selected: Selected,
  uid: number,
  options: { withAttachments: boolean },
): Promise<{ original: Original; attachments: ComposedAttachment[] }> {
  const message = await fetchExisting(selected, uid, { bodyStructure: true, headers: true });
  const headerBlock = message.headers ?? Buffer.alloc(0);
  const headers = await parseMessage(Buffer.concat([headerBlock, Buffer.from("\r\n")]), {
    includeAttachments: false,
    maxAttachmentSize: 0,
  });
  const parts = message.bodyStructure
    ? listParts(message.bodyStructure, { intoMessages: false }).filter((part) => !part.multipart)
    : [];
  const textPart = parts.find((part) => isBody(part, "text/plain"));
  const htmlPart = parts.find((part) => isBody(part, "text/html"));
  const html = htmlPart
    ? decodeCharset(await fetchPart(selected, uid, htmlPart), htmlPart.charset)
    : null;
  const text = textPart
    ? decodeCharset(await fetchPart(selected, uid, textPart), textPart.charset)
    : html !== null
      ? await htmlAsText(html)
      : null;
  const attachments: ComposedAttachment[] = [];
  if (options.withAttachments) {
    for (const part of parts) {
      if (part === textPart || part === htmlPart) continue;
      attachments.push({
        filename:
          part.filename ??
          `part-${part.partId}${part.contentType === "message/rfc822" ? ".eml" : ""}`,
        contentType: part.contentType,
        content: await fetchPart(selected, uid, part),
        // Keeps the forwarded HTML's inline images (cid: links) showing.
        ...(part.contentId ? { contentId: part.contentId } : {}),
      });
    }
  }
  const dateHeader = headers.headers.date;
  return {
    original: {
      messageId: headers.messageId,
      inReplyTo: headers.inReplyTo,
      references: headers.references,
      subject: headers.subject,
      date: (Array.isArray(dateHeader) ? dateHeader[0] : dateHeader) ?? "",
      from: headers.from,
      replyTo: headers.replyTo,
      to: headers.to,
      cc: headers.cc,
      text,
      html,
    },
    attachments,
  };
}

export interface ReplyResult extends StoredDraft {
  subject: string;
  to: Address[];
  cc: Address[];
}

/**
 * Reads the original (read-only: its \Seen never changes), composes the reply or forward and
 * stores it as a draft in `drafts` (undefined: the account's drafts mailbox).
 */
export async function draftReply(
  session: Session,
  source: ReplySource,
  options: ReplyOptions,
): Promise<ReplyResult> {
  const { original, attachments } = await session.withMailbox(
    source.mailbox,
    { readOnly: true },
    (selected) => {
      requireUidValidity(selected, source.uidValidity, "draft a reply to the message");
      return readOriginal(selected, source.uid, { withAttachments: source.withAttachments });
    },
  );
  const draft = replyDraft(original, options, attachments);
  const stored = await storeDraft(session, source.drafts, await composeMessage(draft));
  return { ...stored, subject: draft.subject, to: draft.to, cc: draft.cc };
}
