import { action } from "@prismatic-io/spectral";
import { connectionInput, mailboxInput } from "../inputs";
import { parseSearchRequest, searchInputs, searchPage } from "../search";
import { withSession } from "../session";

export const searchMailbox = action({
  display: {
    label: "Search / List Mailbox Messages",
    description:
      "List the messages of a mailbox matching the given criteria (all of them without criteria), newest first, one page at a time: flags, size, arrival date and envelope of each. Follow nextCursor for the next page. Read-only (the mailbox is opened read-only, \\Seen never changes); safe to retry.",
  },
  inputs: { connection: connectionInput, mailbox: mailboxInput, ...searchInputs },
  perform: async (context, params) => {
    const request = parseSearchRequest(params);
    const page = await withSession(params.connection, context, (session) =>
      searchPage(session, request),
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
      nextCursor:
        "eyJ1aWRWYWxpZGl0eSI6IjE3NjQxMTU5NjgiLCJ0b3AiOjgsImxhc3QiOjgsInNlYXJjaCI6IkxXbTM3aFhCd3Y0S0I0UWsifQ",
    },
  },
});
