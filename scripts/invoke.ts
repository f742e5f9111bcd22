/**
 * Invokes one action, data source or trigger of the component against your own server, and
 * prints what the component returned as JSON on stdout (logs go to stderr, so `| jq` works).
 *
 *   npm run invoke -- getStatus mailbox=INBOX
 *   npm run invoke -- searchMailbox mailbox=INBOX subject=invoice limit=10
 *   npm run invoke -- dataSource:listMailboxes
 *   npm run invoke -- downloadMessage uid=42 --out message.eml
 *   npm run invoke -- appendMessage mailbox=INBOX message=@invoice.eml
 *   npm run invoke -- trigger:newEmails --state poll.json      (run it again after new mail)
 *
 * Options: --out FILE writes a file output (downloadMessage, downloadAttachment); --state FILE
 * keeps a trigger's polling state between runs (read before, written after a successful poll);
 * --debug writes the component's debug log (the IMAP conversation, secrets removed) to stderr.
 * input=@FILE passes the contents of FILE.
 *
 * The connection comes from the environment: IMAP_HOST, IMAP_PORT (993), IMAP_ENCRYPTION (tls |
 * starttls | none), IMAP_USER, and IMAP_PASSWORD or IMAP_ACCESS_TOKEN (OAuth 2.0), plus
 * IMAP_VERIFY_CERTIFICATE (true) and IMAP_CA_FILE (a PEM file to trust). For the local test
 * server: eval "$(bash scripts/test-server.sh invoke-env)".
 */
import fs from "node:fs";
import { createConnection, createHarness } from "@prismatic-io/spectral/dist/testing";
import component from "../src";
import { imapConnection, imapOAuth2Connection } from "../src/connections";

const USAGE =
  "usage: npm run invoke -- <actionKey | dataSource:key | trigger:key> [input=value | input=@file ...] [--out FILE] [--state FILE] [--debug]";

