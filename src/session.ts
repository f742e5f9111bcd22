/**
 * The session core: the only place that creates, authenticates, locks, logs out and closes an
 * imapflow client. Every action, data source and trigger runs its work inside `withSession`,
 * which opens one client per invocation and always closes it, whatever happened.
 */

import { isIP } from "node:net";
import type { SecureContext } from "node:tls";
import { createSecureContext, rootCertificates } from "node:tls";
import type { Connection } from "@prismatic-io/spectral";
import type {
  ImapFlowOptions,
  ListResponse,
  Logger,
  MailboxLockObject,
  MailboxObject,
} from "imapflow";
import { ImapFlow } from "imapflow";
import type { ImapSettings } from "./connections";
import { parseConnection, redactedConnection } from "./connections";
import type { ErrorScope, Operation } from "./errors";
import { ImapError, onMailbox, redact, translateError } from "./errors";
import { isInbox } from "./mailboxes";
import { canonicalFlag, hasFlag } from "./serialize";

/**
 * Bounds of one invocation. Each is the longest the session waits for one thing; nothing can
 * wait forever. Exported so the tests can shorten them.
 */
export const sessionLimits = {
  /** DNS, TCP and TLS handshake together. */
  connectMs: 20_000,
  /** From connected to the server's greeting. */
  greetingMs: 15_000,
  /** Longest silence of the server while a command runs. */
  socketMs: 90_000,
  /** LOGOUT at the end; after it the socket is closed regardless. */
  logoutMs: 3_000,
};

/** The parts of spectral's action, data source and trigger contexts the session uses. */
export interface SessionContext {
  logger?: { debug: (...args: unknown[]) => void; warn: (...args: unknown[]) => void };
  debug?: { enabled: boolean };
}

