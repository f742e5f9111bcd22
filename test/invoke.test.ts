/**
 * scripts/invoke.ts as a builder uses it: stdout is the component's JSON only, mistakes are
 * refused before connecting with the valid choices named, and a trigger keeps its polling state
 * in a file between runs.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { actions } from "../src/actions";
import { triggers } from "../src/triggers";
import { rfc822, seedMailbox, server, stateDir, withDirect } from "./helpers";

const USER = "test29";
const ROOT = path.join(__dirname, "..");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function invoke(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "scripts/invoke.ts", ...args],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          IMAP_HOST: server.host,
          IMAP_PORT: String(server.tlsPort),
          IMAP_ENCRYPTION: "tls",
          IMAP_USER: USER,
          IMAP_PASSWORD: server.password,
          IMAP_CA_FILE: process.env.IMAP_TEST_CA_FILE ?? path.join(stateDir, "tls", "ca.crt"),
          ...env,
        },
      },
      (err, stdout, stderr) => {
        const code = err ? Number((err as { code?: unknown }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe("npm run invoke", () => {
  test("an unknown key lists the valid ones and connects to nothing", async () => {
    const run = await invoke(["getMessages"], { IMAP_PORT: "1" });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.split("\n")[0]).toContain(
      `There is no action "getMessages". actions: ${Object.keys(actions).join(", ")}.`,
    );
    expect(run.stderr).toContain(
      `Triggers: ${Object.keys(triggers)
        .map((key) => `trigger:${key}`)
        .join(", ")}.`,
    );
  });

  test("a misspelled input is refused, naming the inputs there are", async () => {
    const run = await invoke(["getStatus", "mailbx=Foo"], { IMAP_PORT: "1" });
    expect(run.code).toBe(2);
    expect(run.stderr.split("\n")[0]).toBe('getStatus has no input "mailbx". Its inputs: mailbox.');
  });

  test("--out on an action that returns JSON says so", async () => {
    const run = await invoke(["getStatus", "--out", "status.bin"], { IMAP_PORT: "1" });
    expect(run.code).toBe(2);
    expect(run.stderr.split("\n")[0]).toBe(
      "getStatus returns JSON, not a file: drop --out (or redirect stdout to a file).",
    );
  });

  test("a trigger with --state delivers what arrived since the last run; stdout is JSON only", async () => {
    const { path: mailbox } = await seedMailbox(USER, { count: 1 });
    const state = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "invoke-")), "poll.json");
    const first = await invoke(["trigger:newEmails", `mailbox=${mailbox}`, "--state", state]);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      data: { mailbox, uidValidity: expect.any(String), messages: [], expungedMeanwhile: 0 },
      polledNoChanges: true,
    });
    // the trigger's log line went to stderr
    expect(first.stderr).toContain(`first poll of mailbox "${mailbox}"`);

    const appended = await withDirect(USER, (client) =>
      client.append(mailbox, rfc822({ subject: "after the first poll" })),
    );
    if (!appended || !appended.uid) throw new Error("append failed");
    const second = await invoke(["trigger:newEmails", `mailbox=${mailbox}`, "--state", state]);
    expect(second.code).toBe(0);
    const delivered = JSON.parse(second.stdout) as {
      data: { messages: { uid: number; envelope: { subject: string } }[] };
      polledNoChanges: boolean;
    };
    expect(delivered.polledNoChanges).toBe(false);
    expect(
      delivered.data.messages.map((message) => [message.uid, message.envelope.subject]),
    ).toEqual([[appended.uid, "after the first poll"]]);

    const third = await invoke(["trigger:newEmails", `mailbox=${mailbox}`, "--state", state]);
    expect(JSON.parse(third.stdout)).toMatchObject({
      data: { messages: [] },
      polledNoChanges: true,
    });
  });
});
