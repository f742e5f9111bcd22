/**
 * Garbled bytes in the server's answers, made by the rewriting proxy on the cleartext port: a
 * flipped parenthesis or a wrong literal length in a FETCH row, a duplicated chunk, garbage in
 * the completion of SELECT, STATUS, STORE, SEARCH and LIST. Each step fails with a damaged-answer
 * error that names the command and says a retry is possible, never returns what the damaged bytes
 * seemed to say, and changes no mail it was not asked to.
 */
import { ImapError } from "../src/errors";
import { sessionLimits } from "../src/session";
import { failure, flagsByUid, harness, legacyConnection, seedMailbox, server } from "./helpers";
import type { Rewrites } from "./rewriteProxy";
import { rewriteProxy } from "./rewriteProxy";

const USER = "test37";
type Connection = ReturnType<typeof legacyConnection>;

async function throughProxy<T>(
  rewrites: Rewrites,
  work: (c: Connection) => Promise<T>,
): Promise<T> {
  const proxy = await rewriteProxy({ host: server.host, port: server.legacyPort }, rewrites);
  try {
    return await work(legacyConnection(USER, { port: String(proxy.port) }));
  } finally {
    await proxy.close();
  }
}

/**
 * Rewrites with `change` the server's lines that answer a command matching `command`: its tagged
 * completion, and the untagged lines while it is the oldest command not yet completed (commands
 * may be pipelined, and the server answers them in order).
 */
function inAnswerTo(command: RegExp, change: (line: string) => string): Rewrites {
  const open: { tag: string; line: string }[] = [];
  return {
    toServer: (line) => {
      const tag = /^(\S+) [A-Za-z]/.exec(line)?.[1];
      if (tag !== undefined) open.push({ tag, line });
      return line;
    },
    toClient: (line) => {
      const tagged = /^(\S+) (?:OK|NO|BAD)\b/i.exec(line);
      if (tagged && tagged[1] !== "*" && tagged[1] !== "+") {
        const index = open.findIndex((entry) => entry.tag === tagged[1]);
        const answered = index >= 0 ? open.splice(index, 1)[0] : undefined;
        return answered && command.test(answered.line) ? change(line) : line;
      }
      const oldest = open[0];
      return oldest && command.test(oldest.line) ? change(line) : line;
    },
  };
}

/** The tagged completion `tag OK text` with garbage a parser cannot read where the text begins. */
const garbledCompletion = (line: string) => line.replace(/^(\S+) OK (.*)/, "$1 OK [(\x01 $2");

const RETRY =
  /The step can be retried if the operation is safe to retry; if it keeps happening, the server or something between it and here \(a proxy, a virus scanner\) damages its answers: report it to the server's administrator\.$/;

/** The error for a completion the client could not parse: names the command, damaged, retryable. */
function expectDamagedCompletion(
  err: Error & Record<string, unknown>,
  doing: string,
  command: string,
): void {
  expect(err).toBeInstanceOf(ImapError);
  expect(err.code).toBe("RESPONSE_DAMAGED");
  expect(err.message).toMatch(
    new RegExp(
      `^The server at ${server.host}:\\d+ sent an answer the client could not parse while trying to ${doing}.* \\(ParserError\\d+\\), so nothing was taken from it\\. It was the server's answer to ${command}: a damaged response, not a refusal\\. `,
    ),
  );
  expect(err.message).toMatch(RETRY);
}

const limits = { ...sessionLimits };
afterEach(() => {
  Object.assign(sessionLimits, limits);
});

async function seeded(prefix: string) {
  const { path, uids } = await seedMailbox(USER, { prefix, count: 3 });
  return { path, uids, uid: String(uids[1]) };
}

describe("a FETCH answer with damaged structure is never delivered as a message", () => {
  const getMessage = (connection: Connection, path: string, uid: string) =>
    failure(() => harness.action("getMessage", { connection, mailbox: path, uid }));

  const damagedRow = (path: string, uid: number) =>
    `The server's answer to the fetch of the message in mailbox "${path}" lacked UID ${uid} or sent it incomplete, although the message still exists`;

  test("a flipped parenthesis in the row: the row is skipped by the parser, and the whole-row check names it", async () => {
    const { path, uids, uid } = await seeded("GarbledParen");
    const err = await throughProxy(
      inAnswerTo(/UID FETCH/, (line) =>
        /^\* \d+ FETCH/.test(line) ? line.replace("(", ")") : line,
      ),
      (connection) => getMessage(connection, path, uid),
    );
    expect(err).toBeInstanceOf(ImapError);
    expect([err.code, err.mailbox, err.uid]).toEqual(["RESPONSE_DAMAGED", path, uids[1]]);
    expect(err.message).toMatch(new RegExp(`^${damagedRow(path, uids[1] as number)}`));
    expect(err.message).toMatch(/Nothing was changed; retry the step\./);
    expect(await flagsByUid(USER, path)).toEqual({ [uids[0]]: [], [uids[1]]: [], [uids[2]]: [] });
  });

  test("a literal length made too short: the rest of the literal is not read as lines of a message", async () => {
    const { path, uids, uid } = await seeded("GarbledShort");
    const err = await throughProxy(
      inAnswerTo(/UID FETCH/, (line) =>
        line.replace(/\{(\d+)\}\r\n$/, (_all, n: string) => `{${Number(n) - 5}}\r\n`),
      ),
      (connection) => getMessage(connection, path, uid),
    );
    expect([err.code, err.mailbox, err.uid]).toEqual(["RESPONSE_DAMAGED", path, uids[1]]);
    expect(err.message).toMatch(new RegExp(`^${damagedRow(path, uids[1] as number)}`));
  });

  test("a duplicated chunk inside the literal: the bytes no longer fit their length, and the step fails", async () => {
    const { path, uids, uid } = await seeded("GarbledDup");
    const err = await throughProxy(
      inAnswerTo(/UID FETCH/, (line) => (/^Subject:/.test(line) ? line + line : line)),
      (connection) => getMessage(connection, path, uid),
    );
    expect([err.code, err.mailbox, err.uid]).toEqual(["RESPONSE_DAMAGED", path, uids[1]]);
    expect(err.message).toMatch(new RegExp(`^${damagedRow(path, uids[1] as number)}`));
  });

  test("a literal length made too long (or cut mid-literal): bounded by the silence limit, never a hang", async () => {
    sessionLimits.socketMs = 1_000;
    const { path, uids, uid } = await seeded("GarbledLong");
    const err = await throughProxy(
      inAnswerTo(/UID FETCH/, (line) =>
        line.replace(/\{(\d+)\}\r\n$/, (_all, n: string) => `{${Number(n) + 500}}\r\n`),
      ),
      (connection) => getMessage(connection, path, uid),
    );
    expect(err).toBeInstanceOf(ImapError);
    expect([err.code, err.mailbox, err.uid]).toEqual(["CONNECTION_LOST", path, uids[1]]);
    expect(err.message).toMatch(/the step can be retried if the operation is safe to retry\.$/);
    expect(await flagsByUid(USER, path)).toEqual({ [uids[0]]: [], [uids[1]]: [], [uids[2]]: [] });
  });

  test("garbage in the completion of UID FETCH names UID FETCH", async () => {
    const { path, uid } = await seeded("GarbledFetchTag");
    const err = await throughProxy(inAnswerTo(/UID FETCH/, garbledCompletion), (connection) =>
      getMessage(connection, path, uid),
    );
    expectDamagedCompletion(err, "fetch the message", "UID FETCH");
  });
});

