/**
 * Benchmark of round trips: each step through a proxy that adds a one-way delay to each direction
 * (scripts/wireProxy.ts), as the component, as bare imapflow doing the same the straightforward
 * way, and as a raw session that sends only what the step needs (LOGIN, the commands pipelined
 * where RFC 3501 allows, LOGOUT not waited for). Prints per step the commands each sends, the
 * client flights (TLS handshake included), bytes and the median time per delay, then a summary.
 *
 *   npx ts-node --transpile-only scripts/bench/roundTrips.ts
 *   BENCH_RUNS=5 (median of), BENCH_DELAYS=0,25,50 (one-way ms), BENCH_BANDWIDTH=bytes/s (unset: unlimited)
 *
 * Commands are read from imapflow's log (the component's debug log, bare imapflow's logger); the
 * raw session's are its own. Runs against the local test Dovecot as user `bench`, implicit TLS;
 * every message it seeds is removed again, so its mailboxes do not grow across runs.
 */
import { performance } from "node:perf_hooks";
import tls from "node:tls";
import { ImapFlow } from "imapflow";
import { harness, rfc822, server, tlsConnection, withDirect } from "../../test/helpers";
import { median, ms, printTable, silentLogger } from "../bench-helpers";
import { type WireSession, wireProxy } from "../wireProxy";

const USER = "bench";
// 5 runs x 3 delays x 11 steps x 3 variants take about 5 minutes (the 50 ms runs most of it);
// BENCH_RUNS=9 about 9, BENCH_DELAYS=0,25 about a third of that.
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const DELAYS = (process.env.BENCH_DELAYS ?? "0,25,50").split(",").map(Number);
const BANDWIDTH = process.env.BENCH_BANDWIDTH ? Number(process.env.BENCH_BANDWIDTH) : undefined;
const BOX = "RttBench";
const FROM = "RttBench-From";
const TO = "RttBench-To";
const APPENDED = "RttBench-Append";
const DELETED = "RttBench-Delete";
const POLLED = "RttBench-Poll";
const BOX_SIZE = 10;

type Variant = "component" | "bare" | "raw";
const VARIANTS: Variant[] = ["component", "bare", "raw"];

/** What a run needs that was set up before it, outside the timing. */
interface Prepared {
  uid: number;
}

interface Step {
  name: string;
  prepare: () => Promise<Prepared>;
  cleanup?: (prepared: Prepared) => Promise<void>;
  /** Once before anything is counted (the trigger's first poll, which only records the cursor). */
  init?: (port: number) => Promise<void>;
  component: (port: number, prepared: Prepared, context: Record<string, unknown>) => Promise<void>;
  bare: (client: ImapFlow, prepared: Prepared) => Promise<void>;
  /** Batches of commands: each is sent in one write once the previous one is answered. */
  raw: (prepared: Prepared) => RawBatch[];
}

type RawBatch = string[] | ((previous: string[]) => string[]);

const quote = (text: string) => `"${text.replace(/["\\]/g, "\\$&")}"`;

// --- the raw session -------------------------------------------------------------------------

/**
 * A minimal IMAP client: waits for the greeting, sends LOGIN with the first batch, each batch in
 * one write, and LOGOUT with the last one; closes as soon as the last command before LOGOUT is
 * answered. Returns the commands sent.
 */
