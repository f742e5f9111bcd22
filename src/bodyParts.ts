/**
 * One message and its body parts as the server numbers them (BODYSTRUCTURE): fetching a message
 * that must exist, finding a part by part id or file name, and fetching only that part with its
 * transfer encoding removed.
 */

import type { Connection } from "@prismatic-io/spectral";
import type { FetchMessageObject, FetchQueryObject, MessageStructureObject } from "imapflow";
import libmime from "libmime";
import libqp from "libqp";
import { ImapError, InputError } from "./errors";
import { partFileName } from "./mimeText";
import type { Selected, SessionContext } from "./session";
import { opening, withSession } from "./session";
import { damagedAnswer, existingUids, isWhole } from "./wholeRows";

export function messageNotFound(mailbox: string, uid: number): ImapError {
  return new ImapError(
    `There is no message with UID ${uid} in mailbox "${mailbox}": it was deleted or moved, or the UID belongs to another mailbox. Search the mailbox again for its current UIDs.`,
    { code: "MESSAGE_NOT_FOUND", mailbox, uid },
  );
}

/**
 * Fetches `query` of message `uid` in the selected mailbox, by UID. A UID that names no message is
 * a clear error, also on servers that answer a missing UID with another message. A row that does
 * not come back, or comes back as a placeholder (size 0 or no content), is checked on the
 * server: "no message with UID n" only when it is really gone, else an error saying the
 * server's answer was damaged.
 */
export async function fetchExisting(
  selected: Selected,
  uid: number,
  query: FetchQueryObject,
  options: { binary?: boolean } = {},
): Promise<FetchMessageObject> {
  const { session, box } = selected;
  const mailbox = box.path;
  const op = { doing: "fetch the message", mailbox, uid };
  const message = await session.run(
    op,
    async () =>
      (await session.client.fetchOne(
        String(uid),
        { ...query, uid: true },
        { ...options, uid: true },
      )) || null,
  );
  const returned = message !== null && message.uid === uid ? message : undefined;
  const whole =
    returned !== undefined &&
    isWhole(returned, { size: query.size === true, source: query.source === true });
  if (returned && whole) return returned;
  if (!session.client.usable) throw session.refused(op);
  const damaged = (uids: number[], exist: boolean) =>
    damagedAnswer(
      selected,
      "the fetch of the message",
      "Nothing was changed; retry the step.",
      uids,
      exist,
    );
  const existing = await existingUids(selected, String(uid), op.doing, () => damaged([uid], false));
  if (!existing.includes(uid)) throw messageNotFound(mailbox, uid);
  // It exists: a row without content is the server's own NIL, which contentOf reports.
  if (returned) return returned;
  throw damaged([uid], true);
}

/**
 * The bytes the server sent for `section` ("" for the whole message, else a part number). Some
 * servers answer NIL for a message or part they cannot read (a damaged message store): that is an
 * error, never an empty file or an empty message.
 */
export function contentOf(
  message: FetchMessageObject,
  section: string,
  where: { mailbox: string; uid: number },
): Buffer {
  const content = section === "" ? message.source : message.bodyParts?.get(section);
  if (content) return content;
  const what = section === "" ? "the message" : `body part ${section} of the message`;
  throw new ImapError(
    `The server sent no content for ${what} (UID ${where.uid} in mailbox "${where.mailbox}"): it answered NIL, so nothing was returned. The message may be damaged on the server: retry later, or ask the server's administrator to check it.`,
    { code: "CONTENT_MISSING", mailbox: where.mailbox, uid: where.uid },
  );
}

/** The content type a part is reported with: as declared, except that a generic one is guessed from the file name (as mailparser does). */
export function reportedContentType(declared: string, filename: string | null): string {
  const type = declared.toLowerCase();
  if (type === "application/octet-stream" && filename)
    return libmime.detectMimeType(filename) || type;
  return type;
}

export interface BodyPart {
  /** The IMAP part number, e.g. "2" or "1.2"; "1" for the body of a single-part message. */
  partId: string;
  contentType: string;
  filename: string | null;
  encoding: string;
  /** The charset parameter of a text part, lower case; null when it has none. */
  charset: string | null;
  /** "attachment", "inline", or null when the part has no Content-Disposition. */
  disposition: string | null;
  /** Its size in bytes as the server sends it (before the transfer encoding is removed). */
  size: number;
  /** The Content-ID without angle brackets (what cid: links name), or null. */
  contentId: string | null;
  multipart: boolean;
  /** The part numbers of the parts inside a multipart. */
  children: string[];
}

