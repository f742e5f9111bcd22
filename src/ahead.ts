/**
 * Commands sent ahead: the first command(s) a step will send (SELECT/EXAMINE of its mailbox, a
 * STATUS) are written right behind the login, before its answer, so that one round trip carries
 * both (pipelining, RFC 3501 5.5). Only commands that change nothing are sent ahead, and a server
 * that did not accept the login refuses them, so nothing happens that the step would not do.
 *
 * imapflow keeps one command in flight and has no option for this, so it reaches into one
 * client's internals (its request queue, `trySend`, `send`, `runInternal`, `state`), each checked
 * before use; src/ahead.test.ts and the round-trip tests hold the pinned imapflow's behaviour.
 *
 * Each answer is used once, by the step's own call of the same command (see `serve`). A refusal
 * (NO) reaches that call as if it had sent the command, so it recovers as it always does; any
 * other failure, or an answer during which a server line could not be parsed, is never used: the
 * step's command is then sent again as it always was.
 */

import type { ImapFlow, StatusQuery } from "imapflow";
import { isInbox } from "./mailboxes";

/** A command a step will send first. */
export type Ahead =
  | { command: "SELECT"; mailbox: string; readOnly: boolean }
  | { command: "STATUS"; mailbox: string; query: StatusQuery };

/**
 * What the step's call of a command sent ahead gets: imapflow's result or error, as if the call
 * had sent it, or `resend`: the call sends the command itself.
 */
type Outcome =
  | { use: "value"; value: unknown }
  | { use: "error"; error: unknown }
  | { use: "resend" };

/** A command as the answers are matched: SELECT with "true" when read-only, STATUS with its items. */
export interface Call {
  command: "SELECT" | "STATUS";
  path: string;
  detail: string[];
}

export interface Sent extends Call {
  outcome: Promise<Outcome>;
  /** Server lines imapflow could not parse before it was sent. */
  unparsedBefore: number;
}

/** The commands sent ahead in one session, until each is used or the session ends. */
export class AheadCommands {
  private readonly sent: Sent[] = [];
  private written = 0;
  /** `unparsedBefore` of the command whose answer a call got last, until the session reads it. */
  private served: number | undefined;
  /** Why the connection was lost while the login was in flight (see `lostDuringLogin`). */
  private lost: unknown;

  constructor(
    private readonly client: ImapFlow,
    /** How many server lines imapflow could not parse so far (see `AnswerMonitor`). */
    private readonly unparsed: () => number,
  ) {}

  /**
   * Sends `aheads` right behind the login command imapflow has just written. Does nothing where
   * that cannot be done cleanly (the login still has a literal to send, another command is
   * queued, this imapflow lacks what is needed); the step then sends each as before. `prepare`
   * runs before each SELECT is built (it fills imapflow's mailbox cache).
   */
  sendBehindLogin(aheads: Ahead[], prepare: (mailbox: string) => void): void {
    const internals = clientInternals(this.client);
    if (!internals || !internals.loginInFlight()) return;
    internals.installTrySend();
    internals.keepSelectedOnLogin();
    for (const ahead of aheads) {
      if (ahead.command === "SELECT") prepare(ahead.mailbox);
      // Many servers announce CONDSTORE only after login: HIGHESTMODSEQ is asked all the same;
      // one without it refuses the STATUS, and the step's own is then sent without it.
      const assumeCondstore = ahead.command === "STATUS" && ahead.query.highestModseq === true;
      // judged from when it is the command in flight: a line of the login's answer is the login's
      let before = Number.POSITIVE_INFINITY;
      const started = internals.startBehind(
        () =>
          ahead.command === "SELECT"
            ? internals.runInternal("SELECT", ahead.mailbox, { readOnly: ahead.readOnly })
            : internals.runInternal("STATUS", ahead.mailbox, ahead.query),
        { asAuthenticated: true, assumeCondstore },
        () => {
          before = this.unparsed();
        },
      );
      if (!started) return;
      // An answer is the step's own when it was good, refused (NO), damaged or cut off (the step
      // then reports it as it always did, see `servedSince`); a failure of another kind (a BAD,
      // as from a server that takes no command before the login is answered) is sent again.
      const own = () => this.unparsed() > before || closed(this.client);
      const outcome = started.result.then(
        (value): Outcome =>
          (value !== false && value !== undefined) || own()
            ? { use: "value", value }
            : { use: "resend" },
        (error: unknown): Outcome =>
          refusal(error) || own() ? { use: "error", error } : { use: "resend" },
      );
      this.written += 1;
      this.sent.push({
        get unparsedBefore() {
          return Math.min(before, Number.MAX_SAFE_INTEGER);
        },
        command: ahead.command,
        path: pathKey(ahead.mailbox),
        detail:
          ahead.command === "SELECT"
            ? [String(ahead.readOnly)]
            : statusItems(ahead.query, started.condstore),
        outcome,
      });
      // a command whose literal waits for the server's "+" is the last one written
      if (!started.whole) return;
    }
  }

