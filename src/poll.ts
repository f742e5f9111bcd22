/**
 * The cursor of the New Emails trigger. It must never skip a message, never deliver one twice
 * and never fail silently, so every rule below errs on the side of "deliver it next time":
 *
 * - The state is the mailbox, its UIDVALIDITY and `lastUid`: every message up to it has been
 *   delivered or deliberately passed (read ones with `onlyUnread`, or ones expunged meanwhile).
 * - The first poll (or one for another mailbox) only records where the mailbox stands.
 * - A poll with nothing new costs one STATUS: no SELECT and no FETCH, whatever the mailbox size.
 * - UIDs come back filtered again: `UID FETCH n:*` answers with the newest message even below n.
 * - A missing row never counts as an expunged message without asking the server: imapflow skips
 *   a line it cannot parse, and Dovecot answers for a message expunged meanwhile with a
 *   placeholder (size 0, empty envelope). A chosen message that does not come back whole is
 *   checked with NOOP, then UID SEARCH of its UID: gone, it is passed by and counted in
 *   `expungedMeanwhile`; still there, the poll fails with RESPONSE_DAMAGED. A listing during
 *   which a line could not be parsed is checked the same way over its whole UID range.
 * - The caller saves the returned state only after the whole poll succeeded, so any failure
 *   leaves the cursor where it was and the same messages are offered again.
 */
import type { FetchMessageObject, MessageStructureObject } from "imapflow";
import type { BodyPart } from "./bodyParts";
import { contentOf, fetchExisting } from "./bodyParts";
import { ENVELOPE_HEADERS } from "./envelope";
import { incompleteAnswer } from "./errors";
import { MONTH_NAMES, parseBool, parseLimit, parseMailbox, parseMailboxList } from "./inputs";
import { samePath } from "./mailboxes";
import type { ParsedAttachment } from "./parseMessage";
import { parseMessage } from "./parseMessage";
import type { WithServerPart } from "./partMatch";
import { withServerParts } from "./partMatch";
import { partBytes } from "./readMessage";
import { replyTextOf } from "./replyText";
import { searchUids } from "./search";
import type { SearchKey } from "./searchCriteria";
import { parseMessageFilter, renderKeys } from "./searchCriteria";
import type { MessageSummary } from "./serialize";
import { hasFlag, IDENTITY_QUERY, messageSummary } from "./serialize";
import type { Selected, Session, SessionOptions } from "./session";
import { uidValidityOf } from "./session";
import { uidSetOf } from "./uidSet";
import { confirmExpunged, damagedAnswer, existingUids, isWhole } from "./wholeRows";

export interface PollState {
  mailbox: string;
  /** Decimal string: UIDVALIDITY is a 32-bit unsigned number, imapflow gives a bigint. */
  uidValidity: string;
  lastUid: number;
  /** When the last poll that left no backlog started (ISO): the mail to recover after a UIDVALIDITY change. */
  lastPollAt?: string;
  /** Message-IDs of the last 1,000 delivered messages, oldest first: not delivered again by a recovery. */
  deliveredIds?: string[];
  /** While mail is recovered after a UIDVALIDITY change: messages that arrived before this are passed by. */
  recoverSince?: string;
}

/** How many Message-IDs the state keeps, and the allowance for the server's and our clocks. */
const KEPT_MESSAGE_IDS = 1000;
const CLOCK_MARGIN_MS = 10 * 60 * 1000;

export interface PollOptions {
  mailbox: string;
  batchSize: number;
  fetchContent: boolean;
  markAsRead: boolean;
  onlyUnread: boolean;
  /** Search keys a message must match to be delivered; empty delivers every new message. */
  filter: SearchKey[];
}

/** The inputs both email triggers share, validated before any network traffic. */
export function parsePollOptions(
  params: Record<string, unknown>,
  size: { key: string; label: string },
): PollOptions & { watched: string[]; several: boolean } {
  const mailbox = parseMailbox(params.mailbox);
  const listed = parseMailboxList(params.mailboxes);
  return {
    mailbox,
    watched: listed.length > 0 ? listed : [mailbox],
    several: listed.length > 0,
    batchSize: parseLimit(params[size.key], size.label, { min: 1, max: 500, fallback: 50 }),
    fetchContent: parseBool(params.fetchContent, "Fetch Content", false),
    markAsRead: parseBool(params.markAsRead, "Mark As Read", false),
    onlyUnread: parseBool(params.onlyUnread, "Only Unread", false),
    filter: parseMessageFilter({
      from: params.from,
      subject: params.subject,
      hasAttachments: parseBool(params.hasAttachments, "Only With Attachments", false),
      criteria: params.criteria,
    }),
  };
}

