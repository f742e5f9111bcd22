/**
 * Copying and moving messages between mailboxes. Moving uses MOVE where the server has it;
 * otherwise it copies, confirms that every message arrived, and only then expunges exactly the
 * copied messages. Without UIDPLUS the copies are found by Message-ID and size.
 */
import type { CopyResponseObject, FetchMessageObject } from "imapflow";
import type { Operation } from "./errors";
import { ImapError, incompleteAnswer } from "./errors";
import { findSpecialUse, mailboxStatus, samePath } from "./mailboxes";
import type { ResolvedUids } from "./messages";
import {
  deleteOne,
  expungeExactly,
  list,
  noSuchMessage,
  onlyUid,
  refuseUnsafeExpunge,
  requireUidValidity,
  resolveUids,
} from "./messages";
import type { Selected, Session, SessionOptions } from "./session";
import { uidValidityOf } from "./session";
import type { UidSet } from "./uidSet";
import { singleUid } from "./uidSet";
import { damagedAnswer, existingUids } from "./wholeRows";

/** The Message-ID of a message, from its raw header section ("" when it has none). */
export function messageIdOf(raw: Buffer | undefined): string {
  if (!raw) return "";
  const end = raw.indexOf("\r\n\r\n");
  const lfEnd = raw.indexOf("\n\n");
  const stop = [end, lfEnd].filter((i) => i >= 0).reduce((a, b) => Math.min(a, b), raw.length);
  const header = raw.toString("latin1", 0, stop).replace(/\r?\n[ \t]+/g, " ");
  const match = /^message-id[ \t]*:(.*)$/im.exec(header);
  return match?.[1]?.trim() ?? "";
}

export interface Identity {
  uid: number;
  messageId: string;
  size: number;
}

/** UID, Message-ID and size of the messages of `set` whose UID is at least `from`, ascending. */
export async function identities(
  { session, box }: Selected,
  set: string,
  doing: string,
  from = 1,
): Promise<Identity[]> {
  const mailbox = box.path;
  const rows: FetchMessageObject[] = await session.run({ doing, mailbox, uid: set }, () =>
    session.client.fetchAll(set, { uid: true, size: true, headers: ["message-id"] }, { uid: true }),
  );
  return rows
    .filter((row) => row.uid >= from)
    .sort((a, b) => a.uid - b.uid)
    .map((row) => ({ uid: row.uid, messageId: messageIdOf(row.headers), size: row.size ?? -1 }));
}

/**
 * Without UIDPLUS the server does not say where the copies went: they are the messages that
 * arrived in the destination since `uidNext` with the same Message-ID and size, taken in order
 * (COPY keeps the source order). Returns source UID -> destination UID for those it finds.
 */
async function findCopies(
  session: Session,
  destination: string,
  before: { uidNext: number; uidValidity: bigint },
  sources: Identity[],
  doing: string,
): Promise<Map<number, number>> {
  const arrived = await session.withMailbox(destination, { readOnly: true }, async (selected) => {
    const box = selected.box;
    if ((await uidValidityOf(selected, "find the copies it made")) !== before.uidValidity) {
      throw new ImapError(
        `Could not ${doing}: the mailbox "${destination}" was recreated meanwhile (its UIDVALIDITY changed), so the copies cannot be identified.`,
        { code: "COPY_INCOMPLETE", mailbox: destination },
      );
    }
    return box.exists === 0
      ? []
      : identities(selected, `${before.uidNext}:*`, `${doing} (find the copies)`, before.uidNext);
  });
  const waiting = new Map<string, number[]>();
  for (const copy of arrived) {
    const key = `${copy.messageId}\u0000${copy.size}`;
    waiting.set(key, [...(waiting.get(key) ?? []), copy.uid]);
  }
  const map = new Map<number, number>();
  for (const source of sources) {
    const found = waiting.get(`${source.messageId}\u0000${source.size}`)?.shift();
    if (found !== undefined) map.set(source.uid, found);
  }
  return map;
}

/** The session of a transfer: it reads the destination's STATUS, then opens the source. */
export function transferring(
  source: string,
  destination: string,
  mode: "copy" | "move",
): SessionOptions {
  return {
    ahead: [
      { command: "STATUS", mailbox: destination, query: DESTINATION_STATUS },
      { command: "SELECT", mailbox: source, readOnly: mode === "copy" },
    ],
  };
}

/** What a transfer reads of its destination first. */
const DESTINATION_STATUS = { uidNext: true, uidValidity: true } as const;

