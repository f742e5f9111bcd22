/**
 * Every input used by more than one action, defined once, with the parser that validates it
 * before any network traffic. Parsers accept what the platform and the test harness send:
 * strings (a missing optional input arrives as ""), numbers, and lists from earlier steps.
 */

import { InputError } from "./errors";
import { input } from "./spectral";
import type { UidSet } from "./uidSet";
import { MAX_UID } from "./uidSet";

export const connectionInput = input({
  label: "Connection",
  type: "connection",
  required: true,
});

export const mailboxInput = input({
  label: "Mailbox",
  type: "string",
  required: true,
  default: "INBOX",
  dataSource: "listMailboxes",
  comments:
    "Full path of the mailbox, e.g. INBOX or Archive/2024 (the List Mailboxes action shows every path).",
  example: "INBOX",
});

export const uidsInput = input({
  label: "UIDs",
  type: "string",
  required: true,
  comments: "Message UIDs: one (42), a list (1,5,9), a range (10:20) or an open range (100:*).",
  example: "1,5,10:20",
});

export const uidInput = input({
  label: "UID",
  type: "string",
  required: true,
  comments:
    "The UID of one message, e.g. from Search / List Mailbox Messages or the New Emails trigger.",
  example: "42",
});

export const uidValidityInput = input({
  label: "UIDVALIDITY",
  type: "string",
  required: false,
  comments:
    "Optional, recommended: the uidValidity the UIDs came with (from Search / List Mailbox Messages, Get Message or the New Emails trigger). When the mailbox's UIDVALIDITY is now different (it was deleted and recreated, or the server rebuilt it), its UIDs may name other messages: the step then fails and changes nothing.",
  example: "1764115968",
});

export const flagsInput = input({
  label: "Flags",
  type: "string",
  collection: "valuelist",
  required: true,
  comments:
    "System flags (\\Seen, \\Answered, \\Flagged, \\Deleted, \\Draft) or keywords such as $Label1.",
  example: "\\Seen",
});

export const labelsInput = input({
  label: "Labels",
  type: "string",
  collection: "valuelist",
  required: true,
  comments:
    "Gmail labels as Gmail shows them, e.g. Invoices or Clients/Acme (nested labels use /), or the system labels \\Inbox, \\Important, \\Starred.",
  example: "Invoices",
});

export const destinationInput = input({
  label: "Destination",
  type: "string",
  required: true,
  dataSource: "listMailboxes",
  comments:
    "Full path of the mailbox the messages go to, e.g. Archive/2024. It must exist (Create Mailbox makes it).",
  example: "Archive",
});

export const pathInput = input({
  label: "Path",
  type: "string",
  required: true,
  comments:
    "Full path of the mailbox, with the server's hierarchy separator (usually /), e.g. Projects/2024. Unicode names work as they are.",
  example: "Projects/2024",
});

/** The options both email triggers share. */
export const fetchContentInput = input({
  label: "Fetch Content",
  type: "boolean",
  required: false,
  default: "false",
  comments:
    "Also deliver each message's text, reply text (without quoted replies and signature), HTML, headers and attachment metadata (not the attachments' bytes).",
});

export const markAsReadInput = input({
  label: "Mark As Read",
  type: "boolean",
  required: false,
  default: "false",
  comments:
    "Add \\Seen to the delivered messages, and only to those. Opens the mailbox read-write.",
});

export const onlyUnreadInput = input({
  label: "Only Unread",
  type: "boolean",
  required: false,
  default: "false",
  comments:
    "Deliver only new messages without \\Seen at the time of the poll; new messages already read are passed over, never delivered later.",
});

export const mailboxesInput = input({
  label: "Mailboxes",
  type: "string",
  collection: "valuelist",
  required: false,
  comments:
    "Optional. Several mailboxes to watch in one poll, e.g. INBOX and Support/Escalations, each with its own cursor. When given, they are watched instead of Mailbox.",
  example: "Support/Escalations",
});

/** The message filter both email triggers share; evaluated by the server on the new messages only. */
export const messageFilterInputs = {
  from: input({
    label: "From Contains",
    type: "string",
    required: false,
    comments:
      "Optional. Deliver only messages whose From contains this text (name or address, any letter case), e.g. @supplier.example. Others are passed over for good.",
    example: "invoices@supplier.example",
  }),
  subject: input({
    label: "Subject Contains",
    type: "string",
    required: false,
    comments:
      "Optional. Deliver only messages whose subject contains this text (any letter case). Others are passed over for good.",
    example: "Invoice",
  }),
  hasAttachments: input({
    label: "Only With Attachments",
    type: "boolean",
    required: false,
    default: "false",
    comments:
      "Deliver only messages sent with attachments (a multipart/mixed message, as mail programs send files). Others are passed over for good.",
  }),
  criteria: input({
    label: "Criteria",
    type: "code",
    language: "json",
    required: false,
    comments:
      'Optional. More criteria, as Search / List Mailbox Messages takes them, ANDed with the inputs above, e.g. {"larger": 100000, "not": {"keyword": "$Done"}}. Checked before connecting; unknown keys are refused.',
    example: '{"not": {"keyword": "$Done"}}',
  }),
};

