import { batchTrigger, input } from "@prismatic-io/spectral";
import {
  connectionInput,
  fetchContentInput,
  mailboxInput,
  markAsReadInput,
  messageFilterInputs,
  onlyUnreadInput,
} from "../inputs";
import type { DeliveredMessage, PollState } from "../poll";
import { parsePollOptions, pollMailbox, readState } from "../poll";
import { withSession } from "../session";

/** One execution's message: what New Emails delivers, plus where to act on it by UID. */
export type BatchedMessage = DeliveredMessage & { mailbox: string; uidValidity: string };

/** The cursor of the next page of this run: where the previous page stopped. */
function pageCursor(state: PollState): Record<string, unknown> {
  return { mailbox: state.mailbox, uidValidity: state.uidValidity, afterUid: state.lastUid };
}

/**
 * The cursor a page starts from: the saved watermark, or, when the platform hands back a page
 * cursor further along for the same mailbox and UIDVALIDITY, that one. Either way the page never
 * starts past a message that was not delivered.
 */
function startingPoint(
  saved: PollState | undefined,
  page: Record<string, unknown> | null | undefined,
): PollState | undefined {
  if (!saved || !page) return saved;
  const { mailbox, uidValidity, afterUid } = page;
  if (
    mailbox === saved.mailbox &&
    uidValidity === saved.uidValidity &&
    Number.isSafeInteger(afterUid) &&
    Number(afterUid) > saved.lastUid
  )
    return { ...saved, lastUid: Number(afterUid) };
  return saved;
}

export const newEmailsBatched = batchTrigger({
  display: {
    label: "New Emails (One Execution per Message)",
    description:
      "Start one execution per new message of a mailbox (or per batch, with the flow's batch size), oldest first, by UID, and drain a backlog page by page in the same run. The first poll only records where the mailbox stands. Read-only unless Mark As Read is on; a failed page throws, pages already found still run, and the next run continues after them.",
  },
  inputs: {
    connection: connectionInput,
    mailbox: {
      ...mailboxInput,
      comments:
        "Full path of the mailbox to watch for new messages, e.g. INBOX or Support/Incoming.",
    },
    pageSize: input({
      label: "Page Size",
      type: "string",
      required: false,
      default: "50",
      comments:
        "How many messages are fetched per page (1 to 500). A larger backlog is fetched in further pages of the same run, without waiting for the next poll.",
      example: "50",
    }),
    fetchContent: fetchContentInput,
    markAsRead: markAsReadInput,
    onlyUnread: onlyUnreadInput,
    ...messageFilterInputs,
  },
  scheduleSupport: "required",
  batchConfig: { batchSize: 1 },
  perform: async (context, payload, params) => {
    const options = parsePollOptions(params, { key: "pageSize", label: "Page Size" });
    const saved = readState(context.polling.getState(), context.logger);
    const previous = startingPoint(saved, payload.paginationState);
    const { state, messages, expungedMeanwhile, more } = await withSession(
      params.connection,
      context,
      (session) => pollMailbox(session, previous, options, context.logger),
    );
    if (expungedMeanwhile > 0)
      context.logger.info(
        `New Emails: ${expungedMeanwhile} new message(s) of mailbox "${options.mailbox}" were expunged before they could be fetched and were passed by.`,
      );
    // Saved page by page: the platform runs the batches of a page it has found even when a
    // later page fails, so the watermark may move past them now.
    context.polling.setState({ ...state });
    const items: BatchedMessage[] = messages.map((message) => ({
      ...message,
      mailbox: options.mailbox,
      uidValidity: state.uidValidity,
    }));
    return {
      items,
      paginationState: more ? pageCursor(state) : null,
      polledNoChanges: items.length === 0 && !more,
    };
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
          uid: 1042,
          flags: [],
          size: 66776,
          internalDate: "2026-11-24T10:00:03.000Z",
          envelope: {
            date: "2026-11-24T10:00:00.000Z",
            subject: "Invoice 2026-118",
            messageId: "<invoice-2026-118@example.com>",
            inReplyTo: "",
            from: [{ name: "Jürgen Müller", address: "juergen@example.com" }],
            to: [{ name: "Support", address: "support@example.com" }],
            cc: [],
            bcc: [],
            replyTo: [{ name: "Jürgen Müller", address: "juergen@example.com" }],
            sender: [{ name: "Jürgen Müller", address: "juergen@example.com" }],
          },
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
        name: "Invoices to ERP",
        versionSequenceId: "1",
        externalVersion: "",
      },
      flow: { id: "SW50ZWdyYXRpb25GbG93OmV4YW1wbGU=", name: "Invoice", stableId: "invoice" },
      startedAt: "2026-11-24T10:05:00.000Z",
      globalDebug: false,
    },
  },
});
