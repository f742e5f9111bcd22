/**
 * Copying and moving messages between mailboxes. Moving uses MOVE where the server has it;
 * otherwise it copies, confirms that every message arrived, and only then expunges exactly the
 * copied messages. Without UIDPLUS the copies are found by Message-ID and size.
 */
import type { FetchMessageObject } from "imapflow";
import type { Operation } from "./errors";
import { ImapError } from "./errors";
import { mailboxStatus } from "./mailboxes";
import type { ResolvedUids } from "./messages";
import { expungeExactly, list, refuseUnsafeExpunge, resolveUids } from "./messages";
import type { Selected, Session } from "./session";
import type { UidSet } from "./uidSet";

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
    if (box.uidValidity !== before.uidValidity) {
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
  const dest = await mailboxStatus(session, destination, { uidNext: true, uidValidity: true });
  const before = { uidNext: dest.uidNext ?? 1, uidValidity: dest.uidValidity ?? BigInt(0) };
  const first = await session.withMailbox(
    source,
    { readOnly: mode === "copy" },
    async (selected) => {
      const box = selected.box;
      const target = await resolveUids(selected, wanted, doing);
      const sources = uidPlus ? [] : await identities(selected, target.set, doing);
      // Refused here, before the copy, so that nothing changes in the common case.
      if (mode === "move" && !byMove)
        await refuseUnsafeExpunge(selected, target, "remove the copied messages from the source");
      const op: Operation = { doing, mailbox: box.path, uid: target.set };
      const result = await session.run(op, () =>
        byMove
          ? session.client.messageMove(target.set, destination, { uid: true })
          : session.client.messageCopy(target.set, destination, { uid: true }),
      );
      const map = uidPlus ? (result.uidMap ?? new Map<number, number>()) : undefined;
      if (mode === "move" && !byMove && map) {
        refuseIncomplete(box.path, destination, target, map);
        await expungeExactly(selected, target, "remove the copied messages from the source");
      }
      // The destination's UIDVALIDITY: the one COPYUID reports, else the one STATUS gave before.
      const uidValidity =
        uidPlus && result.uidValidity !== undefined ? result.uidValidity : before.uidValidity;
      return { path: box.path, target, sources, map, uidValidity, sourceValidity: box.uidValidity };
    },
  );
  const map = first.map ?? (await findCopies(session, destination, before, first.sources, doing));
  if (mode === "move" && !byMove && !first.map) {
    refuseIncomplete(first.path, destination, first.target, map);
    await session.withMailbox(first.path, { readOnly: false }, async (selected) => {
      if (selected.box.uidValidity !== first.sourceValidity) {
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
