import { connectionInput, mailboxInput, parseMailbox } from "../inputs";
import { quotaOf } from "../quota";
import { integer, list, mailboxPath, map, nullable, object, output, text, usage } from "../schemas";
import { withSession } from "../session";
import { action } from "../spectral";

export const getQuota = action({
  performSafety: "safe",
  outputSchema: output(
    object(
      {
        mailbox: mailboxPath,
        roots: list(
          object(
            {
              root: text('The quota root\'s name ("" on many servers).'),
              storage: nullable(usage("Storage in bytes.")),
              messages: nullable(usage("Number of messages.")),
              other: map(usage("Usage and limit."), "Further resources by name, e.g. MAILBOX."),
              percentUsed: nullable(integer("The fullest resource in percent, rounded down.")),
            },
            "One quota root.",
          ),
          "The quota roots that apply; empty when no quota applies.",
        ),
      },
      "The quota of the mailbox.",
    ),
  ),
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
