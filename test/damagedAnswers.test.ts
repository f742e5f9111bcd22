/**
 * Races and damaged answers that could make a message look expunged, or a placeholder look like a
 * message: another client expunging between two commands (a rewriting proxy holds the second one
 * meanwhile), and one row of an answer that the client cannot parse (the proxy damages it).
 */
import net from "node:net";
import type { ActionLogger } from "@prismatic-io/spectral";
import { ImapError } from "../src/errors";
import {
  failure,
  flagsByUid,
  harness,
  legacyConnection,
  seedMailbox,
  server,
  tlsConnection,
  withDirect,
  withDirectMailbox,
} from "./helpers";
import { faultyProxy } from "./proxy";
import type { Rewrites } from "./rewriteProxy";
import { rewriteProxy } from "./rewriteProxy";

const USER = "test37";
const quiet = () => undefined;
const logger: ActionLogger = {
  metric: quiet,
  trace: quiet,
  debug: quiet,
  info: quiet,
  log: quiet,
  warn: quiet,
  error: quiet,
};

type Connection = ReturnType<typeof legacyConnection>;

/** Runs `work` with a cleartext connection to the legacy instance through a proxy applying `rewrites`. */
async function throughProxy<T>(
  rewrites: Rewrites,
  work: (connection: Connection) => Promise<T>,
): Promise<T> {
  const proxy = await rewriteProxy({ host: server.host, port: server.legacyPort }, rewrites);
  try {
    return await work(legacyConnection(USER, { port: String(proxy.port) }));
  } finally {
    await proxy.close();
  }
}

/** Holds the first line sent to the server that matches `pattern` until `meanwhile` has run. */
function holdOnce(pattern: RegExp, meanwhile: () => Promise<void>): Rewrites["toServer"] {
  let held = false;
  return async (line) => {
    if (held || !pattern.test(line)) return line;
    held = true;
    await meanwhile();
    return line;
  };
}

/** Damages the first answer row for `uid` that matches `row`: `ITEM (` becomes `ITEM ((`, which no parser can read. */
function damageRow(uid: number, row: RegExp, item: string): Rewrites["toClient"] {
  let done = false;
  return (line) => {
    if (done || !/^\* \d+ FETCH /.test(line) || !line.includes(`UID ${uid} `) || !row.test(line))
      return line;
    done = true;
    return line.replace(`${item} (`, `${item} ((`);
  };
}

async function expunge(mailbox: string, uid: number): Promise<void> {
  await withDirectMailbox(USER, mailbox, { readOnly: false }, async (client) => {
    if (!(await client.messageDelete(String(uid), { uid: true })))
      throw new Error(`expunge of ${uid} failed`);
  });
}

async function exists(mailbox: string, uid: number): Promise<boolean> {
  return withDirectMailbox(USER, mailbox, { readOnly: true }, async (client) => {
    const found = await client.search({ uid: String(uid) }, { uid: true });
    return Array.isArray(found) && found.includes(uid);
  });
}

interface Delivered {
  messages: { uid: number; size: number; envelope: { subject?: string } }[];
  expungedMeanwhile: number;
}

async function poll(
  connection: Connection,
  mailbox: string,
  instanceState: Record<string, unknown>,
  params: Record<string, unknown> = {},
): Promise<Delivered> {
  const result = (await harness.trigger(
    "newEmails",
    {},
    { connection, mailbox, ...params },
    { instanceState, logger },
  )) as unknown as { payload: { body: { data: Delivered } } };
  return result.payload.body.data;
}

function lastUid(instanceState: Record<string, unknown>): number {
  const internal = instanceState.__prismaticInternal as { polling?: { lastUid?: number } };
  return internal.polling?.lastUid ?? -1;
}

const subjects = (data: Delivered) => data.messages.map((message) => message.envelope.subject);

/** A mailbox with a baseline poll done, then three new messages. */
async function threeNew(): Promise<{
  path: string;
  uids: number[];
  state: Record<string, unknown>;
}> {
  const { path, uids: old } = await seedMailbox(USER, { prefix: "Damaged", count: 1 });
  const state: Record<string, unknown> = {};
  await poll(legacyConnection(USER), path, state);
  expect(lastUid(state)).toBe(old[0]);
  const uids = await withDirect(USER, async (client) => {
    const out: number[] = [];
    for (const subject of ["new 1", "new 2", "new 3"]) {
      const appended = await client.append(
        path,
        `From: a@example.com\r\nSubject: ${subject}\r\n\r\nbody\r\n`,
      );
      if (!appended || !appended.uid) throw new Error("append failed");
      out.push(appended.uid);
    }
    return out;
  });
  return { path, uids, state };
}

