/**
 * The criteria of Search Mailbox, validated before connecting and compiled to IMAP SEARCH keys by
 * us rather than by imapflow's search compiler, because that compiler
 * - drops empty and zero values without a word (`subject: ""`, `larger: 0`, `new: false`), which
 *   silently widens the search, and
 * - turns SINCE and BEFORE into WITHIN's YOUNGER / OLDER (seconds relative to now) whenever the
 *   server offers WITHIN, as Dovecot does: a date would then mean a moment.
 * The accepted form is imapflow's search object (`SearchObject`), with its keys and value types;
 * anything that cannot be sent as asked is an InputError naming the key.
 */
import { ImapError, InputError } from "./errors";
import { isCalendarDay, MONTH_NAMES, optionalText, parseFlag, parseUidSet, shown } from "./inputs";
import { MAX_UID } from "./uidSet";

/** One search key, validated; rendered to wire tokens once the server's extensions are known. */
export type SearchKey =
  | { op: "atom"; atom: string }
  | { op: "text"; atom: string; value: string }
  | { op: "header"; field: string; value: string }
  | { op: "number"; atom: "LARGER" | "SMALLER" | "MODSEQ"; value: string }
  | { op: "date"; atom: string; date: string }
  | { op: "uid"; set: string }
  | { op: "keyword"; atom: "KEYWORD" | "UNKEYWORD"; flag: string }
  | { op: "objectId"; atom: "EMAILID" | "THREADID"; value: string }
  | { op: "gmailRaw"; value: string; name?: string }
  | { op: "not"; operand: SearchKey[] }
  | { op: "or"; left: SearchKey[]; right: SearchKey[] };

import type { Token } from "./imapExec";

export type { Token };

const BOOLEAN_FLAGS: Record<string, [string, string]> = {
  answered: ["ANSWERED", "UNANSWERED"],
  deleted: ["DELETED", "UNDELETED"],
  draft: ["DRAFT", "UNDRAFT"],
  flagged: ["FLAGGED", "UNFLAGGED"],
  seen: ["SEEN", "UNSEEN"],
  unanswered: ["UNANSWERED", "ANSWERED"],
  undeleted: ["UNDELETED", "DELETED"],
  undraft: ["UNDRAFT", "DRAFT"],
  unflagged: ["UNFLAGGED", "FLAGGED"],
  unseen: ["UNSEEN", "SEEN"],
};
const TRUE_ONLY = ["all", "new", "old", "recent"];
const TEXT_KEYS = ["from", "to", "cc", "bcc", "body", "subject", "text"];
const DATE_KEYS: Record<string, string> = {
  before: "BEFORE",
  on: "ON",
  since: "SINCE",
  sentbefore: "SENTBEFORE",
  senton: "SENTON",
  sentsince: "SENTSINCE",
};
/** Every key of imapflow's SearchObject (and the UN- forms its compiler accepts), as spelled in its types. */
const KNOWN_KEYS = [
  ...Object.keys(BOOLEAN_FLAGS),
  ...TRUE_ONLY,
  ...TEXT_KEYS,
  "larger",
  "smaller",
  "modseq",
  "uid",
  "emailId",
  "threadId",
  "before",
  "on",
  "since",
  "sentBefore",
  "sentOn",
  "sentSince",
  "keyword",
  "unKeyword",
  "header",
  "not",
  "or",
  "gmraw",
  "gmailraw",
  "labels",
];

// A calendar date; a time is accepted only when it is midnight, so a timestamp never passes for a day.
const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T00:00(?::00(?:\.0+)?)?(?:Z|[+-]00:?00)?)?$/;

/** A calendar date as IMAP writes it (24-Nov-2026), from YYYY-MM-DD. */
export function parseDate(value: unknown, name: string): string {
  const text = typeof value === "string" ? value.trim() : "";
  const match = DATE.exec(text);
  const [year, month, day] = match
    ? [Number(match[1]), Number(match[2]), Number(match[3])]
    : [0, 0, 0];
  if (!match || !isCalendarDay(year, month, day)) {
    throw new InputError(
      `${name} ${shown(value)} is not a date: give a calendar date as YYYY-MM-DD, e.g. 2026-11-24. IMAP compares whole days, so a time of day cannot be searched for.`,
    );
  }
  return `${day}-${MONTH_NAMES[month - 1]}-${year}`;
}

