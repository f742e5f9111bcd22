import { action } from "@prismatic-io/spectral";
import { connectionInput, mailboxInput, parseMailbox } from "../inputs";
import { quotaOf } from "../quota";
import { withSession } from "../session";

export const getQuota = action({
  performSafety: "safe",
  display: {
    label: "Get Quota",
    description:
      "Read the storage and message quota that applies to a mailbox (GETQUOTAROOT): each quota root with its usage and limit, storage in bytes. Read-only; safe to retry.",
  },
  inputs: { connection: connectionInput, mailbox: mailboxInput },
  perform: async (context, params) => {
    const mailbox = parseMailbox(params.mailbox);
    const quota = await withSession(params.connection, context, (session) =>
      quotaOf(session, mailbox),
    );
    return { data: quota };
  },
  examplePayload: {
    data: {
      mailbox: "INBOX",
      roots: [
        {
          root: "User quota",
          storage: { usage: 734003200, limit: 1073741824 },
          messages: { usage: 10452, limit: 100000 },
          other: {},
          percentUsed: 68,
        },
      ],
    },
  },
});
