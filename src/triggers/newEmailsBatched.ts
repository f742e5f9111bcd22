import type { ActionLogger, Connection, PollingState } from "@prismatic-io/spectral";
import { InputError } from "../errors";
import {
  connectionInput,
  fetchContentInput,
  mailboxesInput,
  mailboxInput,
  markAsReadInput,
  messageFilterInputs,
  onlyUnreadInput,
  optionalText,
  parseChoice,
  parseLimit,
} from "../inputs";
import { samePath } from "../mailboxes";
import type { DeliveredMessage, MailboxPoll, PollState, StartFrom } from "../poll";
import {
  parsePollOptions,
  pollingSession,
  pollMailboxes,
  readStates,
  startingCursor,
  writeStates,
} from "../poll";
import { parseDate } from "../searchCriteria";
import type { SessionContext } from "../session";
import { withSession } from "../session";
import { batchTrigger, input } from "../spectral";

/** One execution's message: what New Emails delivers, plus where to act on it by UID. */
export type BatchedMessage = DeliveredMessage & { mailbox: string; uidValidity: string };

/** The cursor of the next page of this run: where the previous page stopped, per mailbox with more. */
function pageCursor(polls: MailboxPoll[]): Record<string, unknown> | null {
  const more = polls.filter((poll) => poll.more);
  if (more.length === 0) return null;
  return {
    cursors: more.map(({ state }) => ({
      mailbox: state.mailbox,
      uidValidity: state.uidValidity,
      afterUid: state.lastUid,
    })),
  };
}

/** The page cursor's entries, or undefined on the first page of a run. */
function pageEntries(page: Record<string, unknown> | null | undefined) {
  if (!page) return undefined;
  const { cursors } = page;
  if (!Array.isArray(cursors)) return [];
  return cursors.flatMap((entry: unknown) => {
    if (typeof entry !== "object" || entry === null) return [];
    const { mailbox, uidValidity, afterUid } = entry as Record<string, unknown>;
    return typeof mailbox === "string" &&
      typeof uidValidity === "string" &&
      Number.isSafeInteger(afterUid)
      ? [{ mailbox, uidValidity, afterUid: Number(afterUid) }]
      : [];
  });
}

/**
 * Where a mailbox's page starts: its saved watermark, or, when the platform hands back a page
 * cursor further along for the same mailbox and UIDVALIDITY, that one. Either way the page never
 * starts past a message that was not delivered.
 */
function startingPoint(
  saved: PollState,
  page: { mailbox: string; uidValidity: string; afterUid: number }[],
): PollState {
  const entry = page.find((candidate) => samePath(candidate.mailbox, saved.mailbox));
  return entry && entry.uidValidity === saved.uidValidity && entry.afterUid > saved.lastUid
    ? { ...saved, lastUid: entry.afterUid }
    : saved;
}

/**
 * One page of a run: the regular polls, and the initial sync (with `start`) whose first page sets
 * the cursors where the builder chose before delivering from them.
 */