  /**
   * Wraps the client's `run` so that the step's own call of a command sent ahead gets its answer,
   * once; every other call is run as always. The session core removes the wrapper at the end.
   */
  serve(): void {
    const client = this.client;
    const run: unknown = Reflect.get(client, "run");
    if (typeof run !== "function" || this.sent.length === 0) return;
    const original = (command: string, args: unknown[]) =>
      Reflect.apply(run, client, [command, ...args]) as Promise<unknown>;
    Reflect.set(client, "run", (command: string, ...args: unknown[]) => {
      const call = callOf(client, command, args);
      const index = call ? this.sent.findIndex((sent) => answers(sent, call)) : -1;
      const sent = index < 0 ? undefined : this.sent.splice(index, 1)[0];
      if (!sent || !call) return original(command, args);
      return sent.outcome.then((outcome) => {
        if (outcome.use === "resend") return original(command, args);
        this.served = sent.unparsedBefore;
        if (outcome.use === "error") throw this.lost ?? outcome.error;
        return call.command === "STATUS" ? onlyAsked(outcome.value, call.detail) : outcome.value;
      });
    });
  }

  /**
   * The connection was lost with the login in flight (cut, stalled, an answer that could not be
   * parsed): the commands sent ahead fail with that cause, not with imapflow's "connection
   * closed" for the requests it was still waiting to hand over.
   */
  lostDuringLogin(cause: unknown): void {
    this.lost = cause;
  }

  /** How many commands were written behind the login. */
  get sentCount(): number {
    return this.written;
  }

  /**
   * The count of unparsed server lines from which the call that just returned is to be judged:
   * `since` (taken when the call started), or earlier when its answer came to a command sent
   * ahead, so that a line skipped in that answer counts against the call as it would have.
   */
  servedSince(since: number): number {
    const served = this.served;
    this.served = undefined;
    return served === undefined ? since : Math.min(since, served);
  }
}

/** Whether the connection is gone (closed, or its socket destroyed). */
function closed(client: ImapFlow): boolean {
  const socket: unknown = Reflect.get(client, "socket");
  const destroyed =
    typeof socket !== "object" || socket === null || Reflect.get(socket, "destroyed") === true;
  return Reflect.get(client, "isClosed") === true || destroyed;
}

/** A refusal by the server (NO), or imapflow's "does not exist" after a refused STATUS. */
export function refusal(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  return Reflect.get(error, "responseStatus") === "NO" || Reflect.get(error, "code") === "NotFound";
}

/** The STATUS items imapflow sends for `query` (HIGHESTMODSEQ only with CONDSTORE). */
export function statusItems(query: StatusQuery, condstore: boolean): string[] {
  return Object.entries(query)
    .filter(([key, wanted]) => wanted === true && (key !== "highestModseq" || condstore))
    .map(([key]) => key);
}

/** A path as imapflow sends it: INBOX in capitals, the rest as given. */
function pathKey(mailbox: string): string {
  return isInbox(mailbox) ? "INBOX" : mailbox;
}

/** A call of imapflow's `run` as a step makes it; undefined for commands never sent ahead. */
function callOf(client: ImapFlow, command: string, args: unknown[]): Call | undefined {
  const [mailbox, options] = args;
  if (typeof mailbox !== "string" || typeof options !== "object" || options === null)
    return undefined;
  const name = command.toUpperCase();
  if (name === "SELECT")
    return {
      command: name,
      path: pathKey(mailbox),
      detail: [String(Reflect.get(options, "readOnly") === true)],
    };
  if (name === "STATUS")
    return {
      command: name,
      path: pathKey(mailbox),
      detail: statusItems(options as StatusQuery, client.capabilities.has("CONDSTORE")),
    };
  return undefined;
}

