import {
  connectionInput,
  mailboxInput,
  parseBool,
  parseLimit,
  parseMailbox,
  parseUid,
  uidInput,
} from "../inputs";
import { readMessage } from "../readMessage";
import { replyTextOf } from "../replyText";
import {
  addresses,
  attachment,
  flags,
  headers,
  identity,
  integer,
  list,
  mailboxPath,
  nullable,
  object,
  output,
  text,
  uid,
  uidValidity,
} from "../schemas";
import { flagList, isoDate, messageIdentity, toJson } from "../serialize";
import { opening, uidValidityOf, withSession } from "../session";
import { action, input } from "../spectral";

const DEFAULT_MAX_ATTACHMENT_SIZE = 10 * 1024 * 1024;
const LARGEST_MAX_ATTACHMENT_SIZE = 100 * 1024 * 1024;

export const getMessage = action({
  performSafety: "safe",
  outputSchema: output(
    object(
      {
        mailbox: mailboxPath,
        uidValidity,
        uid,
        flags,
        size: integer("Size of the whole message in bytes."),
        internalDate: nullable(text("When the message arrived in the mailbox (ISO 8601).")),
        subject: text('Subject, decoded; "" when there is none.'),
        date: nullable(text("The Date header as ISO 8601, or null when missing or unreadable.")),
        messageId: text('Message-ID with angle brackets; "" when there is none.'),
        inReplyTo: text('In-Reply-To; "" when there is none.'),
        references: list(
          text("A Message-ID."),
          "The References header's Message-IDs, oldest first.",
        ),
        from: addresses("From."),
        to: addresses("To."),
        cc: addresses("Cc."),
        bcc: addresses("Bcc (present in sent and draft messages only)."),
        replyTo: addresses("Where a reply goes: Reply-To, or From when the message has none."),
        headers,
        text: nullable(
          text("The plain text (converted from the HTML when there is no text part)."),
        ),
        html: nullable(text("The message's HTML, untrusted: sanitise it before displaying it.")),
        attachments: list(attachment, "The attachments, with content when asked for."),
        replyText: nullable(
          text("What the sender wrote, without quoted replies and signature; null without text."),
        ),
        ...identity,
      },
      "The parsed message; labels, threadId and emailId only where the server offers them.",
      Object.keys(identity),
    ),
  ),
  display: {
    label: "Get Message",
    description:
      "Read one message by UID, parsed: addresses, headers, text, the reply text (what the sender wrote this time, without quoted replies and signature), HTML (untrusted, as the message has it) and its attachments, with their content as base64 when asked. Read-only: never sets \\Seen; safe to retry.",
  },
  inputs: {
    connection: connectionInput,
    mailbox: mailboxInput,
    uid: uidInput,
    includeAttachments: input({
      label: "Include Attachments",
      type: "boolean",
      required: false,
      default: "false",
      comments:
        "Return each attachment's content as base64 (up to Max Attachment Size each). Off: metadata only.",
    }),
    maxAttachmentSize: input({
      label: "Max Attachment Size",
      type: "string",
      required: false,
      default: String(DEFAULT_MAX_ATTACHMENT_SIZE),
      comments: `Largest attachment, in decoded bytes, whose content is returned (0 to ${LARGEST_MAX_ATTACHMENT_SIZE}); a larger one has content null and tooLarge true. Download it with Download Attachment instead.`,
      example: String(DEFAULT_MAX_ATTACHMENT_SIZE),
    }),
  },
  perform: async (context, params) => {
    const mailbox = parseMailbox(params.mailbox);
    const uid = parseUid(params.uid);
    const options = {
      includeAttachments: parseBool(params.includeAttachments, "Include Attachments", false),
      maxAttachmentSize: parseLimit(params.maxAttachmentSize, "Max Attachment Size", {
        min: 0,
        max: LARGEST_MAX_ATTACHMENT_SIZE,
        fallback: DEFAULT_MAX_ATTACHMENT_SIZE,
      }),
    };
    // BODY.PEEK[] and BODYSTRUCTURE in one FETCH on a read-only mailbox: \Seen is never set.
    const { message, parsed, opened } = await withSession(
      params.connection,
      context,
      (session) =>
        session.withMailbox(mailbox, { readOnly: true }, async (selected) => ({
          ...(await readMessage(selected, uid, options)),
          opened: {
            path: selected.box.path,
            uidValidity: await uidValidityOf(selected, "say which UIDs the message is read by"),
          },
        })),
      opening(mailbox, true),
    );
    return {
      data: toJson({
        mailbox: opened.path,
        uidValidity: opened.uidValidity,
        uid,
        flags: flagList(message.flags),
        size: message.size ?? 0,
        internalDate: isoDate(message.internalDate),
        ...messageIdentity(message),
        ...parsed,
        replyText: replyTextOf(parsed.text),
      }),
    };
  },
  examplePayload: {
    data: {
      mailbox: "INBOX",
      uidValidity: "1764115968",
      uid: 3,
      flags: ["\\Flagged"],
      size: 1060,
      internalDate: "2026-11-02T08:30:02.000Z",
      subject: "Inline images",
      date: "2026-11-02T08:30:00.000Z",
      messageId: "<inline-images@example.com>",
      inReplyTo: "",
      references: [],
      from: [{ name: "Newsletter", address: "news@example.com" }],
      to: [{ name: "Bob Example", address: "bob@example.com" }],
      cc: [],
      bcc: [],
      replyTo: [{ name: "Newsletter", address: "news@example.com" }],
      headers: {
        from: "Newsletter <news@example.com>",
        to: "Bob Example <bob@example.com>",
        subject: "Inline images",
        date: "Mon, 02 Nov 2026 09:30:00 +0100",
        "message-id": "<inline-images@example.com>",
        "mime-version": "1.0",
        "content-type": 'multipart/related; boundary="rel"; type="multipart/alternative"',
      },
      text: "See the logo.",
      html: '<html><body><p>See the logo: <img src="cid:logo@example.com"></p></body></html>',
      attachments: [
        {
          partId: "2",
          filename: "logo.png",
          contentType: "image/png",
          size: 70,
          contentId: "logo@example.com",
          inline: true,
          checksum: "6b7fa434f92a8b80aab02d9bf1a12e49ffcae424e4013a1c4f68b67e3d2bbcd0",
          content:
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
          tooLarge: false,
        },
      ],
      replyText: "See the logo.",
    },
  },
});
