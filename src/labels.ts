/**
 * Gmail's labels (X-GM-LABELS): added to and removed from messages by UID, and read back. Only
 * on a server that announces Gmail's X-GM-EXT-1; anywhere else this is refused before anything
 * is sent, with an error that says the server is not Gmail.
 */
import type { Operation } from "./errors";
import { ImapError } from "./errors";
import { requireUidValidity, resolveUids } from "./messages";
import type { Session } from "./session";
import type { UidSet } from "./uidSet";

export interface MessageLabels {
  uid: number;
  labels: string[];
}

/** Fails, naming what was asked, unless the server is Gmail (announces X-GM-EXT-1). */
export function requireGmail(session: Session, what: string, mailbox?: string): void {
  if (session.has("X-GM-EXT-1")) return;
  throw new ImapError(
    `Could not ${what}: labels exist on Gmail only, and the server at ${session.scope.host} is not Gmail (it does not announce X-GM-EXT-1). Nothing was changed. On other servers use Add Flags with a keyword, or Move Messages to a folder.`,
    { code: "NOT_GMAIL", mailbox },
  );
}

/** Adds or removes labels of the messages `wanted` names; returns each message's labels afterwards, as read back. */
export async function changeLabels(
  session: Session,
  mailbox: string,
  wanted: UidSet,
  labels: string[],
  change: "add" | "remove",
  uidValidity?: string,
): Promise<{ mailbox: string; messages: MessageLabels[] }> {
  const doing = change === "add" ? "add labels" : "remove labels";
  requireGmail(session, doing, mailbox);
  return session.withMailbox(mailbox, { readOnly: false }, async (selected) => {
    requireUidValidity(selected, uidValidity, doing);
    const box = selected.box;
    const target = await resolveUids(selected, wanted, doing);
    const op: Operation = { doing, mailbox: box.path, uid: target.set };
    const client = session.client;
    const options = { uid: true, useLabels: true };
    await session.run(op, () =>
      change === "add"
        ? client.messageFlagsAdd(target.set, labels, options)
        : client.messageFlagsRemove(target.set, labels, options),
    );
    const rows = await session.run(
      { doing: "read the labels back", mailbox: box.path, uid: target.set },
      () => client.fetchAll(target.set, { uid: true, labels: true }, { uid: true }),
    );
    const resolved = new Set(target.uids);
    const messages = rows
      .filter((row) => resolved.has(row.uid))
      .sort((a, b) => a.uid - b.uid)
      .map((row) => ({ uid: row.uid, labels: Array.from(row.labels ?? []) }));
    return { mailbox: box.path, messages };
  });
}
