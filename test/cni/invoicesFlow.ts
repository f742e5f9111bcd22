/**
 * A flow of a code-native integration: on each new email, read it and move it to Processed.
 * Only type-checked: it proves that the manifest's keys and inputs are what the component has.
 */
import type { Connection } from "@prismatic-io/spectral";
import { flow } from "@prismatic-io/spectral";
import "./componentRegistry";

interface Delivered {
  mailbox: string;
  messages: { uid: number }[];
}

export const invoicesFlow = flow({
  name: "File invoices",
  stableKey: "file-invoices",
  description: "Reads each new email of the invoices mailbox and moves it to Processed",
  onTrigger: {
    component: "imap",
    key: "newEmails",
    values: {
      connection: { configVar: "IMAP Connection" },
      mailbox: { value: "INBOX" },
      fetchContent: { value: true },
    },
  },
  onExecution: async (context, params) => {
    const delivered = params.onTrigger.results.body.data as Delivered;
    // a connection config var of the integration (its config pages are not part of this check)
    const connection = (context.configVars as Record<string, unknown>)[
      "IMAP Connection"
    ] as Connection;
    for (const { uid } of delivered.messages) {
      await context.components.imap.getMessage({
        connection,
        mailbox: delivered.mailbox,
        uid: String(uid),
        includeAttachments: false,
      });
      await context.components.imap.moveMessage({
        connection,
        mailbox: delivered.mailbox,
        uids: String(uid),
        destination: "Processed",
      });
    }
    return { data: delivered.messages.length };
  },
});
