/**
 * The session core: the only place that creates, authenticates, locks, logs out and closes an
 * imapflow client. Every action, data source and trigger runs its work inside `withSession`,
 * which opens one client per invocation and always closes it, whatever happened.
 */

import { isIP, Socket } from "node:net";
import { Writable } from "node:stream";
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
import type { Ahead } from "./ahead";
import { AheadCommands, pipelined } from "./ahead";
import type { ImapSettings } from "./connections";
import { parseConnection, redactedConnection } from "./connections";
import type { ErrorScope, Operation } from "./errors";
import { ImapError, incompleteAnswer, onMailbox, redact, translateError } from "./errors";
import { inFlightCommand } from "./imapExec";
import { isInbox } from "./mailboxes";
import { canonicalFlag, hasFlag } from "./serialize";
import type { MintedToken } from "./tokens";
import { accessTokenFor, forgetToken } from "./tokens";

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
  /**
   * The greeting bound on a port that is known for implicit TLS (993) when the connection is
   * set to starttls or none: such a port says nothing until it sees a TLS handshake, and a real
   * IMAP server greets at once, so a few seconds of silence tell the mismatch.
   */
  mismatchGreetingMs: 4_000,
  /** Ports where servers speak implicit TLS (RFC 8314): IMAP's 993. */
  implicitTlsPorts: [993],
};

/** Whether the connection is set to cleartext first on a port that is known for implicit TLS. */
function likelyNeedsTls(settings: ImapSettings): boolean {
  return settings.encryption !== "tls" && sessionLimits.implicitTlsPorts.includes(settings.port);
}

/** The parts of spectral's action, data source and trigger contexts the session uses. */
export interface SessionContext {
  logger?: { debug: (...args: unknown[]) => void; warn: (...args: unknown[]) => void };
  debug?: { enabled: boolean };
}

/**
 * What imapflow's log says about the server's answers: lines it could not parse, which it logs
 * and skips. A skipped line can be a message's row, so the component counts them and never
 * reads a missing row as an expunged message (see `Session.unparsedLines`).
 */
export interface AnswerMonitor {
  unparsed: number;
  /** The parser failure imapflow logged last, and the IMAP command in flight when it did. */
  lastFailure?: { err: unknown; command: string | undefined };
  /** The IMAP command in flight now (set once the client exists). */
  inFlight?: () => string | undefined;
}

/** imapflow's parser failures, by their structured code: a line it skipped. */
function isParserFailure(entry: unknown): boolean {
  if (typeof entry !== "object" || entry === null) return false;
  const err: unknown = Reflect.get(entry, "err");
  const code: unknown =
    typeof err === "object" && err !== null ? Reflect.get(err, "code") : undefined;
  return (
    Reflect.get(entry, "src") === "s" &&
    typeof code === "string" &&
    (code.startsWith("ParserError") || code === "MAX_IMAP_NESTING_REACHED")
  );
}

/**
 * imapflow's log entries go to the step log only in debug mode, with every secret removed; its
 * parser failures are always counted in `monitor`.
 */
function stepLogger(context: SessionContext, secrets: string[], monitor: AnswerMonitor): Logger {
  const logger = context.logger;
  const debug = context.debug?.enabled === true && logger !== undefined;
  const write = (level: string) => (entry: unknown) => {
    if (level === "error" && isParserFailure(entry)) {
      monitor.unparsed += 1;
      monitor.lastFailure = {
        err: Reflect.get(entry as object, "err"),
        command: monitor.inFlight?.(),
      };
    }
    if (!debug) return;
    let line: string;
    try {
      line = JSON.stringify(entry, (_key, value: unknown) =>
        typeof value === "bigint" ? value.toString() : value,
      );
    } catch {
      line = String(entry);
    }
    logger?.debug(`imap ${level}: ${redact(line, secrets)}`);
  };
  return {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    fatal: write("fatal"),
    // imapflow skips building entries nobody reads (every FETCH row at trace level).
    ...{ isLevelEnabled: (level: string) => (debug ? level !== "trace" : level === "error") },
  };
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

/**
 * What a session sets up before its work. A step's session (`lean`) sends only what the step
 * needs: no COMPRESS (it costs a round trip and, on fast links, more time than it saves), no
 * ENABLE (no step reads CONDSTORE's per-message MODSEQ, and STATUS HIGHESTMODSEQ and SEARCH MODSEQ
 * work without it), LOGIN in one round trip, ID and NAMESPACE only where the server needs them
 * (see `trimSetup`). Check Connection (`full`) sets the session up as imapflow does by itself, as
 * it reports what the server offers (its ID, the mechanism a default login picks).
 */
export type SessionSetup = "lean" | "full";

export function clientOptions(
  settings: ImapSettings,
  logger: Logger | false,
  setup: SessionSetup = "full",
): ImapFlowOptions {
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
    greetingTimeout: likelyNeedsTls(settings)
      ? sessionLimits.mismatchGreetingMs
      : sessionLimits.greetingMs,
    socketTimeout: sessionLimits.socketMs,
    clientInfo: { name: "Prismatic IMAP component" },
    ...(setup === "lean" ? { disableCompression: true, disableAutoEnable: true } : {}),
  };
}