function isMultipart(node: MessageStructureObject): boolean {
  return node.type.toLowerCase().startsWith("multipart/");
}

function bodyPart(node: MessageStructureObject, partId: string): BodyPart {
  const filename = node.dispositionParameters?.filename ?? node.parameters?.name ?? null;
  return {
    partId,
    contentType: reportedContentType(node.type, filename),
    filename,
    encoding: (node.encoding ?? "7bit").toLowerCase(),
    charset: node.parameters?.charset?.toLowerCase() ?? null,
    disposition: node.disposition?.toLowerCase() ?? null,
    size: node.size ?? 0,
    contentId: node.id ? node.id.trim().replace(/^<|>$/g, "").trim() : null,
    multipart: isMultipart(node),
    children: isMultipart(node)
      ? (node.childNodes ?? []).flatMap((child) => (child.part ? [child.part] : []))
      : [],
  };
}

/**
 * Every part that has a number, in document order. `intoMessages: false` leaves out the parts
 * inside attached messages (message/rfc822), which getMessage reports as one attachment each.
 */
export function listParts(
  structure: MessageStructureObject,
  options: { intoMessages: boolean },
): BodyPart[] {
  const out: BodyPart[] = [];
  // partId "" is a node without a number of its own: the multipart root of a message.
  const visit = (node: MessageStructureObject, partId: string) => {
    if (partId !== "") out.push(bodyPart(node, partId));
    const isMessage = node.type.toLowerCase() === "message/rfc822";
    if (isMessage && !options.intoMessages) return;
    for (const child of node.childNodes ?? []) {
      // imapflow numbers the body of an attached message like the message part itself; in IMAP
      // a single-part body of message part N is N.1, and a multipart body has no number.
      if (isMessage) visit(child, isMultipart(child) ? "" : `${partId}.1`);
      else visit(child, child.part ?? "");
    }
  };
  // IMAP calls the body of a single-part message part 1.
  visit(structure, isMultipart(structure) ? "" : "1");
  return out;
}

const PART_ID = /^[1-9]\d*(?:\.[1-9]\d*)*$/;

/** A body part number such as 2 or 1.2, checked before connecting. */
export function parsePartId(value: string | undefined, name = "Part ID"): string | undefined {
  if (value === undefined) return undefined;
  if (!PART_ID.test(value)) {
    throw new InputError(
      `${name} "${value}" is not a body part number: give one such as 2 or 1.2 (the partId of an attachment from Get Message).`,
    );
  }
  return value;
}

function partNotFound(mailbox: string, uid: number, detail: string): ImapError {
  return new ImapError(
    `${detail} (UID ${uid} in mailbox "${mailbox}"). Get Message lists the attachments with their partId.`,
    {
      code: "PART_NOT_FOUND",
      mailbox,
      uid,
    },
  );
}

/** The part named by `partId`, or else the one part whose file name is `filename`. */
export function choosePart(
  structure: MessageStructureObject,
  wanted: { partId?: string; filename?: string },
  where: { mailbox: string; uid: number },
): BodyPart {
  const { mailbox, uid } = where;
  if (wanted.partId !== undefined) {
    const part = listParts(structure, { intoMessages: true }).find(
      (candidate) => candidate.partId === wanted.partId,
    );
    if (!part) throw partNotFound(mailbox, uid, `The message has no body part ${wanted.partId}`);
    if (part.multipart) {
      throw partNotFound(
        mailbox,
        uid,
        `Body part ${part.partId} is a ${part.contentType} container, not a single part: use one of its parts (${part.children.join(", ")})`,
      );
    }
    return part;
  }
  return partNamed(leafParts(structure), wanted.filename ?? "", where);
}

/** The parts that are files: not containers, not the parts inside an attached message. */
function leafParts(structure: MessageStructureObject): BodyPart[] {
  return listParts(structure, { intoMessages: false }).filter((part) => !part.multipart);
}

