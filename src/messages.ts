/**
 * Message operations shared by the actions that change messages: a UID set is resolved against
 * the mailbox before anything changes, every command then names exactly the resolved UIDs, and
 * nothing is expunged that was not asked for, also on servers without UIDPLUS or MOVE.
 */
import type { FetchMessageObject, MailboxObject } from "imapflow";
import type { Operation } from "./errors";
import { ImapError } from "./errors";
import type { UidSet } from "./inputs";
import { flagList } from "./serialize";
import type { Session } from "./session";
import { hasFlag } from "./session";

/** The messages a UID set names, as they exist in the selected mailbox. */
export interface Resolved {
  /** Ascending. */
  uids: number[];
  /** A UID set naming exactly these messages (and no UID that could ever name another one). */
  set: string;
  /** The flags each message had when it was resolved. */
  flags: Map<number, string[]>;
}

export interface MessageFlags {
  uid: number;
  flags: string[];
}

export interface Interval {
  lo: number;
  hi: number;
}

/**
 * The UIDs the set asks for, as merged intervals. `n:*` means "n and above": the server reads it
 * as n..highest, which names the last message even when its UID is below n.
 */
export function requestedIntervals(wanted: UidSet, highest: number): Interval[] {
  const list: Interval[] = wanted.singles.map((uid) => ({ lo: uid, hi: uid }));
  for (const item of wanted.ranges) {
    const [a, b = a] = item.split(":");
    if (a === "*" && b === "*") list.push({ lo: highest, hi: highest });
    else if (a === "*" || b === "*") list.push({ lo: Number(a === "*" ? b : a), hi: Infinity });
    else list.push({ lo: Math.min(Number(a), Number(b)), hi: Math.max(Number(a), Number(b)) });
  }
  list.sort((x, y) => x.lo - y.lo);
  const merged: Interval[] = [];
  for (const next of list) {
    const last = merged[merged.length - 1];
    if (last && next.lo <= last.hi + 1) last.hi = Math.max(last.hi, next.hi);
    else merged.push({ ...next });
  }
  return merged;
}

/**
 * A compact set of ascending, existing UIDs. Two of them share a range only when every UID between
 * them was asked for and did not exist: such a UID can never name a message later (UIDs only grow),
 * so the range names exactly these messages. Without `within`, only consecutive UIDs are joined.
 */
export function uidSetOf(uids: number[], within?: Interval[]): string {
  const groupOf = (uid: number) =>
    within ? within.findIndex((iv) => uid >= iv.lo && uid <= iv.hi) : -1;
  const parts: string[] = [];
  let start = 0;
  for (let i = 1; i <= uids.length; i += 1) {
    const joined =
      i < uids.length &&
      (uids[i] === uids[i - 1] + 1 ||
        (groupOf(uids[i]) >= 0 && groupOf(uids[i]) === groupOf(uids[i - 1])));
    if (joined) continue;
    parts.push(i - 1 === start ? String(uids[start]) : `${uids[start]}:${uids[i - 1]}`);
    start = i;
  }
  return parts.join(",");
}

const list = (uids: number[]) => uids.join(", ");

/**
 * Finds the messages `wanted` names in the selected mailbox: every UID named singly must exist,
 * ranges match whatever exists in them, and a set that matches nothing is an error. The UIDs the
 * server returns are checked: some servers answer a missing UID with another message.
 */