/**
 * Whether a command sent ahead answers `call`: the same mailbox opened the same way, or a STATUS
 * of at least the items the call asks (its answer is then cut to those, see `onlyAsked`).
 */
export function answers(sent: Sent, call: Call): boolean {
  if (sent.command !== call.command || sent.path !== call.path) return false;
  return call.command === "SELECT"
    ? sent.detail[0] === call.detail[0]
    : call.detail.every((item) => sent.detail.includes(item));
}

/** A STATUS answer with only the items asked (and the path), as the call's own answer would be. */
export function onlyAsked(value: unknown, items: string[]): unknown {
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).filter(([key]) => key === "path" || items.includes(key)),
  );
}

/**
 * Per client, the tags of the commands written ahead of their turn (see `installTrySend`), each
 * with what to do when it becomes the command in flight.
 */
const writtenAhead = new WeakMap<ImapFlow, Map<string, () => void>>();

/**
 * Sends imapflow commands one right behind the other, without waiting for the answer to the one
 * before (pipelining, RFC 3501 5.5): the server answers them in order and imapflow reads each
 * answer as it always does. Each `start` queues one of imapflow's commands without awaiting
 * anything first (`runInternal` of a command, or `exec`); one that cannot be written at once is
 * sent in turn, as imapflow does. Returns their results, in order; each is awaited by the caller.
 */
export function pipelined(
  client: ImapFlow,
  starts: (() => Promise<unknown>)[],
): Promise<unknown>[] {
  const internals = clientInternals(client);
  if (!internals) return starts.map((start) => start());
  internals.installTrySend();
  let writing = true;
  return starts.map((start) => {
    let result = Promise.resolve<unknown>(undefined);
    // the first one is written by imapflow itself when nothing else is in flight
    if (!writing || !internals.oneInFlight()) result = start();
    else {
      const started = internals.startBehind(() => {
        result = start();
        return result;
      });
      writing = started?.whole === true;
    }
    // the caller may stop at an earlier one's failure: a later one's is never unhandled
    result.catch(() => undefined);
    return result;
  });
}

/** Whether imapflow's command attributes hold a literal (sent after the server's "+"). */
export function hasLiteral(attributes: unknown): boolean {
  if (Array.isArray(attributes)) return attributes.some(hasLiteral);
  if (typeof attributes !== "object" || attributes === null) return false;
  return Reflect.get(attributes, "type") === "LITERAL";
}

interface Request {
  tag: string;
  command: string;
  attributes: unknown;
  options: unknown;
  sent?: boolean;
}

