/**
 * Gmail's IMAP extensions (X-GM-EXT-1) in front of the real Dovecot, for the paths no server here
 * offers. Everything else (messages, UIDs, flags, MOVE, special-use mailboxes) is Dovecot's own;
 * the proxy adds what Google's published "IMAP Extensions" document for Gmail specifies, in the
 * syntax of that document's examples:
 *
 * - CAPABILITY lists X-GM-EXT-1 (and no COMPRESS, which would hide the lines from the proxy).
 * - FETCH X-GM-MSGID / X-GM-THRID: a 64-bit decimal number per message
 *   (`* 1 FETCH (X-GM-THRID 1266894439832287888)`).
 * - FETCH X-GM-LABELS: a parenthesised list of astrings, system labels with a backslash
 *   (`* 1 FETCH (X-GM-LABELS (\Inbox \Sent Important "Muy Importante"))`), each label in
 *   IMAP's modified UTF-7 where it is not plain ASCII (labels are mailbox names).
 * - STORE +X-GM-LABELS / -X-GM-LABELS (labels): answered with the message's labels afterwards
 *   (`* 1 FETCH (X-GM-LABELS (\Inbox \Sent Important "Muy Importante" foo))`).
 * - SEARCH X-GM-RAW "query" and SEARCH X-GM-THRID id, answered like any SEARCH.
 * - LIST: All Mail carries \All; Gmail marks no mailbox \Archive.
 *
 * Labels, thread and message ids live here, per UID of the one mailbox a test works in; an
 * X-GM-RAW query is answered with the Dovecot search keys the test maps it to.
 *
 * `objectIdProxy` instead makes Dovecot a server with RFC 8474's OBJECTID (and no Gmail
 * extensions), in that RFC's syntax: `* 1 FETCH (EMAILID (M6d99ac3275bb4e) THREADID
 * (T64b478a75b7ea9))`, THREADID NIL for a message without a thread, and SEARCH THREADID id.
 */
import iconv from "iconv-lite";
import { server } from "./helpers";
import type { Proxy as ProxyHandle } from "./rewriteProxy";
import { rewriteProxy } from "./rewriteProxy";

export interface GmailAccount {
  labels: Map<number, string[]>;
  threadIds: Map<number, string>;
  messageIds: Map<number, string>;
  /** X-GM-RAW query -> the Dovecot SEARCH keys that stand for its answer. */
  rawQueries: Record<string, string>;
  /** The mailbox listed with \All. */
  allMail?: string;
  /** Every command line the client sent, as it sent it. */
  sent: string[];
}

export function gmailAccount(partial: Partial<GmailAccount> = {}): GmailAccount {
  return {
    labels: new Map(),
    threadIds: new Map(),
    messageIds: new Map(),
    rawQueries: {},
    sent: [],
    ...partial,
  };
}

type Flavor = "gmail" | "objectid";

const ITEMS: Record<Flavor, RegExp> = {
  gmail: /\s+X-GM-(?:MSGID|THRID|LABELS)\b/gi,
  objectid: /\s+(?:EMAILID|THREADID)\b/gi,
};
const CAPABILITY: Record<Flavor, string> = { gmail: "X-GM-EXT-1", objectid: "OBJECTID" };

