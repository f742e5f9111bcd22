/** Mailbox listing shared by the listMailboxes action and data source. */
import type { ListResponse } from "imapflow";
import type { Session } from "./session";
import { hasFlag } from "./session";

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
  return a === b || (a.toUpperCase() === "INBOX" && b.toUpperCase() === "INBOX");
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
