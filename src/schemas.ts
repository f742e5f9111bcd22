/**
 * The JSON Schemas of what the actions return as `data` (their `outputSchema`) and of what the
 * triggers deliver, so the designer can offer a step's fields before a real run. Every object
 * this component builds is closed (`additionalProperties: false`), and the integration tests
 * validate each action's real output against its schema: a field added without its schema, or a
 * schema that says something the output does not do, fails a test.
 */
import type { JsonSchema } from "@prismatic-io/spectral/dist/types/jsonforms/JsonSchema";

/** A JSON Schema as this module writes them (spectral types it as JsonSchema at the end). */
type Schema = { [keyword: string]: unknown };

export const text = (description: string): Schema => ({ type: "string", description });
export const integer = (description: string): Schema => ({ type: "integer", description });
export const number = (description: string): Schema => ({ type: "number", description });
export const boolean = (description: string): Schema => ({ type: "boolean", description });
export const list = (items: Schema, description: string): Schema =>
  ({ type: "array", items, description }) as Schema;
/** A value of `schema`, or null. */
export const nullable = (schema: Schema): Schema =>
  ({ ...schema, type: [schema.type, "null"] }) as Schema;

/**
 * A closed object: every property is required unless named in `optional` (a property that is
 * present only in some cases, never null-filled).
 */
export function object(
  properties: Record<string, Schema>,
  description: string,
  optional: string[] = [],
): Schema {
  return {
    type: "object",
    description,
    properties,
    required: Object.keys(properties).filter((key) => !optional.includes(key)),
    additionalProperties: false,
  };
}

/** Usage and limit of one quota resource. */
export const usage = (description: string): Schema =>
  object({ usage: integer("Used."), limit: integer("The limit.") }, description);

/** An object whose keys are not known in advance (headers, counts by name). */
export const map = (values: Schema, description: string): Schema => ({
  type: "object",
  description,
  additionalProperties: values,
});

export const uid = integer("The message's UID in its mailbox (1 to 4294967295).");
export const uidValidity = text(
  "The mailbox's UIDVALIDITY, a decimal string: UIDs are only valid together with it.",
);
export const mailboxPath = text("Full path of the mailbox, as the server normalises it.");
export const flags = list(
  text("A flag such as \\Seen or a keyword such as $Label1."),
  "The message's flags, \\Recent left out.",
);

const address = object(
  {
    name: text('Display name, "" when there is none.'),
    address: text("The email address."),
  },
  "One address.",
);
export const addresses = (description: string): Schema => list(address, description);

export const envelope = object(
  {
    date: nullable(text("The Date header as ISO 8601, or null when it is missing or unreadable.")),
    subject: text('Subject, decoded; "" when there is none.'),
    messageId: text('Message-ID with angle brackets; "" when there is none.'),
    inReplyTo: text('In-Reply-To; "" when there is none.'),
    from: addresses("From."),
    to: addresses("To."),
    cc: addresses("Cc."),
    bcc: addresses("Bcc (present in sent and draft messages only)."),
    replyTo: addresses("Where a reply goes: Reply-To, or From when the message has none."),
    sender: addresses("Sender, or From when the message has none."),
  },
  "The message's envelope as the server parsed it.",
);

/** Gmail's labels and the ids of Gmail and RFC 8474 servers: present only where the server gives them. */
export const identity = {
  labels: list(text("A Gmail label, e.g. \\Inbox or Invoices."), "The message's Gmail labels."),
  threadId: text("The conversation's id (X-GM-THRID or THREADID)."),
  emailId: text("The message's id across mailboxes (X-GM-MSGID or EMAILID)."),
};
const IDENTITY_KEYS = Object.keys(identity);

export const summary = object(
  {
    uid,
    flags,
    size: integer("Size of the whole message in bytes."),
    internalDate: nullable(text("When the message arrived in the mailbox (ISO 8601).")),
    envelope,
    ...identity,
  },
  "One message.",
  IDENTITY_KEYS,
);

export const headers = map(
  { type: ["string", "array"], items: { type: "string" } } as Schema,
  "Every header by lower-case name: the decoded value, or a list of values when it occurs more than once.",
);

