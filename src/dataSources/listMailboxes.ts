import { connectionInput } from "../inputs";
import { isSelectable, listMailboxEntries } from "../mailboxes";
import { withSession } from "../session";
import { dataSource } from "../spectral";

export const listMailboxes = dataSource({
  display: {
    label: "Mailboxes",
    description:
      "The account's selectable mailboxes by full path, INBOX first, for a mailbox dropdown. Read-only; safe to retry.",
  },
  dataSourceType: "picklist",
  inputs: { connection: connectionInput },
  perform: async (context, params) => {
    const mailboxes = await withSession(params.connection, context, (session) =>
      listMailboxEntries(session),
    );
    return {
      result: mailboxes
        .filter(isSelectable)
        .map((mailbox) => ({ key: mailbox.path, label: mailbox.path })),
    };
  },
  examplePayload: {
    result: [
      { key: "INBOX", label: "INBOX" },
      { key: "Archive", label: "Archive" },
      { key: "Projects/2024", label: "Projects/2024" },
    ],
  },
});