function rawSession(port: number, batches: RawBatch[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: server.host, port, ca: [server.ca] });
    const sent: string[] = [];
    let tagCounter = 0;
    let batchIndex = -1;
    let waiting = new Set<string>();
    let untagged: string[] = [];
    let buffer: Buffer = Buffer.alloc(0);
    let pendingLiteral = 0;
    let current = "";
    let greeted = false;
    socket.on("error", reject);
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    const sendBatch = () => {
      batchIndex += 1;
      const batch = batches[batchIndex];
      const commands = typeof batch === "function" ? batch(untagged) : batch;
      untagged = [];
      const lines: string[] = [];
      if (batchIndex === 0) commands.unshift(`LOGIN ${quote(USER)} ${quote(server.password)}`);
      waiting = new Set();
      for (const command of commands) {
        tagCounter += 1;
        const tag = `a${tagCounter}`;
        waiting.add(tag);
        sent.push(
          command.split(" ")[0] === "UID" ? command.split(" ", 2).join(" ") : command.split(" ")[0],
        );
        lines.push(`${tag} ${command}`);
      }
      if (batchIndex === batches.length - 1) {
        lines.push(`a${tagCounter + 1} LOGOUT`);
        sent.push("LOGOUT");
      }
      socket.write(`${lines.join("\r\n")}\r\n`);
    };
    const onLine = (line: string) => {
      if (!greeted) {
        greeted = true;
        if (!line.startsWith("* OK")) return fail(new Error(`greeting: ${line}`));
        return sendBatch();
      }
      if (line.startsWith("* ")) {
        untagged.push(line);
        return;
      }
      const [tag, status] = line.split(" ", 2);
      if (!waiting.has(tag)) return;
      if (status !== "OK") return fail(new Error(`raw session: ${line}`));
      waiting.delete(tag);
      if (waiting.size > 0) return;
      if (batchIndex < batches.length - 1) return sendBatch();
      socket.destroy();
      resolve(sent);
    };
    socket.on("data", (chunk: Buffer) => {
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      for (;;) {
        if (pendingLiteral > 0) {
          if (buffer.length < pendingLiteral) return;
          buffer = buffer.subarray(pendingLiteral);
          pendingLiteral = 0;
        }
        const end = buffer.indexOf("\r\n");
        if (end < 0) return;
        const part = buffer.subarray(0, end).toString("latin1");
        buffer = buffer.subarray(end + 2);
        const literal = /\{(\d+)\}$/.exec(part);
        if (literal) {
          current += part;
          pendingLiteral = Number(literal[1]);
          continue;
        }
        const line = current + part;
        current = "";
        onLine(line);
      }
    });
  });
}

// --- command lists from imapflow's log -------------------------------------------------------

/** The command name of a line imapflow logged as sent ("3 UID FETCH 7 (...)" -> "UID FETCH"). */
function commandOf(entry: unknown): string | undefined {
  if (typeof entry !== "object" || entry === null) return undefined;
  const msg: unknown = Reflect.get(entry, "msg");
  if (Reflect.get(entry, "src") !== "c" || typeof msg !== "string" || msg.startsWith("(*"))
    return undefined;
  const words = msg.split(" ");
  if (words.length < 2 || words[0] === "+") return undefined;
  return words[1].toUpperCase() === "UID" ? `UID ${words[2]}` : words[1].toUpperCase();
}

function recordingLogger(into: string[]) {
  const write = (entry: unknown) => {
    const command = commandOf(entry);
    if (command) into.push(command);
  };
  return { debug: write, info: write, warn: write, error: write, trace: () => undefined };
}

/** The component's debug log: lines "imap debug: {json}". */
function componentContext(into: string[] | undefined): Record<string, unknown> {
  if (!into) return { logger: silentLogger };
  const debug = (...parts: unknown[]) => {
    const line = parts.map(String).join(" ");
    if (!line.startsWith("imap debug: ")) return;
    const command = commandOf(JSON.parse(line.slice("imap debug: ".length)));
    if (command) into.push(command);
  };
  return { logger: { ...silentLogger, debug }, globalDebug: true };
}

function bareClient(port: number, into: string[] | undefined): ImapFlow {
  const client = new ImapFlow({
    host: server.host,
    port,
    secure: true,
    tls: { ca: [server.ca] },
    auth: { user: USER, pass: server.password },
    logger: into ? recordingLogger(into) : false,
    disableAutoIdle: true,
  });
  client.on("error", () => undefined);
  return client;
}

// --- state ----------------------------------------------------------------------------------

const message = (subject: string) => rfc822({ subject });

async function emptyAndSeed(mailbox: string): Promise<Prepared> {
  return withDirect(USER, async (client) => {
    const lock = await client.getMailboxLock(mailbox);
    try {
      await client.messageDelete("1:*", { uid: true });
    } finally {
      lock.release();
    }
    const appended = await client.append(mailbox, message(`Seeded into ${mailbox}`));
    if (!appended || !appended.uid)
      throw new Error(`no UID for the message seeded into ${mailbox}`);
    return { uid: appended.uid };
  });
}