/** imapflow's log entries go to the step log only in debug mode, with every secret removed. */
function stepLogger(context: SessionContext, secrets: string[]): Logger | false {
  const logger = context.logger;
  if (!context.debug?.enabled || !logger) return false;
  const write = (level: string) => (entry: unknown) => {
    let line: string;
    try {
      line = JSON.stringify(entry, (_key, value: unknown) =>
        typeof value === "bigint" ? value.toString() : value,
      );
    } catch {
      line = String(entry);
    }
    logger.debug(`imap ${level}: ${redact(line, secrets)}`);
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

/**
 * TLS contexts that trust a connection's CA certificate besides the public ones. Building one
 * parses every public root certificate (about 20 ms), so each CA's context is built once per
 * process and reused by later invocations.
 */
const trustContexts = new Map<string, SecureContext>();

function trustingContext(pem: string): SecureContext {
  let context = trustContexts.get(pem);
  if (!context) {
    context = createSecureContext({ ca: [...rootCertificates, pem] });
    if (trustContexts.size >= 32) trustContexts.clear();
    trustContexts.set(pem, context);
  }
  return context;
}

export function clientOptions(settings: ImapSettings, logger: Logger | false): ImapFlowOptions {
  const tls: NonNullable<ImapFlowOptions["tls"]> = {
    rejectUnauthorized: settings.verifyCertificate,
    // A private CA is trusted in addition to the public ones, never instead of verification.
    ...(settings.caCertificate ? { secureContext: trustingContext(settings.caCertificate) } : {}),
    // SNI only for host names; a key set to undefined would silently drop it.
    ...(isIP(settings.host) ? {} : { servername: settings.host }),
  };
  return {
    host: settings.host,
    port: settings.port,
    secure: settings.encryption === "tls",
    // starttls: the upgrade is required (fails if not offered); none: never upgrade.
    ...(settings.encryption === "starttls" ? { doSTARTTLS: true } : {}),
    ...(settings.encryption === "none" ? { doSTARTTLS: false } : {}),
    tls,
    auth: settings.accessToken
      ? { user: settings.user, accessToken: settings.accessToken }
      : { user: settings.user, pass: settings.password },
    logger,
    disableAutoIdle: true,
    connectionTimeout: sessionLimits.connectMs,
    greetingTimeout: sessionLimits.greetingMs,
    socketTimeout: sessionLimits.socketMs,
    clientInfo: { name: "Prismatic IMAP component" },
  };
}

/**
 * A mailbox selected in a session, valid inside `Session.withMailbox` only. Every helper that
 * needs a selected mailbox takes this, so the mailbox it works on is the one that is locked.
 */
export interface Selected {
  readonly session: Session;
  /** The mailbox as the server opened it: `box.path` is its normalised path (INBOX in capitals). */
  readonly box: MailboxObject;
  /** Opened with EXAMINE: nothing in it can change, \Seen included. */
  readonly readOnly: boolean;
}

/** One authenticated IMAP session, valid inside `withSession` only. */
export class Session {
  /** An error the client emitted outside of a command (socket reset, inactivity timeout). */
  private lostWith: unknown;

  constructor(
    readonly client: ImapFlow,
    readonly scope: ErrorScope,
  ) {
    client.on("error", (err: unknown) => {
      this.lostWith = err;
    });
  }

  /** True when the server announced the capability (e.g. "UIDPLUS", "MOVE", "CONDSTORE"). */
  has(capability: string): boolean {
    return this.client.capabilities.has(capability);
  }

  /** The error to throw for `err` while doing `op`. */
  fail(err: unknown, op: Operation): Error {
    return translateError(err, this.scope, op);
  }

  /**
   * Runs one imapflow call. Its errors become clear messages, and a `false` or `undefined`
   * result (imapflow's way of reporting a NO or a lost connection for several commands) is a
   * failure, never a success.
   */
  async run<T>(op: Operation, call: () => Promise<T | false | undefined>): Promise<T> {
    let result: T | false | undefined;
    try {
      result = await call();
    } catch (err) {
      throw this.fail(err, op);
    }
    if (result === false || result === undefined) throw await this.refusal(op);
    return result;
  }

  /** Like `run`, for calls whose result is not needed (and may legitimately be empty). */
  async exec(op: Operation, call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (err) {
      throw this.fail(err, op);
    }
    if (!this.client.usable) throw await this.refusal(op);
  }

  /** The reason for a command that failed without an error: lost connection, missing mailbox, or a plain refusal. */
  private async refusal(op: Operation): Promise<Error> {
    if (this.client.usable && op.mailbox !== undefined && !(await this.mailboxExists(op.mailbox)))
      return this.missingMailbox(op);
    return this.refused(op);
  }

  /** The clear error for `op.mailbox` not existing. */
  missingMailbox(op: Operation): Error {
    return this.fail(
      Object.assign(new Error("Mailbox does not exist"), { mailboxMissing: true }),
      op,
    );
  }

  /**
   * Fails with the clear "does not exist" error unless `op.mailbox` exists: checked before a
   * command so that every server gives the same error, not only those that send NONEXISTENT.
   */
  async requireMailbox(op: Operation & { mailbox: string }): Promise<void> {
    if (!(await this.mailboxExists(op.mailbox))) throw this.missingMailbox(op);
  }

  /** Whether `path` is a listed mailbox (compared as imapflow normalises paths: INBOX in any case). */
  async mailboxExists(path: string): Promise<boolean> {
    let list: ListResponse[];
    try {
      list = await this.client.list({ listOnly: true });
    } catch (err) {
      throw this.fail(err, { doing: "list the mailboxes" });
    }
    const wanted = isInbox(path) ? "INBOX" : path;
    return list.some((entry) => entry.path === wanted && !hasFlag(entry.flags, "\\NonExistent"));
  }

  /** The error for a command that failed without one: the lost connection's, or a plain refusal. */
  refused(op: Operation): Error {
    if (!this.client.usable) {
      return this.fail(
        this.lostWith ?? Object.assign(new Error("Connection closed"), { code: "NoConnection" }),
        op,
      );
    }
    return new ImapError(
      `The server refused to ${op.doing}${onMailbox(op)} and gave no reason. Check that the account may do this on that mailbox.`,
      {
        code: "SERVER_REFUSED",
        mailbox: op.mailbox,
        uid: op.uid,
      },
    );
  }

  /**
   * Selects `path` (EXAMINE when read-only, else SELECT) for the duration of `work` and always
   * releases the lock. A missing mailbox is a clear error naming it.
   */
  async withMailbox<T>(
    path: string,
    options: { readOnly: boolean },
    work: (selected: Selected) => Promise<T>,
  ): Promise<T> {
    let lock: MailboxLockObject;
    try {
      lock = await this.client.getMailboxLock(path, { readOnly: options.readOnly });
    } catch (err) {
      throw this.fail(err, { doing: "open the mailbox", mailbox: path });
    }
    try {
      const box = this.client.mailbox;
      if (!box) throw this.refused({ doing: "open the mailbox", mailbox: path });
      // imapflow drops a flag the mailbox cannot keep by comparing PERMANENTFLAGS case-sensitively
      if (box.permanentFlags)
        box.permanentFlags = new Set(Array.from(box.permanentFlags, canonicalFlag));
      return await work({ session: this, box, readOnly: options.readOnly });
    } finally {
      lock.release();
    }
  }
}

function scopeFor(connection: Connection, settings: ImapSettings): ErrorScope {
  return {
    host: settings.host,
    port: settings.port,
    user: settings.user,
    encryption: settings.encryption,
    oauth: settings.accessToken !== undefined,
    secrets: [settings.password, settings.accessToken].filter(
      (s): s is string => typeof s === "string",
    ),
    connection: redactedConnection(connection),
    timeouts: {
      connectMs: sessionLimits.connectMs,
      greetingMs: sessionLimits.greetingMs,
      socketMs: sessionLimits.socketMs,
    },
  };
}

/** What imapflow can log in with when given an access token (the first one offered wins). */
const OAUTH_MECHANISMS = ["AUTH=OAUTHBEARER", "AUTH=XOAUTH2", "AUTH=XOAUTH"];

async function closeQuietly(client: ImapFlow): Promise<void> {
  if (client.usable) {
    let timer: NodeJS.Timeout | undefined;
    const bounded = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, sessionLimits.logoutMs);
    });
    // A stalled server would hold LOGOUT until the inactivity timer: bound it, then close.
    await Promise.race([client.logout().catch(() => undefined), bounded]);
    clearTimeout(timer);
  }
  client.close();
}

/**
 * Opens a session for one invocation, runs `work`, logs out and closes the socket. Invalid
 * connection settings are reported before anything is sent.
 */
export async function withSession<T>(
  connection: Connection,
  context: SessionContext,
  work: (session: Session) => Promise<T>,
): Promise<T> {
  const settings = parseConnection(connection);
  const scope = scopeFor(connection, settings);
  const client = new ImapFlow(clientOptions(settings, stepLogger(context, scope.secrets)));
  const session = new Session(client, scope);
  try {
    try {
      await client.connect();
    } catch (err) {
      scope.loginDisabled = client.capabilities.has("LOGINDISABLED");
      // capabilities are empty when it failed before the greeting: then nothing is known
      scope.oauthUnsupported =
        settings.accessToken !== undefined &&
        client.capabilities.size > 0 &&
        !OAUTH_MECHANISMS.some((mechanism) => client.capabilities.has(mechanism));
      throw session.fail(err, { doing: `connect to ${settings.host}:${settings.port}` });
    }
    return await work(session);
  } finally {
    await closeQuietly(client);
  }
}