async function runPage(
  context: SessionContext & { logger: ActionLogger; polling: PollingState },
  incoming: Record<string, unknown> | null | undefined,
  connection: Connection,
  options: ReturnType<typeof parsePollOptions>,
  start?: StartFrom,
): Promise<{
  items: BatchedMessage[];
  paginationState: Record<string, unknown> | null;
  polledNoChanges?: boolean;
}> {
  const saved = readStates(context.polling.getState(), context.logger);
  const page = pageEntries(incoming);
  // Later pages poll only the mailboxes that had more than a page.
  const mailboxes = page
    ? options.watched.filter((mailbox) => page.some((entry) => samePath(entry.mailbox, mailbox)))
    : options.watched;
  if (mailboxes.length === 0) return { items: [], paginationState: null };
  const starts = page ? saved.map((state) => startingPoint(state, page)) : saved;
  const polls = await withSession(
    connection,
    context,
    async (session) => {
      const from = start;
      if (from === undefined || page)
        return pollMailboxes(session, starts, mailboxes, options, context.logger);
      // An initial sync: every mailbox starts where the builder chose, then pages as usual.
      const chosen: PollState[] = [];
      for (const mailbox of mailboxes) chosen.push(await startingCursor(session, mailbox, from));
      context.polling.setState(writeStates(chosen));
      return pollMailboxes(session, chosen, mailboxes, options, context.logger);
    },
    pollingSession(mailboxes, options.markAsRead),
  );
  for (const poll of polls)
    if (poll.expungedMeanwhile > 0)
      context.logger.info(
        `New Emails: ${poll.expungedMeanwhile} new message(s) of mailbox "${poll.mailbox}" were expunged before they could be fetched and were passed by.`,
      );
  // Saved page by page: the platform runs the batches of a page it has found even when a
  // later page fails, so the watermark may move past them now.
  const states = options.watched.flatMap((mailbox) => {
    const state =
      polls.find((poll) => samePath(poll.mailbox, mailbox))?.state ??
      saved.find((known) => samePath(known.mailbox, mailbox));
    return state ? [state] : [];
  });
  context.polling.setState(writeStates(states));
  const items: BatchedMessage[] = polls.flatMap((poll) =>
    poll.messages.map((message) => ({
      ...message,
      mailbox: poll.mailbox,
      uidValidity: poll.state.uidValidity,
    })),
  );
  const paginationState = pageCursor(polls);
  return {
    items,
    paginationState,
    polledNoChanges: items.length === 0 && paginationState === null,
  };
}

/** The initial sync's inputs, validated before connecting. */
function parseStartFrom(params: Record<string, unknown>): StartFrom {
  const from = parseChoice(params.startFrom, "Start From", ["now", "lastn", "since"] as const);
  if (from === "lastn")
    return {
      from: "lastN",
      count: parseLimit(params.lastCount, "Last Count", { min: 1, max: 10000, fallback: 20 }),
    };
  if (from === "since") {
    const text = optionalText(params.sinceDate, "Since Date");
    if (text === undefined)
      throw new InputError(
        "Since Date is empty: with Start From = since a date, give the first day as YYYY-MM-DD.",
      );
    return { from: "since", date: parseDate(text, "Since Date") };
  }
  return { from: "now" };
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
    mailboxes: mailboxesInput,
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
  perform: async (context, payload, params) =>
    runPage(
      context,
      payload.paginationState,
      params.connection,
      parsePollOptions(params, { key: "pageSize", label: "Page Size" }),
    ),
  onDeploy: {
    inputs: {
      startFrom: input({
        label: "Start From",
        type: "string",
        required: false,
        default: "now",
        model: [
          { label: "Now: deliver only mail that arrives from now on", value: "now" },
          { label: "The last messages (Last Count)", value: "lastN" },
          { label: "Mail that arrived since a date (Since Date)", value: "since" },
        ],
        comments:
          "Where the initial sync on deploy starts. Now delivers nothing old. The last messages: the newest Last Count messages of each mailbox. Since a date: every message that arrived (INTERNALDATE) on or after Since Date. They are delivered oldest first, then the regular polls continue after them with no gap and no repeat.",
      }),
      lastCount: input({
        label: "Last Count",
        type: "string",
        required: false,
        default: "20",
        comments:
          "With Start From = the last messages: how many of the newest messages of each mailbox (1 to 10000).",
        example: "20",
      }),
      sinceDate: input({
        label: "Since Date",
        type: "string",
        required: false,
        comments:
          "With Start From = since a date: the first day, as YYYY-MM-DD, e.g. 2026-11-01 (the server's calendar day).",
        example: "2026-11-01",
      }),
    },
    perform: async (context, payload, params) => {
      const options = parsePollOptions(params, { key: "pageSize", label: "Page Size" });
      const start = parseStartFrom(params);
      return runPage(context, payload.paginationState, params.connection, options, start);
    },
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
