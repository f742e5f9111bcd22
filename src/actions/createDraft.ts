import { composeMessage, parseDraft } from "../compose";
import { parseConnection } from "../connections";
import { storeDraft } from "../drafts";
import { connectionInput, optionalMailbox } from "../inputs";
import { object, output, storedDraftFields } from "../schemas";
import { withSession } from "../session";
import { action, input } from "../spectral";

const text = (label: string, comments: string, example?: string) =>
  input({ label, type: "string", required: false, comments, example });

const addresses = (label: string, comments: string, example: string) =>
  text(
    label,
    `${comments} Addresses separated by commas, e.g. "Alice <alice@example.com>, bob@example.com".`,
    example,
  );

/** Inputs shared with Create Reply Draft. */
export const draftInputs = {
  draftsMailbox: text(
    "Drafts Mailbox",
    "Mailbox to store the draft in. Empty: the mailbox the server marks \\Drafts, else the one named Drafts.",
    "Drafts",
  ),
  text: input({
    label: "Text",
    type: "text",
    required: false,
    comments: "The plain-text body.",
    example: "Hello Bob,\n\nthe invoice is attached.\n\nAlice",
  }),
  html: input({
    label: "HTML",
    type: "code",
    language: "html",
    required: false,
    comments: "The HTML body. With Text too, the draft has both (multipart/alternative).",
    example: "<p>Hello Bob,</p><p>the invoice is attached.</p>",
  }),
  attachments: input({
    label: "Attachments",
    type: "data",
    required: false,
    comments:
      'Files to attach: a file from an earlier step ({ data, contentType } with a filename), or a list of such files or of { "filename", "contentType", "content" (base64) }.',
    example:
      '[{"filename": "invoice.pdf", "contentType": "application/pdf", "content": "JVBERi0xLjQK"}]',
  }),
};

export const createDraft = action({
  performSafety: "notAllowed",
  outputSchema: output(object(storedDraftFields, "Where the draft was stored.")),
  display: {
    label: "Create Draft",
    description:
      "Compose a message (addresses, subject, text, HTML, attachments, threading and extra headers) and store it as a draft (\\Draft, \\Seen) for a person to review and send; returns its UID and Message-ID. Adds a message; not safe to retry: a second run stores a second draft.",
  },
  inputs: {
    connection: connectionInput,
    mailbox: { ...draftInputs.draftsMailbox, label: "Mailbox" },
    from: addresses(
      "From",
      "The sender. Empty: the connection's username when it is an address.",
      "Alice Example <alice@example.com>",
    ),
    to: addresses("To", "Recipients.", "bob@example.com"),
    cc: addresses("Cc", "Copy recipients.", "carol@example.com"),
    bcc: addresses(
      "Bcc",
      "Blind copy recipients, kept in the draft for whoever sends it.",
      "audit@example.com",
    ),
    replyTo: addresses(
      "Reply To",
      "Where replies should go, when not to the sender.",
      "support@example.com",
    ),
    subject: text("Subject", "The subject.", "Invoice 1234"),
    text: draftInputs.text,
    html: draftInputs.html,
    attachments: draftInputs.attachments,
    inReplyTo: text(
      "In Reply To",
      "Message-ID of the message this answers, e.g. <abc@example.com> (Create Reply Draft sets it for you).",
      "<invoice-1234@example.com>",
    ),
    references: text(
      "References",
      "Message-IDs of the thread, oldest first, separated by spaces.",
      "<order-1234@example.com> <invoice-1234@example.com>",
    ),
    headers: input({
      label: "Headers",
      type: "string",
      collection: "keyvaluelist",
      required: false,
      comments:
        "Extra header fields, e.g. X-Ticket: 1234. Fields that have their own input are refused.",
    }),
  },
  perform: async (context, params) => {
    const mailbox = optionalMailbox(params.mailbox);
    const draft = parseDraft(params, parseConnection(params.connection).user);
    const composed = await composeMessage(draft);
    const stored = await withSession(params.connection, context, (session) =>
      storeDraft(session, mailbox, composed),
    );
    return { data: stored };
  },
  examplePayload: {
    data: {
      mailbox: "Drafts",
      uid: 17,
      uidValidity: "1764115968",
      messageId: "<4f8c1e2a-7d3b-4c9e-9a51-2b6f0e8d7c14@example.com>",
    },
  },
});