export interface PollLogger {
  info: (...args: unknown[]) => void;
  warn: (...args: unknown[]) => void;
}

/** What getMessage says about an attachment, without its bytes and checksum. */
export type AttachmentMetadata = Pick<
  WithServerPart<ParsedAttachment>,
  "partId" | "filename" | "contentType" | "size" | "contentId" | "inline"
>;

export interface MessageContent {
  text: string | null;
  /** What the sender wrote in this message, without quoted replies and signature. */
  replyText: string | null;
  html: string | null;
  headers: Record<string, string | string[]>;
  attachments: AttachmentMetadata[];
  /** Set instead of failing the poll when the message cannot be parsed. */
  contentError?: string;
}

export type DeliveredMessage = MessageSummary &
  Partial<MessageContent> & {
    /** Delivered by the recovery after a UIDVALIDITY change. */
    recovered?: true;
    /** Recovered without a Message-ID to compare: it may have been delivered before. */
    possibleRepeat?: true;
  };

export interface PollResult {
  state: PollState;
  messages: DeliveredMessage[];
  /** Chosen messages that were expunged before they could be fetched: confirmed gone, passed by. */
  expungedMeanwhile: number;
  /** More new messages wait above the returned cursor than this poll could take. */
  more: boolean;
}

const label = "New Emails";

/** The optional recovery fields of a saved state; a damaged one is left out, not fatal. */
function recoveryFields(saved: Record<string, unknown>): Partial<PollState> {
  const { lastPollAt, deliveredIds, recoverSince } = saved;
  const isTime = (value: unknown): value is string =>
    typeof value === "string" && !Number.isNaN(Date.parse(value));
  return {
    ...(isTime(lastPollAt) ? { lastPollAt } : {}),
    ...(Array.isArray(deliveredIds)
      ? { deliveredIds: deliveredIds.filter((id): id is string => typeof id === "string") }
      : {}),
    ...(isTime(recoverSince) ? { recoverSince } : {}),
  };
}

/** The saved state, or undefined when there is none (first poll) or it is not ours. */
export function readState(
  saved: Record<string, unknown>,
  logger: PollLogger,
): PollState | undefined {
  if (Object.keys(saved).length === 0) return undefined;
  const { mailbox, uidValidity, lastUid } = saved;
  if (
    typeof mailbox === "string" &&
    typeof uidValidity === "string" &&
    /^\d+$/.test(uidValidity) &&
    Number.isSafeInteger(lastUid) &&
    Number(lastUid) >= 0
  ) {
    return { mailbox, uidValidity, lastUid: Number(lastUid), ...recoveryFields(saved) };
  }
  logger.warn(
    `${label}: the saved polling state is not one this trigger wrote (${JSON.stringify(saved)}); starting again from the newest message.`,
  );
  return undefined;
}

/**
 * The saved cursors, one per mailbox. A poll of one mailbox saves its cursor flat, as 0.1.0 did
 * (so an instance deployed with it continues where it was); several are saved as `cursors`.
 */
export function readStates(saved: Record<string, unknown>, logger: PollLogger): PollState[] {
  const { cursors } = saved;
  if (!Array.isArray(cursors)) {
    const one = readState(saved, logger);
    return one ? [one] : [];
  }
  return cursors.flatMap((entry: unknown) => {
    const state =
      typeof entry === "object" && entry !== null && !Array.isArray(entry)
        ? readState(entry as Record<string, unknown>, logger)
        : readState({ entry }, logger);
    return state ? [state] : [];
  });
}

/** What to save: the same forms readStates reads. */
export function writeStates(states: PollState[]): Record<string, unknown> {
  const [only] = states;
  if (states.length === 1 && only) return { ...only };
  return { cursors: states.map((state) => ({ ...state })) };
}

export interface MailboxPoll extends PollResult {
  mailbox: string;
}

/**
 * One poll of each mailbox in turn, in one session, each from its own cursor. Any failure (a
 * mailbox that does not exist, a lost connection) fails the whole poll: the caller saves no
 * cursor, so none moves.
 */
