import { contentOf, downloadPartOnce, fetchExisting, parsePartId } from "../bodyParts";
import {
  connectionInput,
  mailboxInput,
  optionalText,
  parseMailbox,
  parseUid,
  uidInput,
} from "../inputs";
import { output } from "../schemas";
import { opening, withSession } from "../session";
import { action, input } from "../spectral";

export const downloadMessage = action({
  performSafety: "safe",
  outputSchema: output({
    description:
      "The raw message (an .eml) or the decoded part, as a file: its bytes, with the content type beside data.",
  }),
  display: {
    label: "Download Message",
    description:
      "Download a message as a file: the whole raw message (message/rfc822, e.g. to archive or forward it), or one body part, decoded. One FETCH, never sets \\Seen. Read-only; safe to retry.",
  },
  inputs: {
    connection: connectionInput,
    mailbox: mailboxInput,
    uid: uidInput,
    part: input({
      label: "Part ID",
      type: "string",
      required: false,
      comments:
        "Optional: one body part to download instead of the whole message, e.g. 2 or 1.2 (the partId from Get Message). Empty: the whole message.",
      example: "2",
    }),
  },
  perform: async (context, params) => {
    const mailbox = parseMailbox(params.mailbox);
    const uid = parseUid(params.uid);
    const part = parsePartId(optionalText(params.part, "Part ID"), "Part ID");
    if (part !== undefined) {
      const found = await downloadPartOnce(params.connection, context, mailbox, uid, {
        partId: part,
      });
      return { data: found.data, contentType: found.part.contentType };
    }
    return withSession(
      params.connection,
      context,
      (session) =>
        session.withMailbox(mailbox, { readOnly: true }, async (selected) => {
          // The whole source in one FETCH: imapflow's download() takes one round trip per 64 KiB.
          const message = await fetchExisting(selected, uid, { source: true });
          return {
            data: contentOf(message, "", { mailbox: selected.box.path, uid }),
            contentType: "message/rfc822",
          };
        }),
      opening(mailbox, true),
    );
  },
  examplePayload: {
    data: Buffer.from(
      "From: Alice Example <alice@example.com>\r\nSubject: Invoice 1234\r\n\r\nPlease find the invoice attached.\r\n",
    ),
    contentType: "message/rfc822",
  },
});
