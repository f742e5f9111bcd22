/**
 * UID-set arithmetic, shared by every module that names messages by UID: the largest UID, the
 * parsed form of a UID set input, merged intervals, and compact sets and ranges for the wire.
 * A leaf module: it imports nothing of the component.
 */

/** The largest UID RFC 3501 allows (a non-zero 32-bit unsigned number). */
export const MAX_UID = 4_294_967_295;

/** Whether `value` is a whole number in 1..MAX_UID. */
export function isUid(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MAX_UID;
}

/** A UID set as a builder typed it, checked but not yet matched against a mailbox. */
export interface UidSet {
  /** The set as sent to the server, e.g. "1,5,10:20". */
  text: string;
  /** UIDs named one by one: each must exist. */
  singles: number[];
  /** Ranges such as 10:20 or 100:*: they match whatever exists in them. */
  ranges: string[];
}

/** The set naming one UID. */
export function singleUid(uid: number): UidSet {
  return { text: String(uid), singles: [uid], ranges: [] };
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
    const [a = "*", b = a] = item.split(":");
    if (a === "*" && b === "*") list.push({ lo: highest, hi: highest });
    else if (a === "*" || b === "*") list.push({ lo: Number(a === "*" ? b : a), hi: Infinity });
    else list.push({ lo: Math.min(Number(a), Number(b)), hi: Math.max(Number(a), Number(b)) });
  }
  list.sort((x, y) => x.lo - y.lo);
  const merged: Interval[] = [];
  for (const next of list) {
    const last = merged.at(-1);
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
    const current = uids[i];
    const previous = uids[i - 1] as number;
    const joined =
      current !== undefined &&
      (current === previous + 1 ||
        (groupOf(current) >= 0 && groupOf(current) === groupOf(previous)));
    if (joined) continue;
    parts.push(i - 1 === start ? String(uids[start]) : `${uids[start]}:${previous}`);
    start = i;
  }
  return parts.join(",");
}

/** UIDs as ascending, disjoint [low, high] ranges: ESEARCH answers 1:100000, not 100000 numbers. */
export type Ranges = Array<[number, number]>;

/** The ranges covering `uids` (in any order). */
export function toRanges(uids: number[]): Ranges {
  return mergeRanges(uids.map((uid): [number, number] => [uid, uid]));
}

/** Sorts and merges overlapping or adjacent ranges. */
export function mergeRanges(ranges: Ranges): Ranges {
  const merged: Ranges = [];
  for (const [low, high] of [...ranges].sort((a, b) => a[0] - b[0])) {
    const last = merged.at(-1);
    if (last && low <= last[1] + 1) last[1] = Math.max(last[1], high);
    else merged.push([low, high]);
  }
  return merged;
}