/** The one part of `parts` named `filename`; several or none are clear errors. */
function partNamed(
  parts: BodyPart[],
  filename: string,
  where: { mailbox: string; uid: number },
): BodyPart {
  const { mailbox, uid } = where;
  const wanted = { filename };
  const named = parts.filter((part) => part.filename === wanted.filename);
  const [only, ...others] = named;
  if (only && others.length === 0) return only;
  if (named.length > 1) {
    throw new ImapError(
      `The message has ${named.length} attachments named "${wanted.filename}" (parts ${named.map((part) => part.partId).join(", ")}) (UID ${uid} in mailbox "${mailbox}"). Give the Part ID of the one you want instead of the file name.`,
      { code: "PART_AMBIGUOUS", mailbox, uid },
    );
  }
  const names = parts.flatMap((part) =>
    part.filename === null ? [] : [`"${part.filename}" (part ${part.partId})`],
  );
  throw partNotFound(
    mailbox,
    uid,
    `The message has no attachment named "${wanted.filename}"; ${names.length ? `its files are ${names.join(", ")}` : "it has no named files"}`,
  );
}

/** The server closed the connection while it decoded a part for BINARY: the session is gone. */
export class BinaryDecodingLost extends Error {
  constructor(readonly lost: unknown) {
    super("The server closed the connection while decoding a body part for BINARY");
    this.name = "BinaryDecodingLost";
  }
}

/**
 * Fetches one body part in a single FETCH and removes its transfer encoding. With BINARY the
 * server decodes base64 and quoted-printable (and sends a quarter less than base64); otherwise,
 * and where the server's decoder refuses the part (sloppy encoding real senders produce: base64
 * without its final padding, stray characters, quoted-printable ending in a soft break), the part
 * is fetched as it is stored and decoded here, leniently. A server that closes the connection
 * instead of refusing leaves no session to go on in: that is a BinaryDecodingLost.
 */
export async function fetchPart(
  selected: Selected,
  uid: number,
  part: BodyPart,
  options: { binary: boolean } = { binary: true },
): Promise<Buffer> {
  const { session, box } = selected;
  const mailbox = box.path;
  // Not for an attached message: Dovecot's BINARY rewrites it, decoding the attachments inside.
  const encoded = part.encoding === "base64" || part.encoding === "quoted-printable";
  const binary =
    options.binary && encoded && session.has("BINARY") && !part.contentType.startsWith("message/");
  if (binary) {
    let decoded: Buffer | undefined;
    try {
      const message = await fetchExisting(
        selected,
        uid,
        { bodyParts: [part.partId] },
        { binary: true },
      );
      if (message.binaryParts?.has(part.partId))
        decoded = contentOf(message, part.partId, { mailbox, uid });
    } catch (err) {
      if (!session.client.usable) throw new BinaryDecodingLost(err);
      // refused (e.g. NO [UNKNOWN-CTE]): fetched as stored below, in the same session
    }
    if (decoded) return decoded;
  }
  const message = await fetchExisting(selected, uid, { bodyParts: [part.partId] });
  return decodeTransferEncoding(contentOf(message, part.partId, { mailbox, uid }), part.encoding);
}

/**
 * The content of a part with its transfer encoding removed. Lenient, as mail readers are: base64
 * without padding or with stray characters, and quoted-printable with bad escapes or a trailing
 * soft break, decode to what they evidently meant.
 */
export function decodeTransferEncoding(raw: Buffer, encoding: string): Buffer {
  if (encoding === "base64") return decodeBase64(raw);
  if (encoding === "quoted-printable") return libqp.decode(raw);
  return raw;
}