export async function pollMailboxes(
  session: Session,
  saved: PollState[],
  mailboxes: string[],
  options: Omit<PollOptions, "mailbox">,
  logger: PollLogger,
): Promise<MailboxPoll[]> {
  const polls: MailboxPoll[] = [];
  for (const mailbox of mailboxes) {
    const previous = saved.find((state) => samePath(state.mailbox, mailbox));
    const result = await pollMailbox(session, previous, { ...options, mailbox }, logger);
    polls.push({ ...result, mailbox });
  }
  return polls;
}

/**
 * The output of a New Emails poll. One mailbox: as it always was. Several: each message names its
 * mailbox and UIDVALIDITY, and `mailboxes` lists every mailbox polled.
 */
export function pollOutput(polls: MailboxPoll[], several: boolean) {
  const messages = polls.flatMap((poll) =>
    several
      ? poll.messages.map((message) => ({
          ...message,
          mailbox: poll.mailbox,
          uidValidity: poll.state.uidValidity,
        }))
      : poll.messages,
  );
  const expungedMeanwhile = polls.reduce((sum, poll) => sum + poll.expungedMeanwhile, 0);
  const [first] = polls;
  if (!several && first)
    return {
      mailbox: first.mailbox,
      uidValidity: first.state.uidValidity,
      messages,
      expungedMeanwhile,
    };
  return {
    mailbox: null,
    uidValidity: null,
    mailboxes: polls.map((poll) => ({
      mailbox: poll.mailbox,
      uidValidity: poll.state.uidValidity,
    })),
    messages,
    expungedMeanwhile,
  };
}

/** Where an initial sync starts: nothing old, the last N messages, or those that arrived since a day. */
export type StartFrom =
  | { from: "now" }
  | { from: "lastN"; count: number }
  | { from: "since"; date: string };

/**
 * The cursor an initial sync starts from, so that the regular polls continue after it without a
 * gap or a repeat: just below the first message to deliver, or after the newest with "now".
 */
export async function startingCursor(
  session: Session,
  mailbox: string,
  start: StartFrom,
): Promise<PollState> {
  return session.withMailbox(mailbox, { readOnly: true }, async (selected) => {
    const uidValidity = (await uidValidityOf(selected, "start the initial sync")).toString();
    const newest = Number.isSafeInteger(selected.box.uidNext) ? selected.box.uidNext - 1 : 0;
    if (start.from === "now") return { mailbox, uidValidity, lastUid: newest };
    const keys: SearchKey[] =
      start.from === "since"
        ? [{ op: "date", atom: "SINCE", date: start.date }]
        : [{ op: "atom", atom: "ALL" }];
    const tokens = renderKeys(keys, {
      has: (capability) => session.has(capability),
      host: session.scope.host,
      mailbox,
    });
    const ranges = await searchUids(session, mailbox, tokens);
    let first: number | undefined;
    if (start.from === "since") first = ranges[0]?.[0];
    else {
      // The count-th UID from the top, walking the ranges down.
      let left = start.count;
      for (const [low, high] of [...ranges].reverse()) {
        const size = high - low + 1;
        if (left <= size) {
          first = high - left + 1;
          left = 0;
          break;
        }
        left -= size;
        first = low;
      }
    }
    return { mailbox, uidValidity, lastUid: first === undefined ? newest : first - 1 };
  });
}

function rebaseline(logger: PollLogger, mailbox: string, previous: string, current: string): void {
  logger.warn(
    `${label}: the UIDVALIDITY of mailbox "${mailbox}" changed from ${previous} to ${current} (the mailbox was deleted and recreated, or the server rebuilt its index). ` +
      `Its UIDs no longer match the saved cursor, so nothing was delivered and the trigger starts again from the newest message: mail that arrives from now on is delivered. ` +
      `Messages that arrived since the last poll were not delivered; look for them in the mailbox if they matter.`,
  );
}

/**
 * One poll. Returns the messages to deliver and the state to save once they are delivered, with
 * the time of this poll and the delivered Message-IDs kept for a recovery.
 */
