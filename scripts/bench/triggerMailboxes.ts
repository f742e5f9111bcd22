/**
 * Benchmark of the email triggers' several mailboxes and filters:
 * - an empty poll of 1, 5 and 20 mailboxes (one STATUS each, in one session): its cost must grow
 *   with the number of mailboxes, never with their size, so the mailboxes hold 50 and 500
 *   messages in two variants;
 * - a poll of 1,000 new messages of which 10 match a filter (one UID SEARCH, then a FETCH of the
 *   10), against the same poll unfiltered (a listing of the 1,000, then a FETCH of a batch of 500).
 *
 *   npx ts-node --transpile-only scripts/bench/triggerMailboxes.ts
 *
 * Runs against the local test Dovecot (user `bench`); mail is appended over IMAP.
 */
import { performance } from "node:perf_hooks";
import { harness, rfc822, tlsConnection, withDirect } from "../../test/helpers";
import { median, ms, printTable, ratio, silentLogger } from "../bench-helpers";

const USER = "bench";
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

async function fill(mailbox: string, count: number, subject: (i: number) => string): Promise<void> {
  await withDirect(USER, async (client) => {
    for (let i = 0; i < count; i += 1)
      await client.append(mailbox, rfc822({ subject: subject(i) }));
  });
}

async function recreate(mailbox: string): Promise<void> {
  await withDirect(USER, async (client) => {
    await client.mailboxDelete(mailbox).catch(() => undefined);
    await client.mailboxCreate(mailbox);
  });
}

async function poll(params: Record<string, unknown>, state: Record<string, unknown>) {
  const result = (await harness.trigger(
    "newEmails",
    {},
    { connection: tlsConnection(USER), ...params },
    { instanceState: state, logger: silentLogger },
  )) as unknown as { payload: { body: { data: { messages: unknown[] } } } };
  return result.payload.body.data.messages.length;
}

/** Empty polls of the first 1, 5 and 20 of `mailboxes`, interleaved run by run. */
async function emptyPolls(mailboxes: string[]): Promise<Record<number, number[]>> {
  const counts = [1, 5, 20];
  const states = Object.fromEntries(counts.map((n) => [n, {} as Record<string, unknown>]));
  const times: Record<number, number[]> = Object.fromEntries(counts.map((n) => [n, []]));
  const params = (n: number) => ({ mailboxes: mailboxes.slice(0, n) });
  for (const n of counts) await poll(params(n), states[n] ?? {});
  for (let i = 0; i < RUNS; i += 1)
    for (const n of counts) {
      const start = performance.now();
      const delivered = await poll(params(n), states[n] ?? {});
      times[n]?.push(performance.now() - start);
      if (delivered !== 0)
        throw new Error(`an empty poll of ${n} mailboxes delivered ${delivered}`);
    }
  return times;
}

async function main(): Promise<void> {
  console.log(`Email triggers: several mailboxes and filters, user ${USER}, ${RUNS} runs each`);
  const rows: string[][] = [["", "median", "min", "max"]];
  const row = (label: string, times: number[]) =>
    rows.push([label, ms(median(times)), ms(Math.min(...times)), ms(Math.max(...times))]);

  const medians: Record<string, number> = {};
  for (const size of [50, 500]) {
    const mailboxes = Array.from({ length: 20 }, (_, i) => `Multi${size}/Box${i + 1}`);
    for (const mailbox of mailboxes) {
      const count = await withDirect(USER, async (client) => {
        const status = await client.status(mailbox, { messages: true }).catch(() => false as const);
        return status ? status.messages : -1;
      });
      if (count !== size) {
        await recreate(mailbox);
        await fill(mailbox, size, (i) => `Old ${i + 1}`);
      }
    }
    const times = await emptyPolls(mailboxes);
    for (const n of [1, 5, 20]) {
      row(`empty poll, ${n} mailbox(es) of ${size} messages`, times[n] ?? []);
      medians[`${n}/${size}`] = median(times[n] ?? []);
    }
  }

  const FILTERED = "FilterBench";
  const filtered: number[] = [];
  const unfiltered: number[] = [];
  const filterRuns = Math.min(RUNS, 3);
  for (let i = 0; i < filterRuns; i += 1)
    for (const [into, params, expected] of [
      [filtered, { subject: "Invoice" }, 10],
      [unfiltered, { batchSize: "500" }, 500],
    ] as const) {
      await recreate(FILTERED);
      const state: Record<string, unknown> = {};
      await poll({ mailbox: FILTERED, ...params }, state);
      await fill(FILTERED, 1000, (n) => (n % 100 === 0 ? `Invoice ${n}` : `Newsletter ${n}`));
      const start = performance.now();
      const delivered = await poll({ mailbox: FILTERED, ...params }, state);
      into.push(performance.now() - start);
      if (delivered !== expected) throw new Error(`delivered ${delivered}, not ${expected}`);
    }
  row("poll of 1,000 new, filter matching 10 (delivers 10)", filtered);
  row("poll of 1,000 new, unfiltered (delivers a batch of 500)", unfiltered);
  printTable(rows);
  console.log(
    `empty poll, 20 vs 1 mailbox (50 messages each): ${ratio(medians["20/50"] ?? 0, medians["1/50"] ?? 0)}`,
  );
  console.log(
    `empty poll of 20 mailboxes, 500 vs 50 messages each: ${ratio(medians["20/500"] ?? 0, medians["20/50"] ?? 0)}`,
  );
  console.log(
    `filtered vs unfiltered poll of 1,000 new: ${ratio(median(filtered), median(unfiltered))}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