async function emptyMailbox(mailbox: string): Promise<void> {
  await withDirect(USER, async (client) => {
    const lock = await client.getMailboxLock(mailbox);
    try {
      await client.messageDelete("1:*", { uid: true });
    } finally {
      lock.release();
    }
  });
}

async function setUp(): Promise<Prepared> {
  return withDirect(USER, async (client) => {
    for (const mailbox of [FROM, TO, APPENDED, DELETED, POLLED]) {
      await client.mailboxCreate(mailbox).catch(() => undefined);
    }
    const status = await client.status(BOX, { messages: true }).catch(() => false as const);
    if (!status || status.messages !== BOX_SIZE) {
      await client.mailboxDelete(BOX).catch(() => undefined);
      await client.mailboxCreate(BOX);
      for (let i = 0; i < BOX_SIZE; i += 1) await client.append(BOX, message(`Message ${i + 1}`));
    }
    const lock = await client.getMailboxLock(BOX, { readOnly: true });
    try {
      const last = await client.fetchOne("*", { uid: true }, { uid: true });
      if (!last) throw new Error(`no message in ${BOX}`);
      return { uid: last.uid };
    } finally {
      lock.release();
    }
  });
}

// --- the steps ------------------------------------------------------------------------------

function steps(box: Prepared): Step[] {
  const fixed = async () => box;
  const connection = (port: number) => tlsConnection(USER, { port: String(port) });
  const action = (key: string, params: (p: Prepared) => Record<string, unknown>) => {
    return async (port: number, prepared: Prepared, context: Record<string, unknown>) => {
      await harness.action(key, { connection: connection(port), ...params(prepared) }, context);
    };
  };
  const summary = "(UID FLAGS ENVELOPE RFC822.SIZE INTERNALDATE)";
  const pollState: Record<string, Record<string, unknown>> = {};
  const poll = async (port: number, context: Record<string, unknown>, variantKey: string) => {
    pollState[variantKey] ??= {};
    await harness.trigger(
      "newEmails",
      {},
      { connection: connection(port), mailbox: POLLED },
      { instanceState: pollState[variantKey], ...context },
    );
  };
  return [
    {
      name: "getStatus",
      prepare: fixed,
      component: action("getStatus", () => ({ mailbox: BOX })),
      bare: async (client) => {
        await client.status(BOX, {
          messages: true,
          unseen: true,
          uidNext: true,
          uidValidity: true,
        });
      },
      raw: () => [[`STATUS ${BOX} (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)`]],
    },
    {
      name: "listMailboxes",
      prepare: fixed,
      component: action("listMailboxes", () => ({})),
      bare: async (client) => {
        await client.list();
      },
      raw: () => [['LIST "" "*"']],
    },
    {
      name: "searchMailbox, first page",
      prepare: fixed,
      component: action("searchMailbox", () => ({ mailbox: BOX })),
      bare: async (client) => {
        const lock = await client.getMailboxLock(BOX, { readOnly: true });
        try {
          const uids = await client.search({ all: true }, { uid: true });
          if (!uids || uids.length === 0) throw new Error("bare search found nothing");
          await client.fetchAll(
            uids.slice(-50),
            { uid: true, flags: true, envelope: true, size: true, internalDate: true },
            { uid: true },
          );
        } finally {
          lock.release();
        }
      },
      raw: () => [
        [`EXAMINE ${BOX}`, "UID SEARCH ALL"],
        (answers) => {
          const found = answers.find((line) => line.startsWith("* SEARCH"));
          const uids = (found ?? "").split(" ").slice(2).map(Number);
          if (uids.length === 0) throw new Error("raw search found nothing");
          return [`UID FETCH ${uids.slice(-50).join(",")} ${summary}`];
        },
      ],
    },
    {
      name: "getMessage",
      prepare: fixed,
      component: action("getMessage", (p) => ({ mailbox: BOX, uid: String(p.uid) })),
      bare: async (client, p) => {
        const lock = await client.getMailboxLock(BOX, { readOnly: true });
        try {
          await client.fetchOne(
            String(p.uid),
            { uid: true, flags: true, envelope: true, source: true },
            { uid: true },
          );
        } finally {
          lock.release();
        }
      },
      raw: (p) => [[`EXAMINE ${BOX}`, `UID FETCH ${p.uid} (UID FLAGS ENVELOPE BODY.PEEK[])`]],
    },
    {
      name: "downloadMessage",
      prepare: fixed,
      component: action("downloadMessage", (p) => ({ mailbox: BOX, uid: String(p.uid) })),
      bare: async (client, p) => {
        const lock = await client.getMailboxLock(BOX, { readOnly: true });
        try {
          await client.fetchOne(String(p.uid), { uid: true, source: true }, { uid: true });
        } finally {
          lock.release();
        }
      },
      raw: (p) => [[`EXAMINE ${BOX}`, `UID FETCH ${p.uid} (UID BODY.PEEK[])`]],
    },
    {
      name: "addFlags",
      prepare: async () => {
        await withDirect(USER, async (client) => {
          const lock = await client.getMailboxLock(BOX);
          try {
            await client.messageFlagsRemove(String(box.uid), ["\\Flagged"], { uid: true });
          } finally {
            lock.release();
          }
        });
        return box;
      },
      component: action("addFlags", (p) => ({
        mailbox: BOX,
        uids: String(p.uid),
        flags: ["\\Flagged"],
      })),
      bare: async (client, p) => {
        const lock = await client.getMailboxLock(BOX);
        try {
          await client.messageFlagsAdd(String(p.uid), ["\\Flagged"], { uid: true });
        } finally {
          lock.release();
        }
      },
      raw: (p) => [[`SELECT ${BOX}`, `UID STORE ${p.uid} +FLAGS (\\Flagged)`]],
    },
    {
      name: "moveMessage",
      prepare: () => emptyAndSeed(FROM),
      cleanup: () => emptyMailbox(TO),
      component: action("moveMessage", (p) => ({
        mailbox: FROM,
        uids: String(p.uid),
        destination: TO,
      })),
      bare: async (client, p) => {
        const lock = await client.getMailboxLock(FROM);
        try {
          await client.messageMove(String(p.uid), TO, { uid: true });
        } finally {
          lock.release();
        }
      },
      raw: (p) => [[`SELECT ${FROM}`, `UID MOVE ${p.uid} ${TO}`]],
    },
    {
      name: "appendMessage",
      prepare: async () => ({ uid: 0 }),
      cleanup: () => emptyMailbox(APPENDED),
      component: action("appendMessage", () => ({
        mailbox: APPENDED,
        message: message("Appended"),
      })),
      bare: async (client) => {
        await client.append(APPENDED, message("Appended"));
      },
      raw: () => {
        const text = message("Appended");
        return [[`APPEND ${APPENDED} {${Buffer.byteLength(text)}+}\r\n${text}`]];
      },
    },
    {
      name: "deleteMessage",
      prepare: () => emptyAndSeed(DELETED),
      component: action("deleteMessage", (p) => ({ mailbox: DELETED, uid: String(p.uid) })),
      bare: async (client, p) => {
        const lock = await client.getMailboxLock(DELETED);
        try {
          await client.messageDelete(String(p.uid), { uid: true });
        } finally {
          lock.release();
        }
      },
      raw: (p) => [
        [
          `SELECT ${DELETED}`,
          `UID STORE ${p.uid} +FLAGS.SILENT (\\Deleted)`,
          `UID EXPUNGE ${p.uid}`,
        ],
      ],
    },
    {
      name: "newEmails, empty poll",
      prepare: async () => ({ uid: 0 }),
      init: (port) => poll(port, { logger: silentLogger }, "empty"),
      component: (port, _p, context) => poll(port, context, "empty"),
      bare: async (client) => {
        await client.status(POLLED, { messages: true, uidNext: true, uidValidity: true });
      },
      raw: () => [[`STATUS ${POLLED} (MESSAGES UIDNEXT UIDVALIDITY)`]],
    },
    {
      name: "newEmails, 1 new message",
      prepare: async () =>
        withDirect(USER, async (client) => {
          const appended = await client.append(POLLED, message("New"));
          if (!appended || !appended.uid) throw new Error("no UID for the new message");
          return { uid: appended.uid };
        }),
      cleanup: () => emptyMailbox(POLLED),
      init: (port) => poll(port, { logger: silentLogger }, "new"),
      component: (port, _p, context) => poll(port, context, "new"),
      bare: async (client, p) => {
        const status = await client.status(POLLED, { uidNext: true, uidValidity: true });
        if (!status || !status.uidNext || status.uidNext <= p.uid)
          throw new Error("bare poll saw nothing new");
        const lock = await client.getMailboxLock(POLLED, { readOnly: true });
        try {
          await client.fetchAll(
            `${p.uid}:*`,
            { uid: true, flags: true, envelope: true, size: true, internalDate: true },
            { uid: true },
          );
        } finally {
          lock.release();
        }
      },
      raw: (p) => [[`EXAMINE ${POLLED}`, `UID FETCH ${p.uid}:* ${summary}`]],
    },
  ];
}

