import { connectionInput, mailboxInput, parseBool, parseMailbox } from "../inputs";
import { branchingOutput, deliveredMessage, mailboxPath, number, object } from "../schemas";
import { parseSearchKeys } from "../search";
import { opening, withSession } from "../session";
import { action, input } from "../spectral";
import { parseAfter, parseTimeoutSeconds, waitForMessage } from "../wait";
import { searchInputs } from "./searchMailbox";

const { limit: _limit, cursor: _cursor, ...criteriaInputs } = searchInputs;

export const waitForEmail = action({
  performSafety: "safe",
  outputSchema: branchingOutput({
    Received: deliveredMessage,
    "Timed Out": object(
      {
        mailbox: mailboxPath,
        waitedSeconds: number("How long the step waited, in seconds."),
      },
      "No matching message arrived in time.",
    ),
  }),
  display: {
    label: "Wait For Email",
    description:
      "Wait until a message matching the criteria arrives in a mailbox (a verification code, an approval, an answer), then continue on the Received branch with it; after Timeout Seconds without one, on the Timed Out branch. Read-only (\\Seen never changes); safe to retry.",
  },
  allowsBranching: true,
  staticBranchNames: ["Received", "Timed Out"],
  inputs: {
    connection: connectionInput,
    mailbox: { ...mailboxInput, comments: "Full path of the mailbox to watch, e.g. INBOX." },
    ...criteriaInputs,
    timeoutSeconds: input({
      label: "Timeout Seconds",
      type: "string",
      required: false,
      default: "300",
      comments:
        "How long to wait, 1 to 840 seconds (the step stays within the platform's 15-minute limit). Then the step takes the Timed Out branch.",
      example: "300",
    }),
    after: input({
      label: "After",
      type: "string",
      required: false,
      default: "now",
      comments:
        "now: only messages that arrive after the step starts. A UID: messages above it, including ones already there (e.g. the uid of the last message the flow handled).",
      example: "now",
    }),
    fetchContent: input({
      label: "Fetch Content",
      type: "boolean",
      required: false,
      default: "false",
      comments:
        "Also return the message's text, HTML, headers and attachment metadata, as New Emails does.",
    }),
  },
  perform: async (context, params) => {
    const startedAt = Date.now();
    const request = {
      mailbox: parseMailbox(params.mailbox),
      keys: parseSearchKeys(params),
      timeoutSeconds: parseTimeoutSeconds(params.timeoutSeconds),
      after: parseAfter(params.after),
      fetchContent: parseBool(params.fetchContent, "Fetch Content", false),
    };
    const outcome = await withSession(
      params.connection,
      context,
      (session) => waitForMessage(session, request, startedAt),
      opening(request.mailbox, true),
    );
    return outcome.branch === "Received"
      ? { branch: outcome.branch, data: outcome.message }
      : { branch: outcome.branch, data: outcome.waited };
  },
  examplePayload: {
    branch: "Received",
    data: {
      uid: 1043,
      flags: [],
      size: 2312,
      internalDate: "2026-11-24T10:02:11.000Z",
      envelope: {
        date: "2026-11-24T10:02:10.000Z",
        subject: "Your verification code",
        messageId: "<code-481516@accounts.example.com>",
        inReplyTo: "",
        from: [{ name: "Example Accounts", address: "no-reply@accounts.example.com" }],
        to: [{ name: "Support", address: "support@example.com" }],
        cc: [],
        bcc: [],
        replyTo: [],
        sender: [{ name: "Example Accounts", address: "no-reply@accounts.example.com" }],
      },
    },
  },
});