export async function resolveUids(
  session: Session,
  box: MailboxObject,
  wanted: UidSet,
  doing: string,
): Promise<Resolved> {
  const mailbox = box.path;
  // imapflow turns a lone "*" into the last sequence number; "*:*" names the same message by UID.
  const set = wanted.text === "*" ? "*:*" : wanted.text;
  const rows =
    box.exists === 0
      ? []
      : await session.run({ doing, mailbox, uid: wanted.text }, () =>
          session.client.fetchAll(set, { uid: true, flags: true }, { uid: true }),
        );
  const highest = rows.reduce((max, row) => Math.max(max, row.uid), 0);
  const intervals = requestedIntervals(wanted, highest);
  const flags = new Map<number, string[]>();
  for (const row of rows) {
    if (intervals.some((iv) => row.uid >= iv.lo && row.uid <= iv.hi))
      flags.set(row.uid, Array.from(row.flags ?? []));
  }
  const missing = wanted.singles.filter((uid) => !flags.has(uid));
  if (missing.length > 0) {
    throw new ImapError(
      `Could not ${doing}: the mailbox "${mailbox}" has no message with UID ${list(missing)}, so nothing was changed. Check the UIDs: they come from Search / List Mailbox Messages or the trigger, and a message that was moved or deleted is gone for good.`,
      { code: "MESSAGE_NOT_FOUND", mailbox, uid: missing.join(",") },
    );
  }
  if (flags.size === 0) {
    throw new ImapError(
      `Could not ${doing}: no message in the mailbox "${mailbox}" matches UIDs ${wanted.text}, so nothing was changed.`,
      {
        code: "MESSAGE_NOT_FOUND",
        mailbox,
        uid: wanted.text,
      },
    );
  }
  const uids = Array.from(flags.keys()).sort((a, b) => a - b);
  return { uids, set: uidSetOf(uids, intervals), flags };
}

/** The flags of the resolved messages now (as flagList shows them); a message another client expunged meanwhile is left out. */
export async function readFlags(
  session: Session,
  mailbox: string,
  target: Resolved,
): Promise<MessageFlags[]> {
  const rows = await session.run({ doing: "read the flags back", mailbox, uid: target.set }, () =>
    session.client.fetchAll(target.set, { uid: true, flags: true }, { uid: true }),
  );
  const wanted = new Set(target.uids);
  return rows
    .filter((row) => wanted.has(row.uid))
    .sort((a, b) => a.uid - b.uid)
    .map((row) => ({ uid: row.uid, flags: flagList(row.flags) }));
}

export type FlagChange = "add" | "remove" | "set";

const CHANGE_DOING: Record<FlagChange, string> = {
  add: "add flags",
  remove: "remove flags",
  set: "set flags",
};

/** Adds, removes or replaces flags of the messages `wanted` names; returns the flags they have afterwards. */
export async function changeFlags(
  session: Session,
  mailbox: string,
  wanted: UidSet,
  flags: string[],
  change: FlagChange,
): Promise<{ mailbox: string; messages: MessageFlags[] }> {
  const doing = CHANGE_DOING[change];
  return session.withMailbox(mailbox, { readOnly: false }, async (box) => {
    // imapflow silently drops a flag the mailbox cannot keep; say so instead.
    const permanent = box.permanentFlags;
    const refused =
      change === "remove" || !permanent || permanent.has("\\*")
        ? []
        : flags.filter((flag) => !permanent.has(flag));
    if (refused.length > 0) {
      throw new ImapError(
        `Could not ${doing}: the mailbox "${box.path}" cannot keep the flag ${refused.join(", ")} (it keeps ${Array.from(permanent ?? []).join(" ") || "no flags"}). Nothing was changed.`,
        { code: "SERVER_REFUSED", mailbox: box.path },
      );
    }
    const target = await resolveUids(session, box, wanted, doing);
    const op: Operation = { doing, mailbox: box.path, uid: target.set };
    const client = session.client;
    if (change === "add")
      await session.run(op, () => client.messageFlagsAdd(target.set, flags, { uid: true }));
    else if (change === "remove")
      await session.run(op, () => client.messageFlagsRemove(target.set, flags, { uid: true }));
    else await session.run(op, () => client.messageFlagsSet(target.set, flags, { uid: true }));
    return { mailbox: box.path, messages: await readFlags(session, box.path, target) };
  });
}

/** Messages other than `target` that carry \Deleted: a plain EXPUNGE would remove them too. */
async function othersDeleted(
  session: Session,
  mailbox: string,
  target: Resolved,
  doing: string,
): Promise<number[]> {
  const op = { doing: `${doing} (look for other deleted messages)`, mailbox };
  // Dovecot answers SEARCH from the session's last view of the mailbox: a \Deleted flag another
  // client set since then is missing from the result, yet EXPUNGE would remove that message.
  // NOOP brings the view up to date first.
  await session.exec(op, () => session.client.noop());
  const deleted = await session.run(op, () =>
    session.client.search({ deleted: true }, { uid: true }),
  );
  const ours = new Set(target.uids);
  return deleted.filter((uid) => !ours.has(uid));
}