// --- running --------------------------------------------------------------------------------

/** Runs repeated because the connection was reset before TLS was up (printed at the end). */
let repeated = 0;
let discardSessions: () => Promise<void> = async () => undefined;

/**
 * A run whose connection was reset before the TLS handshake (seen once on the shared machine) is
 * repeated once, its wire records dropped, rather than losing minutes of figures; a second reset
 * fails the benchmark.
 */
async function runVariant(
  step: Step,
  variant: Variant,
  port: number,
  commands?: string[],
): Promise<number> {
  try {
    return await runOnce(step, variant, port, commands);
  } catch (err) {
    if ((err as { code?: string }).code !== "ECONNRESET") throw err;
    repeated += 1;
    await discardSessions();
    commands?.splice(0);
    return runOnce(step, variant, port, commands);
  }
}

async function runOnce(
  step: Step,
  variant: Variant,
  port: number,
  commands?: string[],
): Promise<number> {
  const prepared = await step.prepare();
  try {
    return await timed(step, variant, port, prepared, commands);
  } finally {
    await step.cleanup?.(prepared);
  }
}

async function timed(
  step: Step,
  variant: Variant,
  port: number,
  prepared: Prepared,
  commands?: string[],
): Promise<number> {
  const start = performance.now();
  if (variant === "component") {
    await step.component(port, prepared, componentContext(commands));
  } else if (variant === "bare") {
    const client = bareClient(port, commands);
    await client.connect();
    await step.bare(client, prepared);
    await client.logout();
    client.close();
  } else {
    const sent = await rawSession(port, step.raw(prepared));
    commands?.push(...sent);
  }
  return performance.now() - start;
}

