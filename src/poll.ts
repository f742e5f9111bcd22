/**
 * The cursor of the New Emails trigger. It must never skip a message, never deliver one twice
 * and never fail silently, so every rule below errs on the side of "deliver it next time":
 *
 * - The state is the mailbox, its UIDVALIDITY and `lastUid`: every message up to it has been
 *   delivered or deliberately passed (read ones with `onlyUnread`, or ones expunged meanwhile).
 * - The first poll (or one for another mailbox) only records where the mailbox stands.
 * - A poll with nothing new costs one STATUS: no SELECT and no FETCH, whatever the mailbox size.
 * - UIDs come back filtered again: `UID FETCH n:*` answers with the newest message even below n.
 * - The caller saves the returned state only after the whole poll succeeded, so any failure
 *   leaves the cursor where it was and the same messages are offered again.
 */
import type { MessageStructureObject } from "imapflow";
import { ENVELOPE_HEADERS } from "./envelope";
import { ImapError } from "./errors";
import { samePath } from "./mailboxes";
import type { ParsedAttachment } from "./parseMessage";
import { parseMessage } from "./parseMessage";
import type { WithServerPart } from "./partMatch";
import { withServerParts } from "./partMatch";
import type { MessageSummary } from "./serialize";
import { hasFlag, messageSummary } from "./serialize";
import type { Session } from "./session";
import { uidSetOf } from "./uidSet";

export interface PollState {
  mailbox: string;
  /** Decimal string: UIDVALIDITY is a 32-bit unsigned number, imapflow gives a bigint. */
  uidValidity: string;
  lastUid: number;
}

export interface PollOptions {
  mailbox: string;
  batchSize: number;
  fetchContent: boolean;
  markAsRead: boolean;
  onlyUnread: boolean;
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
  html: string | null;
  headers: Record<string, string | string[]>;
  attachments: AttachmentMetadata[];
  /** Set instead of failing the poll when the message cannot be parsed. */
  contentError?: string;
}

export type DeliveredMessage = MessageSummary & Partial<MessageContent>;

export interface PollResult {
  state: PollState;
  messages: DeliveredMessage[];
}

const label = "New Emails";

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
    return { mailbox, uidValidity, lastUid: Number(lastUid) };
  }
  logger.warn(
    `${label}: the saved polling state is not one this trigger wrote (${JSON.stringify(saved)}); starting again from the newest message.`,
  );
  return undefined;
}

function rebaseline(logger: PollLogger, mailbox: string, previous: string, current: string): void {
  logger.warn(
    `${label}: the UIDVALIDITY of mailbox "${mailbox}" changed from ${previous} to ${current} (the mailbox was deleted and recreated, or the server rebuilt its index). ` +
      `Its UIDs no longer match the saved cursor, so nothing was delivered and the trigger starts again from the newest message: mail that arrives from now on is delivered. ` +
      `Messages that arrived since the last poll were not delivered; look for them in the mailbox if they matter.`,
  );
}

/** One poll. Returns the messages to deliver and the state to save once they are delivered. */
export async function pollMailbox(
  session: Session,
  previous: PollState | undefined,
  options: PollOptions,
  logger: PollLogger,
): Promise<PollResult> {
  const { mailbox } = options;
  const status = await session.run({ doing: "read the status of the mailbox", mailbox }, () =>
    session.client.status(mailbox, { messages: true, uidNext: true, uidValidity: true }),
  );
  if (status.uidNext === undefined || status.uidValidity === undefined) {
    throw new ImapError(
      `The server did not report UIDNEXT and UIDVALIDITY for mailbox "${mailbox}", which the New Emails trigger needs to track new mail.`,
      {
        code: "UNEXPECTED",
        mailbox,
      },
    );
  }
  const uidValidity = status.uidValidity.toString();
  const newest = status.uidNext - 1;

  if (previous === undefined || !samePath(previous.mailbox, mailbox)) {
    logger.info(
      `${label}: first poll of mailbox "${mailbox}": starting after UID ${newest}. Messages already in the mailbox are not delivered; new ones are, from the next poll on.`,
    );
    return { state: { mailbox, uidValidity, lastUid: newest }, messages: [] };
  }
  if (previous.uidValidity !== uidValidity) {
    rebaseline(logger, mailbox, previous.uidValidity, uidValidity);
    return { state: { mailbox, uidValidity, lastUid: newest }, messages: [] };
  }
  if (status.uidNext <= previous.lastUid + 1) return { state: previous, messages: [] };
  // New UIDs were assigned, but the mailbox is empty: they were all expunged already.
  if (status.messages === 0) return { state: { ...previous, lastUid: newest }, messages: [] };

  return session.withMailbox(mailbox, { readOnly: !options.markAsRead }, ({ box }) =>
    collect(session, previous, options, logger, {
      // A server that leaves them out of SELECT gets the STATUS values, read moments before.
      uidValidity: typeof box.uidValidity === "bigint" ? box.uidValidity.toString() : uidValidity,
      newest: Number.isSafeInteger(box.uidNext) ? box.uidNext - 1 : newest,
    }),
  );
}

