/**
 * Search Mailbox: one page of the messages matching a search, newest (highest UID) first, with a
 * cursor to the next page. A page costs one UID SEARCH and one UID FETCH of that page's UIDs
 * only, whatever the size of the mailbox.
 *
 * Paging walks down by UID: the cursor carries the mailbox's UIDVALIDITY, the highest UID the
 * chain covers (the newest match of the first page) and the lowest UID delivered so far. Each
 * later page asks for matches below that UID, so following the cursors yields every match exactly
 * once, while mail arriving meanwhile (with higher UIDs) stays out of the chain.
 */
import { createHash } from "node:crypto";
import type { ImapFlow } from "imapflow";
import { ENVELOPE_HEADERS } from "./envelope";
import { ImapError, InputError } from "./errors";
import type { Untagged, UntaggedHandlers } from "./imapExec";
import { imapCommand } from "./imapExec";
import { optionalText, parseChoice, parseLimit, parseMailbox } from "./inputs";
import type { SearchKey, Token } from "./searchCriteria";
import {
  hasLiteral,
  parseCriteria,
  parseDate,
  parseObjectId,
  parseText,
  renderKeys,
} from "./searchCriteria";
import type { MessageSummary } from "./serialize";
import { IDENTITY_QUERY, messageSummary } from "./serialize";
import type { Selected, Session } from "./session";
import { uidValidityOf } from "./session";
import type { Ranges } from "./uidSet";
import { isUid, MAX_UID, mergeRanges, toRanges, uidSetOf } from "./uidSet";
import { confirmExpunged, damagedAnswer, isWhole } from "./wholeRows";

interface Cursor {
  uidValidity: string;
  /** The newest UID the chain covers. */
  top: number;
  /** The lowest UID delivered so far: the next page starts below it. */
  last: number;
  /** Which search the cursor belongs to. */
  search: string;
}

export interface SearchRequest {
  mailbox: string;
  keys: SearchKey[];
  limit: number;
  cursor?: Cursor;
  fingerprint: string;
}

export interface SearchPage {
  mailbox: string;
  uidValidity: string;
  total: number;
  messages: MessageSummary[];
  /** Matches of the page expunged between the SEARCH and the FETCH: left out of `messages`. */
  expungedMeanwhile: number;
  nextCursor: string | null;
}

const CURSOR_HINT =
  "Pass nextCursor of the previous page unchanged, or leave Cursor empty to start again from the newest message.";

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decodeCursor(value: string): Cursor {
  let parsed: unknown;
  try {
    parsed = /^[A-Za-z0-9_-]+$/.test(value)
      ? JSON.parse(Buffer.from(value, "base64url").toString("utf8"))
      : undefined;
  } catch {
    parsed = undefined;
  }
  const c: Record<string, unknown> =
    typeof parsed === "object" && parsed !== null ? { ...parsed } : {};
  if (
    typeof c.uidValidity !== "string" ||
    !/^\d+$/.test(c.uidValidity) ||
    !isUid(c.top) ||
    !isUid(c.last) ||
    c.last > c.top ||
    typeof c.search !== "string"
  ) {
    throw new InputError(
      `Cursor "${value.slice(0, 40)}${value.length > 40 ? "..." : ""}" is not a cursor of Search / List Mailbox Messages (it may be cut off). ${CURSOR_HINT}`,
    );
  }
  return { uidValidity: c.uidValidity, top: c.top, last: c.last, search: c.search };
}

/**
 * The criteria inputs (From, To, Subject, Body, Since, Before, Read Status, Flagged, Criteria)
 * as search keys, validated before any network traffic. Shared with Wait For Email.
 */
