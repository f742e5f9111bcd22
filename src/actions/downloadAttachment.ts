import { createHash } from "node:crypto";
import { downloadPartOnce, parseWantedPart } from "../bodyParts";
import {
  connectionInput,
  mailboxInput,
  optionalText,
  parseChoice,
  parseMailbox,
  parseUid,
  uidInput,
} from "../inputs";
import { integer, mailboxPath, nullable, object, output, text, uid } from "../schemas";
import { action, input } from "../spectral";

export const downloadAttachment = action({
  performSafety: "safe",
  outputSchema: output(
    object(
      {
        mailbox: mailboxPath,
        uid,
        partId: text("The part number."),
        filename: nullable(text("The file name, decoded; null when the part has none.")),
        contentType: text("The part's content type."),
        size: integer("Decoded size in bytes."),
        checksum: text("SHA-256 of the decoded bytes, hex."),
        content: text("The decoded bytes as base64."),
      },
      "With Return As json. With file (the default), data is the file itself: its bytes, with the content type beside data.",
    ),
  ),
  display: {
    label: "Download Attachment",
    description:
      "Download one attachment (or any body part) of a message as a file, decoded, fetching only that part from the server. Read-only: never sets \\Seen; safe to retry.",
  },
  inputs: {
    connection: connectionInput,
    mailbox: mailboxInput,
    uid: uidInput,
    partId: input({
      label: "Part ID",
      type: "string",
      required: false,
      comments:
        "The attachment's partId from Get Message, e.g. 2 or 1.2. Takes precedence over File Name.",
      example: "2",
    }),
    filename: input({
      label: "File Name",
      type: "string",
      required: false,
      comments:
        "The attachment's file name, used when the Part ID is not known. Must name exactly one attachment of the message.",
      example: "invoice.pdf",
    }),
    returnAs: input({
      label: "Return As",
      type: "string",
      required: false,
      default: "file",
      model: [
        { label: "File (the decoded bytes)", value: "file" },
        { label: "JSON with file name, size and content (base64)", value: "json" },
      ],
      comments:
        "file: the step's result is the attachment itself, ready for a Save File or upload step. json: { mailbox, uid, partId, filename, contentType, size, checksum, content }, for flows that also need the file name.",
      example: "file",
    }),
  },
  perform: async (context, params) => {
    const mailbox = parseMailbox(params.mailbox);
    const uid = parseUid(params.uid);
    const wanted = parseWantedPart(
      optionalText(params.partId, "Part ID"),
      optionalText(params.filename, "File Name"),
    );
    const returnAs = parseChoice(params.returnAs, "Return As", ["file", "json"] as const);
    const { part, data } = await downloadPartOnce(params.connection, context, mailbox, uid, wanted);
    if (returnAs === "file") return { data, contentType: part.contentType };
    return {
      data: {
        mailbox,
        uid,
        partId: part.partId,
        filename: part.filename,
        contentType: part.contentType,
        size: data.length,
        checksum: createHash("sha256").update(data).digest("hex"),
        content: data.toString("base64"),
      },
    };
  },
  examplePayload: {
    data: Buffer.from("%PDF-1.4\n"),
    contentType: "application/pdf",
  },
});