/** A label as an astring: an atom when it can be one (a system label keeps its backslash), else quoted. */
function astring(unicode: string): string {
  const label = wireLabel(unicode);
  return /^\\?[A-Za-z0-9_.$/-]+$/.test(label)
    ? label
    : `"${label.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** A label as it travels: modified UTF-7 (RFC 3501 5.1.3) unless it is plain ASCII without "&". */
export function wireLabel(label: string): string {
  return /^[\x20-\x25\x27-\x7e]*$/.test(label)
    ? label
    : iconv.encode(label, "utf-7-imap").toString("latin1");
}

/** The astrings of a parenthesised list such as (foo "Muy Importante" \Important). */
export function parseAstrings(list: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|([^\s()"]+)/g;
  for (const match of list.matchAll(re)) {
    out.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, "$1") : (match[2] ?? ""));
  }
  return out;
}

/** The UIDs of a UID set as IMAP writes it (1,3:5), within those the account knows plus `known`. */
function uidsOf(set: string, known: Iterable<number>): number[] {
  const all = Array.from(new Set(known)).sort((a, b) => a - b);
  return set.split(",").flatMap((part) => {
    const [a = "0", b = a] = part.split(":");
    const lo = a === "*" ? Infinity : Number(a);
    const hi = b === "*" ? Infinity : Number(b);
    return all.filter((uid) => uid >= Math.min(lo, hi) && uid <= Math.max(lo, hi));
  });
}

/** Dovecot's main instance, over its cleartext port, as if it were Gmail. */
export function gmailProxy(account: GmailAccount): Promise<ProxyHandle> {
  return extensionProxy(account, "gmail");
}

/** Dovecot's main instance, over its cleartext port, as a server with RFC 8474 OBJECTID. */
export function objectIdProxy(account: GmailAccount): Promise<ProxyHandle> {
  return extensionProxy(account, "objectid");
}

function extensionProxy(account: GmailAccount, flavor: Flavor): Promise<ProxyHandle> {
  const requested = ITEMS[flavor];
  const capability = CAPABILITY[flavor];
  let fetchWants = "";
  const seqOf = new Map<number, number>();
  const storeAnswers = new Map<string, number[]>();
  const items = (uid: number): string => {
    const parts: string[] = [];
    if (flavor === "objectid") {
      if (/EMAILID/i.test(fetchWants) && account.messageIds.has(uid))
        parts.push(`EMAILID (${account.messageIds.get(uid)})`);
      if (/THREADID/i.test(fetchWants)) {
        const thread = account.threadIds.get(uid);
        parts.push(thread === undefined ? "THREADID NIL" : `THREADID (${thread})`);
      }
      return parts.join(" ");
    }
    if (/THRID/i.test(fetchWants) && account.threadIds.has(uid))
      parts.push(`X-GM-THRID ${account.threadIds.get(uid)}`);
    if (/MSGID/i.test(fetchWants) && account.messageIds.has(uid))
      parts.push(`X-GM-MSGID ${account.messageIds.get(uid)}`);
    if (/LABELS/i.test(fetchWants))
      parts.push(`X-GM-LABELS (${(account.labels.get(uid) ?? []).map(astring).join(" ")})`);
    return parts.join(" ");
  };
  return rewriteProxy(
    { host: server.host, port: server.plainPort },
    {
      toServer: (line) => {
        account.sent.push(line.trimEnd());
        const fetch = /^(\S+ (?:UID )?FETCH \S+ )\((.*)\)\r?\n$/i.exec(line);
        if (fetch) {
          fetchWants = (fetch[2]?.match(requested) ?? []).join(" ");
          return `${fetch[1]}(${(fetch[2] ?? "").replace(requested, "")})\r\n`;
        }
        const store = /^(\S+) UID STORE (\S+) ([+-])X-GM-LABELS (?:\.SILENT )?\((.*)\)\r?\n$/i.exec(
          line,
        );
        if (store) {
          const [, tag = "", set = "", sign, list = ""] = store;
          const labels = parseAstrings(list).map((label) =>
            iconv.decode(Buffer.from(label, "latin1"), "utf-7-imap"),
          );
          const uids = uidsOf(set, [...seqOf.keys(), ...account.labels.keys()]);
          for (const uid of uids) {
            const now = account.labels.get(uid) ?? [];
            account.labels.set(
              uid,
              sign === "+"
                ? [...now, ...labels.filter((label) => !now.includes(label))]
                : now.filter((label) => !labels.includes(label)),
            );
          }
          storeAnswers.set(tag, uids);
          return `${tag} NOOP\r\n`;
        }
        if (/^\S+ UID SEARCH /i.test(line)) {
          return line
            .replace(/X-GM-RAW "((?:[^"\\]|\\.)*)"/gi, (_all, query: string) => {
              const keys = account.rawQueries[query];
              // An unmapped query becomes a key Dovecot refuses, so the search fails visibly.
              return keys ?? "X-GM-RAW-UNMAPPED";
            })
            .replace(/(?:X-GM-THRID|THREADID) ([A-Za-z0-9_-]+)/gi, (_all, id: string) => {
              const uids = [...account.threadIds].filter(([, t]) => t === id).map(([uid]) => uid);
              return uids.length ? `UID ${uids.join(",")}` : "NOT ALL";
            });
        }
        return line;
      },
      toClient: (line) => {
        // COMPRESS would hide every later line from the proxy.
        if (/^\* CAPABILITY /i.test(line))
          return line.replace(/ COMPRESS=DEFLATE/i, "").replace(/\r?\n$/, ` ${capability}\r\n`);
        if (/\[CAPABILITY /i.test(line))
          return line
            .replace(/ COMPRESS=DEFLATE/i, "")
            .replace(/\[CAPABILITY ([^\]]*)\]/i, `[CAPABILITY $1 ${capability}]`);
        const list = /^\* LIST \(([^)]*)\) (\S+) (.*)\r?\n$/i.exec(line);
        if (list && flavor === "gmail") {
          const [, flags = "", delimiter = "", name = ""] = list;
          const bare = name.replace(/^"(.*)"$/, "$1");
          const marked = flags
            .split(" ")
            .filter((flag) => flag !== "" && flag.toLowerCase() !== "\\archive");
          if (bare === account.allMail) marked.push("\\All");
          return `* LIST (${marked.join(" ")}) ${delimiter} ${name}\r\n`;
        }
        const fetched = /^\* (\d+) FETCH \(/i.exec(line);
        const uid = /\bUID (\d+)/i.exec(line);
        if (fetched && uid) {
          seqOf.set(Number(uid[1]), Number(fetched[1]));
          const extra = items(Number(uid[1]));
          if (extra) return line.replace(/FETCH \(/i, `FETCH (${extra} `);
        }
        const tagged = /^(\S+) OK /.exec(line);
        const answered = tagged ? storeAnswers.get(tagged[1] ?? "") : undefined;
        if (tagged && answered) {
          storeAnswers.delete(tagged[1] ?? "");
          const untagged = answered
            .filter((u) => seqOf.has(u))
            .map(
              (u) =>
                `* ${seqOf.get(u)} FETCH (X-GM-LABELS (${(account.labels.get(u) ?? []).map(astring).join(" ")}) UID ${u})\r\n`,
            );
          return `${untagged.join("")}${line}`;
        }
        return line;
      },
    },
  );
}
