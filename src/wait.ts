/**
 * Wait For Email: keeps one session open on the mailbox until a message matching the criteria
 * arrives, or the timeout passes. The server tells of new mail through IDLE where it offers it;
 * elsewhere a NOOP every few seconds asks. Each time new mail exists, one UID SEARCH over the
 * messages above the starting point finds a match.
 *
 * Nothing waits unbounded: the wait never passes its deadline, and every command sent during it
 * must be answered within `waitLimits.answerMs`, else the connection is closed and the step
 * fails with a clear error. An open IDLE suspends the socket's inactivity timer, so IDLE is
 * broken and re-issued every `idleSliceMs` with a NOOP in between, which proves the server
 * still answers (and stays far below the 29 minutes after which servers may end an IDLE).
 */
import { ImapError, InputError } from "./errors";
import { optionalText } from "./inputs";
import type { DeliveredMessage } from "./poll";
import { serverContent } from "./poll";
import { searchUids } from "./search";
import type { SearchKey } from "./searchCriteria";
import { renderKeys } from "./searchCriteria";
import { messageSummary } from "./serialize";
import type { Selected, Session } from "./session";
import { MAX_UID } from "./uidSet";

/** Bounds of the wait. Exported so the tests can shorten them. */
export const waitLimits = {
  /** How often a server without IDLE is asked for news (NOOP). */
  pollMs: 3_000,
  /** How long one IDLE lasts before it is broken for a NOOP and issued again. */
  idleSliceMs: 60_000,
  /** The longest the server may take to answer one command during the wait. */
  answerMs: 15_000,
};

/** A step runs for at most 15 minutes on the platform: the wait stays within 14. */
export const MAX_TIMEOUT_SECONDS = 840;

export interface WaitRequest {
  mailbox: string;
  keys: SearchKey[];
  timeoutSeconds: number;
  /** "now": only messages that arrive after the step starts; else messages above this UID. */
  after: "now" | number;
  fetchContent: boolean;
}

export type WaitOutcome =
  | { branch: "Received"; message: DeliveredMessage }
  | { branch: "Timed Out"; waited: { mailbox: string; waitedSeconds: number } };

export function parseTimeoutSeconds(value: unknown): number {
  const text = optionalText(value, "Timeout Seconds");
  if (text === undefined) return 300;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_TIMEOUT_SECONDS) {
    throw new InputError(
      `Timeout Seconds must be a whole number from 1 to ${MAX_TIMEOUT_SECONDS} (14 minutes, so that the step ends within the platform's 15-minute limit), not "${text}". To wait longer, loop over this step.`,
    );
  }
  return Number(text);
}

export function parseAfter(value: unknown): "now" | number {
  const text = optionalText(value, "After");
  if (text === undefined || text.toLowerCase() === "now") return "now";
  if (!/^\d+$/.test(text) || Number(text) > MAX_UID) {
    throw new InputError(
      `After must be "now" (only messages that arrive after the step starts) or a UID (messages above it, e.g. the uid of the last message handled), not "${text}".`,
    );
  }
  return Number(text);
}