describe("newEmails never delivers a placeholder and never passes a message it did not get", () => {
  test("a message expunged just before the one FETCH of a small batch is left out and counted, not delivered empty", async () => {
    const { path, uids, state } = await threeNew();
    const data = await throughProxy(
      { toServer: holdOnce(/UID FETCH .*ENVELOPE/, () => expunge(path, uids[1])) },
      (connection) => poll(connection, path, state),
    );
    expect(data.messages.map((message) => message.uid)).toEqual([uids[0], uids[2]]);
    expect(subjects(data)).toEqual(["new 1", "new 3"]);
    expect(data.messages.every((message) => message.size > 0)).toBe(true);
    expect(data.expungedMeanwhile).toBe(1);
    expect(lastUid(state)).toBe(uids[2]);
    expect(await exists(path, uids[1])).toBe(false);
    const next = await poll(legacyConnection(USER), path, state);
    expect(next).toEqual({
      mailbox: path,
      uidValidity: expect.any(String),
      messages: [],
      expungedMeanwhile: 0,
    });
  });

  test("a message expunged between the listing and the envelope FETCH (more new than the batch) is left out and counted", async () => {
    const { path, uids, state } = await threeNew();
    const data = await throughProxy(
      { toServer: holdOnce(/UID FETCH .*ENVELOPE/, () => expunge(path, uids[0])) },
      (connection) => poll(connection, path, state, { batchSize: "2" }),
    );
    expect(data.messages.map((message) => message.uid)).toEqual([uids[1]]);
    expect(data.messages.every((message) => message.size > 0)).toBe(true);
    expect(data.expungedMeanwhile).toBe(1);
    expect(lastUid(state)).toBe(uids[1]);
    expect(subjects(await poll(legacyConnection(USER), path, state))).toEqual(["new 3"]);
  });

  test.each([
    ["in the one FETCH of a small batch", {}],
    ["in the envelope FETCH after the listing (more new than the batch)", { batchSize: "2" }],
  ])(
    "an envelope row the client cannot parse %s stops the poll; the cursor stays and the next poll delivers the message",
    async (_name, params) => {
      const { path, uids, state } = await threeNew();
      const before = lastUid(state);
      const err = await throughProxy(
        { toClient: damageRow(uids[1], /ENVELOPE/, "ENVELOPE") },
        (connection) => failure(() => poll(connection, path, state, params)),
      );
      expect(err).toBeInstanceOf(ImapError);
      expect([err.code, err.mailbox, err.uid]).toEqual(["RESPONSE_DAMAGED", path, uids[1]]);
      expect(err.message).toBe(
        `The server's answer to the fetch of the new messages in mailbox "${path}" lacked UID ${uids[1]} or sent it incomplete, although the message still exists (a line of the server's answers in this session could not be parsed). Nothing was delivered and the cursor stays after UID ${before}: the next poll offers these messages again. If it keeps happening, the server or something between it and here (a proxy, a virus scanner) damages its answers: report it to the server's administrator.`,
      );
      expect(lastUid(state)).toBe(before);
      const next = await poll(legacyConnection(USER), path, state);
      expect(subjects(next)).toEqual(["new 1", "new 2", "new 3"]);
      expect(lastUid(state)).toBe(uids[2]);
    },
  );

  test("a listing row the client cannot parse stops the poll instead of moving the cursor past it", async () => {
    const { path, uids, state } = await threeNew();
    const before = lastUid(state);
    // The listing FETCH asks for UID and FLAGS only; it is sent when more is new than one batch.
    const err = await throughProxy(
      { toClient: damageRow(uids[1], /^(?!.*ENVELOPE)/, "FLAGS") },
      (connection) => failure(() => poll(connection, path, state, { batchSize: "2" })),
    );
    expect([err.code, err.mailbox, err.uid]).toEqual(["RESPONSE_DAMAGED", path, uids[1]]);
    expect(err.message).toMatch(
      new RegExp(
        `^The server's answer to the listing of the new messages in mailbox "${path}" lacked UID ${uids[1]} or sent it incomplete, although the message still exists`,
      ),
    );
    expect(lastUid(state)).toBe(before);
    const next = await poll(legacyConnection(USER), path, state);
    expect(subjects(next)).toEqual(["new 1", "new 2", "new 3"]);
  });
});

