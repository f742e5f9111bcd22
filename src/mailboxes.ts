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

export async function listMailboxEntries(session: Session): Promise<MailboxEntry[]> {
  const list = await session.run({ doing: "list the mailboxes" }, () => session.client.list());
  return list.map(mailboxEntry).sort(byPath);
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