function usage(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

type Kind = "action" | "dataSource" | "trigger";
interface Definition {
  inputs: { key: string }[];
  examplePayload?: unknown;
}

const registry = component as unknown as Record<`${Kind}s`, Record<string, Definition>>;

function definitionOf(kind: Kind, key: string): Definition {
  const all = registry[`${kind}s`];
  const found = all[key];
  if (found) return found;
  const prefix = kind === "action" ? "" : `${kind}:`;
  const keys = Object.keys(all).map((name) => `${prefix}${name}`);
  const others =
    kind === "action"
      ? ` Data sources: ${Object.keys(registry.dataSources)
          .map((name) => `dataSource:${name}`)
          .join(", ")}. Triggers: ${Object.keys(registry.triggers)
          .map((name) => `trigger:${name}`)
          .join(", ")}.`
      : "";
  return usage(`There is no ${kind} "${key}". ${kind}s: ${keys.join(", ")}.${others}`);
}

const args = process.argv.slice(2);
const target = args.shift() ?? usage("Name an action, data source or trigger.");
const [kind, key] = (target.includes(":") ? target.split(":", 2) : ["action", target]) as [
  string,
  string,
];
if (kind !== "action" && kind !== "dataSource" && kind !== "trigger")
  usage(`"${kind}:" is not a kind: use dataSource:<key> or trigger:<key>, or an action key alone.`);
const definition = definitionOf(kind, key);
const known = definition.inputs.map((item) => item.key).filter((name) => name !== "connection");

const params: Record<string, unknown> = {};
let out: string | undefined;
let stateFile: string | undefined;
let debug = false;
for (let i = 0; i < args.length; i += 1) {
  const arg = args[i] as string;
  if (arg === "--out" || arg === "--state") {
    i += 1;
    const file = args[i] ?? usage(`${arg} needs a file name.`);
    if (arg === "--out") out = file;
    else stateFile = file;
    continue;
  }
  if (arg === "--debug") {
    debug = true;
    continue;
  }
  const eq = arg.indexOf("=");
  if (eq < 1) usage(`"${arg}" is not input=value.`);
  const name = arg.slice(0, eq);
  const value = arg.slice(eq + 1);
  if (!known.includes(name))
    usage(`${target} has no input "${name}". Its inputs: ${known.join(", ") || "(none)"}.`);
  params[name] = value.startsWith("@") ? fs.readFileSync(value.slice(1)) : value;
}
const binary = Buffer.isBuffer((definition.examplePayload as { data?: unknown } | undefined)?.data);
if (out && !binary)
  usage(`${target} returns JSON, not a file: drop --out (or redirect stdout to a file).`);
if (stateFile && kind !== "trigger") usage("--state is for triggers only.");

const env = process.env;
if (!env.IMAP_HOST || !env.IMAP_USER)
  usage(
    'Set IMAP_HOST and IMAP_USER (and IMAP_PASSWORD or IMAP_ACCESS_TOKEN); for the local test server: eval "$(bash scripts/test-server.sh invoke-env)".',
  );
const fields = {
  host: env.IMAP_HOST,
  port: env.IMAP_PORT ?? "993",
  encryption: env.IMAP_ENCRYPTION ?? "tls",
  username: env.IMAP_USER,
  password: env.IMAP_PASSWORD ?? "",
  verifyCertificate: env.IMAP_VERIFY_CERTIFICATE ?? "true",
  caCertificate: env.IMAP_CA_FILE ? fs.readFileSync(env.IMAP_CA_FILE, "utf8") : "",
};
const connection = env.IMAP_ACCESS_TOKEN
  ? createConnection(imapOAuth2Connection, fields, { access_token: env.IMAP_ACCESS_TOKEN })
  : createConnection(imapConnection, fields);

/** The component's log lines, on stderr: stdout carries the result only. */
function line(level: string) {
  return (...parts: unknown[]) =>
    process.stderr.write(
      `[${level}] ${parts.map((part) => (typeof part === "string" ? part : JSON.stringify(part))).join(" ")}\n`,
    );
}
const logger = {
  metric: line("metric"),
  trace: line("trace"),
  debug: line("debug"),
  info: line("info"),
  log: line("log"),
  warn: line("warn"),
  error: line("error"),
};

/** JSON.stringify hands a replacer a Buffer's toJSON() ({ type, data: [...] }): the raw member is read from its holder. */
function printable(this: unknown, name: string, value: unknown): unknown {
  const raw: unknown = typeof this === "object" && this !== null ? Reflect.get(this, name) : value;
  if (Buffer.isBuffer(raw)) return `<${raw.length} bytes; save it with --out FILE>`;
  return value;
}

function readState(): Record<string, unknown> {
  if (!stateFile || !fs.existsSync(stateFile)) return {};
  try {
    return JSON.parse(fs.readFileSync(stateFile, "utf8"));
  } catch {
    return usage(`${stateFile} is not a state file written by --state (not JSON): remove it.`);
  }
}

async function main(): Promise<void> {
  const harness = createHarness(component);
  const inputs = { connection, ...params };
  const context = { logger, globalDebug: debug, instanceState: readState() };
  let printed: unknown;
  if (kind === "dataSource") {
    printed = await harness.dataSource(key, inputs, context);
  } else if (kind === "trigger") {
    const result = (await harness.trigger(key, undefined, inputs, context)) as {
      payload?: { body?: { data?: unknown } };
      resultType?: string;
    };
    // Only what the component returned: the harness's own sample payload is not output.
    printed = {
      data: result.payload?.body?.data ?? null,
      // the polling wrapper turns the trigger's polledNoChanges into this result type
      polledNoChanges: result.resultType === "polled_no_changes",
    };
    if (stateFile)
      fs.writeFileSync(stateFile, `${JSON.stringify(context.instanceState, null, 2)}\n`);
  } else {
    const result = (await harness.action(key, inputs, context)) as { data?: unknown };
    if (out && Buffer.isBuffer(result.data)) {
      fs.writeFileSync(out, result.data);
      process.stderr.write(`wrote ${result.data.length} bytes to ${out}\n`);
      printed = { ...result, data: `<${result.data.length} bytes written to ${out}>` };
    } else {
      printed = result;
    }
  }
  process.stdout.write(`${JSON.stringify(printed, printable, 2)}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`${err.name}: ${err.message}\n`);
  process.exit(1);
});