export async function pollMailbox(
  session: Session,
  previous: PollState | undefined,
  options: PollOptions,
  logger: PollLogger,
): Promise<PollResult> {
  const startedAt = new Date().toISOString();
  const result = await pollCursor(session, previous, options, logger);
  const delivered = result.messages
    .map((message) => message.envelope.messageId)
    .filter((id) => id !== "");
  const { recoverSince, ...rest } = result.state;
  const state: PollState = {
    ...rest,
    // With a backlog left, mail older than this poll still waits: the time stays where it was.
    ...(result.more
      ? { lastPollAt: result.state.lastPollAt, recoverSince }
      : { lastPollAt: startedAt }),
    deliveredIds: [
      ...(result.state.deliveredIds ?? previous?.deliveredIds ?? []),
      ...delivered,
    ].slice(-KEPT_MESSAGE_IDS),
  };
  if (state.lastPollAt === undefined) delete state.lastPollAt;
  if (state.recoverSince === undefined) delete state.recoverSince;
  return { ...result, state };
}

/**
 * After a UIDVALIDITY change: the cursor from which the mail that arrived since the last poll is
 * delivered, or undefined when the state has no time of a last poll (saved by 0.1.0).
 */
function recovery(
  logger: PollLogger,
  previous: PollState,
  uidValidity: string,
): PollState | undefined {
  const { mailbox } = previous;
  if (previous.lastPollAt === undefined) {
    rebaseline(logger, mailbox, previous.uidValidity, uidValidity);
    return undefined;
  }
  const since = new Date(Date.parse(previous.lastPollAt) - CLOCK_MARGIN_MS).toISOString();
  logger.warn(
    `${label}: the UIDVALIDITY of mailbox "${mailbox}" changed from ${previous.uidValidity} to ${uidValidity} (the mailbox was deleted and recreated, or the server rebuilt its index). ` +
      `The saved cursor no longer applies, so the messages that arrived since ${since} (the last poll, less ${CLOCK_MARGIN_MS / 60000} minutes for clock differences) are delivered, except those whose Message-ID was delivered before; then polling continues on the new UIDVALIDITY.`,
  );
  return {
    mailbox,
    uidValidity,
    lastUid: 0,
    lastPollAt: previous.lastPollAt,
    deliveredIds: previous.deliveredIds ?? [],
    recoverSince: since,
  };
}

/** What a poll reads of a mailbox first: whether anything arrived since the cursor. */
const POLL_STATUS = { messages: true, uidNext: true, uidValidity: true } as const;

/**
 * The session of a poll: the STATUS of each watched mailbox is sent ahead, and where one mailbox
 * is watched read-only (no Mark As Read), its EXAMINE too, which a poll that finds mail needs next
 * and an empty poll leaves unread (a read-only open changes nothing, \Recent included).
 */
export function pollingSession(mailboxes: string[], markAsRead: boolean): SessionOptions {
  const [only] = mailboxes;
  return {
    ahead: [
      ...mailboxes.map((mailbox) => ({
        command: "STATUS" as const,
        mailbox,
        query: POLL_STATUS,
      })),
      ...(only !== undefined && mailboxes.length === 1 && !markAsRead
        ? [{ command: "SELECT" as const, mailbox: only, readOnly: true }]
        : []),
    ],
  };
}

async function pollCursor(
  session: Session,
  saved: PollState | undefined,
  options: PollOptions,
  logger: PollLogger,
): Promise<PollResult> {
  let previous = saved;
  const { mailbox } = options;
  const status = await session.run({ doing: "read the status of the mailbox", mailbox }, () =>
    session.client.status(mailbox, POLL_STATUS),
  );
  if (status.uidNext === undefined || status.uidValidity === undefined) {
    const missing = [
      ...(status.uidNext === undefined ? ["UIDNEXT"] : []),
      ...(status.uidValidity === undefined ? ["UIDVALIDITY"] : []),
    ];
    throw incompleteAnswer(mailbox, "STATUS", missing, "track new mail");
  }
  const uidValidity = status.uidValidity.toString();
  const newest = status.uidNext - 1;

  if (previous === undefined || !samePath(previous.mailbox, mailbox)) {
    logger.info(
      `${label}: first poll of mailbox "${mailbox}": starting after UID ${newest}. Messages already in the mailbox are not delivered; new ones are, from the next poll on.`,
    );
    return {
      state: { mailbox, uidValidity, lastUid: newest },
      messages: [],
      expungedMeanwhile: 0,
      more: false,
    };
  }
  if (previous.uidValidity !== uidValidity) {
    previous = recovery(logger, { ...previous, mailbox }, uidValidity);
    if (previous === undefined)
      return {
        state: { mailbox, uidValidity, lastUid: newest },
        messages: [],
        expungedMeanwhile: 0,
        more: false,
      };
  }
  const current = previous;
  if (status.uidNext <= current.lastUid + 1)
    return { state: current, messages: [], expungedMeanwhile: 0, more: false };
  // New UIDs were assigned, but the mailbox is empty: they were all expunged already.
  if (status.messages === 0)
    return {
      state: { ...current, lastUid: newest },
      messages: [],
      expungedMeanwhile: 0,
      more: false,
    };

  return session.withMailbox(mailbox, { readOnly: !options.markAsRead }, (selected) =>
    collect(selected, current, options, logger, {
      // A server that leaves them out of SELECT gets the STATUS values, read moments before.
      uidValidity:
        typeof selected.box.uidValidity === "bigint"
          ? selected.box.uidValidity.toString()
          : uidValidity,
      newest: Number.isSafeInteger(selected.box.uidNext) ? selected.box.uidNext - 1 : newest,
    }),
  );
}