/** Greetings of servers that refuse to open a mailbox before the client sent ID (Coremail: 163.com, 126.com, ...). */
const ID_FIRST_GREETINGS = /coremail/i;

/**
 * Trims imapflow's setup of a lean session, in the session core because imapflow has no option
 * for it: the ID before login is dropped (the server's answer to it is short, and imapflow asks
 * again after login anyway); the ID after login is sent only to servers known to require it
 * (others get it only when they refuse a command, see `Session.recover`); NAMESPACE is left to
 * the first path that needs it (`Session.loadNamespace`). A password logs in with LOGIN, one
 * round trip, unless the server announces LOGINDISABLED: then with AUTHENTICATE PLAIN. The
 * wrapper is removed once connected.
 */
function trimSetup(
  client: ImapFlow,
  options: ImapFlowOptions,
  state: SetupState,
  ahead: { commands: AheadCommands; list: Ahead[] },
): void {
  const auth = options.auth;
  if (auth && auth.accessToken === undefined) {
    // read by imapflow when it logs in, after the greeting (and STARTTLS) told the capabilities
    Object.defineProperty(auth, "loginMethod", {
      enumerable: true,
      get: () => (client.capabilities.has("LOGINDISABLED") ? undefined : "LOGIN"),
    });
  }
  const run: unknown = Reflect.get(client, "run");
  if (typeof run !== "function") return;
  Reflect.set(client, "run", (command: string, ...args: unknown[]) => {
    const name = command.toUpperCase();
    const greeting = typeof client.greeting === "string" ? client.greeting : "";
    if (name === "NAMESPACE") return Promise.resolve(undefined);
    const plainIr = name === "AUTHENTICATE" && plainWithInitialResponse(client, args);
    // Behind LOGIN and AUTHENTICATE PLAIN with its initial response only: a refused OAuth token is
    // answered "+" first, and the server would take the next line for the client's answer to it.
    // A server that wants ID first gets it first.
    if ((name === "LOGIN" || plainIr) && !ID_FIRST_GREETINGS.test(greeting)) {
      // imapflow has written the login by the time its run() returns
      const login: unknown = plainIr
        ? withInitialResponse(client, () => Reflect.apply(run, client, [command, ...args]))
        : Reflect.apply(run, client, [command, ...args]);
      if (ahead.list.length > 0)
        ahead.commands.sendBehindLogin(ahead.list, (path) => knownMailbox(client, path));
      return login;
    }
    if (name === "ID") {
      if (state.idSent || !client.authenticated || !ID_FIRST_GREETINGS.test(greeting))
        return Promise.resolve(undefined);
      state.idSent = true;
    }
    return Reflect.apply(run, client, [command, ...args]);
  });
}

/**
 * Whether imapflow is about to log in with AUTHENTICATE PLAIN (a password, on a server that
 * announces LOGINDISABLED) on a server with SASL-IR (RFC 4959), which takes the credentials on
 * the command line: one round trip instead of two.
 */
