/**
 * Benchmark of List Mailboxes with Include Counts on 50 mailboxes: one LIST ... RETURN (STATUS)
 * where the server has LIST-STATUS (the main instance), a STATUS per mailbox where it has not
 * (the legacy instance, same mail store), next to List Mailboxes without counts. Runs are
 * interleaved, so the load of a shared machine falls on every variant alike.
 *
 *   npx ts-node --transpile-only scripts/bench/listCounts.ts        (BENCH_RUNS=15 by default)
 *
 * Runs against the local test Dovecot as user `bench`; the 50 mailboxes are created once.
 */
import { performance } from "node:perf_hooks";
import { harness, legacyConnection, rfc822, tlsConnection, withDirect } from "../../test/helpers";
import { median, ms, printTable, ratio, silentLogger } from "../bench-helpers";

const USER = "bench";
const PREFIX = "CountsBench";
const MAILBOXES = 50;
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

async function seed(): Promise<void> {
  await withDirect(USER, async (client) => {
    const existing = new Set((await client.list()).map((entry) => entry.path));
    for (let i = 0; i < MAILBOXES; i += 1) {
      const path = `${PREFIX}/Box ${String(i).padStart(2, "0")}`;
      if (existing.has(path)) continue;
      await client.mailboxCreate(path);
      await client.append(path, rfc822({ subject: `message of ${path}` }));
    }
  });
}

let listed = 0;

async function timed(connection: unknown, includeCounts: boolean): Promise<number> {
  const start = performance.now();
  const { data } = (await harness.action(
    "listMailboxes",
    { connection, includeCounts: String(includeCounts) },
    { logger: silentLogger },
  )) as { data: unknown[] };
  const elapsed = performance.now() - start;
  if (data.length < MAILBOXES) throw new Error(`listed ${data.length} mailboxes`);
  listed = data.length;
  return elapsed;
}

async function main(): Promise<void> {
  await seed();
  const variants = [
    ["main, without counts", tlsConnection(USER), false],
    ["main, counts by LIST-STATUS (one command)", tlsConnection(USER), true],
    ["legacy, without counts", legacyConnection(USER), false],
    ["legacy, counts by STATUS per mailbox", legacyConnection(USER), true],
  ] as const;
  const times: number[][] = variants.map(() => []);
  for (const [, connection, counts] of variants) await timed(connection, counts);
  for (let run = 0; run < RUNS; run += 1) {
    for (const [i, [, connection, counts]] of variants.entries())
      times[i]?.push(await timed(connection, counts));
  }
  const medians = times.map(median);
  const base = (i: number) => medians[i - (i % 2)] ?? 1;
  console.log(
    `List Mailboxes of an account with ${listed} mailboxes (${MAILBOXES} of them with one message each), median of ${RUNS}, whole session:\n`,
  );
  printTable([
    ["variant", "median", "vs without counts"],
    ...variants.map(([name], i) => [name, ms(medians[i] ?? 0), ratio(medians[i] ?? 0, base(i))]),
  ]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