async function collect(
  selected: Selected,
  saved: PollState,
  options: PollOptions,
  logger: PollLogger,
  // Read right after SELECT: every UID up to `newest` that still exists is in the FETCH below.
  opened: { uidValidity: string; newest: number },
): Promise<PollResult> {
  const { mailbox } = options;
  let previous = saved;
  if (opened.uidValidity !== previous.uidValidity) {
    const recovering = recovery(logger, previous, opened.uidValidity);
    if (recovering === undefined)
      return {
        state: { mailbox, uidValidity: opened.uidValidity, lastUid: opened.newest },
        messages: [],
        expungedMeanwhile: 0,
        more: false,
      };
    previous = recovering;
  }
  if (previous.recoverSince !== undefined && previous.lastUid === 0) {
    // A recovery starts just below the first message of the day it looks back to.
    const first = await firstArrivedSince(selected, previous.recoverSince);
    previous = { ...previous, lastUid: first === undefined ? opened.newest : first - 1 };
    if (first === undefined)
      return { state: previous, messages: [], expungedMeanwhile: 0, more: false };
  }
  // Few enough new UIDs for one batch: one FETCH lists and fetches them (see fetchNew).
  const span = opened.newest - previous.lastUid;
  if (
    options.filter.length === 0 &&
    span > 0 &&
    span <= options.batchSize &&
    !(options.fetchContent && options.onlyUnread)
  ) {
    const state = { ...previous, lastUid: opened.newest };
    const fetched = await fetchNew(selected, previous, opened.newest, options);
    return delivered(selected, previous, state, fetched, options, false);
  }
  const listed =
    options.filter.length > 0
      ? await listMatching(selected, previous, options)
      : await listNew(selected, previous, opened.newest);
  const eligible = options.onlyUnread ? listed.filter((message) => !message.seen) : listed;
  const chosen = eligible.slice(0, options.batchSize).map((message) => message.uid);
  // With more left than the batch, stop right after the last chosen one; otherwise everything
  // listed was handled, and UIDs up to `newest` that were not listed no longer exist.
  const lastChosen = chosen.at(-1);
  const more = eligible.length > options.batchSize && lastChosen !== undefined;
  const lastUid =
    more && lastChosen !== undefined
      ? lastChosen
      : Math.max(previous.lastUid, opened.newest, listed.at(-1)?.uid ?? 0);
  const state = { ...previous, lastUid };
  if (chosen.length === 0) return { state, messages: [], expungedMeanwhile: 0, more: false };

  const fetched = await fetchChosen(selected, previous, chosen, options);
  return delivered(selected, previous, state, fetched, options, more);
}

/** The poll's result from the fetched messages: a recovery's filter, and \\Seen where asked for. */
async function delivered(
  selected: Selected,
  previous: PollState,
  state: PollState,
  fetched: { messages: DeliveredMessage[]; expunged: number[] },
  options: PollOptions,
  more: boolean,
): Promise<PollResult> {
  const { expunged } = fetched;
  const messages =
    previous.recoverSince === undefined ? fetched.messages : recovered(fetched.messages, previous);
  if (options.markAsRead && messages.length > 0) {
    await selected.session.run(
      { doing: "mark the delivered messages as read", mailbox: options.mailbox },
      () =>
        selected.session.client.messageFlagsAdd(
          uidSetOf(messages.map((message) => message.uid)),
          ["\\Seen"],
          { uid: true },
        ),
    );
  }
  return { state, messages, expungedMeanwhile: expunged.length, more };
}

