/**
 * Benchmark of the app-only connections: what a step costs when its token is cached (the usual
 * case: one token request per app and tenant per hour) and when it must first get one, next to a
 * password login, plus the CPU cost of checking the certificate or key file and signing a grant.
 * The loopback token endpoint of test/tokenEndpoint.ts answers after BENCH_TOKEN_DELAY_MS
 * (default 150 ms, about what a request to Microsoft's or Google's endpoint costs from far away).
 * Runs are interleaved, so the load of a shared machine falls on every variant alike.
 *
 *   npx ts-node --transpile-only scripts/bench/appOnly.ts
 */
import { performance } from "node:perf_hooks";
import { createConnection } from "@prismatic-io/spectral/dist/testing";
import {
  imapGoogleServiceAccountConnection,
  imapM365CertificateConnection,
  parseConnection,
} from "../../src/connections";
import { clearTokenCache, grantBody } from "../../src/tokens";
import { harness, server, tlsConnection } from "../../test/helpers";
import { holdIntrospectionPort, startIntrospection } from "../../test/introspection";
import { testCertificate, testServiceAccount } from "../../test/testKeys";
import { APP_ONLY_SCOPE, startTokenEndpoint } from "../../test/tokenEndpoint";
import { median, ms, printTable, ratio, silentLogger } from "../bench-helpers";

const USER = "bench";
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const DELAY = Number(process.env.BENCH_TOKEN_DELAY_MS ?? 150);
const CLIENT = "66666666-7777-4888-9999-000000000000";
const TENANT = "contoso.onmicrosoft.com";

async function main(): Promise<void> {
  const release = await holdIntrospectionPort();
  const active: Record<string, string> = {};
  const introspection = await startIntrospection(active);
  const certificate = testCertificate();
  const serviceAccounts: Parameters<typeof startTokenEndpoint>[0]["serviceAccounts"] = [];
  const endpoint = await startTokenEndpoint({
    active,
    tenant: TENANT,
    apps: [{ clientId: CLIENT, certificatePem: certificate.certificatePem, mailbox: USER }],
    serviceAccounts,
    domainUsers: [USER],
  });
  try {
    const account = testServiceAccount(endpoint.googleTokenUri);
    serviceAccounts.push({
      clientEmail: account.clientEmail,
      publicKey: account.publicKey,
      delegated: true,
    });
    endpoint.delayMs = DELAY;
    const serverFields = {
      host: server.host,
      port: String(server.tlsPort),
      encryption: "tls",
      verifyCertificate: "true",
      caCertificate: server.ca,
      username: USER,
    };
    const m365 = createConnection(imapM365CertificateConnection, {
      ...serverFields,
      authority: endpoint.authority,
      tenant: TENANT,
      clientId: CLIENT,
      certificate: certificate.pem,
      scopes: APP_ONLY_SCOPE,
    });
    const google = createConnection(imapGoogleServiceAccountConnection, {
      ...serverFields,
      serviceAccountKey: account.json,
    });
    const step = (connection: typeof m365) => () =>
      harness.action("getStatus", { connection, mailbox: "INBOX" }, { logger: silentLogger });
    const variants: [string, () => Promise<unknown>][] = [
      ["password (imap)", step(tlsConnection(USER))],
      ["imapM365Certificate, token cached", step(m365)],
      [
        "imapM365Certificate, new token",
        () => {
          clearTokenCache();
          return step(m365)();
        },
      ],
      ["imapGoogleServiceAccount, token cached", step(google)],
      [
        "imapGoogleServiceAccount, new token",
        () => {
          clearTokenCache();
          return step(google)();
        },
      ],
    ];
    const times = new Map<string, number[]>(variants.map(([name]) => [name, []]));
    const interleaved = async (group: [string, () => Promise<unknown>][]) => {
      for (const [, run] of group) await run();
      for (let i = 0; i < RUNS; i += 1) {
        for (const [name, run] of group) {
          const start = performance.now();
          await run();
          times.get(name)?.push(performance.now() - start);
        }
      }
    };
    // the cached variants first: the others empty the cache
    await interleaved(variants.filter(([name]) => !name.endsWith("new token")));
    await interleaved(variants.filter(([name]) => name.endsWith("new token")));
    const base = median(times.get("password (imap)") ?? []);
    console.log(
      `getStatus on INBOX, median of ${RUNS} runs; token endpoint answers after ${DELAY} ms`,
    );
    printTable([
      ["variant", "median", "vs password"],
      ...variants.map(([name]) => {
        const value = median(times.get(name) ?? []);
        return [name, ms(value), ratio(value, base)];
      }),
    ]);

    // CPU per step: the fields are checked at every step, a grant is signed only without a cached token
    const cpu = (work: () => unknown): number => {
      const n = 200;
      const start = performance.now();
      for (let i = 0; i < n; i += 1) work();
      return (performance.now() - start) / n;
    };
    const grant = parseConnection(m365).grant;
    const googleGrant = parseConnection(google).grant;
    console.log();
    printTable([
      ["CPU per step", "mean"],
      ["check the certificate field", ms(cpu(() => parseConnection(m365)))],
      ["check the key file field", ms(cpu(() => parseConnection(google)))],
      ["sign a client assertion (RS256)", ms(cpu(() => grant && grantBody(grant)))],
      ["sign a JWT bearer grant (RS256)", ms(cpu(() => googleGrant && grantBody(googleGrant)))],
    ]);
  } finally {
    await endpoint.close();
    await introspection.close();
    release();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
