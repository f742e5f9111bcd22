/**
 * The messages a UID set names, and the changes made to exactly them: a UID set is resolved
 * against the selected mailbox before anything changes, every command then names exactly the
 * resolved UIDs (flag changes), and nothing is expunged that was not asked for, also on servers
 * without UIDPLUS.
 */
import type { FlagsEvent } from "imapflow";
import type { Operation } from "./errors";
import { ImapError } from "./errors";
import type { Token, Untagged } from "./imapExec";
import { imapCommand } from "./imapExec";
import { flagList, hasFlag } from "./serialize";
import type { Selected, Session } from "./session";
import type { UidSet } from "./uidSet";
import { requestedIntervals, singleUid, uidSetOf } from "./uidSet";
import { confirmExpunged, damagedAnswer, existingUids } from "./wholeRows";

/** The messages a UID set names, as they exist in the selected mailbox. */
export interface ResolvedUids {
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

/** UIDs for a message text: "1, 5, 9". */
export const list = (uids: number[]) => uids.join(", ");

/**
 * The guard of every write by UID: when the caller says which UIDVALIDITY its UIDs belong to and
 * the selected mailbox now has another one, the mailbox was recreated (or the server rebuilt it)
 * and the same UIDs may name other messages, so nothing may change. Call it first inside the
 * selected mailbox; `expected` undefined means the caller gave none and nothing is checked.
 */
export function requireUidValidity(
  selected: Selected,
  expected: string | undefined,
  doing: string,
): void {
  if (expected === undefined) return;
  const current = selected.box.uidValidity.toString();
  if (current === expected) return;
  const mailbox = selected.box.path;
  throw new ImapError(
    `Could not ${doing}: the mailbox "${mailbox}" now has UIDVALIDITY ${current}, not ${expected} as given, so it was deleted and recreated (or the server rebuilt it) since the UIDs were read, and they may name other messages. Nothing was changed. Search the mailbox again and use the UIDs and uidValidity it returns.`,
    { code: "UIDVALIDITY_CHANGED", mailbox },
  );
}

/**
 * Finds the messages `wanted` names in the selected mailbox: every UID named singly must exist,
 * ranges match whatever exists in them, and a set that matches nothing is an error. The UIDs the
 * server returns are checked: some servers answer a missing UID with another message.
 */
export async function resolveUids(
  selected: Selected,
  wanted: UidSet,
  doing: string,
): Promise<ResolvedUids> {
  const { session, box } = selected;
  const mailbox = box.path;
  // imapflow turns a lone "*" into the last sequence number; "*:*" names the same message by UID.
  const set = wanted.text === "*" ? "*:*" : wanted.text;
  const before = session.unparsedLines;
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
    if (intervals.some((iv) => row.uid >= iv.lo && row.uid <= iv.hi) && row.flags !== undefined)
      flags.set(row.uid, Array.from(row.flags));
  }
  const damaged = session.unparsedLines > before;
  const missing = wanted.singles.filter((uid) => !flags.has(uid));
  // A row the client could not parse is skipped: never take its message for a missing one.
  if (damaged || missing.length > 0) {
    const check = damaged ? set : uidSetOf(missing);
    await refuseUnlisted(selected, check, (uid) => !flags.has(uid) && inSet(wanted, uid), doing);
  }
  if (missing.length > 0) throw noSuchMessage(doing, mailbox, missing);
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

/** The error for UIDs named one by one that name no message (nothing was sent that changes). */
export function noSuchMessage(doing: string, mailbox: string, missing: number[]): ImapError {
  return new ImapError(
    `Could not ${doing}: the mailbox "${mailbox}" has no message with UID ${list(missing)}, so nothing was changed. Check the UIDs: they come from Search / List Mailbox Messages or the trigger, and a message that was moved or deleted is gone for good.`,
    { code: "MESSAGE_NOT_FOUND", mailbox, uid: missing.join(",") },
  );
}

/**
 * The UID of `wanted` when it names exactly one UID (no range, no `*`): a change of it can be sent
 * without reading it first, as a change that finds no message changes nothing. (With more UIDs,
 * one that is missing must stop the change of the others before it is sent.)
 */
export function onlyUid(wanted: UidSet): number | undefined {
  const [uid, ...others] = new Set(wanted.singles);
  return wanted.ranges.length === 0 && others.length === 0 ? uid : undefined;
}

/**
 * Runs a flag STORE (`call`) and returns the flags its answer reports for the UIDs of `wanted`:
 * the server answers a STORE that is not .SILENT with an untagged FETCH (UID, FLAGS) for each
 * message it changed. A message whose flags were already as asked gets no row from Dovecot, and a
 * line the client could not parse is skipped, so a UID without a row says nothing by itself.
 */
async function storeAnswer(
  session: Session,
  op: Operation,
  wanted: number[],
  call: () => Promise<boolean>,
): Promise<Map<number, string[]>> {
  const named = new Set(wanted);
  const rows = new Map<number, string[]>();
  const collect = (event: FlagsEvent) => {
    if (event.uid !== undefined && named.has(event.uid)) rows.set(event.uid, flagList(event.flags));
  };
  session.client.on("flags", collect);
  try {
    await session.run(op, call);
  } finally {
    session.client.off("flags", collect);
  }
  return rows;
}

/**
 * Changes the flags of one UID without reading it first, and returns its flags from the STORE's
 * own answer. Without a row there it is read back with UID FETCH; when it does not come back then
 * either, the server is asked (NOOP, then UID SEARCH): gone, it is the same "no message with UID"
 * error as when it is read first; still there, the damaged-answer error.
 */
async function changeOne(
  selected: Selected,
  uid: number,
  store: (set: string) => Promise<boolean>,
  doing: string,
): Promise<MessageFlags[]> {
  const { session, box } = selected;
  const mailbox = box.path;
  const set = String(uid);
  const rows = await storeAnswer(session, { doing, mailbox, uid: set }, [uid], () => store(set));
  let flags = rows.get(uid);
  if (flags === undefined) {
    const reading = "read the flags back";
    const fetched = await session.run({ doing: reading, mailbox, uid: set }, () =>
      session.client.fetchAll(set, { uid: true, flags: true }, { uid: true }),
    );
    const row = fetched.find((each) => each.uid === uid && each.flags !== undefined);
    if (row) flags = flagList(row.flags);
  }
  if (flags !== undefined) return [{ uid, flags }];
  await confirmExpunged(selected, [uid], "read the flags back", (ids, exist) =>
    damagedAnswer(
      selected,
      "the reading back of the flags",
      `The change (${doing}) was made on the server; only reading the flags back failed, so running the step again is safe.`,
      ids,
      exist,
    ),
  );
  throw noSuchMessage(doing, mailbox, [uid]);
}

/** Whether `uid` is named by `wanted` ("*" stands for any UID at the top: a server's UIDs are checked against the listing). */
function inSet(wanted: UidSet, uid: number): boolean {
  return requestedIntervals(wanted, uid).some((iv) => uid >= iv.lo && uid <= iv.hi);
}

/** Fails when a message of `set` exists but was not in the listing `listed` (a damaged answer). */
async function refuseUnlisted(
  selected: Selected,
  set: string,
  unlisted: (uid: number) => boolean,
  doing: string,
): Promise<void> {
  const what = `the listing of the messages to ${doing}`;
  const retry = "Nothing was changed; retry the step.";
  const found = await existingUids(selected, set, doing, () =>
    damagedAnswer(selected, what, retry, [], false),
  );
  const existing = found.filter(unlisted);
  if (existing.length > 0) throw damagedAnswer(selected, what, retry, existing, true);
}

/**
 * The flags of the resolved messages now (as flagList shows them). A message another client
 * expunged meanwhile is left out, once the server confirmed it is gone; one whose row did not
 * come back although it exists is an error (the change itself was made).
 */
export async function readFlags(
  selected: Selected,
  target: ResolvedUids,
  doing: string,
): Promise<MessageFlags[]> {
  const { session, box } = selected;
  const mailbox = box.path;
  const reading = "read the flags back";
  const rows = await session.run({ doing: reading, mailbox, uid: target.set }, () =>
    session.client.fetchAll(target.set, { uid: true, flags: true }, { uid: true }),
  );
  const wanted = new Set(target.uids);
  const read = rows.filter((row) => wanted.has(row.uid) && row.flags !== undefined);
  for (const row of read) wanted.delete(row.uid);
  await confirmExpunged(selected, [...wanted], reading, (uids, exist) =>
    damagedAnswer(
      selected,
      "the reading back of the flags",
      `The change (${doing}) was made on the server; only reading the flags back failed, so running the step again is safe.`,
      uids,
      exist,
    ),
  );
  return read
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
  uidValidity?: string,
): Promise<{ mailbox: string; messages: MessageFlags[] }> {
  const doing = CHANGE_DOING[change];
  return session.withMailbox(mailbox, { readOnly: false }, async (selected) => {
    requireUidValidity(selected, uidValidity, doing);
    const box = selected.box;
    // imapflow silently drops a flag the mailbox cannot keep; say so instead.
    const permanent = box.permanentFlags;
    const refused =
      change === "remove" || !permanent || hasFlag(permanent, "\\*")
        ? []
        : flags.filter((flag) => !hasFlag(permanent, flag));
    if (refused.length > 0) {
      throw new ImapError(
        `Could not ${doing}: the mailbox "${box.path}" cannot keep the flag ${refused.join(", ")} (it keeps ${Array.from(permanent ?? []).join(" ") || "no flags"}). Nothing was changed.`,
        { code: "SERVER_REFUSED", mailbox: box.path },
      );
    }
    const client = session.client;
    const store = (set: string) =>
      change === "add"
        ? client.messageFlagsAdd(set, flags, { uid: true })
        : change === "remove"
          ? client.messageFlagsRemove(set, flags, { uid: true })
          : client.messageFlagsSet(set, flags, { uid: true });
    const one = onlyUid(wanted);
    if (one !== undefined && box.exists > 0)
      return { mailbox: box.path, messages: await changeOne(selected, one, store, doing) };
    const target = await resolveUids(selected, wanted, doing);
    const op: Operation = { doing, mailbox: box.path, uid: target.set };
    await session.run(op, () => store(target.set));
    return { mailbox: box.path, messages: await readFlags(selected, target, doing) };
  });
}

/** Messages other than `target` that carry \Deleted: a plain EXPUNGE would remove them too. */
async function othersDeleted(
  { session, box }: Selected,
  target: ResolvedUids,
  doing: string,
): Promise<number[]> {
  const mailbox = box.path;
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
  target: ResolvedUids,
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
  selected: Selected,
  target: ResolvedUids,
  doing: string,
): Promise<void> {
  if (selected.session.has("UIDPLUS")) return;
  const others = await othersDeleted(selected, target, doing);
  if (others.length > 0) throw unsafeExpunge(selected.box.path, target, others, doing);
}

/**
 * Removes exactly the `target` messages from the selected mailbox. With UIDPLUS: UID EXPUNGE of
 * their UIDs. Without it a plain EXPUNGE removes every \Deleted message, so it is sent only when no
 * other message carries \Deleted, checked before and again after flagging the targets; when another
 * client flagged one in between, the targets get their flags back and the call fails.
 */
export async function expungeExactly(
  selected: Selected,
  target: ResolvedUids,
  doing: string,
): Promise<void> {
  const { session } = selected;
  const mailbox = selected.box.path;
  const op: Operation = { doing, mailbox, uid: target.set };
  const client = session.client;
  if (session.has("UIDPLUS")) {
    await session.run(op, () => client.messageDelete(target.set, { uid: true }));
    return;
  }
  await refuseUnsafeExpunge(selected, target, doing);
  await session.run(op, () => client.messageFlagsAdd(target.set, ["\\Deleted"], { uid: true }));
  const others = await othersDeleted(selected, target, doing);
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

/**
 * Deletes one UID on a server with UIDPLUS in one round trip: `UID FETCH` of it (whether it
 * exists), `UID STORE +FLAGS.SILENT (\Deleted)` and `UID EXPUNGE` of it, written together. The
 * expunge removes that UID only, and nothing if it names no message: then the FETCH had no row,
 * and it is the "no message with UID" error as ever. Where the FETCH's answer failed or could not
 * be parsed, the server is asked afterwards (NOOP, UID SEARCH): still there, it is the
 * damaged-answer error; gone, the step succeeded if the server reported a removal meanwhile, else
 * the UID named no message.
 */
async function deleteNamed(selected: Selected, uid: number, doing: string): Promise<void> {
  const { session, box } = selected;
  const mailbox = box.path;
  const set = String(uid);
  const op: Operation = { doing, mailbox, uid: set };
  const command = imapCommand(session.client, {
    doing,
    mailbox,
    feature: "expunging exactly the message asked for needs",
  });
  // a mailbox that cannot keep \Deleted would take the STORE and expunge nothing (imapflow's test)
  const permanent = box.permanentFlags;
  if (permanent && !hasFlag(permanent, "\\*") && !hasFlag(permanent, "\\Deleted"))
    throw session.refused(op);
  const uids: Token = { type: "SEQUENCE", value: set };
  const listed = new Set<number>();
  let expunges = 0;
  const counted = () => {
    expunges += 1;
  };
  const before = session.unparsedLines;
  session.client.on("expunge", counted);
  const [fetched, flagged, expunged] = session.pipelined([
    () =>
      command("UID FETCH", [uids, [{ type: "ATOM", value: "UID" }]], {
        FETCH: async (untagged) => {
          const found = rowUid(untagged);
          if (found !== undefined) listed.add(found);
        },
      }),
    () =>
      command(
        "UID STORE",
        [uids, { type: "ATOM", value: "+FLAGS.SILENT" }, [{ type: "ATOM", value: "\\Deleted" }]],
        {},
      ),
    () => command("UID EXPUNGE", [uids], {}),
  ]);
  // all three were sent: each is answered before any is judged
  const [listing] = await Promise.allSettled([fetched, flagged, expunged]);
  session.client.off("expunge", counted);
  await session.exec(op, () => flagged as Promise<void>);
  await session.exec(op, () => expunged as Promise<void>);
  if (listing.status === "fulfilled" && listed.has(uid)) return;
  // a listing that failed or could not be parsed says nothing of whether the message was there
  const damaged = listing.status === "rejected" || session.unparsedLines > before;
  const found = await existingUids(selected, set, doing, () =>
    damagedAnswer(
      selected,
      "the listing of the message to delete",
      "It may not have been expunged; retry the step.",
      [uid],
      false,
    ),
  );
  if (found.includes(uid))
    throw damagedAnswer(
      selected,
      "the listing of the message to delete",
      "It was not expunged (it may carry the \\Deleted flag now); retry the step.",
      [uid],
      true,
    );
  // gone, with no row to tell that it was there: only a removal seen in this step says it was
  if (!damaged || expunges === 0) throw noSuchMessage(doing, mailbox, [uid]);
}

/** The UID of an untagged FETCH row, when it has one. */
export function rowUid(untagged: Untagged | undefined): number | undefined {
  const items = untagged?.attributes?.[1];
  if (!Array.isArray(items)) return undefined;
  for (let i = 0; i + 1 < items.length; i += 2) {
    const key: unknown = Reflect.get(Object(items[i]), "value");
    const value: unknown = Reflect.get(Object(items[i + 1]), "value");
    if (typeof key === "string" && key.toUpperCase() === "UID" && typeof value === "string")
      return /^[1-9]\d*$/.test(value) ? Number(value) : undefined;
  }
  return undefined;
}

/**
 * Deletes one message and expunges only it. A missing UID is an error: with UIDPLUS the STORE's
 * answer tells (`deleteNamed`), otherwise the message is resolved first.
 */
export async function deleteOne(
  session: Session,
  mailbox: string,
  uid: number,
  uidValidity?: string,
): Promise<true> {
  const doing = "delete the message";
  return session.withMailbox(mailbox, { readOnly: false }, async (selected) => {
    requireUidValidity(selected, uidValidity, doing);
    if (session.has("UIDPLUS") && selected.box.exists > 0) {
      await deleteNamed(selected, uid, doing);
      return true as const;
    }
    const target = await resolveUids(selected, singleUid(uid), doing);
    await expungeExactly(selected, target, doing);
    return true as const;
  });
}