export function parseSearchKeys(params: Record<string, unknown>): SearchKey[] {
  const keys: SearchKey[] = [];
  // Errors name each input by its label, as the designer shows it.
  for (const [key, label, atom] of [
    ["from", "From", "FROM"],
    ["to", "To", "TO"],
    ["subject", "Subject", "SUBJECT"],
    ["body", "Body", "TEXT"],
  ] as const) {
    const value = optionalText(params[key], label);
    if (value !== undefined) keys.push({ op: "text", atom, value: parseText(value, label) });
  }
  const since = optionalText(params.since, "Since");
  const before = optionalText(params.before, "Before");
  if (since !== undefined)
    keys.push({ op: "date", atom: "SINCE", date: parseDate(since, "Since") });
  if (before !== undefined)
    keys.push({ op: "date", atom: "BEFORE", date: parseDate(before, "Before") });
  if (since !== undefined && before !== undefined && since.slice(0, 10) >= before.slice(0, 10)) {
    throw new InputError(
      `Since (${since}) is not before Before (${before}): no message can match. Since includes its day, Before excludes its day.`,
    );
  }
  const readStatus = parseChoice(params.readStatus, "Read Status", [
    "all",
    "unread",
    "read",
  ] as const);
  if (readStatus !== "all")
    keys.push({ op: "atom", atom: readStatus === "read" ? "SEEN" : "UNSEEN" });
  const flagged = parseChoice(params.flagged, "Flagged", ["any", "flagged", "unflagged"] as const);
  if (flagged !== "any")
    keys.push({ op: "atom", atom: flagged === "flagged" ? "FLAGGED" : "UNFLAGGED" });
  const threadId = optionalText(params.threadId, "Thread ID");
  if (threadId !== undefined)
    keys.push({ op: "objectId", atom: "THREADID", value: parseObjectId(threadId, "Thread ID") });
  const gmailQuery = optionalText(params.gmailQuery, "Gmail Query");
  if (gmailQuery !== undefined)
    keys.push({
      op: "gmailRaw",
      value: parseText(gmailQuery, "Gmail Query"),
      name: "Gmail Query",
    });
  keys.push(...parseCriteria(params.criteria));
  return keys;
}

/** Validates every input before any network traffic. */
export function parseSearchRequest(params: Record<string, unknown>): SearchRequest {
  const mailbox = parseMailbox(params.mailbox);
  const keys = parseSearchKeys(params);
  const limit = parseLimit(params.limit, "Limit", { min: 1, max: 1000, fallback: 50 });
  const fingerprint = createHash("sha256")
    .update(JSON.stringify({ mailbox, keys }))
    .digest("base64url")
    .slice(0, 16);
  const cursorText = optionalText(params.cursor, "Cursor");
  const cursor = cursorText === undefined ? undefined : decodeCursor(cursorText);
  if (cursor && cursor.search !== fingerprint) {
    throw new InputError(
      `Cursor belongs to another search: the mailbox or the criteria changed since its first page. ${CURSOR_HINT}`,
    );
  }
  return { mailbox, keys, limit, cursor, fingerprint };
}

/** A UID set the server sent (ESEARCH ALL), as [low, high, low, high, ...]. */
function parseSet(set: string): number[] {
  const uids: number[] = [];
  for (const part of set.split(",")) {
    const bounds = part.split(":");
    const valid =
      bounds.length <= 2 &&
      bounds.every(
        (bound) => /^\d{1,10}$/.test(bound) && Number(bound) >= 1 && Number(bound) <= MAX_UID,
      );
    if (!valid) throw new Error(`the server sent an unreadable UID set: ${set.slice(0, 80)}`);
    const low = Number(bounds[0]);
    const high = Number(bounds[1] ?? low);
    uids.push(Math.min(low, high), Math.max(low, high));
  }
  return uids;
}

export type UidSearchCommand = (attributes: Token[], untagged: UntaggedHandlers) => Promise<void>;

/** UID SEARCH through imapflow's command channel (see imapExec.ts for why not search()). */
export function uidSearchCommand(client: ImapFlow, mailbox: string): UidSearchCommand {
  const send = imapCommand(client, {
    doing: "search the mailbox",
    mailbox,
    feature: "Search / List Mailbox Messages uses for exact date criteria",
  });
  return (attributes, untagged) => send("UID SEARCH", attributes, untagged);
}