const attachmentFields = {
  partId: nullable(
    text(
      "The server's part number to pass to Download Attachment, e.g. 2 or 1.2; null when the server has no part this attachment matches.",
    ),
  ),
  filename: nullable(text("The file name, decoded; null when the part has none.")),
  contentType: text("The part's content type, e.g. application/pdf."),
  size: integer("Decoded size in bytes."),
  contentId: nullable(text("Content-ID without angle brackets (for cid: links), or null.")),
  inline: boolean("Whether the part is shown inline (e.g. an image in the HTML)."),
};

export const attachment = object(
  {
    ...attachmentFields,
    checksum: text("SHA-256 of the decoded content, hex."),
    content: nullable(
      text("The decoded content as base64, or null when not asked for or too large."),
    ),
    tooLarge: boolean("True when the content was left out for exceeding Max Attachment Size."),
  },
  "One attachment.",
);

export const attachmentMetadata = object(attachmentFields, "One attachment, without content.");

/** What New Emails delivers per message (summary, and with Fetch Content the parsed content). */
export const deliveredMessage = object(
  {
    ...(summary.properties as Record<string, Schema>),
    text: nullable(text("The plain text (converted from the HTML when there is no text part).")),
    replyText: nullable(
      text("What the sender wrote, without quoted replies and signature; null without text."),
    ),
    html: nullable(text("The message's HTML, untrusted: sanitise it before displaying it.")),
    headers,
    attachments: list(attachmentMetadata, "The attachments, without content."),
    contentError: text("Why the message could not be parsed, when it could not."),
    recovered: {
      const: true,
      description: "Delivered by the recovery after the mailbox's UIDVALIDITY changed.",
    },
    possibleRepeat: {
      const: true,
      description: "Recovered without a Message-ID to compare: it may have been delivered before.",
    },
  },
  "One new message; text, replyText, html, headers and attachments only with Fetch Content.",
  [
    ...IDENTITY_KEYS,
    "text",
    "replyText",
    "html",
    "headers",
    "attachments",
    "contentError",
    "recovered",
    "possibleRepeat",
  ],
);

const deliveredFields = deliveredMessage.properties as Record<string, Schema>;
const deliveredOptional = deliveredMessage.required
  ? Object.keys(deliveredFields).filter(
      (key) => !(deliveredMessage.required as string[]).includes(key),
    )
  : [];

/** One message as the batched trigger delivers it, and New Emails with several mailboxes. */
export const deliveredInMailbox = object(
  { ...deliveredFields, mailbox: mailboxPath, uidValidity },
  "One new message, with the mailbox it is in.",
  deliveredOptional,
);

/** The body New Emails delivers (`body.data` of the trigger's result). */
export const newEmailsBody: Schema = {
  description: "The messages that arrived since the last poll.",
  anyOf: [
    object(
      {
        mailbox: mailboxPath,
        uidValidity,
        messages: list(deliveredMessage, "The new messages in UID order, oldest first."),
        expungedMeanwhile: integer(
          "How many chosen messages another client expunged before they could be fetched.",
        ),
      },
      "One watched mailbox.",
    ),
    object(
      {
        mailbox: { type: "null", description: "null: several mailboxes are watched." },
        uidValidity: { type: "null", description: "null: see mailboxes." },
        mailboxes: list(
          object({ mailbox: mailboxPath, uidValidity }, "One watched mailbox."),
          "The watched mailboxes with their UIDVALIDITY.",
        ),
        messages: list(deliveredInMailbox, "The new messages, each naming its mailbox."),
        expungedMeanwhile: integer(
          "How many chosen messages another client expunged before they could be fetched.",
        ),
      },
      "Several watched mailboxes (the Mailboxes input).",
    ),
  ],
};

/** What the flag actions return: each message's flags afterwards. */
export const flagChanges = object(
  {
    mailbox: mailboxPath,
    messages: list(
      object({ uid, flags }, "One message and its flags afterwards, read back from the server."),
      "The messages, by UID.",
    ),
  },
  "The flags after the change.",
);

/** What Copy and Move return. */
export const transfer = object(
  {
    path: text("The source mailbox's full path."),
    destination: text("The destination mailbox's full path."),
    uidValidity: text("The destination's UIDVALIDITY: the destinationUids belong to it."),
    sourceUidValidity: text("The source's UIDVALIDITY: the sourceUids belong to it."),
    uidMap: list(
      object(
        {
          sourceUid: integer("The message's UID in the source."),
          destinationUid: nullable(
            integer(
              "Its UID in the destination; null where the server did not say and it could not be found.",
            ),
          ),
        },
        "One message.",
      ),
      "One entry per message, by source UID.",
    ),
  },
  "Where each message went.",
);