/** RFC 2045 6.8: the base64 alphabet and its padding; every other byte is ignored. */
const BASE64_CHARS = new Uint8Array(256);
for (const c of Buffer.from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="))
  BASE64_CHARS[c] = 1;
const PADDING = 0x3d;
/** Characters decoded at a time: a multiple of 4, so each piece ends on a whole group. */
const BASE64_PIECE = 64 * 1024;

/**
 * Base64 decoded into one buffer sized from the encoded length, a piece at a time: the part as
 * one string without its line breaks, and that string's bytes, held the part three times over.
 * Bytes outside the alphabet are skipped first, as Node's decoder would read "-" and "_" (a
 * scanner's footer, a signature) as base64url digits.
 */
function decodeBase64(raw: Buffer): Buffer {
  const out = Buffer.allocUnsafe(Math.ceil((raw.length * 3) / 4));
  const piece = Buffer.allocUnsafe(BASE64_PIECE);
  let kept = 0;
  let written = 0;
  const flush = (text: string) => {
    written += out.write(text, written, "base64");
  };
  for (let i = 0; i < raw.length; i += 1) {
    const c = raw[i] as number;
    if (BASE64_CHARS[c] === 0) continue;
    if (c === PADDING) {
      // Padding normally ends the part: what is left is decoded in one go, as before.
      const rest = raw.toString("latin1", i).replace(/[^A-Za-z0-9+/=]/g, "");
      flush(piece.toString("latin1", 0, kept) + rest);
      kept = 0;
      break;
    }
    piece[kept] = c;
    kept += 1;
    if (kept === BASE64_PIECE) {
      flush(piece.toString("latin1"));
      kept = 0;
    }
  }
  if (kept > 0) flush(piece.toString("latin1", 0, kept));
  // Cut to what was decoded; a buffer much larger than that would keep the rest alive with it.
  return written < out.length * 0.9
    ? Buffer.from(out.subarray(0, written))
    : out.subarray(0, written);
}

export interface WantedPart {
  partId?: string;
  filename?: string;
}

/** The part asked for: a part id, or else a file name; one of them is needed. */
export function parseWantedPart(
  partId: string | undefined,
  filename: string | undefined,
): WantedPart {
  const id = parsePartId(partId);
  if (id === undefined && filename === undefined) {
    throw new InputError(
      "Give the Part ID of the attachment (the partId Get Message lists) or, when it is not known, its File Name.",
    );
  }
  return id !== undefined ? { partId: id } : { filename };
}

/**
 * `parts` with their file names read from their own MIME headers where the server's structure
 * may have decoded them otherwise than getMessage (raw 8-bit bytes inside an encoded word come
 * out of BODYSTRUCTURE as U+FFFD, UTF-7 words stay encoded): only when no part has exactly the
 * name asked for, in one FETCH of the named parts' MIME headers.
 */
async function withHeaderNames(
  selected: Selected,
  uid: number,
  parts: BodyPart[],
  filename: string,
): Promise<BodyPart[]> {
  if (parts.some((part) => part.filename === filename)) return parts;
  const unsure = parts.filter((part) => part.filename !== null);
  if (unsure.length === 0) return parts;
  const message = await fetchExisting(selected, uid, {
    bodyParts: unsure.map((part) => `${part.partId}.MIME`),
  });
  // imapflow keys the sections in lower case
  return parts.map((part) => {
    const header = unsure.includes(part)
      ? message.bodyParts?.get(`${part.partId}.mime`)
      : undefined;
    return header ? { ...part, filename: partFileName(header) ?? part.filename } : part;
  });
}

/** Finds the part in the message's BODYSTRUCTURE, then fetches only that part. */
export async function downloadPart(
  selected: Selected,
  uid: number,
  wanted: WantedPart,
  options: { binary: boolean } = { binary: true },
): Promise<{ part: BodyPart; data: Buffer }> {
  const mailbox = selected.box.path;
  const { bodyStructure } = await fetchExisting(selected, uid, { bodyStructure: true });
  if (!bodyStructure)
    throw partNotFound(mailbox, uid, "The server sent no body structure for the message");
  const part =
    wanted.partId === undefined && wanted.filename !== undefined
      ? partNamed(
          await withHeaderNames(selected, uid, leafParts(bodyStructure), wanted.filename),
          wanted.filename,
          { mailbox, uid },
        )
      : choosePart(bodyStructure, wanted, { mailbox, uid });
  return { part, data: await fetchPart(selected, uid, part, options) };
}

/**
 * downloadPart in a session of its own. When the server closed the connection while decoding the
 * part for BINARY, which it would do again on every retry, a second session fetches the part as
 * stored and decodes it here: the same bytes getMessage reports for it.
 */
export async function downloadPartOnce(
  connection: Connection,
  context: SessionContext,
  mailbox: string,
  uid: number,
  wanted: WantedPart,
): Promise<{ part: BodyPart; data: Buffer }> {
  const attempt = (binary: boolean) =>
    withSession(
      connection,
      context,
      (session) =>
        session.withMailbox(mailbox, { readOnly: true }, (selected) =>
          downloadPart(selected, uid, wanted, { binary }),
        ),
      opening(mailbox, true),
    );
  try {
    return await attempt(true);
  } catch (err) {
    if (err instanceof BinaryDecodingLost) return attempt(false);
    throw err;
  }
}
