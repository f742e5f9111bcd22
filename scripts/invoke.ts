/**
 * Invokes one action, data source or trigger of the component against your own server.
 *
 *   npm run invoke -- getStatus mailbox=INBOX
 *   npm run invoke -- searchMailbox mailbox=INBOX subject=invoice limit=10
 *   npm run invoke -- dataSource:listMailboxes
 *   npm run invoke -- downloadMessage uid=42 --out message.eml
 *
 * The connection comes from the environment: IMAP_HOST, IMAP_PORT (993), IMAP_ENCRYPTION (tls |
 * starttls | none), IMAP_USER, and IMAP_PASSWORD or IMAP_ACCESS_TOKEN (OAuth 2.0), plus
 * IMAP_VERIFY_CERTIFICATE (true) and IMAP_CA_FILE (a PEM file to trust).
 */
import fs from "node:fs";
import { createConnection, createHarness } from "@prismatic-io/spectral/dist/testing";
import component from "../src";
import { imapConnection, imapOAuth2Connection } from "../src/connections";

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run invoke -- <actionKey | dataSource:key | trigger:key> [input=value ...] [--out FILE]\n`,
  );
  process.exit(2);
}

const args = process.argv.slice(2);
const target = args.shift() ?? usage("Name an action, data source or trigger.");
const params: Record<string, string> = {};
let out: string | undefined;
for (let i = 0; i < args.length; i += 1) {
  if (args[i] === "--out") {
    i += 1;
    out = args[i] ?? usage("--out needs a file name.");
    continue;
  }
  const eq = args[i].indexOf("=");
  if (eq < 1) usage(`"${args[i]}" is not input=value.`);
  params[args[i].slice(0, eq)] = args[i].slice(eq + 1);
}

const env = process.env;
if (!env.IMAP_HOST || !env.IMAP_USER)
  usage("Set IMAP_HOST and IMAP_USER (and IMAP_PASSWORD or IMAP_ACCESS_TOKEN).");
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

/** JSON.stringify hands a replacer a Buffer's toJSON() ({ type, data: [...] }): the raw member is read from its holder. */
function printable(this: unknown, key: string, value: unknown): unknown {
  const raw: unknown = typeof this === "object" && this !== null ? Reflect.get(this, key) : value;
  if (Buffer.isBuffer(raw)) return `<${raw.length} bytes; save it with --out FILE>`;
  return value;
}

async function main(): Promise<void> {
  const harness = createHarness(component);
  const [kind, key] = target.includes(":") ? target.split(":", 2) : ["action", target];
  const inputs = { connection, ...params };
  let result: unknown;
  if (kind === "dataSource") result = await harness.dataSource(key, inputs);
  else if (kind === "trigger") result = await harness.trigger(key, undefined, inputs);
  else result = await harness.action(key, inputs);
  const data = (result as { data?: unknown }).data;
  if (out && Buffer.isBuffer(data)) {
    fs.writeFileSync(out, data);
    process.stdout.write(`wrote ${data.length} bytes to ${out}\n`);
    return;
  }
  process.stdout.write(`${JSON.stringify(result, printable, 2)}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`${err.name}: ${err.message}\n`);
  process.exit(1);
});
