/**
 * One message read and parsed in one session: its source and the server's BODYSTRUCTURE in one
 * FETCH, parsed, each attachment numbered as the server numbers it. The bytes of an attachment
 * are, in every output, those of its part as the server delimits it (BODY[n]) with the transfer
 * encoding removed; where the parser made other bytes of it, the server's are read.
 */
import { createHash } from "node:crypto";
import type { FetchMessageObject, MessageStructureObject } from "imapflow";
import type { BodyPart } from "./bodyParts";
import { contentOf, decodeTransferEncoding, fetchExisting, listParts } from "./bodyParts";
import type { ParsedAttachment, ParsedMessage, ParseOptions } from "./parseMessage";
import { parseMessage } from "./parseMessage";
import type { WithServerPart } from "./partMatch";
import { withServerParts } from "./partMatch";
import { IDENTITY_QUERY } from "./serialize";
import type { Selected } from "./session";

export type MessageAttachment = WithServerPart<ParsedAttachment>;

export interface ReadMessage {
  message: FetchMessageObject;
  parsed: Omit<ParsedMessage, "attachments"> & { attachments: MessageAttachment[] };
}

/** The content of a part as every output defines it: the server's bytes with the transfer encoding removed. */
export function partBytes(raw: Buffer, part: BodyPart): Buffer {
  return decodeTransferEncoding(raw, part.encoding);
}

/**
 * The most bytes each part can decode to, by part number: base64 carries 3 bytes in 4
 * characters (line breaks only make it less), the other transfer encodings never grow.
 */
export function decodedSizeLimits(
  structure: MessageStructureObject | undefined,
): (partId: string) => number | undefined {
  const limits = new Map<string, number>();
  if (structure) {
    for (const part of listParts(structure, { intoMessages: false })) {
      if (part.multipart) continue;
      if (part.encoding === "base64") limits.set(part.partId, Math.ceil((part.size * 3) / 4));
      else if (["7bit", "8bit", "binary", "quoted-printable"].includes(part.encoding))
        limits.set(part.partId, part.size);
    }
  }
  return (partId) => limits.get(partId);
}

function described(data: Buffer, options: ParseOptions) {
  const tooLarge = options.includeAttachments && data.length > options.maxAttachmentSize;
  return {
    size: data.length,
    checksum: createHash("sha256").update(data).digest("hex"),
    content: options.includeAttachments && !tooLarge ? data : null,
    tooLarge,
  };
}

export async function readMessage(
  selected: Selected,
  uid: number,
  options: ParseOptions,
): Promise<ReadMessage> {
  const where = { mailbox: selected.box.path, uid };
  const message = await fetchExisting(selected, uid, {
    flags: true,
    size: true,
    internalDate: true,
    source: true,
    bodyStructure: true,
    ...IDENTITY_QUERY,
  });
  const parsed = await parseMessage(
    contentOf(message, "", where),
    { ...options, decodedSizeLimit: decodedSizeLimits(message.bodyStructure) },
    where,
  );
  // The raw message is not part of any output: released before the attachments are serialized.
  message.source = undefined;
  const { attachments, disagreeing } = withServerParts(parsed.attachments, message.bodyStructure);
  if (disagreeing.length > 0) {
    // One more FETCH, only for a message the parser split or decoded otherwise than the server.
    const fetched = await fetchExisting(selected, uid, {
      bodyParts: disagreeing.map(({ part }) => part.partId),
    });
    for (const { index, part } of disagreeing) {
      const attachment = attachments[index];
      if (!attachment) continue;
      const data = partBytes(contentOf(fetched, part.partId, where), part);
      attachments[index] = { ...attachment, ...described(data, options) };
    }
  }
  return { message, parsed: { ...parsed, attachments } };
}