/** The parts of imapflow's client this needs, each checked; undefined when one is missing. */
function clientInternals(client: ImapFlow) {
  const queue: unknown = Reflect.get(client, "requestQueue");
  const states: unknown = Reflect.get(client, "states");
  const send: unknown = Reflect.get(client, "send");
  const trySend: unknown = Reflect.get(client, "trySend");
  const runInternal: unknown = Reflect.get(client, "runInternal");
  const setAuthenticationState: unknown = Reflect.get(client, "setAuthenticationState");
  if (
    !Array.isArray(queue) ||
    typeof states !== "object" ||
    states === null ||
    typeof send !== "function" ||
    typeof trySend !== "function" ||
    typeof runInternal !== "function" ||
    typeof setAuthenticationState !== "function"
  )
    return undefined;
  // read each time: imapflow may replace its queue (when the connection closes)
  const requests = () => (Reflect.get(client, "requestQueue") as Request[] | undefined) ?? [];
  const state = (name: string): unknown => Reflect.get(states, name);
  const written = () => Number(Reflect.get(client, "writeBytesCounter") ?? 0);
  const parts = () => {
    const list: unknown = Reflect.get(client, "commandParts");
    return Array.isArray(list) ? list.length : 0;
  };
  const current = () => Reflect.get(client, "currentRequest") as Request | false | undefined;
  let sentAhead = writtenAhead.get(client);
  if (!sentAhead) {
    sentAhead = new Map<string, () => void>();
    writtenAhead.set(client, sentAhead);
  }
  const ahead = sentAhead;

  return {
    runInternal: (command: string, ...args: unknown[]) =>
      Reflect.apply(runInternal, client, [command, ...args]) as Promise<unknown>,

    /** The login command is written whole and nothing else waits to be sent. */
    loginInFlight(): boolean {
      const request = current();
      const name = request ? request.command.toUpperCase() : "";
      return (
        request !== false &&
        request !== undefined &&
        request.sent === true &&
        (name === "LOGIN" || name === "AUTHENTICATE") &&
        parts() === 0 &&
        requests().length === 0
      );
    },

    /**
     * Once the command ahead of one sent ahead is answered, imapflow takes the next from its
     * queue and writes it: one sent ahead is already on the wire, so it only becomes the command
     * in flight (imapflow reads the untagged answers of the command in flight with its handlers).
     */
    installTrySend(): void {
      if (Reflect.get(client, "trySend") !== trySend || Object.hasOwn(client, "trySend")) return;
      Reflect.set(client, "trySend", () => {
        const queue = requests();
        const next = queue[0];
        const becomesCurrent = next === undefined ? undefined : ahead.get(next.tag);
        if (!current() && next !== undefined && becomesCurrent !== undefined) {
          ahead.delete(next.tag);
          const request = queue.shift() as Request;
          request.sent = true;
          Reflect.set(client, "currentRequest", request);
          becomesCurrent();
          return Promise.resolve();
        }
        return Reflect.apply(trySend, client, []) as Promise<void>;
      });
    },

    /**
     * imapflow marks the session authenticated after the login's answer; a SELECT sent ahead may
     * have been answered before that, and its mailbox stays selected.
     */
    keepSelectedOnLogin(): void {
      Reflect.set(client, "setAuthenticationState", () => {
        const selected = Reflect.get(client, "state") === state("SELECTED");
        const done = Reflect.apply(setAuthenticationState, client, []) as Promise<void>;
        if (selected) Reflect.set(client, "state", state("SELECTED"));
        return done;
      });
    },

    /** A command is on the wire, whole, and every one queued behind it is written already. */
    oneInFlight(): boolean {
      const request = current();
      return (
        request !== false &&
        request !== undefined &&
        request.sent === true &&
        parts() === 0 &&
        requests().every((queued) => ahead.has(queued.tag))
      );
    },

    /**
     * Starts one of imapflow's commands (`asAuthenticated`: as if the login had been answered,
     * as its commands check the state before they queue), then writes it at once, behind the one
     * in flight. Undefined when it did not queue exactly one request or nothing of it could be
     * written; it is then sent in turn as imapflow does. `whole`: no literal of it waits for the
     * server's "+" (imapflow sends those parts then).
     */
    startBehind(
      start: () => Promise<unknown>,
      options: { asAuthenticated?: boolean; assumeCondstore?: boolean } = {},
      onCurrent: () => void = () => undefined,
    ): { result: Promise<unknown>; condstore: boolean; whole: boolean } | undefined {
      const saved: unknown = Reflect.get(client, "state");
      const capabilities = client.capabilities;
      const added = options.assumeCondstore === true && !capabilities.has("CONDSTORE");
      const queued = requests().length;
      let result: Promise<unknown>;
      if (options.asAuthenticated) Reflect.set(client, "state", state("AUTHENTICATED"));
      if (added) capabilities.set("CONDSTORE", true);
      try {
        result = start();
      } finally {
        if (added) capabilities.delete("CONDSTORE");
        if (options.asAuthenticated) Reflect.set(client, "state", saved);
      }
      // never an unhandled rejection, whatever becomes of it
      result.catch(() => undefined);
      const queue = requests();
      const request = queue.length === queued + 1 ? queue[queued] : undefined;
      // a literal waits for the server's "+", and imapflow drops a waiting one's remaining parts
      // once the command before it is answered: such a command is sent in turn
      if (!request || hasLiteral(request.attributes)) return undefined;
      const before = written();
      Reflect.apply(send, client, [
        {
          tag: request.tag,
          command: request.command,
          attributes: request.attributes,
          options: request.options,
        },
      ]).catch(() => undefined);
      if (written() === before) return undefined;
      ahead.set(request.tag, onCurrent);
      return {
        result,
        condstore: added || capabilities.has("CONDSTORE"),
        whole: parts() === 0,
      };
    },
  };
}