/**
 * The lowest UID that arrived on or after the day before `since` (IMAP's SINCE compares days, in
 * the server's time zone), or undefined when none did.
 */
async function firstArrivedSince(selected: Selected, since: string): Promise<number | undefined> {
  const { session, box } = selected;
  const day = new Date(Date.parse(since) - 24 * 60 * 60 * 1000);
  const date = `${day.getUTCDate()}-${MONTH_NAMES[day.getUTCMonth()]}-${day.getUTCFullYear()}`;
  const tokens = renderKeys([{ op: "date", atom: "SINCE", date }], {
    has: (capability) => session.has(capability),
    host: session.scope.host,
    mailbox: box.path,
  });
  const ranges = await searchUids(session, box.path, tokens);
  return ranges[0]?.[0];
}

/**
 * The messages a recovery delivers: those that arrived at or after `recoverSince` and whose
 * Message-ID was not delivered before. One without a Message-ID is delivered, marked as a possible
 * repeat: a repeat is better than a loss.
 */
function recovered(messages: DeliveredMessage[], previous: PollState): DeliveredMessage[] {
  const since = Date.parse(previous.recoverSince ?? "");
  const known = new Set(previous.deliveredIds ?? []);
  return messages.flatMap((message): DeliveredMessage[] => {
    const arrived = Date.parse(message.internalDate ?? "");
    // No arrival date: it cannot be told apart, so it is delivered rather than lost.
    if (!Number.isNaN(arrived) && arrived < since) return [];
    const id = message.envelope.messageId;
    if (id !== "" && known.has(id)) return [];
    return [
      { ...message, recovered: true, ...(id === "" ? { possibleRepeat: true as const } : {}) },
    ];
  });
}

/** The error of a poll that stops before delivering: the cursor stays, nothing is lost. */
function stopped(previous: PollState): string {
  return `Nothing was delivered and the cursor stays after UID ${previous.lastUid}: the next poll offers these messages again.`;
}

/**
 * UID and \Seen of every message above the cursor, ascending. A row the client could not parse
 * is skipped by imapflow and would look like an expunged message: when that happened, the
 * range is searched, and a message that exists but was not listed stops the poll.
 */
async function listNew(
  selected: Selected,
  previous: PollState,
  newest: number,
): Promise<{ uid: number; seen: boolean }[]> {
  const { session, box } = selected;
  const doing = "list the new messages";
  const listed: { uid: number; seen: boolean }[] = [];
  const before = session.unparsedLines;
  await session.exec({ doing, mailbox: box.path }, async () => {
    for await (const message of session.client.fetch(
      `${previous.lastUid + 1}:*`,
      { uid: true, flags: true },
      { uid: true },
    )) {
      // Without FLAGS a message counts as unread: delivered rather than passed by.
      if (message.uid > previous.lastUid)
        listed.push({ uid: message.uid, seen: hasFlag(message.flags ?? [], "\\Seen") });
    }
  });
  listed.sort((a, b) => a.uid - b.uid);
  if (session.unparsedLines === before) return listed;
  const seen = new Set(listed.map((message) => message.uid));
  const top = Math.max(newest, listed.at(-1)?.uid ?? 0);
  const what = "the listing of the new messages";
  const damaged = (uids: number[], exist: boolean) =>
    damagedAnswer(selected, what, stopped(previous), uids, exist);
  if (top <= previous.lastUid) return listed;
  const range = `${previous.lastUid + 1}:${top}`;
  const found = await existingUids(selected, range, doing, () => damaged([], false));
  const existing = found.filter((uid) => uid > previous.lastUid && uid <= top && !seen.has(uid));
  if (existing.length > 0) throw damaged(existing, true);
  return listed;
}

/**
 * The new messages that match the filter, ascending, found by one UID SEARCH of the new range:
 * the server does the matching, so a filter never costs a FETCH of every new message. Those that
 * do not match are passed by: the cursor moves past them.
 */
