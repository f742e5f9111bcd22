/**
 * The commands a step sends, as the client logs them in debug mode: each step runs with a step
 * logger that keeps imapflow's lines, and the command names are read back from them. Also
 * counts what leaves the client without a command of its own (continuation answers, SASL
 * responses), each of which costs a round trip.
 */
import { harness } from "./helpers";

export interface CommandLog {
  /** Command names in the order sent, UID commands as "UID FETCH", "UID STORE", ... */
  commands: string[];
  /** Client lines that answer a server's "+" (SASL responses, literals sent after a "+"). */
  continuations: number;
}

/** Reads one logged client line into the log (`msg` of an entry whose `src` is "c"). */
function record(log: CommandLog, msg: string, comment: unknown): void {
  if (typeof comment === "string" && /^(Encoded|Error response)/.test(comment)) {
    log.continuations += 1;
    return;
  }
  if (msg.startsWith("(*")) return; // a literal's bytes, logged as "(* 123B continuation *)"
  const words = msg.split(" ");
  const name = (words[1] ?? "").toUpperCase();
  if (name === "") return;
  log.commands.push(name === "UID" ? `UID ${(words[2] ?? "").toUpperCase()}` : name);
}

/** A step context whose logger collects the client's lines into `log`. */
export function loggingContext(log: CommandLog) {
  const debug = (line: unknown) => {
    if (typeof line !== "string" || !line.startsWith("imap debug: ")) return;
    let entry: unknown;
    try {
      entry = JSON.parse(line.slice("imap debug: ".length));
    } catch {
      return;
    }
    if (typeof entry !== "object" || entry === null) return;
    if (Reflect.get(entry, "src") !== "c") return;
    const msg: unknown = Reflect.get(entry, "msg");
    if (typeof msg === "string") record(log, msg, Reflect.get(entry, "comment"));
  };
  const quiet = () => undefined;
  return {
    globalDebug: true,
    logger: { debug, info: quiet, warn: quiet, error: quiet, log: quiet, metric: quiet },
  };
}

/** Runs one action through the harness and returns its result and the commands it sent. */
export async function actionCommands(
  key: string,
  params: Record<string, unknown>,
): Promise<{ result: unknown; log: CommandLog }> {
  const log: CommandLog = { commands: [], continuations: 0 };
  const context = loggingContext(log) as unknown as Parameters<typeof harness.action>[2];
  const result = await harness.action(key, params, context);
  return { result, log };
}

/** Runs one poll of a trigger and returns its result and the commands it sent. */
export async function triggerCommands(
  key: string,
  params: Record<string, unknown>,
  instanceState: Record<string, unknown>,
): Promise<{ result: unknown; log: CommandLog }> {
  const log: CommandLog = { commands: [], continuations: 0 };
  const context = {
    ...loggingContext(log),
    instanceState,
  } as unknown as Parameters<typeof harness.trigger>[3];
  const result = await harness.trigger(key, undefined, params, context);
  return { result, log };
}
