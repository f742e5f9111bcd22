import { connectionInput, mailboxInput, parseMailbox } from "../inputs";
import { mailboxStatus } from "../mailboxes";
import { integer, mailboxPath, object, output, text, uidValidity } from "../schemas";
import { toJson } from "../serialize";
import { withSession } from "../session";

/** The counts Get Mailbox Status reads, besides HIGHESTMODSEQ. */
const EVERY_COUNT = {
  messages: true,
  recent: true,
  uidNext: true,
  uidValidity: true,
  unseen: true,
} as const;

import { action } from "../spectral";

export const getStatus = action({
  performSafety: "safe",
  outputSchema: output(
    object(
      {
        path: mailboxPath,
        messages: integer("Number of messages."),
        recent: integer("Messages no session has seen yet (\\Recent)."),
        uidNext: integer("The UID the next message will get."),
        uidValidity,
        unseen: integer("Messages without \\Seen."),
        highestModseq: text("HIGHESTMODSEQ as a decimal string (servers with CONDSTORE)."),
      },
      "The mailbox's counts. A value the server did not report is left out.",
      ["messages", "recent", "uidNext", "uidValidity", "unseen", "highestModseq"],
    ),
  ),
  display: {
    label: "Get Mailbox Status",
    description:
      "Count the messages of a mailbox (total, recent, unseen) and read its UIDNEXT, UIDVALIDITY and HIGHESTMODSEQ without selecting it. Read-only; safe to retry.",
  },
  inputs: { connection: connectionInput, mailbox: mailboxInput },
  perform: async (context, params) => {
    const mailbox = parseMailbox(params.mailbox);
    const status = await withSession(
      params.connection,
      context,
      (session) =>
        mailboxStatus(session, mailbox, {
          ...EVERY_COUNT,
          highestModseq: session.has("CONDSTORE"),
        }),
      // HIGHESTMODSEQ is asked where the server has CONDSTORE, which it may tell only after login
      { ahead: [{ command: "STATUS", mailbox, query: { ...EVERY_COUNT, highestModseq: true } }] },
    );
    return {
      data: toJson({
        path: status.path,
        messages: status.messages,
        recent: status.recent,
        uidNext: status.uidNext,
        uidValidity: status.uidValidity,
        unseen: status.unseen,
        highestModseq: status.highestModseq,
      }),
    };
  },
  examplePayload: {
    data: {
      path: "INBOX",
      messages: 3,
      recent: 0,
      uidNext: 4,
      uidValidity: "1764115968",
      unseen: 2,
      highestModseq: "7",
    },
  },
});
