import { parseConnection } from "../connections";
import { connectionInput, mailboxInput, uidInput, uidValidityInput } from "../inputs";
import { draftReply, parseReplyRequest } from "../reply";
import {
  addresses as addressListSchema,
  object,
  output,
  storedDraftFields,
  text,
} from "../schemas";
import { withSession } from "../session";
import { action, input } from "../spectral";
import { draftInputs } from "./createDraft";

const addresses = (label: string, comments: string) =>
  input({
    label,
    type: "string",
    required: false,
    comments: `${comments} Addresses separated by commas.`,
    example: "carol@example.com",
  });

export const createReplyDraft = action({
  performSafety: "notAllowed",
  outputSchema: output(
    object(
      {
        ...storedDraftFields,
        subject: text("The draft's subject, with one Re: or Fwd:."),
        to: addressListSchema("The draft's To."),
        cc: addressListSchema("The draft's Cc."),
      },
      "Where the draft was stored, and whom it is addressed to.",
    ),
  ),
  display: {
    label: "Create Reply Draft",
    description:
      "Draft a reply, reply-all or forward to a message for a person to review and send: threaded under it (In-Reply-To, References), one Re:/Fwd: prefix, the original quoted and, for a forward, its attachments. Stored flagged \\Draft and \\Seen; the original is not changed. Adds a message; not safe to retry: a second run stores a second draft.",
  },
  inputs: {
    connection: connectionInput,
    mailbox: {
      ...mailboxInput,
      comments: "Full path of the mailbox the original is in, e.g. INBOX.",
    },
    uid: { ...uidInput, comments: "The UID of the message to answer or forward." },
    uidValidity: uidValidityInput,
    mode: input({
      label: "Mode",
      type: "string",
      required: true,
      default: "reply",
      model: [
        { label: "Reply (to the sender, or its Reply-To)", value: "reply" },
        { label: "Reply all (also To and Cc, without own addresses)", value: "replyAll" },
        { label: "Forward", value: "forward" },
      ],
      comments:
        "Reply: to the sender (its Reply-To when set). Reply all: also to its To and Cc. Forward: to To and Cc below.",
    }),
    text: { ...draftInputs.text, comments: "The new text, above the quoted original." },
    html: { ...draftInputs.html, comments: "The new text as HTML, above the quoted original." },
    to: addresses("To", "Forward: the recipients. Reply: recipients added to the computed ones."),
    cc: addresses(
      "Cc",
      "Forward: the copy recipients. Reply: copy recipients added to the computed ones.",
    ),
    from: addresses("From", "The sender. Empty: the connection's username when it is an address."),
    quoteOriginal: input({
      label: "Quote Original",
      type: "boolean",
      required: false,
      default: "true",
      comments:
        'Quote the original below the new text, after an "On <date>, <sender> wrote:" line (forward: after the forwarded headers).',
    }),
    includeAttachments: input({
      label: "Include Attachments",
      type: "boolean",
      required: false,
      default: "true",
      comments:
        "Forward only: attach the original's attachments, byte for byte. Replies never carry them.",
    }),
    excludeAddresses: input({
      label: "Exclude Addresses",
      type: "string",
      collection: "valuelist",
      required: false,
      comments:
        "Reply all: own addresses to leave out of the recipients. Empty: the connection's username.",
      example: "support@example.com",
    }),
    draftsMailbox: draftInputs.draftsMailbox,
  },
  perform: async (context, params) => {
    const { source, options } = parseReplyRequest(params, parseConnection(params.connection).user);
    const result = await withSession(params.connection, context, (session) =>
      draftReply(session, source, options),
    );
    return { data: result };
  },
  examplePayload: {
    data: {
      mailbox: "Drafts",
      uid: 18,
      uidValidity: "1764115968",
      messageId: "<9b2d4e61-3f0a-4c7e-8d15-6a4f2c9e1b37@example.com>",
      subject: "Re: Invoice 1234",
      to: [{ name: "Alice Example", address: "alice@example.com" }],
      cc: [{ name: "Carol Smith", address: "carol@example.com" }],
    },
  },
});