describe("newEmails on answers without UIDNEXT or UIDVALIDITY", () => {
  test("an EXAMINE answer without them is completed from the STATUS just before", async () => {
    const { path, uids, state } = await threeNew();
    const bare = (line: string) => (/^\* OK \[(UIDVALIDITY|UIDNEXT) /.test(line) ? "" : line);
    const data = await throughProxy({ toClient: bare }, (connection) =>
      poll(connection, path, state),
    );
    expect(subjects(data)).toEqual(["new 1", "new 2", "new 3"]);
    expect(lastUid(state)).toBe(uids[2]);
  });

  test("a STATUS answer without UIDNEXT is a clear error and the cursor stays", async () => {
    const { path, state } = await threeNew();
    const before = lastUid(state);
    const noUidNext = (line: string) =>
      /^\* STATUS /.test(line) ? line.replace(/UIDNEXT \d+ ?/, "") : line;
    const err = await throughProxy({ toClient: noUidNext }, (connection) =>
      failure(() => poll(connection, path, state)),
    );
    expect(err).toBeInstanceOf(ImapError);
    expect([err.code, err.mailbox]).toEqual(["RESPONSE_INCOMPLETE", path]);
    expect(err.message).toBe(
      `The server's answer to STATUS of mailbox "${path}" did not include UIDNEXT, which the component needs to track new mail. Nothing was changed. Retry the step; if it keeps happening, the server does not follow the IMAP standard here (RFC 3501 requires UIDNEXT): report it to the server's administrator.`,
    );
    expect(lastUid(state)).toBe(before);
    expect(subjects(await poll(legacyConnection(USER), path, state))).toEqual([
      "new 1",
      "new 2",
      "new 3",
    ]);
  });
});

describe("searchMailbox pages", () => {
  test("a message expunged between the SEARCH and the page FETCH is left out and counted", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "SearchRace", count: 4 });
    const page = await throughProxy(
      { toServer: holdOnce(/UID FETCH .*ENVELOPE/, () => expunge(path, uids[2])) },
      async (connection) => {
        const { data } = (await harness.action("searchMailbox", {
          connection,
          mailbox: path,
          limit: "3",
        })) as {
          data: {
            total: number;
            messages: { uid: number }[];
            expungedMeanwhile: number;
            nextCursor: string | null;
          };
        };
        return data;
      },
    );
    expect(page.messages.map((message) => message.uid)).toEqual([uids[3], uids[1]]);
    expect(page.expungedMeanwhile).toBe(1);
    expect(page.total).toBe(4);
    const { data: next } = (await harness.action("searchMailbox", {
      connection: tlsConnection(USER),
      mailbox: path,
      limit: "3",
      cursor: page.nextCursor,
    })) as { data: { messages: { uid: number }[]; nextCursor: string | null } };
    expect(next.messages.map((message) => message.uid)).toEqual([uids[0]]);
    expect(next.nextCursor).toBeNull();
  });

  test("a page row the client cannot parse is an error, not a shorter page", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "SearchDamaged", count: 3 });
    const err = await throughProxy(
      { toClient: damageRow(uids[1], /ENVELOPE/, "ENVELOPE") },
      (connection) => failure(() => harness.action("searchMailbox", { connection, mailbox: path })),
    );
    expect([err.code, err.mailbox, err.uid]).toEqual(["RESPONSE_DAMAGED", path, uids[1]]);
    expect(err.message).toMatch(
      new RegExp(
        `^The server's answer to the fetch of the page in mailbox "${path}" lacked UID ${uids[1]} or sent it incomplete, although the message still exists .*Nothing was changed; retry with the same cursor\\.`,
      ),
    );
  });

  test("an EXAMINE answer without UIDVALIDITY takes it from STATUS; without it there too, a clear error", async () => {
    const { path } = await seedMailbox(USER, { prefix: "NoValidity", count: 2 });
    const uidValidity = await withDirect(USER, async (client) => {
      const status = await client.status(path, { uidValidity: true });
      return status ? String(status.uidValidity) : "status refused";
    });
    const noSelectValidity = (line: string) => (/^\* OK \[UIDVALIDITY /.test(line) ? "" : line);
    const page = await throughProxy({ toClient: noSelectValidity }, async (connection) => {
      const { data } = (await harness.action("searchMailbox", { connection, mailbox: path })) as {
        data: { uidValidity: string; messages: unknown[] };
      };
      return data;
    });
    expect(page.uidValidity).toBe(uidValidity);
    expect(page.messages).toHaveLength(2);

    const noValidityAtAll = (line: string) =>
      /^\* STATUS /.test(line) ? line.replace(/UIDVALIDITY \d+ ?/, "") : noSelectValidity(line);
    const err = await throughProxy({ toClient: noValidityAtAll }, (connection) =>
      failure(() => harness.action("searchMailbox", { connection, mailbox: path })),
    );
    expect(err).toBeInstanceOf(ImapError);
    expect([err.code, err.mailbox]).toEqual(["RESPONSE_INCOMPLETE", path]);
    expect(err.message).toBe(
      `The server's answer to SELECT, EXAMINE and STATUS of mailbox "${path}" did not include UIDVALIDITY, which the component needs to page through the search. Nothing was changed. Retry the step; if it keeps happening, the server does not follow the IMAP standard here (RFC 3501 requires UIDVALIDITY): report it to the server's administrator.`,
    );
  });
});

