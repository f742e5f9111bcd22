/**
 * Part numbers from the server: each attachment the parser found is matched to a body part of
 * the server's BODYSTRUCTURE, so that its partId names the same bytes in downloadAttachment and
 * downloadMessage. Where MIME is malformed (a `multipart/mixed;;`, a boundary that is a prefix of
 * another), the parser and the server may split a message differently; an attachment the server
 * has no part for gets no part id rather than a wrong one.
 */
import type { MessageStructureObject } from "imapflow";
import type { BodyPart } from "./bodyParts";
import { listParts } from "./bodyParts";
import { nameSkeleton } from "./mimeText";

/** What matching reads of a parsed attachment. */
export interface AttachmentShape {
  /** The parser's own part number: a hint only. */
  partId: string;
  contentType: string;
  filename: string | null;
  contentId: string | null;
  /** Decoded size in bytes. */
  size: number;
}

function fits(attachment: AttachmentShape, part: BodyPart): boolean {
  if (attachment.contentType.toLowerCase() !== part.contentType) return false;
  if (nameSkeleton(attachment.filename) !== nameSkeleton(part.filename)) return false;
  return (
    attachment.contentId === null ||
    part.contentId === null ||
    attachment.contentId === part.contentId
  );
}

/**
 * Whether `decoded` bytes can be the content of `part` as the server sends it. Without a transfer
 * encoding (attached messages included) the sizes are equal; base64 is about 3/4 of its text
 * (line breaks not counted), quoted-printable between a third of it and all of it.
 */
export function sizeAgrees(decoded: number, part: BodyPart): boolean {
  const sent = part.size;
  if (part.encoding === "base64") {
    const most = Math.floor((sent * 3) / 4);
    // lines of 60 characters or more, as every encoder writes them
    const least = Math.floor(((sent * 60) / 62) * 0.75) - 3;
    return decoded <= most && decoded >= least;
  }
  if (part.encoding === "quoted-printable") return decoded <= sent && decoded >= sent / 3 - 3;
  return decoded === sent;
}

/**
 * For each attachment (in the parser's order) the server's body part it is, or null. Parts are
 * taken in document order; among those that fit (same type, same name, same Content-ID), the one
 * with the parser's part number is preferred, else the next one after the last match; failing
 * that, the named part of the same type with the parser's number (see renamedPart).
 */
export function matchAttachments(
  attachments: AttachmentShape[],
  structure: MessageStructureObject | undefined,
): (BodyPart | null)[] {
  if (!structure) return attachments.map(() => null);
  const parts = listParts(structure, { intoMessages: false }).filter((part) => !part.multipart);
  const used = new Set<number>();
  let last = -1;
  return attachments.map((attachment) => {
    const fitting = parts.flatMap((part, index) =>
      !used.has(index) && fits(attachment, part) ? [index] : [],
    );
    const sameNumber = fitting.find((index) => parts[index]?.partId === attachment.partId);
    const chosen =
      sameNumber ??
      fitting.find((index) => index > last) ??
      fitting[0] ??
      renamedPart(parts, used, attachment);
    if (chosen === undefined) return null;
    used.add(chosen);
    last = chosen;
    return parts[chosen] ?? null;
  });
}

/**
 * For a name the server's structure leaves encoded (imapflow does not decode UTF-7 words), or
 * decodes beyond recognition: the part with the parser's own number, if it has the same type and
 * is named as well.
 */
function renamedPart(
  parts: BodyPart[],
  used: Set<number>,
  attachment: AttachmentShape,
): number | undefined {
  if (attachment.filename === null) return undefined;
  const index = parts.findIndex(
    (part, at) =>
      !used.has(at) &&
      part.partId === attachment.partId &&
      part.contentType === attachment.contentType.toLowerCase() &&
      part.filename !== null,
  );
  return index < 0 ? undefined : index;
}

/** An attachment with the server's part number (null when the server has no part for it). */
export type WithServerPart<T extends AttachmentShape> = Omit<T, "partId"> & {
  partId: string | null;
};

/**
 * The attachments with the server's part numbers, and those whose decoded size does not agree
 * with their part's: the parser delimited or decoded them otherwise than the server, so their
 * bytes must be read from the server (`size` is then already the server's where no transfer
 * encoding makes it uncertain).
 */
export function withServerParts<T extends AttachmentShape>(
  attachments: T[],
  structure: MessageStructureObject | undefined,
): { attachments: WithServerPart<T>[]; disagreeing: { index: number; part: BodyPart }[] } {
  const parts = matchAttachments(attachments, structure);
  const disagreeing: { index: number; part: BodyPart }[] = [];
  const out = attachments.map((attachment, index): WithServerPart<T> => {
    const part = parts[index] ?? null;
    if (part === null) return { ...attachment, partId: null };
    if (sizeAgrees(attachment.size, part)) return { ...attachment, partId: part.partId };
    disagreeing.push({ index, part });
    const exact = part.encoding !== "base64" && part.encoding !== "quoted-printable";
    return { ...attachment, partId: part.partId, size: exact ? part.size : attachment.size };
  });
  return { attachments: out, disagreeing };
}