describe("garbage in the answers to SELECT, STATUS, STORE, SEARCH and LIST", () => {
  test("SELECT/EXAMINE: an unreadable completion fails the step as damaged, not as a refusal or a missing mailbox", async () => {
    const { path, uid } = await seeded("GarbledExamine");
    const err = await throughProxy(inAnswerTo(/EXAMINE|SELECT/, garbledCompletion), (connection) =>
      failure(() => harness.action("getMessage", { connection, mailbox: path, uid })),
    );
    expectDamagedCompletion(err, "open the mailbox", "EXAMINE");
    expect(err.mailbox).toBe(path);
  });

  test("STATUS: an unreadable completion is damaged, not 'refused', and no counts are reported", async () => {
    const { path } = await seeded("GarbledStatus");
    const err = await throughProxy(inAnswerTo(/STATUS/, garbledCompletion), (connection) =>
      failure(() => harness.action("getStatus", { connection, mailbox: path })),
    );
    expectDamagedCompletion(err, "read the status of the mailbox", "STATUS");
    expect(err.mailbox).toBe(path);
  });

  test("STORE: an unreadable completion is damaged; only the flags asked for were changed", async () => {
    const { path, uids, uid } = await seeded("GarbledStore");
    const err = await throughProxy(inAnswerTo(/STORE/, garbledCompletion), (connection) =>
      failure(() =>
        harness.action("addFlags", { connection, mailbox: path, uids: uid, flags: ["\\Flagged"] }),
      ),
    );
    expectDamagedCompletion(err, "add flags", "UID STORE");
    // The server applied the STORE before its answer was damaged; adding a flag again is harmless.
    expect(await flagsByUid(USER, path)).toEqual({
      [uids[0]]: [],
      [uids[1]]: ["\\Flagged"],
      [uids[2]]: [],
    });
  });

  test("SEARCH: an unreadable completion, or an untagged answer no parser can read, is damaged, not fewer results", async () => {
    const { path } = await seeded("GarbledSearch");
    const search = (connection: Connection) =>
      failure(() => harness.action("searchMailbox", { connection, mailbox: path }));
    const tagged = await throughProxy(inAnswerTo(/SEARCH/, garbledCompletion), search);
    expectDamagedCompletion(tagged, "search the mailbox", "UID SEARCH");

    const untagged = await throughProxy(
      inAnswerTo(/SEARCH/, (line) => line.replace(/^(\* SEARCH \d+)/, "$1\x01(")),
      search,
    );
    expectDamagedCompletion(untagged, "search the mailbox", "UID SEARCH");
  });

  test("SEARCH: a UID with a flipped byte (1x) is not read as UID 1, nor dropped", async () => {
    const { path } = await seeded("GarbledSearchUid");
    const err = await throughProxy(
      inAnswerTo(/SEARCH/, (line) => line.replace(/^(\* SEARCH \d+)/, "$1x")),
      (connection) => failure(() => harness.action("searchMailbox", { connection, mailbox: path })),
    );
    expect(err).toBeInstanceOf(ImapError);
    expect([err.code, err.mailbox]).toEqual(["RESPONSE_DAMAGED", path]);
    expect(err.message).toMatch(/the server sent an unreadable SEARCH answer: \d+x\. /);
  });

  test("LIST: an unreadable mailbox line or completion fails listMailboxes instead of leaving the mailbox out", async () => {
    const { path } = await seeded("GarbledList");
    const list = (connection: Connection) =>
      failure(() => harness.action("listMailboxes", { connection }));
    const line = await throughProxy(
      inAnswerTo(/LIST/, (l) => (l.includes(path) ? l.replace(/^\* LIST \(/, "* LIST ((\x01") : l)),
      list,
    );
    expectDamagedCompletion(line, "list the mailboxes", "LIST");
    const tagged = await throughProxy(inAnswerTo(/LIST/, garbledCompletion), list);
    expectDamagedCompletion(tagged, "list the mailboxes", "LIST");
  });
});