describe("getMessage and downloadMessage after a damaged answer", () => {
  test("a row the client cannot parse is not 'no message with UID n'; the message is still there", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "GetDamaged", count: 1 });
    const uid = uids[0];
    for (const key of ["getMessage", "downloadMessage"]) {
      const err = await throughProxy(
        { toClient: damageRow(uid, /BODY\[\]/, "FETCH") },
        (connection) =>
          failure(() => harness.action(key, { connection, mailbox: path, uid: String(uid) })),
      );
      expect([key, err.code, err.mailbox, err.uid]).toEqual([key, "RESPONSE_DAMAGED", path, uid]);
      expect(err.message).toBe(
        `The server's answer to the fetch of the message in mailbox "${path}" lacked UID ${uid} or sent it incomplete, although the message still exists (a line of the server's answers in this session could not be parsed). Nothing was changed; retry the step. If it keeps happening, the server or something between it and here (a proxy, a virus scanner) damages its answers: report it to the server's administrator.`,
      );
    }
    expect(await exists(path, uid)).toBe(true);
  });

  test("a message expunged while getMessage fetches it is 'no message with UID n', not empty content", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "GetRace", count: 2 });
    const err = await throughProxy(
      { toServer: holdOnce(/UID FETCH .*BODY/, () => expunge(path, uids[1])) },
      (connection) =>
        failure(() =>
          harness.action("getMessage", { connection, mailbox: path, uid: String(uids[1]) }),
        ),
    );
    expect([err.code, err.mailbox, err.uid]).toEqual(["MESSAGE_NOT_FOUND", path, uids[1]]);
  });
});

describe("actions that read before they change", () => {
  test("a damaged row of the message to flag is an error, not 'no message', and nothing changes", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "FlagDamaged", count: 3 });
    // one UID alone is changed without a listing: see test/sessionRoundTrips.test.ts
    for (const set of [`${uids[1]},${uids[2]}`, `${uids[0]}:*`]) {
      const err = await throughProxy(
        { toClient: damageRow(uids[1], /^(?!.*\\Flagged)/, "FLAGS") },
        (connection) =>
          failure(() =>
            harness.action("addFlags", {
              connection,
              mailbox: path,
              uids: set,
              flags: ["\\Flagged"],
            }),
          ),
      );
      expect([set, err.code, err.mailbox, err.uid]).toEqual([
        set,
        "RESPONSE_DAMAGED",
        path,
        uids[1],
      ]);
      expect(err.message).toMatch(
        new RegExp(
          `^The server's answer to the listing of the messages to add flags in mailbox "${path}" lacked UID ${uids[1]} or sent it incomplete, although the message still exists .*Nothing was changed; retry the step\\.`,
        ),
      );
    }
    expect(await flagsByUid(USER, path)).toEqual({ [uids[0]]: [], [uids[1]]: [], [uids[2]]: [] });
  });
  test("a damaged row when reading the flags back says the change was made and a retry is safe", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "ReadBack", count: 2 });
    let last = "";
    const err = await throughProxy(
      {
        toServer: (line) => {
          last = line;
          return line;
        },
        // Only the read-back FETCH, not the FETCH rows the server sends with its STORE answer.
        toClient: (line) =>
          /^\S+ UID FETCH /.test(last) &&
          line.includes(`UID ${uids[1]} `) &&
          line.includes("\\Flagged")
            ? line.replace("FLAGS (", "FLAGS ((")
            : line,
      },
      (connection) =>
        failure(() =>
          harness.action("addFlags", {
            connection,
            mailbox: path,
            uids: `${uids[0]}:*`,
            flags: ["\\Flagged"],
          }),
        ),
    );
    expect([err.code, err.mailbox, err.uid]).toEqual(["RESPONSE_DAMAGED", path, uids[1]]);
    expect(err.message).toMatch(
      /lacked UID \d+ or sent it incomplete, although the message still exists .*The change \(add flags\) was made on the server; only reading the flags back failed, so running the step again is safe\./,
    );
    expect(await flagsByUid(USER, path)).toEqual({
      [uids[0]]: ["\\Flagged"],
      [uids[1]]: ["\\Flagged"],
    });
  });
});

