/**
 * Benchmark of Wait For Email: the latency from another client's APPEND (its OK received) to the
 * step returning the message on the Received branch, with IDLE (main instance) and without it
 * (legacy instance: a NOOP every 3 s). Each run starts a wait and appends the matching message
 * one second later from a separate client.
 *
 *   npx ts-node --transpile-only scripts/bench/waitForEmail.ts      (BENCH_RUNS_WAIT=7 by default)
 */
import { performance } from "node:perf_hooks";
import {
  harness,
  legacyConnection,
  rfc822,
  tlsConnection,
  uniqueName,
  withDirect,
} from "../../test/helpers";
import { median, ms, printTable, silentLogger } from "../bench-helpers";

const USER = "bench";
const RUNS = Number(process.env.BENCH_RUNS_WAIT ?? 7);

async function once(variant: "idle" | "noop", mailbox: string, n: number): Promise<number> {
  const connection = variant === "idle" ? tlsConnection(USER) : legacyConnection(USER);
  const subject = `Code ${n} ${Date.now()}`;
  let appendedAt = 0;
  const appending = new Promise<void>((resolve, reject) => {
    setTimeout(() => {
      withDirect(USER, async (client) => {
        await client.append(mailbox, rfc822({ subject }));
        appendedAt = performance.now();
      }).then(resolve, reject);
    }, 1000);
  });
  const outcome = (await harness.action(
    "waitForEmail",
    { connection, mailbox, subject, timeoutSeconds: "30" },
    { logger: silentLogger },
  )) as { branch: string };
  const returnedAt = performance.now();
  await appending;
  if (outcome.branch !== "Received") throw new Error(`run ${n}: ${outcome.branch}`);
  return returnedAt - appendedAt;
}

async function main(): Promise<void> {
  const mailbox = uniqueName("WaitBench");
  await withDirect(USER, (client) => client.mailboxCreate(mailbox));
  console.log(
    `waitForEmail: from the other client's APPEND (OK received) to the step returning, ${RUNS} runs each. Negative would mean before the APPEND's OK: the server announces the message while it answers.\n`,
  );
  const rows: string[][] = [["variant", "median", "min", "max"]];
  for (const [name, variant] of [
    ["IDLE (main instance)", "idle"],
    ["no IDLE: NOOP every 3 s (legacy instance)", "noop"],
  ] as const) {
    const latencies: number[] = [];
    for (let i = 0; i < RUNS; i += 1) latencies.push(await once(variant, mailbox, i));
    rows.push([
      name,
      ms(median(latencies)),
      ms(Math.min(...latencies)),
      ms(Math.max(...latencies)),
    ]);
  }
  printTable(rows);
  await withDirect(USER, (client) => client.mailboxDelete(mailbox));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