export interface Transfer {
  /** The source mailbox. */
  path: string;
  destination: string;
  /** The destination's UIDVALIDITY: the `destinationUid`s are UIDs of that mailbox. */
  uidValidity: string;
  /** The source's UIDVALIDITY: the `sourceUid`s are UIDs of that mailbox. */
  sourceUidValidity: string;
  uidMap: { sourceUid: number; destinationUid: number | null }[];
}

/**
 * Copies or moves the messages `wanted` names to `destination`. Moving uses MOVE where the server
 * has it; otherwise it copies, checks that every message arrived, and only then expunges exactly
 * the copied messages from the source. Without UIDPLUS the destination UIDs are found by
 * Message-ID and size; one that cannot be found is null (copy) or stops the move before anything
 * is removed.
 */
export async function transferMessages(
  session: Session,
  source: string,
  wanted: UidSet,
  destination: string,
  mode: "copy" | "move",
  expectedValidity?: string,
): Promise<Transfer> {
  const doing =
    mode === "copy" ? `copy messages to "${destination}"` : `move messages to "${destination}"`;
  const uidPlus = session.has("UIDPLUS");
  const byMove = mode === "move" && session.has("MOVE");
  const dest = await mailboxStatus(session, destination, DESTINATION_STATUS);
  // Without UIDPLUS the copies are told from earlier messages by UIDNEXT, under the same UIDVALIDITY.
  const missing = [
    ...(dest.uidNext === undefined ? ["UIDNEXT"] : []),
    ...(dest.uidValidity === undefined ? ["UIDVALIDITY"] : []),
  ];
  if (!uidPlus && missing.length > 0)
    throw incompleteAnswer(destination, "STATUS", missing, "find the copies it makes");
  const before = { uidNext: dest.uidNext ?? 1, uidValidity: dest.uidValidity ?? BigInt(0) };
  // Set once a move by copy sent its COPY: from then on a failure may leave copies behind.
  const copying: { uids?: number[] } = {};
  try {
    return await copyThenRemove();
  } catch (err) {
    throw copying.uids ? mayHaveCopied(err, source, destination, copying.uids) : err;
  }

  /**
   * Moves (MOVE) or copies one UID without reading it first. The answer's COPYUID gives its new
   * UID. Without one (Dovecot answers OK, or NO [EXPUNGEISSUED], for a UID that names no message)
   * the source is asked (NOOP, then UID SEARCH): a message still there is reported without its new
   * UID, as a server without COPYUID leaves it; one that is not there is the "no message with UID"
   * error, unless a move's destination's UIDNEXT moved (then it may have arrived there: new UID
   * unknown; a copy would have left it in the source).
   */
  async function transferOne(
    selected: Selected,
    uid: number,
    send: () => Promise<false | CopyResponseObject | undefined>,
  ): Promise<{ map: Map<number, number>; uidValidity?: bigint }> {
    const mailbox = selected.box.path;
    const op: Operation = { doing, mailbox, uid: String(uid) };
    let result: CopyResponseObject;
    try {
      result = await session.run(op, send);
    } catch (err) {
      // a refusal of a UID that names no message is the same error as when it is read first
      if (!(err instanceof ImapError) || err.code !== "SERVER_REFUSED" || !session.client.usable)
        throw err;
      if (!(await sourceHas(selected, uid))) throw noSuchMessage(doing, mailbox, [uid]);
      throw err;
    }
    const map = result.uidMap ?? new Map<number, number>();
    // a copy leaves the source as it was: a UID not in it named no message
    if (!map.has(uid) && mode === "copy" && !(await sourceHas(selected, uid)))
      throw noSuchMessage(doing, mailbox, [uid]);
    if (!map.has(uid) && mode === "move" && !(await sourceHas(selected, uid))) {
      const after = await session.run(
        { doing: `${doing} (check whether it arrived)`, mailbox: destination },
        () => session.client.status(destination, { uidNext: true }),
      );
      if (after.uidNext !== undefined && after.uidNext === dest.uidNext)
        throw noSuchMessage(doing, mailbox, [uid]);
    }
    return { map, uidValidity: result.uidValidity };
  }

  /** Whether the source still has `uid`; an answer that cannot be read is a damaged-answer error. */
  async function sourceHas(selected: Selected, uid: number): Promise<boolean> {
    const found = await existingUids(selected, String(uid), doing, () =>
      damagedAnswer(
        selected,
        `the ${mode} of the message`,
        "Check the destination before retrying.",
        [uid],
        false,
      ),
    );
    return found.includes(uid);
  }

  async function copyThenRemove(): Promise<Transfer> {
    const first = await session.withMailbox(
      source,
      { readOnly: mode === "copy" },
      async (selected) => {
        requireUidValidity(selected, expectedValidity, doing);
        const box = selected.box;
        const send = (set: string) =>
          byMove
            ? session.client.messageMove(set, destination, { uid: true })
            : session.client.messageCopy(set, destination, { uid: true });
        // One UID moved by MOVE or copied, with UIDPLUS: the answer's COPYUID tells that it existed.
        const one = onlyUid(wanted);
        if (one !== undefined && uidPlus && (byMove || mode === "copy") && box.exists > 0) {
          const sourceValidity = await uidValidityOf(selected, "move the messages");
          const target: ResolvedUids = { uids: [one], set: String(one), flags: new Map() };
          const result = await transferOne(selected, one, () => send(target.set));
          return {
            path: box.path,
            target,
            sources: [],
            map: result.map,
            sourceValidity,
            uidValidity: result.uidValidity ?? before.uidValidity,
          };
        }
        const target = await resolveUids(selected, wanted, doing);
        const sourceValidity = await uidValidityOf(selected, "move the messages");
        const sources = uidPlus ? [] : await identities(selected, target.set, doing);
        // Refused here, before the copy, so that nothing changes in the common case.
        if (mode === "move" && !byMove)
          await refuseUnsafeExpunge(selected, target, "remove the copied messages from the source");
        const op: Operation = { doing, mailbox: box.path, uid: target.set };
        if (mode === "move" && !byMove) copying.uids = target.uids;
        const result = await session.run(op, () => send(target.set));
        const map = uidPlus ? (result.uidMap ?? new Map<number, number>()) : undefined;
        if (mode === "move" && !byMove && map) {
          refuseIncomplete(box.path, destination, target, map);
          await expungeExactly(selected, target, "remove the copied messages from the source");
        }
        // The destination's UIDVALIDITY: the one COPYUID reports, else the one STATUS gave before.
        const uidValidity =
          uidPlus && result.uidValidity !== undefined ? result.uidValidity : before.uidValidity;
        return {
          path: box.path,
          target,
          sources,
          map,
          uidValidity,
          sourceValidity,
        };
      },
    );
    const map = first.map ?? (await findCopies(session, destination, before, first.sources, doing));
    if (mode === "move" && !byMove && !first.map) {
      refuseIncomplete(first.path, destination, first.target, map);
      await session.withMailbox(first.path, { readOnly: false }, async (selected) => {
        if ((await uidValidityOf(selected, "move the messages")) !== first.sourceValidity) {
          throw new ImapError(
            `Moved nothing: the messages were copied to "${destination}", but the mailbox "${first.path}" was recreated meanwhile (its UIDVALIDITY changed), so they were not removed from it.`,
            { code: "COPY_INCOMPLETE", mailbox: first.path },
          );
        }
        await expungeExactly(selected, first.target, "remove the copied messages from the source");
      });
    }
    return {
      path: first.path,
      destination,
      uidValidity: first.uidValidity.toString(),
      sourceUidValidity: first.sourceValidity.toString(),
      uidMap: first.target.uids.map((uid) => ({
        sourceUid: uid,
        destinationUid: map.get(uid) ?? null,
      })),
    };
  }
}

