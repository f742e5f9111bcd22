import { connectionInput, parseMailbox, pathInput } from "../inputs";
import { ensureMailbox } from "../mailboxes";
import { boolean, mailboxPath, object, output } from "../schemas";
import { withSession } from "../session";
import { action } from "../spectral";

export const createMailbox = action({
  performSafety: "notAllowed",
  outputSchema: output(
    object(
      {
        path: mailboxPath,
        created: boolean("False when the mailbox already existed (not an error)."),
        subscribed: boolean("Whether the account is now subscribed to it."),
      },
      "The mailbox.",
    ),
  ),
  display: {
    label: "Create Mailbox",
    description:
      "Create a mailbox (folder) and subscribe to it. A mailbox that already exists is not an error: created is false. Creates a mailbox; safe to retry.",
  },
  inputs: { connection: connectionInput, path: pathInput },
  perform: async (context, params) => {
    const path = parseMailbox(params.path, "Path");
    const created = await withSession(params.connection, context, (session) =>
      ensureMailbox(session, path),
    );
    return { data: created };
  },
  examplePayload: { data: { path: "Projects/2024", created: true, subscribed: true } },
});
