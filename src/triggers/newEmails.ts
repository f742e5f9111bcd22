import {
  connectionInput,
  fetchContentInput,
  mailboxesInput,
  mailboxInput,
  markAsReadInput,
  messageFilterInputs,
  onlyUnreadInput,
} from "../inputs";
import {
  parsePollOptions,
  pollingSession,
  pollMailboxes,
  pollOutput,
  readStates,
  writeStates,
} from "../poll";
import { withSession } from "../session";
import { input, pollingTrigger } from "../spectral";

export const newEmails = pollingTrigger({
  display: {
    label: "New Emails",
    description:
      "Deliver each new message of a mailbox once, oldest first, by UID. The first poll only records where the mailbox stands and delivers nothing. Read-only unless Mark As Read is on; a failed poll throws and leaves the cursor where it was.",
  },
  inputs: {
    connection: connectionInput,
    mailbox: {
      ...mailboxInput,
      comments:
        "Full path of the mailbox to watch for new messages, e.g. INBOX or Support/Incoming.",
    },
    mailboxes: mailboxesInput,
    batchSize: input({
      label: "Batch Size",
      type: "string",
      required: false,
      default: "50",
      comments:
        "The most messages delivered by one poll (1 to 500). The rest follow in the next polls, oldest first.",
      example: "50",
    }),
    fetchContent: fetchContentInput,
    markAsRead: markAsReadInput,
    onlyUnread: onlyUnreadInput,
    ...messageFilterInputs,
  },
  perform: async (context, payload, params) => {
    const options = parsePollOptions(params, { key: "batchSize", label: "Batch Size" });
    const saved = readStates(context.polling.getState(), context.logger);
    const polls = await withSession(
      params.connection,
      context,
      (session) => pollMailboxes(session, saved, options.watched, options, context.logger),
      pollingSession(options.watched, options.markAsRead),
    );
    // Saved only now that every mailbox was polled: a failure above leaves every cursor where it was.
    context.polling.setState(writeStates(polls.map((poll) => poll.state)));
    const data = pollOutput(polls, options.several);
    const { messages } = data;
    return { payload: { ...payload, body: { data } }, polledNoChanges: messages.length === 0 };
  },
  examplePayload: {
    payload: {
      headers: {},
      queryParameters: {},
      rawBody: { data: null },
      body: {
        data: {
          mailbox: "INBOX",
          uidValidity: "1795652831",
          messages: [
            {
              uid: 1042,
              flags: ["\\Flagged"],
              size: 66776,
              internalDate: "2026-11-24T10:00:03.000Z",
              envelope: {
                date: "2026-11-24T10:00:00.000Z",
                subject: "Invoice 2026-118",
                messageId: "<invoice-2026-118@example.com>",
                inReplyTo: "",
                from: [{ name: "Jürgen Müller", address: "juergen@example.com" }],
                to: [{ name: "Support", address: "support@example.com" }],
                cc: [{ name: "Bob Example", address: "bob@example.com" }],
                bcc: [],
                replyTo: [{ name: "Jürgen Müller", address: "juergen@example.com" }],
                sender: [{ name: "Jürgen Müller", address: "juergen@example.com" }],
              },
              // text, html, headers and attachments: only with Fetch Content on
              text: "Hello, the invoice is attached.",
              replyText: "Hello, the invoice is attached.",
              html: "<p>Hello, the invoice is attached.</p>",
              headers: {
                received:
                  "from mail.example.com by imap.example.com; Tue, 24 Nov 2026 10:00:01 +0000",
                from: "Jürgen Müller <juergen@example.com>",
                to: "Support <support@example.com>",
                cc: "Bob Example <bob@example.com>",
                subject: "Invoice 2026-118",
                date: "Tue, 24 Nov 2026 10:00:00 +0000",
                "message-id": "<invoice-2026-118@example.com>",
                "mime-version": "1.0",
                "content-type": 'multipart/mixed; boundary="outer"',
              },
              attachments: [
                {
                  partId: "2",
                  filename: "invoice-2026-118.pdf",
                  contentType: "application/pdf",
                  size: 48213,
                  contentId: null,
                  inline: false,
                },
              ],
            },
          ],
          expungedMeanwhile: 0,
        },
      },
      pathFragment: "",
      webhookUrls: {},
      webhookApiKeys: {},
      invokeUrl: "",
      executionId: "SW5zdGFuY2VFeGVjdXRpb246ZXhhbXBsZQ==",
      customer: { id: "Q3VzdG9tZXI6ZXhhbXBsZQ==", externalId: "acme", name: "Acme Inc." },
      instance: { id: "SW5zdGFuY2U6ZXhhbXBsZQ==", name: "Acme Inbox" },
      user: { id: "", email: "", name: "", externalId: "" },
      integration: {
        id: "SW50ZWdyYXRpb246ZXhhbXBsZQ==",
        name: "Inbox to CRM",
        versionSequenceId: "1",
        externalVersion: "",
      },
      flow: { id: "SW50ZWdyYXRpb25GbG93OmV4YW1wbGU=", name: "New Emails", stableId: "new-emails" },
      startedAt: "2026-11-24T10:05:00.000Z",
      globalDebug: false,
    },
    polledNoChanges: false,
  },
});