/**
 * A move by copy that failed after its COPY was sent: the copies may already be in the
 * destination while the originals are still in the source, so a blind retry would leave two
 * copies. A failure that already says so (COPY_INCOMPLETE) is kept as it is.
 */
function mayHaveCopied(err: unknown, source: string, destination: string, uids: number[]): unknown {
  if (!(err instanceof ImapError) || err.code === "COPY_INCOMPLETE") return err;
  return new ImapError(
    `${err.message} The server has no MOVE, so moving is a copy followed by removing the originals, and this happened after the copy of UID ${list(uids)} was sent: copies may already be in "${destination}" while the originals may still be in "${source}". Check "${destination}" before retrying, or the retry leaves them there twice.`,
    { code: err.code, mailbox: err.mailbox ?? source, uid: err.uid, cause: err },
  );
}

/** A move by copy removes nothing unless every message demonstrably arrived. */
function refuseIncomplete(
  source: string,
  destination: string,
  target: ResolvedUids,
  map: Map<number, number>,
): void {
  const missing = target.uids.filter((uid) => !map.has(uid));
  if (missing.length === 0) return;
  throw new ImapError(
    `Could not move messages to "${destination}": the server has no MOVE, and the copy of UID ${list(missing)} could not be confirmed in "${destination}", so nothing was removed from "${source}". Check "${destination}" for copies before retrying: the messages that were copied are there as well as in "${source}".`,
    { code: "COPY_INCOMPLETE", mailbox: source, uid: missing.join(",") },
  );
}

