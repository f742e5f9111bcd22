import { action } from "@prismatic-io/spectral";
import { connectionInput, flagsInput, mailboxInput, parseFlags, parseMailbox, parseUidSet, uidsInput } from "../inputs";
import { changeFlags } from "../messages";
import { withSession } from "../session";
import { toJson } from "../serialize";

export const setFlags = action({
  display: {
    label: "Set Flags",
    description:
      "Replace the flags of messages by UID with exactly the given ones (\\Seen, \\Flagged, keywords such as $Label1); flags not given are removed. Returns the flags each message has afterwards. Changes flags only; safe to retry.",
  },
  inputs: { connection: connectionInput, mailbox: mailboxInput, uids: uidsInput, flags: flagsInput },
  perform: async (context, params) => {
    const mailbox = parseMailbox(params.mailbox);
    const uids = parseUidSet(params.uids);
    const flags = parseFlags(params.flags, { required: true });
    const result = await withSession(params.connection, context, (session) => changeFlags(session, mailbox, uids, flags, "set"));
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
