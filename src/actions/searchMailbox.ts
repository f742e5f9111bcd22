import { connectionInput, mailboxInput } from "../inputs";
import {
  text as describedText,
  integer,
  list,
  mailboxPath,
  nullable,
  object,
  output,
  summary,
  uidValidity,
} from "../schemas";
import { parseSearchRequest, searchPage } from "../search";
import { opening, withSession } from "../session";
import { action, input } from "../spectral";

const text = (label: string, comments: string, example: string) =>
  input({ label, type: "string", required: false, comments, example });

export const searchInputs = {
  from: text(
    "From",
    "Messages whose From header contains this text (name or address).",
    "alice@example.com",
  ),
  to: text("To", "Messages whose To header contains this text.", "bob@example.com"),
  subject: text("Subject", "Messages whose subject contains this text.", "Invoice"),
  body: text(
    "Body",
    "Messages containing this text anywhere: headers or body (IMAP TEXT).",
    "order 1234",
  ),
  since: text(
    "Since",
    "Messages that arrived on or after this date (YYYY-MM-DD, the day included).",
    "2026-11-01",
  ),
  before: text(
    "Before",
    "Messages that arrived before this date (YYYY-MM-DD, the day excluded).",
    "2026-12-01",
  ),
  readStatus: input({
    label: "Read Status",
    type: "string",
    required: false,
    default: "all",
    model: [
      { label: "All", value: "all" },
      { label: "Unread", value: "unread" },
      { label: "Read", value: "read" },
    ],
    comments: "Unread: only messages without \\Seen. Read: only messages with \\Seen. All: both.",
  }),
  flagged: input({
    label: "Flagged",
    type: "string",
    required: false,
    default: "any",
    model: [
      { label: "Any", value: "any" },
      { label: "Flagged", value: "flagged" },
      { label: "Not flagged", value: "unflagged" },
    ],
    comments:
      "Flagged: only messages with \\Flagged (starred). Not flagged: only messages without it. Any: both.",
  }),
  threadId: text(
    "Thread ID",
    "Only the messages of this conversation: threadId of a message from this action, Get Message or the trigger. Needs a server that offers thread ids (Gmail, or OBJECTID); elsewhere the search fails and says so.",
    "1266894439832287888",
  ),
  gmailQuery: text(
    "Gmail Query",
    "Gmail only: a search in Gmail's own syntax, as in Gmail's search box (X-GM-RAW), ANDed with the other criteria, e.g. has:attachment older_than:30d label:Invoices. On other servers the search fails and says the server is not Gmail.",
    "has:attachment in:unread",
  ),
  criteria: input({
    label: "Criteria",
    type: "code",
    language: "json",
    required: false,
    comments:
      'Optional. More criteria as an imapflow search object, ANDed with the inputs above, e.g. {"larger": 100000, "not": {"keyword": "$Done"}}. Unknown keys are refused.',
    example: '{"larger": 100000, "not": {"keyword": "$Done"}}',
  }),
  limit: input({
    label: "Limit",
    type: "string",
    required: false,
    default: "50",
    comments: "Messages per page, 1 to 1000.",
    example: "50",
  }),
  cursor: input({
    label: "Cursor",
    type: "string",
    required: false,
    comments:
      "nextCursor of the previous page, with the same mailbox and criteria; empty for the first page.",
  }),
};

export const searchMailbox = action({
  performSafety: "safe",
  outputSchema: output(
    object(
      {
        mailbox: mailboxPath,
        uidValidity,
        total: integer("Number of matches the cursor chain covers (the same on every page)."),
        messages: list(summary, "This page's messages, newest (highest UID) first."),
        expungedMeanwhile: integer(
          "Matches of this page expunged between the search and the fetch, left out of messages.",
        ),
        nextCursor: nullable(
          describedText("Pass it as Cursor for the next page; null on the last page."),
        ),
      },
      "One page of matches.",
    ),
  ),
  display: {
    label: "Search / List Mailbox Messages",
    description:
      "List the messages of a mailbox matching the given criteria (all of them without criteria), newest first, one page at a time: flags, size, arrival date and envelope of each. Follow nextCursor for the next page. Read-only (the mailbox is opened read-only, \\Seen never changes); safe to retry.",
  },
  inputs: { connection: connectionInput, mailbox: mailboxInput, ...searchInputs },
  perform: async (context, params) => {
    const request = parseSearchRequest(params);
    const page = await withSession(
      params.connection,
      context,
      (session) => searchPage(session, request),
      opening(request.mailbox, true),
    );
    return { data: page };
  },
  examplePayload: {
    data: {
      mailbox: "INBOX",
      uidValidity: "1764115968",
      total: 2,
      messages: [
        {
          uid: 8,
          flags: ["\\Seen"],
          size: 1543,
          internalDate: "2026-11-24T10:00:05.000Z",
          envelope: {
            date: "2026-11-24T10:00:00.000Z",
            subject: "Invoice 1234",
            messageId: "<invoice-1234@example.com>",
            inReplyTo: "",
            from: [{ name: "Alice Example", address: "alice@example.com" }],
            to: [{ name: "Bob Example", address: "bob@example.com" }],
            cc: [],
            bcc: [],
            replyTo: [{ name: "Alice Example", address: "alice@example.com" }],
            sender: [{ name: "Alice Example", address: "alice@example.com" }],
          },
        },
      ],
      expungedMeanwhile: 0,
      nextCursor:
        "eyJ1aWRWYWxpZGl0eSI6IjE3NjQxMTU5NjgiLCJ0b3AiOjgsImxhc3QiOjgsInNlYXJjaCI6IkxXbTM3aFhCd3Y0S0I0UWsifQ",
    },
  },
});