/**
 * An email or thread id as servers hand them out: RFC 8474's objectid (1 to 255 letters, digits,
 * "_" and "-", e.g. T64b478a75b7ea9) or Gmail's decimal X-GM-THRID / X-GM-MSGID, which is one.
 */
export function parseObjectId(value: unknown, name: string): string {
  const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]{1,255}$/.test(text.trim()))
    throw new InputError(
      `${name} ${shown(value)} is not a message or thread id: give the threadId or emailId of a message as this component returned it, e.g. 1266894439832287888 (Gmail) or T64b478a75b7ea9.`,
    );
  return text.trim();
}

/** Free text for FROM, SUBJECT, ...: empty text would match every message, so it is refused. */
export function parseText(value: unknown, name: string): string {
  if (typeof value !== "string") throw new InputError(`${name} must be text, not ${shown(value)}.`);
  if (value === "")
    throw new InputError(
      `${name} is empty: empty text matches every message. Leave the key out instead.`,
    );
  if (/[\r\n\0]/.test(value))
    throw new InputError(
      `${name} ${shown(value)} contains a line break or NUL, which IMAP cannot search for.`,
    );
  return value;
}

function wholeNumber(value: unknown, name: string, min: number, max: bigint): string {
  const text =
    typeof value === "number" && Number.isSafeInteger(value)
      ? String(value)
      : typeof value === "string"
        ? value.trim()
        : "";
  if (!/^\d{1,20}$/.test(text) || BigInt(text) < BigInt(min) || BigInt(text) > max) {
    throw new InputError(
      `${name} must be a whole number from ${min} to ${max}, not ${shown(value)}.`,
    );
  }
  return BigInt(text).toString();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An operand of `not` / `or`: a non-empty search object. */
function operand(value: unknown, path: string): SearchKey[] {
  if (!isObject(value) || Object.keys(value).length === 0) {
    throw new InputError(
      `${path} must be a search object with at least one key, e.g. {"from": "alice@example.com"}, not ${shown(value)}.`,
    );
  }
  return walk(value, path);
}

function compileKey(key: string, value: unknown, path: string): SearchKey[] {
  const name = key.toLowerCase();
  if (name === "seq") {
    throw new InputError(
      `${path}: "${key}" selects messages by sequence number, which shifts whenever another message is deleted. Use "uid" instead.`,
    );
  }
  const pair = BOOLEAN_FLAGS[name];
  if (pair) {
    if (typeof value !== "boolean")
      throw new InputError(`${path} must be true or false, not ${shown(value)}.`);
    return [{ op: "atom", atom: pair[value ? 0 : 1] }];
  }
  if (TRUE_ONLY.includes(name)) {
    if (value !== true)
      throw new InputError(
        `${path} can only be true (to negate it, use {"not": {"${key}": true}}), not ${shown(value)}.`,
      );
    return [{ op: "atom", atom: name.toUpperCase() }];
  }
  if (TEXT_KEYS.includes(name))
    return [{ op: "text", atom: name.toUpperCase(), value: parseText(value, path) }];
  const dateAtom = DATE_KEYS[name];
  if (dateAtom) return [{ op: "date", atom: dateAtom, date: parseDate(value, path) }];
  switch (name) {
    case "larger":
    case "smaller":
      return [
        {
          op: "number",
          atom: name === "larger" ? "LARGER" : "SMALLER",
          value: wholeNumber(value, path, 0, BigInt(MAX_UID)),
        },
      ];
    case "modseq":
      return [
        {
          op: "number",
          atom: "MODSEQ",
          value: wholeNumber(value, path, 1, 9_223_372_036_854_775_807n),
        },
      ];
    case "uid": {
      const set = parseUidSet(typeof value === "number" ? String(value) : value, path);
      // In IMAP "100:*" also matches the newest message when its UID is below 100; the highest
      // possible UID instead of * keeps the range to what it says.
      return [
        {
          op: "uid",
          set: set.text.replace(/(^|,)\*:(\d+)/g, "$1$2:*").replace(/(\d+):\*/g, `$1:${MAX_UID}`),
        },
      ];
    }
    case "emailid":
    case "threadid":
      return [
        {
          op: "objectId",
          atom: name === "emailid" ? "EMAILID" : "THREADID",
          value: parseObjectId(value, path),
        },
      ];
    case "keyword":
    case "unkeyword": {
      const flag = parseFlag(parseText(value, path), path);
      if (flag.startsWith("\\")) {
        throw new InputError(
          `${path}: ${flag} is a system flag, not a keyword. Use its own key instead, e.g. {"seen": true} or {"flagged": false}.`,
        );
      }
      return [{ op: "keyword", atom: name === "keyword" ? "KEYWORD" : "UNKEYWORD", flag }];
    }
    case "header": {
      if (!isObject(value) || Object.keys(value).length === 0) {
        throw new InputError(
          `${path} must be an object of header names and texts, e.g. {"X-Priority": "1"} or {"List-Id": true}, not ${shown(value)}.`,
        );
      }
      return Object.entries(value).map(([field, text]) => {
        if (!/^[\x21-\x39\x3b-\x7e]+$/.test(field))
          throw new InputError(`${path}: ${shown(field)} is not a header name.`);
        // true means "has the header": IMAP matches every value with the empty string.
        return {
          op: "header",
          field,
          value: text === true ? "" : parseText(text, `${path}.${field}`),
        };
      });
    }
    case "not":
      return [{ op: "not", operand: operand(value, path) }];
    case "or": {
      if (!Array.isArray(value) || value.length === 0)
        throw new InputError(`${path} must be a list of search objects, not ${shown(value)}.`);
      const operands = value.map((item, i) => operand(item, `${path}[${i}]`));
      // IMAP's OR takes two keys: a list becomes a right-leaning chain of ORs.
      return operands.reduceRight((right, left) => [{ op: "or", left, right }]);
    }
    case "gmraw":
    case "gmailraw":
      return [{ op: "gmailRaw", value: parseText(value, path), name: key }];
    case "labels": {
      if (!isObject(value))
        throw new InputError(`${path} must be {"has": [...], "not": [...]}, not ${shown(value)}.`);
      const terms = (list: unknown, prefix: string): string[] =>
        (Array.isArray(list) ? list : list === undefined ? [] : [list]).map((label) => {
          const text = parseText(label, `${path} label`)
            .replace(/[\s"]+/g, " ")
            .trim();
          return `${prefix}label:${text.includes(" ") ? `"${text}"` : text}`;
        });
      const raw = [...terms(value.has, ""), ...terms(value.not, "-")];
      if (raw.length === 0)
        throw new InputError(
          `${path} names no label: give {"has": ["Work"]} and/or {"not": ["Spam"]}.`,
        );
      return [{ op: "gmailRaw", value: raw.join(" "), name: key }];
    }
    default:
      throw new InputError(
        `${path}: unknown search key "${key}". Known keys: ${KNOWN_KEYS.join(", ")}. ("seq" is refused: use "uid".)`,
      );
  }
}

function walk(criteria: Record<string, unknown>, path: string): SearchKey[] {
  return Object.entries(criteria).flatMap(([key, value]) =>
    compileKey(key, value, `${path}.${key}`),
  );
}

/** The `criteria` input: JSON text or an object from an earlier step; empty means no criteria. */
export function parseCriteria(value: unknown, name = "criteria"): SearchKey[] {
  if (value === undefined || value === null || (typeof value === "string" && value.trim() === ""))
    return [];
  let parsed: unknown = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch (err) {
      throw new InputError(
        `${name} is not valid JSON (${err instanceof Error ? err.message : String(err)}). Give a search object such as {"larger": 10000}.`,
      );
    }
  }
  if (!isObject(parsed))
    throw new InputError(
      `${name} must be a JSON object such as {"larger": 10000}, not ${shown(parsed)}.`,
    );
  return walk(parsed, name);
}

/** The server's extensions that decide how some keys are written, and the mailbox searched. */
export interface ServerFeatures {
  has: (capability: string) => boolean;
  host: string;
  mailbox: string;
}

function missing(key: string, extension: string, server: ServerFeatures): ImapError {
  return new ImapError(
    `The search key "${key}" needs the ${extension} extension, which the server at ${server.host} does not offer, so the mailbox "${server.mailbox}" was not searched. Remove the key from the criteria.`,
    { code: "MISSING_EXTENSION", mailbox: server.mailbox },
  );
}

function notGmail(name: string, server: ServerFeatures): ImapError {
  return new ImapError(
    `${name} is Gmail's own search (X-GM-RAW), and the server at ${server.host} is not Gmail (it does not announce X-GM-EXT-1), so the mailbox "${server.mailbox}" was not searched. Remove it and search with the other criteria.`,
    { code: "NOT_GMAIL", mailbox: server.mailbox },
  );
}

function textToken(value: string): Token {
  // A quoted string carries 7-bit text only; anything else goes as a literal (with CHARSET UTF-8).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is "7-bit, not NUL", which includes controls
  return /^[\x01-\x7f]*$/.test(value)
    ? { type: "STRING", value }
    : { type: "LITERAL", value: Buffer.from(value, "utf8") };
}

function renderKey(key: SearchKey, server: ServerFeatures): Token[] {
  switch (key.op) {
    case "atom":
      return [{ type: "ATOM", value: key.atom }];
    case "text":
      return [{ type: "ATOM", value: key.atom }, textToken(key.value)];
    case "header":
      return [
        { type: "ATOM", value: "HEADER" },
        { type: "STRING", value: key.field },
        textToken(key.value),
      ];
    case "number":
      if (key.atom === "MODSEQ" && !server.has("CONDSTORE"))
        throw missing("modseq", "CONDSTORE", server);
      return [
        { type: "ATOM", value: key.atom },
        { type: "ATOM", value: key.value },
      ];
    case "date":
      return [
        { type: "ATOM", value: key.atom },
        { type: "ATOM", value: key.date },
      ];
    case "uid":
      return [
        { type: "ATOM", value: "UID" },
        { type: "SEQUENCE", value: key.set },
      ];
    case "keyword":
      return [
        { type: "ATOM", value: key.atom },
        { type: "ATOM", value: key.flag },
      ];
    case "objectId": {
      const name = key.atom === "EMAILID" ? "emailId" : "threadId";
      // Both RFC 8474 and Gmail write an id as a bare atom; parseObjectId allows nothing else.
      const id: Token = { type: "ATOM", value: key.value };
      if (server.has("OBJECTID")) return [{ type: "ATOM", value: key.atom }, id];
      if (!server.has("X-GM-EXT-1"))
        throw missing(name, "OBJECTID (or Gmail's X-GM-EXT-1)", server);
      return [{ type: "ATOM", value: key.atom === "EMAILID" ? "X-GM-MSGID" : "X-GM-THRID" }, id];
    }
    case "gmailRaw":
      if (!server.has("X-GM-EXT-1")) throw notGmail(key.name ?? "gmraw", server);
      return [{ type: "ATOM", value: "X-GM-RAW" }, textToken(key.value)];
    case "not":
      return [{ type: "ATOM", value: "NOT" }, ...group(key.operand, server)];
    case "or":
      return [
        { type: "ATOM", value: "OR" },
        ...group(key.left, server),
        ...group(key.right, server),
      ];
  }
}

/** One search key, or several in parentheses: NOT and OR take exactly one. */
function group(keys: SearchKey[], server: ServerFeatures): Token[] {
  const tokens = renderKeys(keys, server);
  return keys.length === 1 ? tokens : [tokens];
}

/** The keys as wire tokens, ANDed (IMAP's default). */
export function renderKeys(keys: SearchKey[], server: ServerFeatures): Token[] {
  return keys.flatMap((key) => renderKey(key, server));
}

export function hasLiteral(tokens: Token[]): boolean {
  return tokens.some((token) =>
    Array.isArray(token) ? hasLiteral(token) : token.type === "LITERAL",
  );
}

/**
 * The message filter of the email triggers: From and Subject contain, with attachments, and
 * criteria as Search Mailbox takes them, ANDed. Empty when nothing is asked: no search is sent.
 * "With attachments" is what the server can tell without fetching: a top-level Content-Type of
 * multipart/mixed, the way mail programs send files.
 */
export function parseMessageFilter(params: {
  from: unknown;
  subject: unknown;
  hasAttachments: boolean;
  criteria: unknown;
}): SearchKey[] {
  const keys: SearchKey[] = [];
  for (const [value, label, atom] of [
    [params.from, "From", "FROM"],
    [params.subject, "Subject", "SUBJECT"],
  ] as const) {
    const text = optionalText(value, label);
    if (text !== undefined) keys.push({ op: "text", atom, value: parseText(text, label) });
  }
  if (params.hasAttachments)
    keys.push({ op: "header", field: "Content-Type", value: "multipart/mixed" });
  keys.push(...parseCriteria(params.criteria, "Criteria"));
  return keys;
}
