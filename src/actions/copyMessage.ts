import { action } from "@prismatic-io/spectral";
import { connectionInput, destinationInput, mailboxInput, parseMailbox, parseUidSet, uidsInput } from "../inputs";
import { transferMessages } from "../messages";
import { withSession } from "../session";
import { toJson } from "../serialize";

export const copyMessage = action({
  display: {
    label: "Copy Messages",
    description:
      "Copy messages by UID to another mailbox and return where each copy went (uidMap). The source is not changed. Not safe to retry blindly: a second run makes second copies.",
  },
  inputs: { connection: connectionInput, mailbox: mailboxInput, uids: uidsInput, destination: destinationInput },
  perform: async (context, params) => {
    const mailbox = parseMailbox(params.mailbox);
    const uids = parseUidSet(params.uids);
    const destination = parseMailbox(params.destination, "Destination");
    const result = await withSession(params.connection, context, (session) => transferMessages(session, mailbox, uids, destination, "copy"));
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
