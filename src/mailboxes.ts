/**
 * Mailboxes as a whole: the one INBOX rule, listing (shared by the listMailboxes action and data
 * source), and creating and renaming with the checks that keep both safe to reason about: an
 * existing mailbox is "not created" (also on servers that refuse without ALREADYEXISTS), and a
 * rename changes nothing unless the source exists and the new name is free.
 */
import type { ListResponse, SearchObject, StatusObject } from "imapflow";
import { ImapError, InputError } from "./errors";
import { hasFlag } from "./serialize";
import type { Session } from "./session";

/** INBOX is the one mailbox name that is case-insensitive (RFC 3501 5.1). */
export const isInbox = (path: string): boolean => path.toUpperCase() === "INBOX";

export interface MailboxEntry {
  path: string;
  pathAsListed: string;
  flags: string[];
  delimiter: string | null;
  listed: boolean;
  specialUse?: string;
  parentPath: string;
  parent: string[];
  name: string;
  subscribed: boolean;
}

/** Whether two paths name the same mailbox: INBOX in any letter case is INBOX, every other path is compared as given. */
export function samePath(a: string, b: string): boolean {
  return a === b || (isInbox(a) && isInbox(b));
}

/** INBOX first, then by path, so the order is the same on every server and every call. */
export function byPath(a: { path: string }, b: { path: string }): number {
  if (a.path === "INBOX") return b.path === "INBOX" ? 0 : -1;
  if (b.path === "INBOX") return 1;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

export function mailboxEntry(entry: ListResponse): MailboxEntry {
  return {
    path: entry.path,
    pathAsListed: entry.pathAsListed,
    flags: Array.from(entry.flags),
    delimiter: entry.delimiter ?? null,
    listed: entry.listed === true,
    ...(entry.specialUse ? { specialUse: entry.specialUse } : {}),
    parentPath: entry.parentPath ?? "",
    parent: entry.parent ?? [],
    name: entry.name,
    subscribed: entry.subscribed === true,
  };
}

export function isSelectable(entry: { flags: Iterable<string> }): boolean {
  return !hasFlag(entry.flags, "\\Noselect") && !hasFlag(entry.flags, "\\NonExistent");
}

/** A mailbox's counts, as STATUS (or LIST-STATUS) reports them. */
export interface MailboxCounts {
  messages: number | null;
  unseen: number | null;
  uidNext: number | null;
  uidValidity: string | null;
}

export interface ListOptions {
  /** Add `counts` to every entry: null for a mailbox that cannot hold messages. */
  includeCounts?: boolean;
  /** Only the mailboxes the account is subscribed to. */
  subscribedOnly?: boolean;
}

function countsOf(entry: ListResponse): MailboxCounts | null {
  const status = entry.status;
  if (!isSelectable(entry) || !status) return null;
  return {
    messages: status.messages ?? null,
    unseen: status.unseen ?? null,
    uidNext: status.uidNext ?? null,
    uidValidity: status.uidValidity === undefined ? null : status.uidValidity.toString(),
  };
}

/**
 * Every mailbox, INBOX first. With counts, one LIST ... RETURN (STATUS ...) where the server has
 * LIST-STATUS (RFC 5819), else a STATUS per mailbox after the LIST.
 */
export async function listMailboxEntries(
  session: Session,
  options: ListOptions = {},
): Promise<(MailboxEntry & { counts?: MailboxCounts | null })[]> {
  const list = await session.runWhole({ doing: "list the mailboxes" }, () =>
    session.client.list(
      options.includeCounts
        ? { statusQuery: { messages: true, unseen: true, uidNext: true, uidValidity: true } }
        : {},
    ),
  );
  const failed = list.find((entry) => (entry.status as { error?: unknown } | undefined)?.error);
  if (failed) {
    const error = (failed.status as { error?: unknown }).error;
    throw session.fail(error, { doing: "read the counts of the mailbox", mailbox: failed.path });
  }
  return list
    .filter((entry) => !options.subscribedOnly || entry.subscribed === true)
    .map((entry) => ({
      ...mailboxEntry(entry),
      ...(options.includeCounts ? { counts: countsOf(entry) } : {}),
    }))
    .sort(byPath);
}

/** The mailbox the server marks with a special use (RFC 6154), and the ones only named like one. */
export interface SpecialUseLookup {
  /** The first mailbox marked with the first of the uses that any mailbox has; undefined when none is marked. */
  path: string | undefined;
  /** Mailboxes whose name alone suggests one of the uses (e.g. "Trash" on a server without SPECIAL-USE). */
  namedLike: string[];
}

/**
 * Looks up, in one LIST, the mailbox marked with one of `uses` (in order of preference, e.g.
 * "\\Trash"). Only a server's own marking counts: a name such as "Trash" or "Deleted Items" is
 * a guess, returned separately so that an error can suggest it, never acted on.
 */
export async function findSpecialUse(
  session: Session,
  uses: readonly string[],
): Promise<SpecialUseLookup> {
  const list = await session.runWhole({ doing: "list the mailboxes" }, () => session.client.list());
  const selectable = list.filter(isSelectable).sort(byPath);
  for (const use of uses) {
    const marked = selectable.find((entry) => hasFlag(entry.flags, use));
    if (marked) return { path: marked.path, namedLike: [] };
  }
  const namedLike = selectable
    .filter((entry) => entry.specialUse !== undefined && hasFlag(uses, entry.specialUse))
    .map((entry) => entry.path);
  return { path: undefined, namedLike };
}

/** Rename's inputs, checked before connecting. */
export function checkRename(path: string, newPath: string): void {
  if (isInbox(path)) {
    throw new InputError(
      "Renaming INBOX is refused: on many servers it moves all of INBOX's messages into a new mailbox and leaves INBOX empty. Create the new mailbox and move the messages instead.",
    );
  }
  if (isInbox(newPath)) throw new InputError("New Path cannot be INBOX: INBOX always exists.");
  if (path === newPath)
    throw new InputError(`New Path is the same as Path ("${path}"): nothing to rename.`);
}

export interface Created {
  path: string;
  created: boolean;
  subscribed: boolean;
}

/** Creates and subscribes `path`; an existing mailbox is `created: false` and is subscribed too. */
export async function ensureMailbox(session: Session, path: string): Promise<Created> {
  const op = { doing: "create the mailbox", mailbox: path };
  // a new mailbox goes under the personal namespace's prefix (INBOX. on some servers)
  await session.loadNamespace(path);
  let result: { path: string; created: boolean };
  try {
    result = await session.run(op, () => session.client.mailboxCreate(path));
  } catch (err) {
    // Some servers refuse an existing name without the ALREADYEXISTS code imapflow looks for.
    if (!session.client.usable || !(await session.mailboxExists(path))) throw err;
    result = { path, created: false };
  }
  let subscribed = false;
  await session.exec({ doing: "subscribe to the mailbox", mailbox: result.path }, async () => {
    subscribed = await session.client.mailboxSubscribe(result.path);
  });
  return { path: result.path, created: result.created, subscribed };
}

/** Renames `path` to `newPath` after checking that the source exists and the new name is free. */
export async function renameExisting(
  session: Session,
  path: string,
  newPath: string,
): Promise<{ path: string; newPath: string }> {
  const doing = `rename the mailbox "${path}" to "${newPath}"`;
  await session.loadNamespace(newPath);
  await session.requireMailbox({ doing, mailbox: path });
  if (await session.mailboxExists(newPath)) {
    throw new ImapError(
      `Could not ${doing}: a mailbox named "${newPath}" already exists. Nothing was changed; choose another name.`,
      {
        code: "MAILBOX_EXISTS",
        mailbox: newPath,
      },
    );
  }
  return session.run({ doing, mailbox: path }, () => session.client.mailboxRename(path, newPath));
}

/**
 * Subscribes to `path` (which must exist: a subscription to a typo would be invisible) or
 * unsubscribes from it (also from a mailbox that no longer exists, to clear a stale entry).
 * Both are idempotent.
 */
export async function setSubscription(
  session: Session,
  path: string,
  subscribe: boolean,
): Promise<{ path: string; subscribed: boolean }> {
  const op = {
    doing: subscribe ? "subscribe to the mailbox" : "unsubscribe from the mailbox",
    mailbox: path,
  };
  if (subscribe) await session.requireMailbox(op);
  await session.run(op, () =>
    subscribe ? session.client.mailboxSubscribe(path) : session.client.mailboxUnsubscribe(path),
  );
  return { path: isInbox(path) ? "INBOX" : path, subscribed: subscribe };
}

/**
 * The mailbox drafts go to when none is given: the one the server marks \Drafts (SPECIAL-USE),
 * else one named Drafts at the top or directly under INBOX (INBOX.Drafts on servers that keep
 * every folder inside INBOX); undefined when there is none.
 */
export function pickDraftsMailbox(entries: MailboxEntry[]): string | undefined {
  const usable = entries.filter(isSelectable);
  const marked = usable.find((entry) => entry.specialUse === "\\Drafts");
  if (marked) return marked.path;
  const named = (entry: MailboxEntry) => entry.name.toLowerCase() === "drafts";
  return (
    usable.find((entry) => named(entry) && entry.parentPath === "") ??
    usable.find((entry) => named(entry) && isInbox(entry.parentPath))
  )?.path;
}

/** The drafts mailbox of the account (see pickDraftsMailbox); an error naming what was looked for when there is none. */
export async function draftsMailbox(session: Session): Promise<string> {
  const path = pickDraftsMailbox(await listMailboxEntries(session));
  if (path !== undefined) return path;
  throw new ImapError(
    'There is no drafts mailbox: no mailbox is marked \\Drafts (special use) and none is named "Drafts". Give the mailbox to store the draft in (List Mailboxes shows every path), or create "Drafts" with Create Mailbox.',
    { code: "MAILBOX_NOT_FOUND", mailbox: "Drafts" },
  );
}

export interface StatusWanted {
  messages?: boolean;
  recent?: boolean;
  uidNext?: boolean;
  uidValidity?: boolean;
  unseen?: boolean;
  highestModseq?: boolean;
}

/**
 * STATUS of `mailbox`. Where the answer holds none of the values asked for (a server that does not
 * quote a mailbox name with spaces in its STATUS reply, which imapflow cannot read), they are read
 * with EXAMINE in the same session instead, with a SEARCH for the counts EXAMINE does not give. A
 * value the server did not give is never reported: it stays undefined.
 */
export async function mailboxStatus(
  session: Session,
  mailbox: string,
  wanted: StatusWanted,
): Promise<StatusObject> {
  const doing = "read the status of the mailbox";
  const status = await session.run({ doing, mailbox }, () =>
    session.client.status(mailbox, wanted),
  );
  const keys = (Object.keys(wanted) as (keyof StatusWanted)[]).filter((key) => wanted[key]);
  if (keys.some((key) => status[key] !== undefined)) return status;
  return session.withMailbox(mailbox, { readOnly: true }, async ({ box }) => {
    const count = async (query: SearchObject) =>
      (
        await session.run({ doing, mailbox: box.path }, () =>
          session.client.search(query, { uid: true }),
        )
      ).length;
    return {
      path: box.path,
      messages: wanted.messages ? box.exists : undefined,
      recent: wanted.recent ? await count({ recent: true }) : undefined,
      uidNext: wanted.uidNext ? box.uidNext : undefined,
      uidValidity: wanted.uidValidity ? box.uidValidity : undefined,
      unseen: wanted.unseen ? await count({ seen: false }) : undefined,
      highestModseq: wanted.highestModseq ? box.highestModseq : undefined,
    };
  });
}