/** Resolves after `ms`, or as soon as `wake` is called; the timer never outlives the wait. */
function pause(ms: number, onWake: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    onWake(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Runs one command of the wait, bounded by `waitLimits.answerMs`: a server that does not answer
 * in time has its connection closed, which fails the command at once.
 */
async function answered<T>(
  session: Session,
  doing: string,
  mailbox: string,
  call: () => Promise<T>,
): Promise<T> {
  let late = false;
  const timer = setTimeout(() => {
    late = true;
    session.client.close();
  }, waitLimits.answerMs);
  try {
    return await call();
  } catch (err) {
    if (late) throw unanswered(session, doing, mailbox, err);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function unanswered(session: Session, doing: string, mailbox: string, cause?: unknown): ImapError {
  const { host, port } = session.scope;
  return new ImapError(
    `The server at ${host}:${port} did not answer within ${waitLimits.answerMs / 1000} s while trying to ${doing} (mailbox "${mailbox}"), so the connection was closed. The connection may have been dropped by a firewall or the server; retry the step.`,
    { code: "SOCKET_TIMEOUT", mailbox, cause },
  );
}

/** The lowest UID above `after` that matches, or undefined. */
async function firstMatch(
  selected: Selected,
  request: WaitRequest,
  after: number,
): Promise<number | undefined> {
  const { session, box } = selected;
  if (after >= MAX_UID) return undefined;
  const tokens = renderKeys([{ op: "uid", set: `${after + 1}:*` }, ...request.keys], {
    has: (cap) => session.has(cap),
    host: session.scope.host,
    mailbox: box.path,
  });
  const ranges = await answered(session, "search for new mail", box.path, () =>
    searchUids(session, box.path, tokens),
  );
  // "n:*" also names the newest message when it is below n: only UIDs above `after` count.
  for (const [low, high] of ranges) if (high > after) return Math.max(low, after + 1);
  return undefined;
}

async function delivered(
  selected: Selected,
  uid: number,
  fetchContent: boolean,
): Promise<DeliveredMessage | undefined> {
  const { session, box } = selected;
  const message = await answered(session, "fetch the new message", box.path, () =>
    session.run(
      { doing: "fetch the new message", mailbox: box.path, uid },
      async () =>
        (await session.client.fetchOne(
          String(uid),
          {
            uid: true,
            flags: true,
            size: true,
            internalDate: true,
            envelope: true,
            source: fetchContent,
            // part ids and sizes as getMessage and the triggers give them
            bodyStructure: fetchContent,
          },
          { uid: true },
        )) || null,
    ),
  );
  // Expunged between the SEARCH and the FETCH (or a server answering with another message).
  if (message === null || message.uid !== uid) return undefined;
  const summary: DeliveredMessage = messageSummary(message);
  return fetchContent ? { ...summary, ...(await serverContent(selected, message)) } : summary;
}

/** The highest UID given so far: from SELECT, or from STATUS on a server that leaves UIDNEXT out of it. */
async function newestUid({ session, box }: Selected): Promise<number> {
  if (Number.isSafeInteger(box.uidNext) && box.uidNext > 0) return box.uidNext - 1;
  const status = await answered(session, "read the status of the mailbox", box.path, () =>
    session.run({ doing: "read the status of the mailbox", mailbox: box.path }, () =>
      session.client.status(box.path, { uidNext: true }),
    ),
  );
  if (status.uidNext === undefined) {
    throw new ImapError(
      `The server did not report UIDNEXT for mailbox "${box.path}", which Wait For Email needs to tell new mail from old with After "now". Give After a UID instead (e.g. the uid of the newest message).`,
      { code: "UNEXPECTED", mailbox: box.path },
    );
  }
  return status.uidNext - 1;
}

/** Waits in the selected mailbox; the caller's session closes the connection afterwards. */
async function waitIn(
  selected: Selected,
  request: WaitRequest,
  startedAt: number,
): Promise<WaitOutcome> {
  const { session, box } = selected;
  const client = session.client;
  const mailbox = box.path;
  const deadline = startedAt + request.timeoutSeconds * 1000;
  let after = request.after === "now" ? await newestUid(selected) : request.after;
  let changed = true;
  let wake: (() => void) | undefined;
  const onExists = () => {
    changed = true;
    wake?.();
  };
  const onClose = () => wake?.();
  client.on("exists", onExists);
  client.on("close", onClose);
  const idle = session.has("IDLE");
  try {
    for (;;) {
      if (changed) {
        changed = false;
        const uid = await firstMatch(selected, request, after);
        if (uid !== undefined) {
          const message = await delivered(selected, uid, request.fetchContent);
          if (message) return { branch: "Received", message };
          // It vanished before it could be read: look again from there.
          after = uid;
          changed = true;
          continue;
        }
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const slice = Math.min(remaining, idle ? waitLimits.idleSliceMs : waitLimits.pollMs);
      if (idle) {
        // Runs until the next command (SEARCH, NOOP or LOGOUT) breaks it; a failure shows as a
        // closed connection below.
        client.idle().catch(() => undefined);
        await pause(slice, (w) => {
          wake = w;
        });
        wake = undefined;
        if (!client.usable) throw session.refused({ doing: "wait for new mail", mailbox });
        // Time is up and nothing arrived: LOGOUT ends the IDLE, no NOOP can delay the step.
        if (!changed && Date.now() >= deadline) break;
        // NOOP ends the IDLE (imapflow sends DONE first) before the SEARCH, which goes out on
        // imapflow's raw command channel and would not; it also proves the server still answers.
        await answered(session, "check that the server still answers", mailbox, () =>
          session.exec({ doing: "wait for new mail", mailbox }, () => client.noop()),
        );
      } else {
        await pause(slice, (w) => {
          wake = w;
        });
        wake = undefined;
        if (!client.usable) throw session.refused({ doing: "wait for new mail", mailbox });
        // Also at the deadline: mail that arrived in the last interval is still found.
        await answered(session, "ask the server for new mail", mailbox, () =>
          session.exec({ doing: "wait for new mail", mailbox }, () => client.noop()),
        );
      }
      if (!client.usable) throw session.refused({ doing: "wait for new mail", mailbox });
    }
  } finally {
    client.off("exists", onExists);
    client.off("close", onClose);
  }
  return {
    branch: "Timed Out",
    waited: { mailbox, waitedSeconds: Math.round((Date.now() - startedAt) / 100) / 10 },
  };
}

/** Waits for the first message matching `request` in a read-only session on its mailbox. */
export function waitForMessage(
  session: Session,
  request: WaitRequest,
  startedAt: number,
): Promise<WaitOutcome> {
  return session.withMailbox(request.mailbox, { readOnly: true }, (selected) =>
    waitIn(selected, request, startedAt),
  );
}
