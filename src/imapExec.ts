/**
 * imapflow's command channel `exec()`, through which imapflow sends its own commands, undeclared
 * in its types (hence Reflect). (The session core's setup is the other user of imapflow's
 * internals: `run`, `folders`, `namespace`, `currentRequest`, see src/session.ts.) Used where
 * imapflow's public method would change the command (search() turns SINCE and BEFORE into
 * WITHIN's relative times on servers with WITHIN and drops empty values) or lose part of the
 * answer (getQuota() merges every quota root into one). Should an imapflow other than the pinned
 * one lack exec(), this fails with a clear error before anything is sent. And the request in
 * flight (`currentRequest`), read only to name the command in the error for a damaged answer.
 */
import type { ImapFlow } from "imapflow";
import { ImapError } from "./errors";

/** What imapflow's connection compiler sends: nested arrays become parenthesised lists. */
export type Token =
  | { type: "ATOM" | "STRING" | "SEQUENCE"; value: string }
  | { type: "LITERAL"; value: Buffer }
  | Token[];

/** An untagged response as imapflow's parser delivers it. */
export interface Untagged {
  numbers?: number[];
  attributes?: unknown[];
}

export type UntaggedHandlers = Record<string, (untagged?: Untagged) => Promise<void>>;

export type ImapCommand = (
  command: string,
  attributes: Token[],
  untagged: UntaggedHandlers,
) => Promise<void>;

/**
 * A function that sends one command with `attributes` and hands the untagged responses named in
 * `untagged` to their handlers. `what` ("search the mailbox", ...) and `mailbox` name the step
 * in the error for an imapflow without exec().
 */
export function imapCommand(
  client: ImapFlow,
  what: { doing: string; mailbox: string; feature: string },
): ImapCommand {
  const exec: unknown = Reflect.get(client, "exec");
  if (typeof exec !== "function") {
    throw new ImapError(
      `Could not ${what.doing} "${what.mailbox}": the imapflow library in this build has no exec() command channel, which ${what.feature}. The component was built with another imapflow version than the pinned one: rebuild it with the version in package-lock.json.`,
      { code: "CLIENT_INCOMPATIBLE", mailbox: what.mailbox },
    );
  }
  return async (command, attributes, untagged) => {
    const response: unknown = await Reflect.apply(exec, client, [
      command,
      attributes,
      { untagged },
    ]);
    // imapflow reads no further server response until the command's result is released.
    const next: unknown =
      typeof response === "object" && response !== null ? Reflect.get(response, "next") : undefined;
    if (typeof next === "function") Reflect.apply(next, response, []);
  };
}

/** The IMAP command the client is waiting for an answer to (e.g. "UID FETCH"), when known. */
export function inFlightCommand(client: ImapFlow): string | undefined {
  const request: unknown = Reflect.get(client, "currentRequest");
  const command: unknown =
    typeof request === "object" && request !== null ? Reflect.get(request, "command") : undefined;
  return typeof command === "string" && command !== "" ? command.toUpperCase() : undefined;
}