function atomValue(token: unknown): string | undefined {
  const value =
    typeof token === "object" && token !== null && !Array.isArray(token)
      ? Reflect.get(token, "value")
      : undefined;
  return typeof value === "string" ? value : undefined;
}

/** UID SEARCH, as ESEARCH ALL where offered (a compact set instead of one number per message). */
export async function searchUids(
  session: Session,
  mailbox: string,
  tokens: Token[],
): Promise<Ranges> {
  const send = uidSearchCommand(session.client, mailbox);
  const esearch = session.has("ESEARCH");
  const charset: Token[] =
    hasLiteral(tokens) && !session.client.enabled.has("UTF8=ACCEPT")
      ? [
          { type: "ATOM", value: "CHARSET" },
          { type: "ATOM", value: "UTF-8" },
        ]
      : [];
  const returnAll: Token[] = esearch
    ? [{ type: "ATOM", value: "RETURN" }, [{ type: "ATOM", value: "ALL" }]]
    : [];
  const found: number[] = [];
  const pairs: Array<[number, number]> = [];
  // imapflow only logs what a response handler throws: kept here, so that an answer we cannot
  // read fails the search instead of silently matching fewer messages.
  let unreadable: unknown;
  const guarded = (read: (untagged?: Untagged) => void) => async (untagged?: Untagged) => {
    try {
      read(untagged);
    } catch (err) {
      unreadable ??= err;
    }
  };
  const onSearch = guarded((untagged) => {
    if (untagged?.numbers) for (const n of untagged.numbers) found.push(n);
    else
      for (const token of untagged?.attributes ?? []) {
        const value = atomValue(token) ?? "";
        // A SEARCH answer holds numbers only: anything else is a damaged line, not one UID fewer.
        if (!/^\d{1,10}$/.test(value) || Number(value) < 1 || Number(value) > MAX_UID)
          throw new Error(`the server sent an unreadable SEARCH answer: ${value.slice(0, 80)}`);
        found.push(Number(value));
      }
  });
  const onEsearch = guarded((untagged) => {
    const items = (untagged?.attributes ?? [])
      .filter((token) => !Array.isArray(token))
      .map((token) => atomValue(token) ?? "");
    const at = items.findIndex((item) => item.toUpperCase() === "ALL");
    if (at >= 0) {
      const bounds = parseSet(items[at + 1] ?? "");
      for (let i = 0; i + 1 < bounds.length; i += 2)
        pairs.push([bounds[i] as number, bounds[i + 1] as number]);
    }
  });
  await session.execWhole({ doing: "search the mailbox", mailbox }, () => {
    const all: Token[] = [{ type: "ATOM", value: "ALL" }];
    return send([...returnAll, ...charset, ...(tokens.length ? tokens : all)], {
      SEARCH: onSearch,
      ESEARCH: onEsearch,
    });
  });
  if (unreadable !== undefined) {
    throw new ImapError(
      `Could not search the mailbox "${mailbox}": ${unreadable instanceof Error ? unreadable.message : String(unreadable)}. Nothing was fetched; retry, and report it to the server's administrator if it persists.`,
      { code: "RESPONSE_DAMAGED", mailbox, cause: unreadable },
    );
  }
  return mergeRanges([...pairs, ...toRanges(found)]);
}

/** Up to `limit` UIDs below `below`, highest first. */
function pageBelow(ranges: Ranges, below: number, limit: number): number[] {
  const page: number[] = [];
  for (const [low, high] of [...ranges].reverse()) {
    if (page.length >= limit) break;
    for (let uid = Math.min(high, below - 1); uid >= low && page.length < limit; uid -= 1)
      page.push(uid);
  }
  return page;
}