function plainWithInitialResponse(client: ImapFlow, args: unknown[]): boolean {
  const credentials: unknown = args[1];
  if (typeof credentials !== "object" || credentials === null) return false;
  const method: unknown = Reflect.get(credentials, "loginMethod");
  return (
    typeof args[0] === "string" &&
    typeof Reflect.get(credentials, "password") === "string" &&
    Reflect.get(credentials, "accessToken") === undefined &&
    (method === undefined || method === "" || method === "AUTH=PLAIN") &&
    client.capabilities.has("SASL-IR") &&
    client.capabilities.has("AUTH=PLAIN")
  );
}

/**
 * Runs `login` (imapflow's AUTHENTICATE PLAIN) with the PLAIN response added to the command
 * itself, marked sensitive (imapflow's logs hide it). imapflow's own handling of the answer,
 * errors included, is unchanged; should the server still send "+", imapflow answers it as ever.
 */
function withInitialResponse(client: ImapFlow, login: () => unknown): unknown {
  const exec: unknown = Reflect.get(client, "exec");
  const { user, pass } = client.options.auth ?? {};
  if (typeof exec !== "function" || typeof user !== "string" || typeof pass !== "string")
    return login();
  const authzid = client.options.auth?.authzid ?? "";
  const response = Buffer.from([authzid, user, pass].join("\u0000")).toString("base64");
  Reflect.set(client, "exec", (command: string, attributes: unknown[], options: unknown) => {
    const plain =
      command.toUpperCase() === "AUTHENTICATE" &&
      attributes.length === 1 &&
      JSON.stringify(attributes[0]) === JSON.stringify({ type: "ATOM", value: "PLAIN" });
    const sent = plain
      ? [...attributes, { type: "ATOM", value: response, sensitive: true }]
      : attributes;
    return Reflect.apply(exec, client, [command, sent, options]);
  });
  try {
    return login();
  } finally {
    Reflect.deleteProperty(client, "exec");
  }
}

