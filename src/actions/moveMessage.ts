import { action } from "@prismatic-io/spectral";
import { InputError } from "../errors";
import { connectionInput, destinationInput, mailboxInput, parseMailbox, parseUidSet, uidsInput } from "../inputs";
import { isInbox } from "../mailboxAdmin";
import { transferMessages } from "../messages";
import { withSession } from "../session";
import { toJson } from "../serialize";

export const moveMessage = action({
  display: {
    label: "Move Messages",
    description:
      "Move messages by UID to another mailbox and return their new UIDs (uidMap). Uses MOVE where the server has it; otherwise copies, checks that every copy arrived and only then removes exactly those messages from the source. Moves messages; not safe to retry blindly: once moved, the UIDs no longer exist in the source and a second run fails.",
  },
  inputs: { connection: connectionInput, mailbox: mailboxInput, uids: uidsInput, destination: destinationInput },
  perform: async (context, params) => {
    const mailbox = parseMailbox(params.mailbox);
    const uids = parseUidSet(params.uids);
    const destination = parseMailbox(params.destination, "Destination");
    if (destination === mailbox || (isInbox(destination) && isInbox(mailbox))) {
      throw new InputError(`Destination "${destination}" is the mailbox the messages are in: give another mailbox.`);
    }
    const result = await withSession(params.connection, context, (session) => transferMessages(session, mailbox, uids, destination, "move"));
    return { data: toJson(result) };
  },
  examplePayload: {
    data: {
      path: "INBOX",
      destination: "Archive",
      uidValidity: "1764115968",
      uidMap: [
        { sourceUid: 41, destinationUid: 7 },
        { sourceUid: 42, destinationUid: 8 },
      ],
    },
  },
});
