import { appending, appendToMailbox, parseInternalDate, parseRawMessage } from "../append";
import { connectionInput, mailboxInput, parseFlags, parseMailbox } from "../inputs";
import {
  boolean,
  integer,
  list,
  mailboxPath,
  nullable,
  object,
  output,
  text,
  uidValidity,
} from "../schemas";
import { withSession } from "../session";
import { action, input } from "../spectral";

export const appendMessage = action({
  performSafety: "notAllowed",
  outputSchema: output(
    object(
      {
        mailbox: mailboxPath,
        uid: integer("The appended message's UID."),
        uidValidity,
        flags: list(
          text("A flag or keyword."),
          "The stored message's flags, read back (\\Recent left out); [] when none were given.",
        ),
        internalDateApplied: nullable(
          boolean("Whether the server recorded the internal date given; null when none was."),
        ),
      },
      "Where the message was stored.",
    ),
  ),
  display: {
    label: "Append Message",
    description:
      "Store a raw message (RFC 5322) in a mailbox, e.g. a sent copy or a draft, with optional flags and internal date, and return its UID (also on servers without UIDPLUS, found by its Message-ID). Adds a message; not safe to retry: a second run stores a second copy.",
  },
  inputs: {
    connection: connectionInput,
    mailbox: mailboxInput,
    message: input({
      label: "Message",
      type: "data",
      required: true,
      comments:
        "The raw message: RFC 5322 text (headers, a blank line, the body) or file data from an earlier step, e.g. Download Message's output. Bare LF line ends are sent as CRLF.",
      example:
        "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: Hello\r\nMessage-ID: <hello-1@example.com>\r\n\r\nHi Bob\r\n",
    }),
    flags: input({
      label: "Flags",
      type: "string",
      collection: "valuelist",
      required: false,
      comments:
        "Optional flags for the stored message, e.g. \\Seen for a sent copy or \\Draft for a draft.",
      example: "\\Seen",
    }),
    internalDate: input({
      label: "Internal Date",
      type: "string",
      required: false,
      comments:
        "Optional arrival date the server records, ISO 8601 (2024-05-17T09:30:00Z) or a mail date (Fri, 17 May 2024 09:30:00 +0200). Empty: now.",
      example: "2024-05-17T09:30:00Z",
    }),
  },
  perform: async (context, params) => {
    const mailbox = parseMailbox(params.mailbox);
    const content = parseRawMessage(params.message);
    const flags = parseFlags(params.flags, { required: false });
    const internalDate = parseInternalDate(params.internalDate);
    const appended = await withSession(
      params.connection,
      context,
      (session) => appendToMailbox(session, mailbox, content, flags, internalDate),
      appending(mailbox),
    );
    return { data: appended };
  },
  examplePayload: {
    data: {
      mailbox: "Sent",
      uid: 12,
      uidValidity: "1764115968",
      flags: ["\\Seen"],
      internalDateApplied: true,
    },
  },
});
