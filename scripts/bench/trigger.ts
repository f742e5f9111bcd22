/**
 * Benchmark of the New Emails trigger: an empty poll must cost the same on a 10,000-message
 * mailbox as on an empty one (one STATUS, no SELECT, no FETCH). Prints the median of repeated
 * empty polls on both, next to a bare imapflow session doing connect + STATUS + logout, and the
 * cost of a poll that delivers one new message on both. Runs are interleaved, so the load of a
 * shared machine falls on every variant alike.
 *
 *   npx ts-node --transpile-only scripts/bench/trigger.ts
 *
 * Runs against the local test Dovecot (user `bench`). The 10,000 messages are written as Maildir
 * files and indexed with `doveadm force-resync` (under a second, where APPEND would take about a
 * minute); a run adds 10 messages to it, so the next run writes it afresh.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { harness, rfc822, stateDir, tlsConnection, withDirect } from "../../test/helpers";
import {
  bareClient,
  closeBare,
  mb,
  median,
  ms,
  printTable,
  ratio,
  silentLogger,
} from "../bench-helpers";

const USER = "bench";
const LARGE = "TriggerBench-10k";
const EMPTY = "TriggerBench-empty";
const SIZE = 10_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 25);

async function messageCount(mailbox: string): Promise<number | undefined> {
  return withDirect(USER, async (client) => {
    const status = await client.status(mailbox, { messages: true }).catch(() => false as const);
    return status ? status.messages : undefined;
  });
}

/** Maildir++ with separator "/": mailbox a/b lives in <home>/.a.b, one file per message in cur/. */
async function seedLarge(): Promise<void> {
  if ((await messageCount(LARGE)) === SIZE) return;
  await withDirect(USER, async (client) => {
    await client.mailboxDelete(LARGE).catch(() => undefined);
    await client.mailboxCreate(LARGE);
  });
  const cur = path.join(stateDir, "mail", USER, `.${LARGE.split("/").join(".")}`, "cur");
  const stamp = Math.floor(Date.now() / 1000);
  for (let i = 0; i < SIZE; i += 1) {
    const text = rfc822({
      subject: `Old message ${i + 1}`,
      messageId: `<bench-${stamp}-${i}@example.com>`,
    });
    // S= gives Dovecot the size without a stat(); ":2,S" marks it read, as an old mailbox would be.
    fs.writeFileSync(
      path.join(cur, `${stamp}.M${i}P${process.pid}.bench,S=${Buffer.byteLength(text)}:2,S`),
      text,
    );
  }
  execFileSync("chown", ["-R", "imaptest:imaptest", path.dirname(cur)]);
  execFileSync("doveadm", [
    "-c",
    path.join(stateDir, "main.conf"),
    "force-resync",
    "-u",
    USER,
    LARGE,
  ]);
  const count = await messageCount(LARGE);
  if (count !== SIZE) throw new Error(`seeding ${LARGE} gave ${count} messages, not ${SIZE}`);
}

async function recreateEmpty(): Promise<void> {
  await withDirect(USER, async (client) => {
    await client.mailboxDelete(EMPTY).catch(() => undefined);
    await client.mailboxCreate(EMPTY);
  });
}

/** One poll through spectral's polling wrapper; returns how many messages it delivered. */
async function poll(mailbox: string, state: Record<string, unknown>): Promise<number> {
  const result = (await harness.trigger(
    "newEmails",
    {},
    { connection: tlsConnection(USER), mailbox },
    { instanceState: state, logger: silentLogger },
  )) as unknown as {
    payload: { body: { data: { messages: unknown[] } } };
  };
  return result.payload.body.data.messages.length;
}

/**
 * Empty polls of both mailboxes and bare STATUS sessions, interleaved run by run so that the
 * load of a shared machine falls on all three alike. Each poll must deliver nothing.
 */
async function emptyPolls(): Promise<{ bare: number[]; onEmpty: number[]; onLarge: number[] }> {
  const states: Record<string, Record<string, unknown>> = { [EMPTY]: {}, [LARGE]: {} };
  const times = { bare: [] as number[], onEmpty: [] as number[], onLarge: [] as number[] };
  const timed = async (into: number[], work: () => Promise<unknown>) => {
    const start = performance.now();
    await work();
    into.push(performance.now() - start);
  };
  const emptyPoll = async (mailbox: string) => {
    const delivered = await poll(mailbox, states[mailbox]);
    if (delivered !== 0)
      throw new Error(`an empty poll of ${mailbox} delivered ${delivered} messages`);
  };
  const bareStatus = async () => {
    const client = await bareClient(USER);
    await client.status(LARGE, { messages: true, uidNext: true, uidValidity: true });
    await closeBare(client);
  };
  // first polls (baselines) and a warm-up round, untimed
  for (let round = 0; round < 2; round += 1) {
    await poll(EMPTY, states[EMPTY]);
    await poll(LARGE, states[LARGE]);
    await bareStatus();
  }
  for (let i = 0; i < RUNS; i += 1) {
    await timed(times.bare, bareStatus);
    await timed(times.onEmpty, () => emptyPoll(EMPTY));
    await timed(times.onLarge, () => emptyPoll(LARGE));
  }
  return times;
}

/** Polls that each deliver the one message appended (untimed) just before, both mailboxes in turn. */
async function oneNewPolls(): Promise<{ onSmall: number[]; onLarge: number[] }> {
  const states: Record<string, Record<string, unknown>> = { [EMPTY]: {}, [LARGE]: {} };
  await poll(EMPTY, states[EMPTY]);
  await poll(LARGE, states[LARGE]);
  const times = { onSmall: [] as number[], onLarge: [] as number[] };
  for (let i = 0; i < 10; i += 1) {
    for (const [mailbox, into] of [
      [EMPTY, times.onSmall],
      [LARGE, times.onLarge],
    ] as const) {
      await withDirect(USER, (client) => client.append(mailbox, rfc822({ subject: `New ${i}` })));
      const start = performance.now();
      const delivered = await poll(mailbox, states[mailbox]);
      into.push(performance.now() - start);
      if (delivered !== 1)
        throw new Error(`a poll of ${mailbox} delivered ${delivered} messages, not 1`);
    }
  }
  return times;
}

async function main(): Promise<void> {
  const seedStart = performance.now();
  await seedLarge();
  await recreateEmpty();
  console.log(
    `New Emails trigger, user ${USER} (${LARGE} ready in ${ms(performance.now() - seedStart)}), ${RUNS} runs each`,
  );

  const { bare, onEmpty, onLarge } = await emptyPolls();
  const oneNew = await oneNewPolls();

  const large = `${SIZE.toLocaleString("en")}-message mailbox`;
  printTable([
    ["", "median", "min", "max"],
    ...(
      [
        ["bare imapflow: connect, STATUS, logout", bare],
        ["empty poll, empty mailbox", onEmpty],
        [`empty poll, ${large}`, onLarge],
        ["poll delivering 1 new message, mailbox of 1-10 messages", oneNew.onSmall],
        [`poll delivering 1 new message, ${large}`, oneNew.onLarge],
      ] as const
    ).map(([label, times]) => [
      label,
      ms(median(times)),
      ms(Math.min(...times)),
      ms(Math.max(...times)),
    ]),
  ]);
  console.log(`empty poll, ${large} vs empty mailbox: ${ratio(median(onLarge), median(onEmpty))}`);
  console.log(
    `empty poll vs bare imapflow STATUS session: ${ratio(median(onLarge), median(bare))}`,
  );
  console.log(`peak RSS of this process: ${mb(process.resourceUsage().maxRSS * 1024)}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
