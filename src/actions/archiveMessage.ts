import {
  connectionInput,
  mailboxInput,
  optionalMailbox,
  parseMailbox,
  parseUidSet,
  parseUidValidity,
  uidsInput,
  uidValidityInput,
} from "../inputs";
import { disposal, output } from "../schemas";
import { toJson } from "../serialize";
import { withSession } from "../session";
import { action, input } from "../spectral";
import { archiveMessages } from "../transfer";

export const archiveMessage = action({
  performSafety: "notAllowed",
  outputSchema: output(disposal),
  display: {
    label: "Archive Messages",
    description:
      "Move messages by UID to the archive: the mailbox the server marks as Archive (Microsoft 365's Archive), on Gmail All Mail (which only removes the Inbox label), or Archive Mailbox. Uses MOVE where the server has it, else a verified copy and an exact expunge. Moves messages; a retry after success fails because the UIDs no longer exist in the source.",
  },
  inputs: {
    connection: connectionInput,
    mailbox: {
      ...mailboxInput,
      comments: "Full path of the mailbox the messages are in now, e.g. INBOX.",
    },
    uids: uidsInput,
    archiveMailbox: input({
      label: "Archive Mailbox",
      type: "string",
      required: false,
      dataSource: "listMailboxes",
      comments:
        "The mailbox to move the messages to, for servers that mark none as Archive. Empty: the one the server marks.",
      example: "Archive",
    }),
    uidValidity: uidValidityInput,
  },
  perform: async (context, params) => {
    const mailbox = parseMailbox(params.mailbox);
    const uids = parseUidSet(params.uids);
    const archiveMailbox = optionalMailbox(params.archiveMailbox, "Archive Mailbox");
    const uidValidity = parseUidValidity(params.uidValidity);
    const result = await withSession(params.connection, context, (session) =>
      archiveMessages(session, mailbox, uids, { archiveMailbox, uidValidity }),
    );
    return { data: toJson(result) };
  },
  examplePayload: {
    data: {
      mailbox: "INBOX",
      uids: [41, 42],
      destination: "Archive",
      destinationUids: [12, 13],
      destinationUidValidity: "1764115969",
      expunged: false,
    },
  },
});
