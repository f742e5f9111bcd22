import { action } from "@prismatic-io/spectral";
import { connectionInput, mailboxInput, parseMailbox, parseUid, uidInput } from "../inputs";
import { deleteOne } from "../messages";
import { boolean, output } from "../schemas";
import { withSession } from "../session";

export const deleteMessage = action({
  performSafety: "notAllowed",
  outputSchema: output(boolean("Always true: the message was expunged (a failure is an error).")),
  display: {
    label: "Delete Message",
    description:
      "Delete one message by UID for good (it is expunged, not moved to Trash), and nothing else: other messages marked \\Deleted stay. Deletes a message; a retry after success fails because the UID no longer exists, and deletes nothing else.",
  },
  inputs: { connection: connectionInput, mailbox: mailboxInput, uid: uidInput },
  perform: async (context, params) => {
    const mailbox = parseMailbox(params.mailbox);
    const uid = parseUid(params.uid);
    const deleted = await withSession(params.connection, context, (session) =>
      deleteOne(session, mailbox, uid),
    );
    return { data: deleted };
  },
  examplePayload: { data: true },
});