function checkCursor(cursor: Cursor | undefined, uidValidity: string, path: string): void {
  if (cursor && cursor.uidValidity !== uidValidity) {
    throw new ImapError(
      `The cursor was made for an earlier incarnation of mailbox "${path}" (UIDVALIDITY ${cursor.uidValidity}, now ${uidValidity}): the mailbox was recreated or reset, so its UIDs no longer name the same messages. Start again without a cursor.`,
      { code: "CURSOR_INVALID", mailbox: path },
    );
  }
}

const PAGE_ITEMS = { envelope: true, internalDate: true, size: true } as const;

/**
 * The summaries of `page`, highest UID first. A message that does not come back whole is never
 * returned as one: expunged since the SEARCH, it is left out and counted; still there, the page
 * fails (nothing changes; the same page can be asked for again).
 */
async function fetchPage(
  selected: Selected,
  page: number[],
): Promise<{ messages: MessageSummary[]; expunged: number[] }> {
  if (page.length === 0) return { messages: [], expunged: [] };
  const { session, box } = selected;
  const doing = "fetch the messages of the page";
  const fetched = await session.run({ doing, mailbox: box.path }, () =>
    session.client.fetchAll(
      uidSetOf([...page].reverse()),
      { uid: true, flags: true, ...IDENTITY_QUERY, ...PAGE_ITEMS, headers: ENVELOPE_HEADERS },
      { uid: true },
    ),
  );
  // A server answering with other messages than those asked for is ignored.
  const wanted = new Set(page);
  const rows = fetched.filter((row) => wanted.has(row.uid) && isWhole(row, PAGE_ITEMS));
  for (const row of rows) wanted.delete(row.uid);
  const expunged = await confirmExpunged(selected, [...wanted], doing, (uids, exist) =>
    damagedAnswer(
      selected,
      "the fetch of the page",
      "Nothing was changed; retry with the same cursor.",
      uids,
      exist,
    ),
  );
  return { messages: rows.sort((a, b) => b.uid - a.uid).map(messageSummary), expunged };
}

/** One page of the search, in a read-only session on the mailbox (EXAMINE: \Seen never changes). */
export async function searchPage(session: Session, request: SearchRequest): Promise<SearchPage> {
  const { cursor, limit } = request;
  return session.withMailbox(request.mailbox, { readOnly: true }, async (selected) => {
    const box = selected.box;
    const uidValidity = (await uidValidityOf(selected, "page through the search")).toString();
    checkCursor(cursor, uidValidity, request.mailbox);
    const keys: SearchKey[] = cursor
      ? [{ op: "uid", set: `1:${cursor.top}` }, ...request.keys]
      : request.keys;
    const tokens = renderKeys(keys, {
      has: (cap) => session.has(cap),
      host: session.scope.host,
      mailbox: request.mailbox,
    });
    // Some servers match UID ranges loosely (e.g. against sequence numbers): keep only what the chain covers.
    const ranges = (await searchUids(session, request.mailbox, tokens))
      .filter(([low]) => !cursor || low <= cursor.top)
      .map(([low, high]): [number, number] => [low, cursor ? Math.min(high, cursor.top) : high]);
    const total = ranges.reduce((sum, [low, high]) => sum + high - low + 1, 0);
    const page = pageBelow(ranges, cursor ? cursor.last : Infinity, limit);
    const lowest = page.at(-1);
    const more = lowest !== undefined && ranges[0] !== undefined && ranges[0][0] < lowest;
    const top = cursor?.top ?? ranges.at(-1)?.[1] ?? 0;
    const { messages, expunged } = await fetchPage(selected, page);
    return {
      mailbox: box.path,
      uidValidity,
      total,
      messages,
      expungedMeanwhile: expunged.length,
      nextCursor: more
        ? encodeCursor({
            uidValidity,
            top,
            last: lowest,
            search: request.fingerprint,
          })
        : null,
    };
  });
}
