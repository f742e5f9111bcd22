/**
 * Benchmark of the bundle every flow step loads: builds it (`npm run build`), then prints the
 * size of dist/index.js and the median time of require("dist/index.js") in a fresh node process,
 * next to require("imapflow") alone.
 *
 *   npx ts-node --transpile-only scripts/bench/bundle.ts        (BENCH_REQUIRE_RUNS=15 by default)
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { mb, median, ms, printTable, ratio } from "../bench-helpers";

const ROOT = path.join(__dirname, "..", "..");
const RUNS = Number(process.env.BENCH_REQUIRE_RUNS ?? 15);

/** Milliseconds of one require() of `target` in a fresh node process. */
function requireTime(target: string): number {
  const script = `const t = process.hrtime.bigint(); require(${JSON.stringify(target)}); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;
  return Number(execFileSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" }));
}

function main(): void {
  execFileSync("npm", ["run", "--silent", "build"], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const bundle = path.join(ROOT, "dist", "index.js");
  const imapflow = require.resolve("imapflow", { paths: [ROOT] });
  const size = fs.statSync(bundle).size;
  // Alternate the two so that machine noise hits both alike.
  const times: { bundle: number[]; imapflow: number[] } = { bundle: [], imapflow: [] };
  for (let i = 0; i < RUNS; i += 1) {
    times.bundle.push(requireTime(bundle));
    times.imapflow.push(requireTime(imapflow));
  }
  console.log(
    `require() in a fresh node ${process.version} process: median of ${RUNS} runs. Machine: 2 CPU cores shared with other work.\n`,
  );
  printTable([
    ["module", "size", "median require()", "min", "vs imapflow"],
    [
      "dist/index.js (the component)",
      mb(size),
      ms(median(times.bundle)),
      ms(Math.min(...times.bundle)),
      ratio(median(times.bundle), median(times.imapflow)),
    ],
    ["imapflow alone", "", ms(median(times.imapflow)), ms(Math.min(...times.imapflow)), "1.00x"],
  ]);
}

main();