async function collect(
  session: Session,
  previous: PollState,
  options: PollOptions,
  logger: PollLogger,
  // Read right after SELECT: every UID up to `newest` that still exists is in the FETCH below.
  opened: { uidValidity: string; newest: number },
): Promise<PollResult> {
  const { mailbox } = options;
  if (opened.uidValidity !== previous.uidValidity) {
    rebaseline(logger, mailbox, previous.uidValidity, opened.uidValidity);
    return {
      state: { mailbox, uidValidity: opened.uidValidity, lastUid: opened.newest },
      messages: [],
    };
  }
  const client = session.client;
  const listed: { uid: number; seen: boolean }[] = [];
  await session.exec({ doing: "list the new messages", mailbox }, async () => {
    for await (const message of client.fetch(
      `${previous.lastUid + 1}:*`,
      { uid: true, flags: true },
      { uid: true },
    )) {
      if (message.uid > previous.lastUid)
        listed.push({ uid: message.uid, seen: hasFlag(message.flags ?? [], "\\Seen") });
    }
  });
  listed.sort((a, b) => a.uid - b.uid);
  const eligible = options.onlyUnread ? listed.filter((message) => !message.seen) : listed;
  const chosen = eligible.slice(0, options.batchSize).map((message) => message.uid);
  // With more left than the batch, stop right after the last chosen one; otherwise everything
  // listed was handled, and UIDs up to `newest` that were not listed no longer exist.
  const lastUid =
    eligible.length > options.batchSize
      ? (chosen.at(-1) as number)
      : Math.max(previous.lastUid, opened.newest, listed.at(-1)?.uid ?? 0);
  const state = { ...previous, lastUid };
  if (chosen.length === 0) return { state, messages: [] };

  const wanted = new Set(chosen);
  const messages: DeliveredMessage[] = [];
  await session.exec({ doing: "fetch the new messages", mailbox }, async () => {
    const query = {
      uid: true,
      flags: true,
      size: true,
      internalDate: true,
      envelope: true,
      // the envelope's text decoded as getMessage and searchMailbox decode it
      headers: ENVELOPE_HEADERS,
      source: options.fetchContent,
      bodyStructure: options.fetchContent,
    };
    for await (const message of client.fetch(uidSetOf(chosen), query, { uid: true })) {
      if (!wanted.has(message.uid)) continue;
      wanted.delete(message.uid);
      const summary: DeliveredMessage = messageSummary(message);
      // Parsing is local work, no IMAP command: allowed inside the fetch loop.
      messages.push(
        options.fetchContent
          ? { ...summary, ...(await content(message.source, message.bodyStructure)) }
          : summary,
      );
    }
  });
  messages.sort((a, b) => a.uid - b.uid);
  // A chosen message missing here was expunged between the two fetches: it can never be delivered.

  if (options.markAsRead && messages.length > 0) {
    await session.run({ doing: "mark the delivered messages as read", mailbox }, () =>
      client.messageFlagsAdd(uidSetOf(messages.map((message) => message.uid)), ["\\Seen"], {
        uid: true,
      }),
    );
  }
  return { state, messages };
}

/** A message that cannot be parsed is still delivered, with the reason, rather than blocking the trigger. */
async function content(
  source: Buffer | undefined,
  structure: MessageStructureObject | undefined,
): Promise<MessageContent> {
  const empty = { text: null, html: null, headers: {}, attachments: [] };
  if (!source)
    return { ...empty, contentError: "The server returned no content for this message." };
  try {
    // The same parsing as getMessage, so both describe a message alike; attachment bytes are dropped as they stream past.
    const parsed = await parseMessage(source, { includeAttachments: false, maxAttachmentSize: 0 });
    // Numbered as the server numbers them, as getMessage does.
    const attachments = withServerParts(parsed.attachments, structure).attachments.map(
      ({ partId, filename, contentType, size, contentId, inline }) => ({
        partId,
        filename,
        contentType,
        size,
        contentId,
        inline,
      }),
    );
    return { text: parsed.text, html: parsed.html, headers: parsed.headers, attachments };
  } catch (err) {
    return {
      ...empty,
      contentError: `The message could not be parsed: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}
