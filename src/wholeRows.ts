/**
 * Rows the server did not send back whole. A FETCH can come back without a message the
 * component asked for, or with a placeholder for it, for two reasons that look alike and must
 * never be confused: the message was expunged meanwhile (it is gone: leave it out), or the
 * server's answer was damaged (a line the client could not parse is skipped; the message is
 * still there: never pass it by). Which one it was is asked of the server, never assumed.
 */
import type { FetchMessageObject } from "imapflow";
import { ImapError } from "./errors";
import type { Selected } from "./session";
import { uidSetOf } from "./uidSet";

/** The FETCH items a message must come back with. */
export interface WantedItems {
  envelope?: boolean;
  internalDate?: boolean;
  size?: boolean;
  source?: boolean;
}

/**
 * Whether `row` has every item of `wanted`. A message expunged by another session while this
 * one still sees it comes back from Dovecot as a placeholder: RFC822.SIZE 0, an empty envelope
 * and a 1970 date. No stored message has size 0, so that is never a message either.
 */
export function isWhole(row: FetchMessageObject, wanted: WantedItems): boolean {
  if (wanted.envelope && row.envelope === undefined) return false;
  if (wanted.internalDate) {
    const date = row.internalDate === undefined ? Number.NaN : new Date(row.internalDate).getTime();
    if (Number.isNaN(date)) return false;
  }
  if (wanted.size && !(typeof row.size === "number" && row.size > 0)) return false;
  if (wanted.source && !(row.source && row.source.length > 0)) return false;
  return true;
}

/**
 * The UIDs in `set` that exist in the selected mailbox now, ascending: a NOOP first, so that the
 * server reports the expunges it has not reported yet, then UID SEARCH of exactly that set. If
 * the search's own answer could not be parsed, nothing can be concluded: that is `unknown`'s
 * error, so that no message is ever passed by on a guess.
 */
export async function existingUids(
  { session, box }: Selected,
  set: string,
  doing: string,
  unknown: () => ImapError,
): Promise<number[]> {
  const op = { doing: `${doing} (check which messages still exist)`, mailbox: box.path, uid: set };
  const before = session.unparsedLines;
  await session.exec(op, () => session.client.noop());
  const found = await session.run(op, () => session.client.search({ uid: set }, { uid: true }));
  if (session.unparsedLines > before) throw unknown();
  return found;
}

/**
 * Sorts `missing` (UIDs asked for that did not come back whole) into expunged and still there.
 * Returns the expunged ones; any that still exists is the error `damaged` makes.
 */
export async function confirmExpunged(
  selected: Selected,
  missing: number[],
  doing: string,
  damaged: (uids: number[], exist: boolean) => ImapError,
): Promise<number[]> {
  if (missing.length === 0) return [];
  const found = new Set(
    await existingUids(selected, uidSetOf(missing), doing, () => damaged(missing, false)),
  );
  // Some servers match UID SEARCH loosely: only the UIDs asked about count.
  const existing = missing.filter((uid) => found.has(uid));
  if (existing.length > 0) throw damaged(existing, true);
  return missing;
}

/**
 * The error for messages that did not come back whole and still exist (`exist`: checked), or
 * whose existence could not be checked: says what was damaged, where, and what a retry does
 * (`retry`, e.g. "Nothing was changed; retry the step.").
 */
export function damagedAnswer(
  selected: Selected,
  what: string,
  retry: string,
  uids: number[],
  exist: boolean,
): ImapError {
  const mailbox = selected.box.path;
  const unparsed = selected.session.unparsedLines;
  const why =
    unparsed > 0
      ? `${unparsed === 1 ? "a line" : `${unparsed} lines`} of the server's answers in this session could not be parsed`
      : "the server sent no usable row for it";
  const named = uids.length === 1 ? `UID ${uids[0]}` : `UIDs ${uids.join(", ")}`;
  const fact = exist
    ? `lacked ${named} or sent it incomplete, although the message still exists (${why})`
    : `could not be read whole (${why}), and the check of which messages still exist${uids.length ? ` (${named})` : ""} could not be read either`;
  return new ImapError(
    `The server's answer to ${what} in mailbox "${mailbox}" ${fact}. ${retry} If it keeps happening, the server or something between it and here (a proxy, a virus scanner) damages its answers: report it to the server's administrator.`,
    {
      code: "RESPONSE_DAMAGED",
      mailbox,
      uid: uids.length === 1 ? uids[0] : uids.length ? uids.join(",") : undefined,
    },
  );
}
