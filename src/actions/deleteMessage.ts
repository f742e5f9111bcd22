import {
  connectionInput,
  mailboxInput,
  optionalMailbox,
  parseChoice,
  parseMailbox,
  parseUid,
  parseUidValidity,
  uidInput,
  uidValidityInput,
} from "../inputs";
import { deleteOne } from "../messages";
import { boolean, disposal, oneOf, output } from "../schemas";
import { toJson } from "../serialize";
import { opening, withSession } from "../session";
import { action, input } from "../spectral";
import { trashMessage } from "../transfer";

export const deleteMessage = action({
  performSafety: "notAllowed",
  outputSchema: output(
    oneOf(
      [
        boolean("Mode expunge: always true, the message was expunged (a failure is an error)."),
        disposal,
      ],
      "Mode expunge: true. Mode trash: where the message went.",
    ),
  ),
  display: {
    label: "Delete Message",
    description:
      "Delete one message by UID. Mode Expunge (the default) removes it for good and nothing else: other messages marked \\Deleted stay. Mode Trash moves it to the Trash, or expunges it when it is in the Trash already. Deletes or moves a message; a retry after success fails because the UID no longer exists in the mailbox, and touches nothing else.",
  },
  inputs: {
    connection: connectionInput,
    mailbox: mailboxInput,
    uid: uidInput,
    mode: input({
      label: "Mode",
      type: "string",
      required: false,
      default: "expunge",
      model: [
        { label: "Expunge (remove for good)", value: "expunge" },
        { label: "Trash (move to the Trash)", value: "trash" },
      ],
      comments:
        "Expunge: removed for good (on Gmail the account's IMAP settings decide; see the documentation). Trash: moved to the mailbox the server marks as Trash (Gmail's [Gmail]/Trash, Microsoft 365's Deleted Items) or to Trash Mailbox; a message already in the Trash is expunged.",
    }),
    trashMailbox: input({
      label: "Trash Mailbox",
      type: "string",
      required: false,
      dataSource: "listMailboxes",
      comments:
        "Mode Trash only: the mailbox to move the message to, for servers that mark no mailbox as Trash. Empty: the one the server marks.",
      example: "Deleted Items",
    }),
    uidValidity: uidValidityInput,
  },
  perform: async (context, params) => {
    const mailbox = parseMailbox(params.mailbox);
    const uid = parseUid(params.uid);
    const mode = parseChoice(params.mode, "Mode", ["expunge", "trash"] as const);
    const trashMailbox = optionalMailbox(params.trashMailbox, "Trash Mailbox");
    const uidValidity = parseUidValidity(params.uidValidity);
    if (mode === "expunge") {
      const deleted = await withSession(
        params.connection,
        context,
        (session) => deleteOne(session, mailbox, uid, uidValidity),
        opening(mailbox, false),
      );
      return { data: deleted };
    }
    const result = await withSession(params.connection, context, (session) =>
      trashMessage(session, mailbox, uid, { trashMailbox, uidValidity }),
    );
    return { data: toJson(result) };
  },
  // Mode Expunge returns true; mode Trash returns what was moved where:
  examplePayload: {
    data: {
      mailbox: "INBOX",
      uids: [42],
      destination: "Trash",
      destinationUids: [317],
      destinationUidValidity: "1764115970",
      expunged: false,
    },
  },
});