async function listMatching(
  selected: Selected,
  previous: PollState,
  options: PollOptions,
): Promise<{ uid: number; seen: boolean }[]> {
  const { session, box } = selected;
  const keys: SearchKey[] = [
    { op: "uid", set: `${previous.lastUid + 1}:*` },
    ...(options.onlyUnread ? [{ op: "atom", atom: "UNSEEN" } as const] : []),
    ...options.filter,
  ];
  const tokens = renderKeys(keys, {
    has: (capability) => session.has(capability),
    host: session.scope.host,
    mailbox: box.path,
  });
  const listed: { uid: number; seen: boolean }[] = [];
  // `n:*` includes the newest message even below n; some servers match UID ranges loosely.
  for (const [low, high] of await searchUids(session, box.path, tokens))
    for (let uid = Math.max(low, previous.lastUid + 1); uid <= high; uid += 1)
      listed.push({ uid, seen: false });
  return listed;
}

/** What a row of a delivered message must have, and what is fetched for it. */
function deliveredItems(options: PollOptions) {
  const whole = { envelope: true, internalDate: true, size: true, source: options.fetchContent };
  const query = {
    uid: true,
    flags: true,
    ...IDENTITY_QUERY,
    ...whole,
    // the envelope's text decoded as getMessage and searchMailbox decode it
    headers: ENVELOPE_HEADERS,
    bodyStructure: options.fetchContent,
  };
  return { whole, query };
}

/** The rows of a FETCH of `set` for delivery whose UID `keep` accepts, collected before any other command. */
async function fetchRows(
  selected: Selected,
  set: string,
  options: PollOptions,
  keep: (uid: number) => boolean,
): Promise<FetchMessageObject[]> {
  const { session, box } = selected;
  const rows: FetchMessageObject[] = [];
  await session.exec({ doing: "fetch the new messages", mailbox: box.path }, async () => {
    for await (const message of session.client.fetch(set, deliveredItems(options).query, {
      uid: true,
    }))
      if (keep(message.uid)) rows.push(message);
  });
  return rows;
}

/**
 * Envelope (and content) of the chosen messages. A chosen message that does not come back whole
 * is never delivered: confirmed expunged, it is left out and counted; still there, it stops the
 * poll before the cursor passes it.
 */
async function fetchChosen(
  selected: Selected,
  previous: PollState,
  chosen: number[],
  options: PollOptions,
): Promise<{ messages: DeliveredMessage[]; expunged: number[] }> {
  const wanted = new Set(chosen);
  const { whole } = deliveredItems(options);
  const rows: FetchMessageObject[] = [];
  for (const row of await fetchRows(selected, uidSetOf(chosen), options, (uid) =>
    wanted.has(uid),
  )) {
    if (!wanted.has(row.uid) || !isWhole(row, whole)) continue;
    wanted.delete(row.uid);
    rows.push(row);
  }
  return deliverRows(selected, previous, rows, [...wanted], options);
}

/**
 * Every message above the cursor up to `newest` in one FETCH, when they fit in one batch: the
 * listing (UID, FLAGS) and the envelopes (and content) in the same rows. The guarantees of the
 * listing hold for it: when a line of the answer could not be parsed, the range is searched and a
 * message that exists without a row stops the poll; a row that is not whole (a placeholder of a
 * message expunged meanwhile) is never delivered, and counted once the server confirmed it gone.
 * The range ends at `newest` (UIDNEXT at SELECT): a message that arrives meanwhile is above the
 * cursor and delivered by the next poll.
 */
async function fetchNew(
  selected: Selected,
  previous: PollState,
  newest: number,
  options: PollOptions,
): Promise<{ messages: DeliveredMessage[]; expunged: number[] }> {
  const { session } = selected;
  const { whole } = deliveredItems(options);
  const range = `${previous.lastUid + 1}:${newest}`;
  const inRange = (uid: number) => uid > previous.lastUid && uid <= newest;
  const before = session.unparsedLines;
  const byUid = new Map<number, FetchMessageObject>();
  for (const row of await fetchRows(selected, range, options, inRange)) {
    const known = byUid.get(row.uid);
    if (!known || (!isWhole(known, whole) && isWhole(row, whole))) byUid.set(row.uid, row);
  }
  if (session.unparsedLines > before) {
    const what = "the fetch of the new messages";
    const damaged = (uids: number[], exist: boolean) =>
      damagedAnswer(selected, what, stopped(previous), uids, exist);
    const found = await existingUids(selected, range, "fetch the new messages", () =>
      damaged([], false),
    );
    const unlisted = found.filter((uid) => inRange(uid) && !byUid.has(uid));
    if (unlisted.length > 0) throw damaged(unlisted, true);
  }
  const rows = [...byUid.values()].sort((a, b) => a.uid - b.uid);
  const eligible = options.onlyUnread
    ? rows.filter((row) => !hasFlag(row.flags ?? [], "\\Seen"))
    : rows;
  return deliverRows(
    selected,
    previous,
    eligible.filter((row) => isWhole(row, whole)),
    eligible.filter((row) => !isWhole(row, whole)).map((row) => row.uid),
    options,
  );
}

