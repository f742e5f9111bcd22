import { InputError } from "../errors";
import { connectionInput, parseMailbox, pathInput } from "../inputs";
import { isInbox } from "../mailboxes";
import { boolean, mailboxPath, object, output } from "../schemas";
import { withSession } from "../session";
import { action } from "../spectral";

export const deleteMailbox = action({
  performSafety: "notAllowed",
  outputSchema: output(
    object(
      { path: mailboxPath, deleted: boolean("Always true: a failure is an error.") },
      "The deleted mailbox.",
    ),
  ),
  display: {
    label: "Delete Mailbox",
    description:
      "Delete a mailbox (folder) and every message in it; the messages are not moved to Trash. INBOX is refused. Not safe to retry blindly: once deleted, a second run fails because the mailbox no longer exists.",
  },
  inputs: {
    connection: connectionInput,
    path: {
      ...pathInput,
      dataSource: "listMailboxes",
      comments:
        "Full path of the mailbox to delete, e.g. Archive/2019 (the List Mailboxes action shows every path).",
      example: "Archive/2019",
    },
  },
  perform: async (context, params) => {
    const path = parseMailbox(params.path, "Path");
    if (isInbox(path)) {
      throw new InputError(
        `Path "${path}" is the INBOX, which cannot be deleted. Give the path of another mailbox.`,
      );
    }
    await withSession(params.connection, context, async (session) => {
      const op = { doing: "delete the mailbox", mailbox: path };
      await session.requireMailbox(op);
      await session.run(op, () => session.client.mailboxDelete(path));
    });
    return { data: { path, deleted: true } };
  },
  examplePayload: { data: { path: "Archive/2019", deleted: true } },
});
