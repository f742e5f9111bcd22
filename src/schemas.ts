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

export const summary = object(
  {
    uid,
    flags,
    size: integer("Size of the whole message in bytes."),
    internalDate: nullable(text("When the message arrived in the mailbox (ISO 8601).")),
    envelope,
  },
  "One message.",
);

export const headers = map(
  { type: ["string", "array"], items: { type: "string" } } as Schema,
  "Every header by lower-case name: the decoded value, or a list of values when it occurs more than once.",
);

const attachmentFields = {
  partId: text("The part number to pass to Download Attachment, e.g. 2 or 1.2."),
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
    html: nullable(text("The message's HTML, untrusted: sanitise it before displaying it.")),
    headers,
    attachments: list(attachmentMetadata, "The attachments, without content."),
    contentError: text("Why the message could not be parsed, when it could not."),
  },
  "One new message; text, html, headers and attachments only with Fetch Content.",
  ["text", "html", "headers", "attachments", "contentError"],
);

/** The body New Emails delivers (`body.data` of the trigger's result). */
export const newEmailsBody = object(
  {
    mailbox: mailboxPath,
    uidValidity,
    messages: list(deliveredMessage, "The new messages in UID order, oldest first."),
    expungedMeanwhile: integer(
      "How many chosen messages another client expunged before they could be fetched.",
    ),
  },
  "The messages that arrived since the last poll.",
);

/** An action's outputSchema for one shape of `data`. */
export const output = (schema: Schema) => ({
  type: "actionOutput" as const,
  schema: schema as JsonSchema,
});