interface Figures {
  commands: string[];
  flights: number[];
  serverFlights: number[];
  bytesUp: number[];
  bytesDown: number[];
  times: Map<number, number[]>;
}

const spread = (values: number[]) => {
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low === high ? String(low) : `${median(values)} (${low}-${high})`;
};

async function main(): Promise<void> {
  const box = await setUp();
  // Proxied sessions and the last poll states start clean.
  await emptyMailbox(POLLED);
  const proxy = await wireProxy(
    { host: server.host, port: server.tlsPort },
    { delayMs: 0, bytesPerSecond: BANDWIDTH },
  );
  discardSessions = async () => {
    await proxy.idle();
    proxy.take();
  };
  const all = steps(box);
  const figures = new Map<string, Figures>();
  const key = (step: Step, variant: Variant) => `${step.name}/${variant}`;
  const record = (
    step: Step,
    variant: Variant,
    delay: number,
    time: number,
    wire: WireSession[],
  ) => {
    const entry = figures.get(key(step, variant)) as Figures;
    if (!entry.times.has(delay)) entry.times.set(delay, []);
    entry.times.get(delay)?.push(time);
    const sum = (pick: (session: WireSession) => number) =>
      wire.reduce((total, session) => total + pick(session), 0);
    if (delay === DELAYS[DELAYS.length - 1]) {
      entry.flights.push(sum((s) => s.clientFlights));
      entry.serverFlights.push(sum((s) => s.serverFlights));
      entry.bytesUp.push(sum((s) => s.bytesUp));
      entry.bytesDown.push(sum((s) => s.bytesDown));
    }
  };
  try {
    // A first round on loopback: the trigger's first polls, warm-up, and the command lists.
    process.stderr.write("  commands (one logged run per variant, no delay) ...\n");
    for (const step of all) {
      await step.init?.(proxy.port);
      for (const variant of VARIANTS) {
        const commands: string[] = [];
        await runVariant(step, variant, proxy.port, commands);
        await proxy.idle();
        proxy.take();
        figures.set(key(step, variant), {
          commands,
          flights: [],
          serverFlights: [],
          bytesUp: [],
          bytesDown: [],
          times: new Map(),
        });
      }
    }
    for (const delay of DELAYS) {
      proxy.setOptions({ delayMs: delay, bytesPerSecond: BANDWIDTH });
      const started = performance.now();
      process.stderr.write(`  ${delay} ms one way, ${RUNS} runs of ${all.length} steps x 3 ...`);
      // Runs interleaved: the load of a shared machine falls on every variant alike.
      for (let run = 0; run < RUNS; run += 1) {
        for (const step of all) {
          for (const variant of VARIANTS) {
            const time = await runVariant(step, variant, proxy.port);
            await proxy.idle();
            record(step, variant, delay, time, proxy.take());
          }
        }
      }
      process.stderr.write(` ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    }
  } finally {
    await proxy.close();
  }

  const last = DELAYS[DELAYS.length - 1];
  // The summary is at 50 ms round trip (25 ms one way) when that delay was run, else at the last.
  const summaryDelay = DELAYS.includes(25) ? 25 : last;
  console.log(
    `Round trips per step, user ${USER}, implicit TLS through a delaying proxy${BANDWIDTH ? ` at ${BANDWIDTH} bytes/s` : ""}, median of ${RUNS}; flights and bytes counted at ${last} ms (TLS handshake included; the TCP handshake adds one round trip)`,
  );
  for (const step of all) {
    console.log(`\n${step.name}`);
    printTable([
      [
        "variant",
        "commands",
        "client flights",
        "server flights",
        "bytes up / down",
        ...DELAYS.map((d) => `${d} ms one way`),
      ],
      ...VARIANTS.map((variant) => {
        const entry = figures.get(key(step, variant)) as Figures;
        return [
          variant,
          entry.commands.join(", "),
          spread(entry.flights),
          spread(entry.serverFlights),
          `${median(entry.bytesUp)} / ${median(entry.bytesDown)}`,
          ...DELAYS.map((d) => ms(median(entry.times.get(d) ?? [0]))),
        ];
      }),
    ]);
  }
  console.log(`\nSummary at ${2 * summaryDelay} ms round trip (${summaryDelay} ms one way)`);
  const at = (step: Step, variant: Variant) =>
    median((figures.get(key(step, variant)) as Figures).times.get(summaryDelay) ?? [0]);
  const flights = (step: Step, variant: Variant) =>
    median((figures.get(key(step, variant)) as Figures).flights);
  printTable([
    [
      "step",
      "client flights (component / bare / raw)",
      `time at ${2 * summaryDelay} ms RTT (component / bare / raw)`,
      "component / raw (goal <= 1.5x)",
    ],
    ...all.map((step) => {
      const share = at(step, "component") / at(step, "raw");
      return [
        step.name,
        VARIANTS.map((variant) => flights(step, variant)).join(" / "),
        `${VARIANTS.map((variant) => at(step, variant).toFixed(0)).join(" / ")} ms`,
        `${share.toFixed(2)}x${share <= 1.5 ? "" : " (over)"}`,
      ];
    }),
  ]);
  if (repeated > 0)
    console.log(`\n${repeated} run(s) repeated: the connection was reset before TLS was up.`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
