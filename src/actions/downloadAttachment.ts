import { action, input } from "@prismatic-io/spectral";
import { downloadPartOnce, parseWantedPart } from "../bodyParts";
import {
  connectionInput,
  mailboxInput,
  optionalText,
  parseMailbox,
  parseUid,
  uidInput,
} from "../inputs";

export const downloadAttachment = action({
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
  },
  perform: async (context, params) => {
    const mailbox = parseMailbox(params.mailbox);
    const uid = parseUid(params.uid);
    const wanted = parseWantedPart(
      optionalText(params.partId, "Part ID"),
      optionalText(params.filename, "File Name"),
    );
    const { part, data } = await downloadPartOnce(params.connection, context, mailbox, uid, wanted);
    return { data, contentType: part.contentType };
  },
  examplePayload: {
    data: Buffer.from("%PDF-1.4\n"),
    contentType: "application/pdf",
  },
});