/** What a lean session's setup left out and may still send. */
interface SetupState {
  /** ID was sent (or the session is full: imapflow sent it as it always does). */
  idSent: boolean;
  /** NAMESPACE was asked (or the session is full). */
  namespaceLoaded: boolean;
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
    private readonly monitor: AnswerMonitor = { unparsed: 0 },
    private readonly setup: SetupState = { idSent: true, namespaceLoaded: true },
    /** The commands a lean session sent behind its login (none in a full session). */
    private readonly ahead: AheadCommands = new AheadCommands(client, () => monitor.unparsed),
  ) {
    client.on("error", (err: unknown) => {
      this.lostWith = err;
    });
    monitor.inFlight = () => inFlightCommand(client);
  }

  /**
   * Starts imapflow calls one right behind the other, without waiting for each answer
   * (pipelining; see `pipelined` in src/ahead.ts). Each result is to be awaited through `run` or
   * `exec`, in order.
   */
  pipelined(starts: (() => Promise<unknown>)[]): Promise<unknown>[] {
    return pipelined(this.client, starts);
  }

  /**
   * The connection was lost with the login and the step's first commands in flight: those
   * commands, and the step's refusals, report this cause.
   */
  lostDuringLogin(cause: unknown): void {
    this.lostWith ??= cause;
    this.ahead.lostDuringLogin(cause);
  }

  /**
   * How many lines of the server's answers the client could not parse so far in this session:
   * imapflow skips them, so a command during which this grew may be missing rows.
   */
  get unparsedLines(): number {
    return this.monitor.unparsed;
  }

  /** True when the server announced the capability (e.g. "UIDPLUS", "MOVE", "CONDSTORE"). */
  has(capability: string): boolean {
    return this.client.capabilities.has(capability);
  }

  /** The error to throw for `err` while doing `op`. */
  fail(err: unknown, op: Operation): Error {
    // imapflow keeps the server's BYE on the client but not on every error it causes
    const bye = this.client.byeReason;
    if (bye && typeof err === "object" && err !== null && !("reason" in err))
      Object.assign(err, { reason: bye });
    if (notConnected(err)) Object.assign(err as object, { authenticationFailed: true });
    return translateError(err, this.scope, op);
  }

  /**
   * Runs one imapflow call. Its errors become clear messages, and a `false` or `undefined`
   * result (imapflow's way of reporting a NO or a lost connection for several commands) is a
   * failure, never a success.
   */
  async run<T>(op: Operation, call: () => Promise<T | false | undefined>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      let result: T | false | undefined;
      let before = this.unparsedLines;
      try {
        result = await call();
      } catch (err) {
        before = this.ahead.servedSince(before);
        // a command whose answer was damaged may have had its effect: it is never sent again
        if (attempt === 0 && this.unparsedLines <= before && (await this.recover(err, op, false)))
          continue;
        throw await this.explained(this.fail(this.withCommand(err, before), op), op);
      }
      before = this.ahead.servedSince(before);
      if (result !== false && result !== undefined) return result;
      if (
        attempt === 0 &&
        this.damagedSince(before) === undefined &&
        (await this.recover(undefined, op, false))
      )
        continue;
      throw await this.refusal(op, before);
    }
  }

  /** Like `run`, for calls whose result is not needed (and may legitimately be empty). */
  async exec(op: Operation, call: () => Promise<unknown>): Promise<void> {
    const before = this.unparsedLines;
    try {
      await call();
    } catch (err) {
      throw await this.explained(this.fail(this.withCommand(err, before), op), op);
    }
    if (!this.client.usable) throw await this.refusal(op, before);
  }

  /**
   * What a lean session left out of its setup and a refused command may have needed, sent now;
   * true when it was, so that the command is worth sending once more. A command that was refused
   * changed nothing, so sending it again is safe.
   * - NAMESPACE, when the mailbox is missing: on a server whose personal mailboxes live under a
   *   prefix (`INBOX.`), a path given without it is then sent with it, as imapflow does.
   * - ID, when the server announces it and refused to open a mailbox (`opening`) without a
   *   response code: some servers (Coremail's) refuse to open any until the client identified itself.
   * `err` is the command's error, undefined when imapflow reported the refusal as `false`.
   */
  private async recover(err: unknown, op: Operation, opening: boolean): Promise<boolean> {
    if (!this.client.usable || op.mailbox === undefined) return false;
    const fields = typeof err === "object" && err !== null ? err : {};
    const code: unknown = Reflect.get(fields, "serverResponseCode");
    // imapflow LISTs a mailbox it was refused to open (mailboxMissing) or STATUS (NotFound)
    const listedMissing =
      Reflect.get(fields, "mailboxMissing") === true || Reflect.get(fields, "code") === "NotFound";
    const plainNo = Reflect.get(fields, "responseStatus") === "NO" && !code;
    // a refusal without an error (imapflow's false) or without a code may be a missing mailbox too
    const missing =
      err === undefined ||
      listedMissing ||
      code === "NONEXISTENT" ||
      code === "TRYCREATE" ||
      (plainNo && !opening);
    if (missing && (await this.loadNamespace(op.mailbox))) return true;
    if (!opening || !plainNo || listedMissing || this.setup.idSent || !this.has("ID")) return false;
    this.setup.idSent = true;
    try {
      if (!(await this.sendOwn("ID", Reflect.get(this.client, "clientInfo")))) return false;
    } catch {
      return false;
    }
    return this.client.usable;
  }

  /**
   * Sends one of imapflow's own commands (ID, NAMESPACE) through its internal `run`, which keeps
   * what the answer says (the namespaces, the server's ID); false when this imapflow has none.
   */
  private async sendOwn(command: string, ...args: unknown[]): Promise<boolean> {
    const run: unknown = Reflect.get(this.client, "run");
    if (typeof run !== "function") return false;
    await Reflect.apply(run, this.client, [command, ...args]);
    return true;
  }

  /**
   * Asks the server's NAMESPACE, once per session, where a lean session left it out; true when
   * its personal prefix changes how `path` is sent (imapflow prepends it to a path without it).
   * Run before creating or renaming a mailbox, and when a mailbox is missing.
   */
  async loadNamespace(path: string): Promise<boolean> {
    if (this.setup.namespaceLoaded || !this.client.usable) return false;
    this.setup.namespaceLoaded = true;
    try {
      if (!(await this.sendOwn("NAMESPACE"))) return false;
    } catch (err) {
      throw this.fail(err, { doing: "read the namespaces" });
    }
    const prefix = personalPrefix(this.client);
    return prefix !== "" && !isInbox(path) && !path.startsWith(prefix);
  }

  /**
   * Like `run`, for answers whose every line counts (a LIST, a SEARCH): a line the client could
   * not parse and skipped meanwhile may have been one of them, so it fails the command rather
   * than return a shorter result.
   */
  async runWhole<T>(op: Operation, call: () => Promise<T | false | undefined>): Promise<T> {
    const before = this.unparsedLines;
    const result = await this.run(op, call);
    const damaged = this.damagedSince(before);
    if (damaged !== undefined) throw this.fail(damaged, op);
    return result;
  }

  /** `exec` with the check of `runWhole`. */
  async execWhole(op: Operation, call: () => Promise<unknown>): Promise<void> {
    const before = this.unparsedLines;
    await this.exec(op, call);
    const damaged = this.damagedSince(before);
    if (damaged !== undefined) throw this.fail(damaged, op);
  }

  /**
   * The error of a command whose answer could not be parsed names the IMAP command it answered:
   * imapflow's error does not carry it, so it is taken from the parser failure logged meanwhile.
   */
  private withCommand(err: unknown, before: number): unknown {
    const failure = this.monitor.lastFailure;
    if (this.unparsedLines <= before || !failure?.command) return err;
    if (typeof err !== "object" || err === null || "imapCommand" in err) return err;
    return Object.assign(err, { imapCommand: failure.command });
  }

  /**
   * imapflow's methods that answer `false` on failure (status(), flag changes, ...) answer it
   * too when the command's completion could not be parsed: a damaged answer, not a refusal.
   */
  private damagedSince(before: number): unknown {
    const failure = this.monitor.lastFailure;
    if (this.unparsedLines <= before || !failure) return undefined;
    const code: unknown =
      typeof failure.err === "object" && failure.err !== null
        ? Reflect.get(failure.err, "code")
        : undefined;
    return Object.assign(new Error("The server's answer could not be parsed"), {
      code: typeof code === "string" ? code : "ParserError",
      imapCommand: failure.command,
    });
  }

  /** The reason for a command that failed without an error: damaged answer, lost connection, missing mailbox, or a plain refusal. */
  private async refusal(op: Operation, before = this.unparsedLines): Promise<Error> {
    const damaged = this.damagedSince(before);
    if (damaged !== undefined) return this.fail(damaged, op);
    if (this.client.usable && op.mailbox !== undefined && !(await this.mailboxExists(op.mailbox)))
      return this.explained(this.missingMailbox(op), op);
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
    if (!(await this.mailboxExists(op.mailbox)))
      throw await this.explained(this.missingMailbox(op), op);
  }

  /** Whether `path` is a listed mailbox (compared as imapflow normalises paths: INBOX in any case). */
  async mailboxExists(path: string): Promise<boolean> {
    let list: ListResponse[];
    const before = this.unparsedLines;
    try {
      list = await this.client.list({ listOnly: true });
    } catch (err) {
      throw this.fail(this.withCommand(err, before), { doing: "list the mailboxes" });
    }
    // a skipped line may have been the mailbox's: never conclude it does not exist
    const damaged = this.damagedSince(before);
    if (damaged !== undefined) throw this.fail(damaged, { doing: "list the mailboxes" });
    const wanted = isInbox(path) ? "INBOX" : path;
    return list.some((entry) => entry.path === wanted && !hasFlag(entry.flags, "\\NonExistent"));
  }

  /**
   * A "does not exist" error for a name that looks like an existing one: the same text in another
   * Unicode normalisation (an "ü" typed as u + combining diaeresis), which no server matches.
   * Any other error is returned as it is.
   */
  private async explained(error: Error, op: Operation): Promise<Error> {
    const wanted = op.mailbox;
    if (!(error instanceof ImapError) || error.code !== "MAILBOX_NOT_FOUND") return error;
    if (wanted === undefined || !this.client.usable || /^[\x20-\x7e]*$/.test(wanted)) return error;
    let list: ListResponse[];
    try {
      list = await this.client.list({ listOnly: true });
    } catch {
      return error;
    }
    const same = list.find(
      (entry) => entry.path !== wanted && entry.path.normalize("NFC") === wanted.normalize("NFC"),
    );
    if (!same) return error;
    return new ImapError(
      `The mailbox "${wanted}" does not exist, but "${same.path}" does: the two names look alike and differ only in how their accented letters are encoded (Unicode normalisation). Use "${same.path}" (copy it from the List Mailboxes action or the mailbox picker).`,
      { code: "MAILBOX_NOT_FOUND", mailbox: wanted, uid: op.uid, cause: error },
    );
  }

  /** The error for a command that failed without one: the lost connection's, or a plain refusal. */
  refused(op: Operation): Error {
    if (!this.client.usable) {
      return this.fail(
        this.lostWith ??
          Object.assign(new Error("Connection closed"), {
            code: "NoConnection",
            reason: this.client.byeReason,
          }),
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
    let lock: MailboxLockObject | undefined;
    const op = { doing: "open the mailbox", mailbox: path };
    for (let attempt = 0; lock === undefined; attempt += 1) {
      knownMailbox(this.client, path);
      let before = this.unparsedLines;
      try {
        lock = await this.client.getMailboxLock(path, { readOnly: options.readOnly });
        this.ahead.servedSince(before);
      } catch (err) {
        before = this.ahead.servedSince(before);
        if (attempt === 0 && this.unparsedLines <= before && (await this.recover(err, op, true)))
          continue;
        throw await this.explained(this.fail(this.withCommand(err, before), op), op);
      }
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

/**
 * Microsoft 365 accepts a login to a mailbox it then does not open (no permission on it, IMAP
 * disabled for it) and answers every later command "BAD User is authenticated but not connected",
 * without a response code, so only its text tells. imapflow recognises it in the NAMESPACE of its
 * own setup, which a lean session does not send: the login failed, whichever command met it.
 */
function notConnected(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const text: unknown = Reflect.get(err, "responseText");
  return (
    Reflect.get(err, "responseStatus") === "BAD" &&
    typeof text === "string" &&
    /User is authenticated but not connected/i.test(text)
  );
}

/** The prefix of the personal namespace imapflow knows ("" when none or not asked). */
function personalPrefix(client: ImapFlow): string {
  const namespace: unknown = Reflect.get(client, "namespace");
  const prefix: unknown =
    typeof namespace === "object" && namespace !== null
      ? Reflect.get(namespace, "prefix")
      : undefined;
  return typeof prefix === "string" ? prefix : "";
}

/**
 * Before SELECT or EXAMINE imapflow LISTs the mailbox unless its mailbox cache knows it, only to
 * copy the delimiter and special use into the opened mailbox, which the component never reads.
 * An entry for the path saves that round trip; a missing mailbox is still told by SELECT's NO
 * (imapflow checks it with a LIST then). The path is the one imapflow will send.
 */
function knownMailbox(client: ImapFlow, path: string): void {
  const folders: unknown = Reflect.get(client, "folders");
  if (!(folders instanceof Map)) return;
  const prefix = personalPrefix(client);
  const sent = isInbox(path)
    ? "INBOX"
    : prefix !== "" && !path.startsWith(prefix)
      ? prefix + path
      : path;
  if (!folders.has(sent)) folders.set(sent, { path: sent });
}

/**
 * The UIDVALIDITY of the selected mailbox: from SELECT/EXAMINE, else from a STATUS of it. A
 * server that gives it in neither is a clear error (`needs`: what it is needed for), never a
 * TypeError.
 */
export async function uidValidityOf({ session, box }: Selected, needs: string): Promise<bigint> {
  // imapflow leaves the field out when SELECT's answer lacks it, whatever its type says.
  const selected: unknown = box.uidValidity;
  if (typeof selected === "bigint") return selected;
  const status = await session.run(
    { doing: "read the UIDVALIDITY of the mailbox", mailbox: box.path },
    () => session.client.status(box.path, { uidValidity: true }),
  );
  if (typeof status.uidValidity === "bigint") return status.uidValidity;
  throw incompleteAnswer(box.path, "SELECT, EXAMINE and STATUS", ["UIDVALIDITY"], needs);
}

/** A secret as it is, and URL-encoded as a query or a form would carry it. */
function secretForms(secret: string): string[] {
  const forms = [
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ s: secret }).toString().slice(2),
  ];
  return [...new Set(forms)];
}

/** The SASL PLAIN response a password logs in with (base64 of user and password), a secret too. */
function plainResponses(settings: ImapSettings): string[] {
  const password = settings.password;
  if (typeof password !== "string" || password === "") return [];
  return [Buffer.from(`\u0000${settings.user}\u0000${password}`).toString("base64")];
}

function scopeFor(connection: Connection, settings: ImapSettings): ErrorScope {
  return {
    host: settings.host,
    port: settings.port,
    user: settings.user,
    encryption: settings.encryption,
    oauth: settings.accessToken !== undefined || settings.grant !== undefined,
    secrets: [
      settings.password,
      settings.accessToken,
      ...settings.credentials,
      ...plainResponses(settings),
    ]
      .filter((s): s is string => typeof s === "string" && s !== "")
      .flatMap(secretForms),
    appOnly: settings.appOnly,
    connection: redactedConnection(connection),
    timeouts: {
      connectMs: sessionLimits.connectMs,
      greetingMs: likelyNeedsTls(settings)
        ? sessionLimits.mismatchGreetingMs
        : sessionLimits.greetingMs,
      socketMs: sessionLimits.socketMs,
    },
    likelyNeedsTls: likelyNeedsTls(settings),
  };
}

/**
 * Whether the TCP connection itself was made: then a connect timeout means the TLS handshake (or
 * the server) never answered, not that the host is unreachable. imapflow keeps its socket after a
 * failed connect; a socket still `connecting` never reached the host.
 */
function tcpConnected(client: ImapFlow): boolean {
  // imapflow sets it to null once the connection is closed
  const socket = Reflect.get(client, "socket") as
    | { connecting?: boolean; remoteAddress?: string }
    | null
    | undefined;
  return (
    typeof socket === "object" &&
    socket !== null &&
    socket.connecting === false &&
    Boolean(socket.remoteAddress)
  );
}

/**
 * Turns Nagle's algorithm off on the client's socket, which imapflow creates as it starts to
 * connect: with it on, a write that follows another (a command behind LOGIN, a literal behind its
 * command line) waits for the TCP acknowledgement of the first, a whole round trip across the
 * internet. (imapflow hands its `tls` options to tls.connect, which does not take `noDelay`.)
 */
function sendAtOnce(client: ImapFlow): void {
  const socket: unknown = Reflect.get(client, "socket");
  if (socket instanceof Socket) socket.setNoDelay(true);
}

/** A refused login (imapflow marks it), not a connection lost or damaged during it. */
function authenticationFailure(err: unknown): boolean {
  return (
    typeof err === "object" && err !== null && Reflect.get(err, "authenticationFailed") === true
  );
}

/** What imapflow can log in with when given an access token (the first one offered wins). */
const OAUTH_MECHANISMS = ["AUTH=OAUTHBEARER", "AUTH=XOAUTH2", "AUTH=XOAUTH"];

/**
 * Sends LOGOUT and closes the socket once LOGOUT is on the wire, without waiting for the answer:
 * by then every command of the step has been answered, so nothing is left for the server to
 * confirm. A full session waits for the answer, as Check Connection reports the whole exchange.
 */
async function closeQuietly(client: ImapFlow, setup: SessionSetup): Promise<void> {
  if (client.usable) {
    let timer: NodeJS.Timeout | undefined;
    const bounded = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, sessionLimits.logoutMs);
    });
    const loggedOut = client.logout().catch(() => undefined);
    // A stalled server would hold LOGOUT until the inactivity timer: bound it, then close.
    await Promise.race([setup === "lean" ? logoutSent(client) : loggedOut, bounded]);
    clearTimeout(timer);
    client.close();
    await loggedOut;
    return;
  }
  client.close();
}

