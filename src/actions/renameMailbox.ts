import { connectionInput, parseMailbox, pathInput } from "../inputs";
import { checkRename, renameExisting } from "../mailboxes";
import { mailboxPath, object, output, text } from "../schemas";
import { withSession } from "../session";
import { action, input } from "../spectral";

export const renameMailbox = action({
  performSafety: "notAllowed",
  outputSchema: output(
    object(
      { path: mailboxPath, newPath: text("The mailbox's new full path.") },
      "The renamed mailbox.",
    ),
  ),
  display: {
    label: "Rename Mailbox",
    description:
      "Rename (or move in the hierarchy) a mailbox with its messages and child mailboxes. INBOX is refused. Changes the mailbox's path; nothing changes when the mailbox is missing or the new name exists. A retry after success fails because the old path no longer exists.",
  },
  inputs: {
    connection: connectionInput,
    path: {
      ...pathInput,
      comments: "Full path of the mailbox to rename, e.g. Projects/2024.",
      dataSource: "listMailboxes",
    },
    newPath: input({
      label: "New Path",
      type: "string",
      required: true,
      comments: "The new full path, e.g. Archive/Projects 2024. It must not exist yet.",
      example: "Archive/Projects 2024",
    }),
  },
  perform: async (context, params) => {
    const path = parseMailbox(params.path, "Path");
    const newPath = parseMailbox(params.newPath, "New Path");
    checkRename(path, newPath);
    const renamed = await withSession(params.connection, context, (session) =>
      renameExisting(session, path, newPath),
    );
    return { data: renamed };
  },
  examplePayload: { data: { path: "Projects/2024", newPath: "Archive/Projects 2024" } },
});
