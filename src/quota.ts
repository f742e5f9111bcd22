/**
 * Get Quota: GETQUOTAROOT (RFC 9208, formerly 2087) for a mailbox, every quota root it answers
 * with and each root's resources, with storage in bytes (the protocol counts it in units of 1024
 * octets).
 */
import iconv from "iconv-lite";
import { ImapError } from "./errors";
import type { Untagged } from "./imapExec";
import { imapCommand } from "./imapExec";
import type { Session } from "./session";

export interface Usage {
  usage: number;
  limit: number;
}

export interface QuotaRoot {
  /** The quota root's name, e.g. "User quota" (Dovecot) or "" (many servers). */
  root: string;
  /** Storage in bytes, or null when the root does not limit storage. */
  storage: Usage | null;
  /** Messages, or null when the root does not limit their number. */
  messages: Usage | null;
  /** Other resources the server reports (RFC 9208: MAILBOX, ANNOTATION-STORAGE, ...), by name. */
  other: Record<string, Usage>;
  /** The highest usage / limit of the root's resources, in percent (rounded down); null without limits. */
  percentUsed: number | null;
}

export interface Quota {
  mailbox: string;
  /** Empty when no quota applies to the mailbox (unlimited). */
  roots: QuotaRoot[];
}

/** A string, atom or number token as the parser delivers it. */
function textOf(token: unknown): string | undefined {
  if (typeof token !== "object" || token === null) return undefined;
  const value = Reflect.get(token, "value");
  if (typeof value === "string") return value;
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  return undefined;
}

/** `* QUOTA root (NAME usage limit ...)` as a root entry; undefined when unreadable. */
export function quotaRootOf(attributes: unknown[] | undefined): QuotaRoot | undefined {
  const root = textOf(attributes?.[0]);
  const list = attributes?.[1];
  if (root === undefined || !Array.isArray(list) || list.length % 3 !== 0) return undefined;
  const entry: QuotaRoot = { root, storage: null, messages: null, other: {}, percentUsed: null };
  for (let i = 0; i < list.length; i += 3) {
    const name = textOf(list[i])?.toUpperCase();
    const usage = Number(textOf(list[i + 1]));
    const limit = Number(textOf(list[i + 2]));
    if (!name || !Number.isSafeInteger(usage) || !Number.isSafeInteger(limit)) return undefined;
    if (name === "STORAGE") entry.storage = { usage: usage * 1024, limit: limit * 1024 };
    else if (name === "MESSAGE") entry.messages = { usage, limit };
    else entry.other[name] = { usage, limit };
    if (limit > 0)
      entry.percentUsed = Math.max(entry.percentUsed ?? 0, Math.floor((usage / limit) * 100));
  }
  return entry;
}

/**
 * A mailbox name as the server expects it in a command: modified UTF-7 (RFC 3501 5.1.3) unless
 * the session enabled UTF8=ACCEPT, as imapflow encodes the names of its own commands.
 */
function wireName(session: Session, mailbox: string): string {
  if (session.client.enabled.has("UTF8=ACCEPT") || !/[&\u0080-\uffff]/.test(mailbox))
    return mailbox;
  return iconv.encode(mailbox, "utf-7-imap").toString("latin1");
}

export async function quotaOf(session: Session, mailbox: string): Promise<Quota> {
  const op = { doing: "read the quota of the mailbox", mailbox };
  if (
    !session.has("QUOTA") &&
    ![...session.client.capabilities.keys()].some((c) => c.startsWith("QUOTA=RES-"))
  ) {
    throw new ImapError(
      `Could not read the quota of "${mailbox}": the server at ${session.scope.host} does not support quotas (it announces no QUOTA extension), so it reports no usage or limits. Check the account's storage in the provider's own portal instead.`,
      { code: "MISSING_EXTENSION", mailbox },
    );
  }
  // Dovecot answers GETQUOTAROOT for a mailbox that does not exist as for any other.
  await session.requireMailbox(op);
  const send = imapCommand(session.client, {
    doing: "read the quota of",
    mailbox,
    feature: "Get Quota uses to list every quota root",
  });
  let rootNames: string[] = [];
  const roots: QuotaRoot[] = [];
  let unreadable = false;
  await session.exec(op, () =>
    send("GETQUOTAROOT", [{ type: "STRING", value: wireName(session, mailbox) }], {
      QUOTAROOT: async (untagged?: Untagged) => {
        rootNames = (untagged?.attributes ?? []).slice(1).map((token) => textOf(token) ?? "");
      },
      QUOTA: async (untagged?: Untagged) => {
        const root = quotaRootOf(untagged?.attributes);
        if (root) roots.push(root);
        else unreadable = true;
      },
    }),
  );
  if (unreadable) {
    throw new ImapError(
      `Could not read the quota of "${mailbox}": the server's QUOTA answer could not be read. Retry; if it persists, report it to the server's administrator.`,
      { code: "RESPONSE_DAMAGED", mailbox },
    );
  }
  // Roots listed by QUOTAROOT, in its order; a QUOTA answer for a root not listed is kept as well.
  const ordered = rootNames
    .map((name) => roots.find((root) => root.root === name))
    .filter((root): root is QuotaRoot => root !== undefined);
  return { mailbox, roots: [...ordered, ...roots.filter((root) => !ordered.includes(root))] };
}
