/**
 * Storing a composed draft: in the given mailbox or the account's drafts mailbox, flagged \Draft
 * and \Seen (a draft is not unread mail), with its UID also on servers without UIDPLUS.
 */
import type { Appended } from "./append";
import { appendToMailbox } from "./append";
import type { Composed } from "./compose";
import { draftsMailbox } from "./mailboxes";
import type { Session } from "./session";

export interface StoredDraft extends Pick<Appended, "mailbox" | "uid" | "uidValidity"> {
  messageId: string;
}

export const DRAFT_FLAGS = ["\\Draft", "\\Seen"];

/** Appends `composed` to `mailbox`, or to the drafts mailbox when `mailbox` is undefined. */
export async function storeDraft(
  session: Session,
  mailbox: string | undefined,
  composed: Composed,
): Promise<StoredDraft> {
  const target = mailbox ?? (await draftsMailbox(session));
  const appended = await appendToMailbox(session, target, composed.raw, DRAFT_FLAGS);
  const { mailbox: stored, uid, uidValidity } = appended;
  return { mailbox: stored, uid, uidValidity, messageId: composed.messageId };
}