function unsafeExpunge(
  mailbox: string,
  target: Resolved,
  others: number[],
  doing: string,
): ImapError {
  return new ImapError(
    `Could not ${doing} (UID ${list(target.uids)} in mailbox "${mailbox}"): the server has no UIDPLUS extension, so removing a message takes a plain EXPUNGE, which would also remove the other messages marked \\Deleted but not yet expunged (UID ${list(others)}). Nothing was changed. Expunge or undelete those messages first, then retry.`,
    { code: "UNSAFE_EXPUNGE", mailbox, uid: target.set },
  );
}

/**
 * Without UIDPLUS: refuses, before anything changes, when a plain EXPUNGE would remove messages
 * other than `target`. With UIDPLUS there is nothing to check.
 */
export async function refuseUnsafeExpunge(
  session: Session,
  mailbox: string,
  target: Resolved,
  doing: string,
): Promise<void> {
  if (session.has("UIDPLUS")) return;
  const others = await othersDeleted(session, mailbox, target, doing);
  if (others.length > 0) throw unsafeExpunge(mailbox, target, others, doing);
}

/**
 * Removes exactly the `target` messages from the selected mailbox. With UIDPLUS: UID EXPUNGE of
 * their UIDs. Without it a plain EXPUNGE removes every \Deleted message, so it is sent only when no
 * other message carries \Deleted, checked before and again after flagging the targets; when another
 * client flagged one in between, the targets get their flags back and the call fails.
 */
export async function expungeExactly(
  session: Session,
  mailbox: string,
  target: Resolved,
  doing: string,
): Promise<void> {
  const op: Operation = { doing, mailbox, uid: target.set };
  const client = session.client;
  if (session.has("UIDPLUS")) {
    await session.run(op, () => client.messageDelete(target.set, { uid: true }));
    return;
  }
  await refuseUnsafeExpunge(session, mailbox, target, doing);
  await session.run(op, () => client.messageFlagsAdd(target.set, ["\\Deleted"], { uid: true }));
  const others = await othersDeleted(session, mailbox, target, doing);
  if (others.length > 0) {
    const flagged = target.uids.filter((uid) => !hasFlag(target.flags.get(uid) ?? [], "\\Deleted"));
    if (flagged.length > 0)
      await session.run(op, () =>
        client.messageFlagsRemove(uidSetOf(flagged), ["\\Deleted"], { uid: true }),
      );
    throw unsafeExpunge(mailbox, target, others, doing);
  }
  await session.run(op, () => client.messageDelete(target.set, { uid: true }));
}

/** Deletes one message (resolved first: a missing UID is an error) and expunges only it. */
export async function deleteOne(session: Session, mailbox: string, uid: number): Promise<true> {
  const doing = "delete the message";
  return session.withMailbox(mailbox, { readOnly: false }, async (box) => {
    const target = await resolveUids(
      session,
      box,
      { text: String(uid), singles: [uid], ranges: [] },
      doing,
    );
    await expungeExactly(session, box.path, target, doing);
    return true as const;
  });
}

/** The Message-ID of a message, from its raw header section ("" when it has none). */
export function messageIdOf(raw: Buffer | undefined): string {
  if (!raw) return "";
  const end = raw.indexOf("\r\n\r\n");
  const lfEnd = raw.indexOf("\n\n");
  const stop = [end, lfEnd].filter((i) => i >= 0).reduce((a, b) => Math.min(a, b), raw.length);
  const header = raw.toString("latin1", 0, stop).replace(/\r?\n[ \t]+/g, " ");
  const match = /^message-id[ \t]*:(.*)$/im.exec(header);
  return match ? match[1].trim() : "";
}

export interface Identity {
  uid: number;
  messageId: string;
  size: number;
}