/** What Add Labels and Remove Labels return. */
export const labelChanges = object(
  {
    mailbox: mailboxPath,
    messages: list(
      object(
        { uid, labels: list(text("A Gmail label."), "The labels afterwards, read back.") },
        "One message and its labels afterwards.",
      ),
      "The messages, by UID.",
    ),
  },
  "The labels after the change.",
);

/** Where Delete Message (mode trash) and Archive Messages put the messages. */
export const disposal = object(
  {
    mailbox: mailboxPath,
    uids: list(integer("A UID in the source."), "The messages' UIDs in the source."),
    destination: nullable(text("The mailbox they went to; null when they were expunged instead.")),
    destinationUids: list(
      nullable(integer("The new UID; null where it could not be found.")),
      "Their new UIDs in destination, in the order of uids.",
    ),
    destinationUidValidity: nullable(
      text("The destination's UIDVALIDITY; null when nothing moved."),
    ),
    expunged: boolean("True when they were removed for good (they were in the Trash already)."),
  },
  "Where the messages went.",
);

/** What Subscribe and Unsubscribe return. */
export const subscription = object(
  { path: mailboxPath, subscribed: boolean("The subscription after the step.") },
  "The mailbox and its subscription.",
);

/** Where a draft was stored. */
export const storedDraftFields = {
  mailbox: mailboxPath,
  uid: integer("The draft's UID."),
  uidValidity,
  messageId: text("The draft's Message-ID, with angle brackets."),
};

/** What Check Connection returns: the diagnosis of a working connection, or of a failing one. */
export const connectionDiagnosis: Schema = {
  description: "ok true: what the server is and offers. ok false: where and why it failed.",
  anyOf: [
    object(
      {
        ok: { const: true, description: "The connection works." },
        server: object(
          {
            host: text("Host."),
            port: integer("Port."),
            encryption: text("tls, starttls or none."),
            greeting: text("The server's greeting text."),
            id: nullable(map(text("A value."), "The server's ID answer (RFC 2971), or null.")),
          },
          "The server.",
        ),
        login: object(
          {
            user: text("The user logged in as."),
            mechanism: nullable(text("How the component logged in, e.g. AUTH=PLAIN or LOGIN.")),
          },
          "The login.",
        ),
        tls: nullable(
          object(
            {
              version: nullable(text("e.g. TLSv1.3.")),
              cipher: nullable(text("The cipher suite.")),
              certificate: nullable(
                object(
                  {
                    subject: text("The certificate's subject."),
                    issuer: text("Its issuer."),
                    validFrom: text("Start of validity (ISO 8601)."),
                    validTo: text("End of validity (ISO 8601)."),
                  },
                  "The server's certificate.",
                ),
              ),
            },
            "The encryption; null on an unencrypted connection.",
          ),
        ),
        capabilities: map(
          boolean("Whether the server offers the extension."),
          "The extensions that change what the component does, each true or false.",
        ),
        authMechanisms: list(text("e.g. AUTH=PLAIN."), "The login mechanisms the server offers."),
        specialUseMailboxes: map(
          text("The mailbox's path."),
          "Special use (\\Sent, ...) to mailbox.",
        ),
        roundTripMs: number("The time of one NOOP, in milliseconds."),
        notes: list(text("One difference."), "What the component does differently on this server."),
      },
      "The connection works.",
    ),
    object(
      {
        ok: { const: false, description: "The connection fails." },
        stage: text("settings, token, connect, tls, greeting, login or session."),
        code: text("The error code (see Error codes)."),
        message: text("The full error message."),
        fix: text("What to change."),
      },
      "The connection fails.",
    ),
  ],
};

/** An action's outputSchema for one shape of `data`. */
export const output = (schema: Schema) => ({
  type: "actionOutput" as const,
  schema: schema as JsonSchema,
});

/** A branching action's outputSchema: one shape of `data` per branch. */
export const branchingOutput = (branchSchemas: Record<string, Schema>) => ({
  type: "branchingOutput" as const,
  branchSchemas: branchSchemas as Record<string, JsonSchema>,
});

/** One of several shapes (e.g. the output of a mode). */
export const oneOf = (schemas: Schema[], description: string): Schema => ({
  description,
  anyOf: schemas,
});