/** A value as an error message quotes it: text in quotes, anything else as JSON. */
export function shown(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : (JSON.stringify(value) ?? String(value));
}

/** Month abbreviations as RFC 5322 and IMAP dates write them. */
export const MONTH_NAMES = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
] as const;

/** Whether year-month-day (month 1..12) is a day of the calendar, e.g. not 2026-02-30. */
export function isCalendarDay(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
  );
}

function asText(value: unknown, name: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value.trim();
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  throw new InputError(`${name} must be text, not ${shown(value)}.`);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this rejects
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Whether `value` holds a C0 control character or DEL, which no mailbox name or SASL field may. */
export function hasControlCharacters(value: string): boolean {
  return CONTROL.test(value);
}

export function parseMailbox(value: unknown, name = "Mailbox"): string {
  const path = typeof value === "string" ? value : asText(value, name);
  if (path.trim() === "")
    throw new InputError(`${name} is empty: give a mailbox path such as INBOX.`);
  if (hasControlCharacters(path))
    throw new InputError(`${name} ${shown(path)} contains control characters.`);
  return path;
}

/** A mailbox path, or undefined when the input is empty (the caller picks the default). */
export function optionalMailbox(value: unknown, name = "Mailbox"): string | undefined {
  return optionalText(value, name) === undefined ? undefined : parseMailbox(value, name);
}

export function parseUid(value: unknown, name = "UID"): number {
  const text = asText(value, name);
  if (!/^\d+$/.test(text))
    throw new InputError(
      `${name} ${shown(value)} is not a message UID: give one positive whole number, e.g. 42.`,
    );
  const uid = Number(text);
  if (uid < 1 || uid > MAX_UID)
    throw new InputError(`${name} ${text} is out of range: UIDs run from 1 to ${MAX_UID}.`);
  return uid;
}

/** The optional UIDVALIDITY guard: "" is undefined (no check); otherwise a 32-bit unsigned number, as a decimal string. */
export function parseUidValidity(value: unknown, name = "UIDVALIDITY"): string | undefined {
  const text = asText(value, name);
  if (text === "") return undefined;
  if (!/^\d{1,10}$/.test(text) || Number(text) < 1 || Number(text) > MAX_UID)
    throw new InputError(
      `${name} ${shown(value)} is not a UIDVALIDITY: give the uidValidity of the step that found the UIDs, a whole number from 1 to ${MAX_UID}, or leave it empty.`,
    );
  return String(Number(text));
}

const SET_ITEM = /^(\d+|\*)(?::(\d+|\*))?$/;

export function parseUidSet(value: unknown, name = "UIDs"): UidSet {
  const items = Array.isArray(value)
    ? value.map((item) => asText(item, name))
    : asText(value, name)
        .split(",")
        .map((item) => item.trim());
  const bad = (item: string, why = "") =>
    new InputError(
      `${name} ${shown(value)} is not a UID set (${item === "" ? "an empty item between two commas" : `at ${shown(item)}`}${why}). Use a UID (42), a list (1,5,9), a range (10:20) or an open range (100:*).`,
    );
  if (items.length === 0 || items.every((item) => item === "")) {
    throw new InputError(
      `${name} is empty: give a UID (42), a list (1,5,9), a range (10:20) or an open range (100:*).`,
    );
  }
  const singles: number[] = [];
  const ranges: string[] = [];
  for (const item of items) {
    const match = SET_ITEM.exec(item);
    if (!match) throw bad(item);
    for (const part of [match[1], match[2]]) {
      if (part !== undefined && part !== "*" && (Number(part) < 1 || Number(part) > MAX_UID))
        throw bad(item, `: UIDs run from 1 to ${MAX_UID}`);
    }
    if (match[2] === undefined && match[1] !== "*") singles.push(Number(match[1]));
    else ranges.push(item);
  }
  return { text: items.join(","), singles, ranges };
}

const SYSTEM_FLAGS = new Map(
  ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"].map((flag) => [
    flag.toLowerCase(),
    flag,
  ]),
);
const KEYWORD = /^[!#$&'+\-./0-9:;<=>?@A-Z^_`a-z|~]+$/;

export function parseFlag(value: string, name = "Flags"): string {
  const flag = value.trim();
  if (flag.toLowerCase() === "\\recent") {
    throw new InputError(
      `${name}: \\Recent is set by the server alone and cannot be added, removed or set.`,
    );
  }
  if (flag.startsWith("\\")) {
    const system = SYSTEM_FLAGS.get(flag.toLowerCase());
    if (!system)
      throw new InputError(
        `${name}: ${shown(flag)} is not a system flag. System flags are \\Seen, \\Answered, \\Flagged, \\Deleted and \\Draft; keywords have no backslash (e.g. $Label1).`,
      );
    return system;
  }
  if (!KEYWORD.test(flag)) {
    throw new InputError(
      `${name}: ${shown(flag)} is not a valid flag: keywords are ASCII without spaces, parentheses, braces, quotes, backslashes, %, *, ] or control characters (e.g. $Label1).`,
    );
  }
  return flag;
}

/** Mailbox paths (a list, or a JSON list as text); empty is none. Each path once. */
export function parseMailboxList(value: unknown, name = "Mailboxes"): string[] {
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (value === undefined || value === null || value === "") items = [];
  else if (typeof value === "string")
    items = value.trim().startsWith("[") ? parseJsonList(value, name) : [value];
  else throw new InputError(`${name} must be a list of mailbox paths, not ${shown(value)}.`);
  const paths: string[] = [];
  for (const item of items) {
    if (typeof item === "string" && item.trim() === "") continue;
    const path = parseMailbox(item, name);
    const key = (p: string) => (p.toUpperCase() === "INBOX" ? "INBOX" : p);
    if (paths.some((known) => key(known) === key(path)))
      throw new InputError(`${name} lists ${shown(path)} twice: give each mailbox once.`);
    paths.push(path);
  }
  if (paths.length > 50)
    throw new InputError(
      `${name} lists ${paths.length} mailboxes: at most 50 can be watched by one trigger.`,
    );
  return paths;
}

/** A list of flags; `required: false` accepts an empty list. */
export function parseFlags(
  value: unknown,
  options: { required: boolean; name?: string },
): string[] {
  const name = options.name ?? "Flags";
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (value === undefined || value === null || value === "") items = [];
  else if (typeof value === "string")
    items = value.trim().startsWith("[") ? parseJsonList(value, name) : value.split(",");
  else throw new InputError(`${name} must be a list of flags, not ${shown(value)}.`);
  const flags = items
    .map((item) => {
      if (typeof item !== "string") throw new InputError(`${name}: ${shown(item)} is not a flag.`);
      return item;
    })
    .filter((item) => item.trim() !== "")
    .map((item) => parseFlag(item, name));
  if (options.required && flags.length === 0)
    throw new InputError(`${name} is empty: give at least one flag, e.g. \\Seen.`);
  return Array.from(new Set(flags));
}

function parseJsonList(value: string, name: string, what = "flags"): unknown[] {
  try {
    const parsed: unknown = JSON.parse(value);
    if (Array.isArray(parsed)) return parsed;
  } catch {
    // fall through to the error below
  }
  throw new InputError(`${name} ${shown(value)} is not a list of ${what}.`);
}

/** A whole number within bounds; "" gives the default. */
export function parseLimit(
  value: unknown,
  name: string,
  bounds: { min: number; max: number; fallback: number },
): number {
  const text = asText(value, name);
  if (text === "") return bounds.fallback;
  if (!/^\d+$/.test(text)) throw new InputError(`${name} ${shown(value)} is not a whole number.`);
  const n = Number(text);
  if (n < bounds.min || n > bounds.max)
    throw new InputError(`${name} must be from ${bounds.min} to ${bounds.max}, not ${n}.`);
  return n;
}

/** A boolean input: true/false as booleans or strings; "" gives the default. */
export function parseBool(value: unknown, name: string, fallback: boolean): boolean {
  if (typeof value === "boolean") return value;
  const text = asText(value, name).toLowerCase();
  if (text === "") return fallback;
  if (text === "true") return true;
  if (text === "false") return false;
  throw new InputError(`${name} must be true or false, not ${shown(value)}.`);
}

/** Optional free text: "" and missing are undefined. */
export function optionalText(value: unknown, name: string): string | undefined {
  const text = asText(value, name);
  return text === "" ? undefined : text;
}

/** One of `choices` (in any letter case); empty is the first. */
export function parseChoice<T extends string>(
  value: unknown,
  name: string,
  choices: readonly T[],
): T {
  const picked = optionalText(value, name)?.toLowerCase() ?? choices[0];
  const found = choices.find((candidate) => candidate === picked);
  if (!found)
    throw new InputError(
      `${name} must be one of ${choices.map((c) => `"${c}"`).join(", ")}, not "${picked}".`,
    );
  return found;
}

/** Gmail labels: a list (or one label, or a JSON list); each non-empty, without control characters. */
export function parseLabels(value: unknown, name = "Labels"): string[] {
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (value === undefined || value === null) items = [];
  else if (typeof value === "string")
    items = value.trim().startsWith("[") ? parseJsonList(value, name, "labels") : [value];
  else throw new InputError(`${name} must be a list of labels, not ${shown(value)}.`);
  const labels = items.map((item) => {
    if (typeof item !== "string") throw new InputError(`${name}: ${shown(item)} is not a label.`);
    if (hasControlCharacters(item))
      throw new InputError(`${name}: ${shown(item)} contains control characters.`);
    return item.trim();
  });
  const given = labels.filter((label) => label !== "");
  if (given.length === 0)
    throw new InputError(`${name} is empty: give at least one label, e.g. Invoices.`);
  return Array.from(new Set(given));
}