/** UID, Message-ID and size of the messages of `set` whose UID is at least `from`, ascending. */
export async function identities(
  session: Session,
  mailbox: string,
  set: string,
  doing: string,
  from = 1,
): Promise<Identity[]> {
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
  const arrived = await session.withMailbox(destination, { readOnly: true }, async (box) => {
    if (box.uidValidity !== before.uidValidity) {
      throw new ImapError(
        `Could not ${doing}: the mailbox "${destination}" was recreated meanwhile (its UIDVALIDITY changed), so the copies cannot be identified.`,
        { code: "COPY_INCOMPLETE", mailbox: destination },
      );
    }
    return box.exists === 0
      ? []
      : identities(
          session,
          destination,
          `${before.uidNext}:*`,
          `${doing} (find the copies)`,
          before.uidNext,
        );
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

export interface Transfer {
  path: string;
  destination: string;
  uidValidity: string;
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
): Promise<Transfer> {
  const doing =
    mode === "copy" ? `copy messages to "${destination}"` : `move messages to "${destination}"`;
  const uidPlus = session.has("UIDPLUS");
  const byMove = mode === "move" && session.has("MOVE");
  const dest = await session.run(
    { doing: "open the destination mailbox", mailbox: destination },
    () => session.client.status(destination, { uidNext: true, uidValidity: true }),
  );
  const before = { uidNext: dest.uidNext ?? 1, uidValidity: dest.uidValidity ?? BigInt(0) };
  const first = await session.withMailbox(source, { readOnly: mode === "copy" }, async (box) => {
    const target = await resolveUids(session, box, wanted, doing);
    const sources = uidPlus ? [] : await identities(session, box.path, target.set, doing);
    // Refused here, before the copy, so that nothing changes in the common case.
    if (mode === "move" && !byMove)
      await refuseUnsafeExpunge(
        session,
        box.path,
        target,
        "remove the copied messages from the source",
      );
    const op: Operation = { doing, mailbox: box.path, uid: target.set };
    const result = await session.run(op, () =>
      byMove
        ? session.client.messageMove(target.set, destination, { uid: true })
        : session.client.messageCopy(target.set, destination, { uid: true }),
    );
    const map = uidPlus ? (result.uidMap ?? new Map<number, number>()) : undefined;
    if (mode === "move" && !byMove && map) {
      refuseIncomplete(box.path, destination, target, map);
      await expungeExactly(session, box.path, target, "remove the copied messages from the source");
    }
    // The destination's UIDVALIDITY: the one COPYUID reports, else the one STATUS gave before.
    const uidValidity =
      uidPlus && result.uidValidity !== undefined ? result.uidValidity : before.uidValidity;
    return { path: box.path, target, sources, map, uidValidity, sourceValidity: box.uidValidity };
  });
  const map = first.map ?? (await findCopies(session, destination, before, first.sources, doing));
  if (mode === "move" && !byMove && !first.map) {
    refuseIncomplete(first.path, destination, first.target, map);
    await session.withMailbox(first.path, { readOnly: false }, async (box) => {
      if (box.uidValidity !== first.sourceValidity) {
        throw new ImapError(
          `Moved nothing: the messages were copied to "${destination}", but the mailbox "${first.path}" was recreated meanwhile (its UIDVALIDITY changed), so they were not removed from it.`,
          { code: "COPY_INCOMPLETE", mailbox: first.path },
        );
      }
      await expungeExactly(
        session,
        box.path,
        first.target,
        "remove the copied messages from the source",
      );
    });
  }
  return {
    path: first.path,
    destination,
    uidValidity: first.uidValidity.toString(),
    uidMap: first.target.uids.map((uid) => ({
      sourceUid: uid,
      destinationUid: map.get(uid) ?? null,
    })),
  };
}

/** A move by copy removes nothing unless every message demonstrably arrived. */
function refuseIncomplete(
  source: string,
  destination: string,
  target: Resolved,
  map: Map<number, number>,
): void {
  const missing = target.uids.filter((uid) => !map.has(uid));
  if (missing.length === 0) return;
  throw new ImapError(
    `Could not move messages to "${destination}": the server has no MOVE, and the copy of UID ${list(missing)} could not be confirmed in "${destination}", so nothing was removed from "${source}". Check "${destination}" for copies before retrying: the messages that were copied are there as well as in "${source}".`,
    { code: "COPY_INCOMPLETE", mailbox: source, uid: missing.join(",") },
  );
}