/** Where Trash / Archive put messages, as Delete Message (mode trash) and Archive Messages report it. */
export interface Disposal {
  mailbox: string;
  uids: number[];
  /** The mailbox the messages went to; null when they were expunged instead (already in the Trash). */
  destination: string | null;
  /** The new UID of each message in `destination`, in the order of `uids`; null where the server did not say and it could not be found. */
  destinationUids: (number | null)[];
  /** The UIDVALIDITY of `destination`, for a later step's guard; null when nothing was moved. */
  destinationUidValidity: string | null;
  /** True when the messages were removed for good instead of moved. */
  expunged: boolean;
}

interface SpecialDestination {
  /** What the messages are moved to, for messages: "the Trash". */
  what: string;
  /** The special uses that name it, in order of preference. */
  uses: string[];
  /** The label of the input that names it instead. */
  input: string;
}

/** The mailbox given, else the one the server marks; none is a clear error that names what was looked for. */
async function destinationFor(
  session: Session,
  given: string | undefined,
  special: SpecialDestination,
): Promise<string> {
  if (given !== undefined) return given;
  const found = await findSpecialUse(session, special.uses);
  if (found.path !== undefined) return found.path;
  const hint = found.namedLike.length
    ? ` By its name, ${found.namedLike.map((path) => `"${path}"`).join(" or ")} may be it.`
    : "";
  throw new ImapError(
    `Could not move the messages to ${special.what}: the server at ${session.scope.host} marks no mailbox as ${special.uses.join(" or ")} (special use), and ${special.input} is empty. Nothing was changed. Give the mailbox's path in ${special.input} (List Mailboxes shows every path).${hint}`,
    { code: "SPECIAL_USE_NOT_FOUND" },
  );
}

function disposal(moved: Transfer): Disposal {
  return {
    mailbox: moved.path,
    uids: moved.uidMap.map((entry) => entry.sourceUid),
    destination: moved.destination,
    destinationUids: moved.uidMap.map((entry) => entry.destinationUid),
    destinationUidValidity: moved.uidValidity,
    expunged: false,
  };
}

const TRASH: SpecialDestination = { what: "the Trash", uses: ["\\Trash"], input: "Trash Mailbox" };

/**
 * Moves one message to the Trash (the mailbox marked \Trash, or `trashMailbox`) with the move
 * core. A message already in the Trash is expunged, exactly it, as mail clients do.
 */
export async function trashMessage(
  session: Session,
  mailbox: string,
  uid: number,
  options: { trashMailbox?: string; uidValidity?: string },
): Promise<Disposal> {
  const trash = await destinationFor(session, options.trashMailbox, TRASH);
  if (samePath(trash, mailbox)) {
    await deleteOne(session, mailbox, uid, options.uidValidity);
    return {
      mailbox: trash,
      uids: [uid],
      destination: null,
      destinationUids: [],
      destinationUidValidity: null,
      expunged: true,
    };
  }
  const moved = await transferMessages(
    session,
    mailbox,
    singleUid(uid),
    trash,
    "move",
    options.uidValidity,
  );
  return disposal(moved);
}

/**
 * Moves messages to the archive: the mailbox marked \Archive, on Gmail the one marked \All (All
 * Mail: moving there from INBOX removes the Inbox label and nothing else), or `archiveMailbox`.
 */
export async function archiveMessages(
  session: Session,
  mailbox: string,
  wanted: UidSet,
  options: { archiveMailbox?: string; uidValidity?: string },
): Promise<Disposal> {
  // \All is a view of every message; only on Gmail is moving into it what archiving means.
  const uses = session.has("X-GM-EXT-1") ? ["\\Archive", "\\All"] : ["\\Archive"];
  const archive = await destinationFor(session, options.archiveMailbox, {
    what: "the archive",
    uses,
    input: "Archive Mailbox",
  });
  if (samePath(archive, mailbox)) {
    throw new ImapError(
      `Could not archive messages: they are in "${mailbox}", which is the archive mailbox itself. Nothing was changed.`,
      { code: "SAME_MAILBOX", mailbox },
    );
  }
  return disposal(
    await transferMessages(session, mailbox, wanted, archive, "move", options.uidValidity),
  );
}
