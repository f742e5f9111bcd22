/**
 * Creating and renaming mailboxes, with the checks that keep both safe to reason about: an
 * existing mailbox is "not created" (also on servers that refuse without ALREADYEXISTS), and a
 * rename changes nothing unless the source exists and the new name is free.
 */
import { ImapError, InputError } from "./errors";
import type { Session } from "./session";

export const isInbox = (path: string): boolean => path.toUpperCase() === "INBOX";

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
export async function createMailbox(session: Session, path: string): Promise<Created> {
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
export async function renameMailbox(
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
