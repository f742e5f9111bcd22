import { action } from "@prismatic-io/spectral";
import { connectionInput } from "../inputs";
import { listMailboxEntries } from "../mailboxes";
import { withSession } from "../session";

export const listMailboxes = action({
  performSafety: "safe",
  display: {
    label: "List Mailboxes",
    description:
      "List every mailbox (folder) of the account, INBOX first. Read-only; safe to retry.",
  },
  inputs: { connection: connectionInput },
  perform: async (context, params) => {
    const mailboxes = await withSession(params.connection, context, (session) =>
      listMailboxEntries(session),
    );
    return { data: mailboxes };
  },
  examplePayload: {
    data: [
      {
        path: "INBOX",
        pathAsListed: "INBOX",
        flags: ["\\HasNoChildren"],
        delimiter: "/",
        listed: true,
        specialUse: "\\Inbox",
        parentPath: "",
        parent: [],
        name: "INBOX",
        subscribed: true,
      },
      {
        path: "Projects/2024",
        pathAsListed: "Projects/2024",
        flags: ["\\HasNoChildren"],
        delimiter: "/",
        listed: true,
        parentPath: "Projects",
        parent: ["Projects"],
        name: "2024",
        subscribed: false,
      },
      {
        path: "Sent",
        pathAsListed: "Sent",
        flags: ["\\HasNoChildren", "\\Sent"],
        delimiter: "/",
        listed: true,
        specialUse: "\\Sent",
        parentPath: "",
        parent: [],
        name: "Sent",
        subscribed: true,
      },
    ],
  },
});
