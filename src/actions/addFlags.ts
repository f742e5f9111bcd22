import { action } from "@prismatic-io/spectral";
import { connectionInput, flagsInput, mailboxInput, parseFlags, parseMailbox, parseUidSet, uidsInput } from "../inputs";
import { changeFlags } from "../messages";
import { withSession } from "../session";
import { toJson } from "../serialize";

export const addFlags = action({
  display: {
    label: "Add Flags",
    description:
      "Add flags (\\Seen, \\Flagged, keywords such as $Label1) to messages by UID and return the flags each message has afterwards. Changes flags only; safe to retry (adding a flag twice changes nothing).",
  },
  inputs: { connection: connectionInput, mailbox: mailboxInput, uids: uidsInput, flags: flagsInput },
  perform: async (context, params) => {
    const mailbox = parseMailbox(params.mailbox);
    const uids = parseUidSet(params.uids);
    const flags = parseFlags(params.flags, { required: true });
    const result = await withSession(params.connection, context, (session) => changeFlags(session, mailbox, uids, flags, "add"));
    return { data: toJson(result) };
  },
  examplePayload: {
    data: {
      mailbox: "INBOX",
      messages: [
        { uid: 41, flags: ["\\Seen", "\\Flagged"] },
        { uid: 42, flags: ["\\Flagged"] },
      ],
    },
  },
});