/**
 * The messages of the whole `rows`, ascending, once the `missing` ones (chosen, not back whole)
 * are confirmed expunged; one that still exists stops the poll.
 */
async function deliverRows(
  selected: Selected,
  previous: PollState,
  rows: FetchMessageObject[],
  missing: number[],
  options: PollOptions,
): Promise<{ messages: DeliveredMessage[]; expunged: number[] }> {
  const doing = "fetch the new messages";
  const expunged = await confirmExpunged(selected, missing, doing, (uids, exist) =>
    damagedAnswer(selected, "the fetch of the new messages", stopped(previous), uids, exist),
  );
  const messages: DeliveredMessage[] = [];
  for (const row of rows.sort((a, b) => a.uid - b.uid)) {
    const summary: DeliveredMessage = messageSummary(row);
    messages.push(
      options.fetchContent ? { ...summary, ...(await serverContent(selected, row)) } : summary,
    );
    // Parsed: its raw bytes are not delivered, so a batch does not hold every message to the end.
    row.source = undefined;
  }
  return { messages, expunged };
}

/**
 * The content of a fetched row, its attachments described as getMessage describes them: where the
 * parser decoded a part otherwise than the server delimits it, the part's size is that of the
 * server's bytes, read with one more FETCH of that message's disagreeing parts (as getMessage
 * does; a message whose parts all agree, the usual case, costs nothing more). Runs after the
 * FETCH loop, never inside it.
 */
export async function serverContent(
  selected: Selected,
  row: FetchMessageObject,
): Promise<MessageContent> {
  const disagreeing: { index: number; part: BodyPart }[] = [];
  const content = await messageContent(row.source, row.bodyStructure, disagreeing);
  if (disagreeing.length === 0 || content.contentError !== undefined) return content;
  const where = { mailbox: selected.box.path, uid: row.uid };
  const fetched = await fetchExisting(selected, row.uid, {
    bodyParts: disagreeing.map(({ part }) => part.partId),
  });
  const attachments = [...content.attachments];
  for (const { index, part } of disagreeing) {
    const attachment = attachments[index];
    if (attachment)
      attachments[index] = {
        ...attachment,
        size: partBytes(contentOf(fetched, part.partId, where), part).length,
      };
  }
  return { ...content, attachments };
}

/** A message that cannot be parsed is still delivered, with the reason, rather than blocking the trigger. */
export async function messageContent(
  source: Buffer | undefined,
  structure?: MessageStructureObject,
  /** Filled with the attachments whose parsed size disagrees with the server's part. */
  disagreeing: { index: number; part: BodyPart }[] = [],
): Promise<MessageContent> {
  const empty = { text: null, replyText: null, html: null, headers: {}, attachments: [] };
  // Not reached for a row without content (isWhole kept it out); kept for the type's sake.
  if (!source)
    return { ...empty, contentError: "The server returned no content for this message." };
  try {
    // The same parsing as getMessage, so both describe a message alike; attachment bytes are dropped as they stream past.
    const parsed = await parseMessage(source, { includeAttachments: false, maxAttachmentSize: 0 });
    // Numbered as the server numbers them, as getMessage does.
    const matched = withServerParts(parsed.attachments, structure);
    disagreeing.push(...matched.disagreeing);
    const attachments = matched.attachments.map(
      ({ partId, filename, contentType, size, contentId, inline }) => ({
        partId,
        filename,
        contentType,
        size,
        contentId,
        inline,
      }),
    );
    return {
      text: parsed.text,
      replyText: replyTextOf(parsed.text),
      html: parsed.html,
      headers: parsed.headers,
      attachments,
    };
  } catch (err) {
    return {
      ...empty,
      contentError: `The message could not be parsed: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}