/** Settles once imapflow has written LOGOUT and the socket has handed it to the system. */
async function logoutSent(client: ImapFlow): Promise<void> {
  const written = () => {
    const request: unknown = Reflect.get(client, "currentRequest");
    return (
      typeof request === "object" &&
      request !== null &&
      String(Reflect.get(request, "command")).toUpperCase() === "LOGOUT" &&
      Reflect.get(request, "sent") === true
    );
  };
  while (!written() && !Reflect.get(client, "isClosed"))
    await new Promise<void>((resolve) => setImmediate(resolve));
  // 'drain' is emitted only after a write that filled the buffer, so the buffer is watched instead
  for (const name of ["writeSocket", "socket"]) {
    const socket: unknown = Reflect.get(client, name);
    while (socket instanceof Writable && !socket.destroyed && socket.writableLength > 0)
      await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * Opens a session for one invocation, runs `work`, logs out and closes the socket. Invalid
 * connection settings are reported before anything is sent.
 */
/**
 * The access token of a connection that gets its own (certificate, service account): cached or
 * newly requested, within the same bounds as connecting to the IMAP server.
 */
async function mintedSettings(settings: ImapSettings, scope: ErrorScope): Promise<ImapSettings> {
  const grant = settings.grant;
  if (!grant) return settings;
  let minted: MintedToken;
  try {
    minted = await accessTokenFor(grant, {
      connectMs: sessionLimits.connectMs,
      responseMs: sessionLimits.greetingMs,
    });
  } catch (err) {
    throw translateError(err, scope, { doing: "get an access token" });
  }
  scope.secrets.push(...secretForms(minted.accessToken));
  scope.tokenExpiresAt = minted.expiresAt;
  return { ...settings, accessToken: minted.accessToken };
}

/**
 * How a step's session is set up: `setup` (see SessionSetup), and `ahead`, the commands the step
 * sends first, which a lean session writes right behind the login (see src/ahead.ts).
 */
export interface SessionOptions {
  setup?: SessionSetup;
  ahead?: Ahead[];
}

/** A session whose step first opens `mailbox` (EXAMINE when `readOnly`, else SELECT). */
export function opening(mailbox: string, readOnly: boolean): SessionOptions {
  return { ahead: [{ command: "SELECT", mailbox, readOnly }] };
}

export async function withSession<T>(
  connection: Connection,
  context: SessionContext,
  work: (session: Session) => Promise<T>,
  options: SessionOptions = {},
): Promise<T> {
  const setup = options.setup ?? "lean";
  const parsed = parseConnection(connection);
  const scope = scopeFor(connection, parsed);
  const settings = await mintedSettings(parsed, scope);
  const monitor: AnswerMonitor = { unparsed: 0 };
  const imapOptions = clientOptions(settings, stepLogger(context, scope.secrets, monitor), setup);
  const client = new ImapFlow(imapOptions);
  const state: SetupState = { idSent: setup === "full", namespaceLoaded: setup === "full" };
  const ahead = new AheadCommands(client, () => monitor.unparsed);
  if (setup === "lean")
    trimSetup(client, imapOptions, state, { commands: ahead, list: options.ahead ?? [] });
  const session = new Session(client, scope, monitor, state, ahead);
  try {
    try {
      const connecting = client.connect();
      sendAtOnce(client);
      await connecting;
    } catch (err) {
      scope.loginDisabled = client.capabilities.has("LOGINDISABLED");
      scope.tcpConnected = tcpConnected(client);
      // Lost (cut, stalled, damaged) with the step's commands behind the login: they fail in the
      // step, which names what it was doing, as when they are sent after the login's answer.
      if (ahead.sentCount > 0 && !authenticationFailure(err)) session.lostDuringLogin(err);
      else throw connectFailure(err);
    }
    Reflect.deleteProperty(client, "run");
    ahead.serve();
    return await work(session);
  } finally {
    Reflect.deleteProperty(client, "run");
    await closeQuietly(client, setup);
  }

  function connectFailure(err: unknown): Error {
    // capabilities are empty when it failed before the greeting: then nothing is known
    scope.oauthUnsupported =
      settings.accessToken !== undefined &&
      client.capabilities.size > 0 &&
      !OAUTH_MECHANISMS.some((mechanism) => client.capabilities.has(mechanism));
    // a refused token is not reused: the mailbox permissions or consent may change meanwhile
    if (settings.grant && settings.accessToken && authenticationFailure(err))
      forgetToken(settings.grant, settings.accessToken);
    return session.fail(err, { doing: `connect to ${settings.host}:${settings.port}` });
  }
}
