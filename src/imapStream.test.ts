/**
 * imapflow's response reader as patched by patches/imapflow+2.10.2.patch: a literal is copied
 * into one buffer of its announced size as it arrives, instead of keeping every chunk it came in
 * and joining them at the end (which held a large message twice).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ImapStream } from "imapflow/lib/handler/imap-stream";

interface Framed {
  payload: Buffer;
  literals: Buffer[];
  next: () => void;
}

/** Writes `chunks` one at a time, each once the reader has taken the one before, and returns what it framed. */
async function frame(chunks: Buffer[], afterEach?: (chunk: Buffer) => void): Promise<Framed[]> {
  const stream = new ImapStream({ logger: silent });
  const framed: Framed[] = [];
  stream.on("data", (item: Framed) => {
    framed.push(item);
    item.next();
  });
  for (const chunk of chunks) {
    await new Promise<void>((resolve, reject) =>
      stream.write(chunk, (err) => (err ? reject(err) : resolve())),
    );
    afterEach?.(chunk);
  }
  stream.end();
  await new Promise((resolve) => stream.once("finish", resolve));
  return framed;
}

const none = () => undefined;
const silent = { fatal: none, error: none, warn: none, info: none, debug: none, trace: none };

function split(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, at + size));
  return out;
}

describe("imapflow's literal reader (patched)", () => {
  const body = randomBytes(200_000);
  const wire = Buffer.concat([
    Buffer.from(`* 1 FETCH (UID 7 BODY[] {${body.length}}\r\n`),
    body,
    Buffer.from(")\r\n* 2 FETCH (UID 8 BODY[] {0}\r\n)\r\n"),
  ]);

  test("delivers a literal that arrived in many chunks whole and byte-identical", async () => {
    const framed = await frame(split(wire, 16 * 1024));
    expect(framed.map((item) => item.payload.toString("latin1"))).toEqual([
      `* 1 FETCH (UID 7 BODY[] {${body.length}}\r\n)`,
      "* 2 FETCH (UID 8 BODY[] {0}\r\n)",
    ]);
    expect(framed[0]?.literals).toHaveLength(1);
    expect(framed[0]?.literals[0]?.equals(body)).toBe(true);
    expect(framed[1]?.literals.map((literal) => literal.length)).toEqual([0]);
  });

  test("keeps no reference to the chunks: the literal is copied as each one arrives", async () => {
    // Overwriting each chunk once the reader has taken it changes nothing in a literal held in
    // a buffer of its own; a literal kept as a list of the chunks (joined at the end) would
    // come out as zeros.
    const framed = await frame(split(Buffer.from(wire), 16 * 1024), (chunk) => chunk.fill(0));
    expect(framed[0]?.literals[0]?.equals(body)).toBe(true);
  });

  test("holds one buffer of the announced size while a literal is being received", async () => {
    const stream = new ImapStream({ logger: silent });
    stream.on("data", (item: Framed) => item.next());
    const head = Buffer.from(`* 1 FETCH (BODY[] {${body.length}}\r\n`);
    await new Promise<void>((resolve) =>
      stream.write(Buffer.concat([head, body.subarray(0, 1000)]), () => resolve()),
    );
    expect(Buffer.isBuffer(stream.literalBuffer)).toBe(true);
    expect(stream.literalBuffer?.length).toBe(body.length);
    expect(stream.literalFilled).toBe(1000);
    stream.destroy();
  });

  test("the patched reader is the one installed, in both of imapflow's builds", () => {
    const dist = path.join(path.dirname(require.resolve("imapflow")), "..");
    for (const build of ["cjs", "esm"]) {
      const source = readFileSync(path.join(dist, build, "handler", "imap-stream.js"), "utf8");
      expect(source).toContain("this.literalBuffer = Buffer.allocUnsafe(this.literalWaiting);");
      expect(source).not.toContain("Buffer.concat(this.literalBuffer)");
    }
  });
});