describe("errors after a damaged connection", () => {
  test("an answer whose completion cannot be parsed is named as such", async () => {
    const { path } = await seedMailbox(USER, { prefix: "Unparsed", count: 1 });
    const badCompletion = (line: string) =>
      /^\S+ OK .*Examine/.test(line) ? line.replace(/ OK .*/, " OK [READ-ONLY (\r\n") : line;
    const err = await throughProxy({ toClient: badCompletion }, (connection) =>
      failure(() => harness.action("getMessage", { connection, mailbox: path, uid: "1" })),
    );
    expect([err.code, err.mailbox]).toEqual(["RESPONSE_DAMAGED", path]);
    expect(err.message).toMatch(
      new RegExp(
        `^The server at ${server.host}:\\d+ sent an answer the client could not parse while trying to open the mailbox \\(mailbox "${path}"\\) \\(ParserError\\d+\\), so nothing was taken from it\\.`,
      ),
    );
  });

  test("a TLS record damaged on the way is named as such, not as a settings problem", async () => {
    // Forwards to the TLS port and flips one byte of the first record after the handshake.
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      const upstream = net.connect(server.tlsPort, server.host);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on("error", () => undefined);
      }
      let fromClient = 0;
      let damaged = false;
      client.on("data", (chunk: Buffer) => {
        fromClient += 1;
        upstream.write(chunk);
      });
      upstream.on("data", (chunk: Buffer) => {
        const out = Buffer.from(chunk);
        if (!damaged && fromClient >= 2) {
          damaged = true;
          out[out.length - 1] = (out[out.length - 1] ?? 0) ^ 0xff;
        }
        client.write(out);
      });
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const port = (proxy.address() as net.AddressInfo).port;
    try {
      const err = await failure(() =>
        harness.action("getStatus", {
          connection: tlsConnection(USER, { port: String(port) }),
          mailbox: "INBOX",
        }),
      );
      expect(err).toBeInstanceOf(ImapError);
      expect(err.code).toBe("TLS_DAMAGED");
      expect(err.message).toBe(
        `The encrypted connection to ${server.host}:${port} broke while trying to connect to ${server.host}:${port}: a TLS record arrived damaged (ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC), so the connection was closed. This is not a settings problem: something on the network (a proxy or firewall that inspects TLS, a faulty link) or the server changed the data. The step can be retried if the operation is safe to retry; if it persists, check what sits between here and the server.`,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  test("a move without MOVE cut after the COPY says a copy may already be in the destination; nothing is lost", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "CutMove", count: 1 });
    const destination = `${path}-dest`;
    await withDirect(USER, (client) => client.mailboxCreate(destination));
    // Cut when the copied message is to be marked \Deleted in the source.
    const proxy = await faultyProxy({ host: server.host, port: server.legacyPort }, /STORE/, "cut");
    try {
      const err = await failure(() =>
        harness.action("moveMessage", {
          connection: legacyConnection(USER, { port: String(proxy.port) }),
          mailbox: path,
          uids: String(uids[0]),
          destination,
        }),
      );
      expect(err).toBeInstanceOf(ImapError);
      expect([err.code, err.mailbox]).toEqual(["CONNECTION_LOST", path]);
      expect(err.message).toMatch(
        new RegExp(
          `The server has no MOVE, so moving is a copy followed by removing the originals, and this happened after the copy of UID ${uids[0]} was sent: copies may already be in "${destination}" while the originals may still be in "${path}"\\. Check "${destination}" before retrying, or the retry leaves them there twice\\.$`,
        ),
      );
    } finally {
      await proxy.close();
    }
    expect(await exists(path, uids[0])).toBe(true);
    const copies = await withDirect(USER, async (client) => {
      const status = await client.status(destination, { messages: true });
      return status ? status.messages : -1;
    });
    expect(copies).toBe(1);
  });
});
