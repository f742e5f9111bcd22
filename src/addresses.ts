/**
 * Address lists (From, To, Cc, ...) read as RFC 5322 section 3.4 writes them and as section 4
 * says the obsolete forms must still be read (Appendix A.5, A.6): groups (flattened into their
 * members), comments anywhere, routes (`<@route:addr>`), empty list elements, spaces around the
 * dots and the @ of an address. Nothing is invented: an empty element, a group's name and a
 * comment are never an address.
 */
import { decodeHeaderText, rawHeaderText } from "./mimeText";
import type { Address } from "./serialize";

type Token =
  | { kind: "word"; text: string; space: boolean }
  | { kind: "quoted"; text: string; space: boolean }
  | { kind: "comment"; text: string; space: boolean }
  | { kind: "special"; text: string; space: boolean };

const SPECIALS = new Set(["<", ">", "@", ",", ";", ":", "."]);

/** Reads up to the closing `close`, with backslash escapes; returns the text and the index after it. */
function delimited(input: string, start: number, close: string, nests: boolean): [string, number] {
  let depth = 1;
  let text = "";
  let i = start;
  while (i < input.length) {
    const ch = input[i] as string;
    if (ch === "\\" && i + 1 < input.length) {
      text += input[i + 1];
      i += 2;
      continue;
    }
    if (nests && ch === "(") depth += 1;
    if (ch === close) {
      depth -= 1;
      if (depth === 0) return [text, i + 1];
    }
    text += ch;
    i += 1;
  }
  // an unterminated quote or comment runs to the end, as mail readers read it
  return [text, i];
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let space = false;
  let i = 0;
  while (i < input.length) {
    const ch = input[i] as string;
    if (/\s/.test(ch)) {
      space = true;
      i += 1;
      continue;
    }
    if (ch === '"' || ch === "(") {
      const [text, next] = delimited(input, i + 1, ch === '"' ? '"' : ")", ch === "(");
      tokens.push({ kind: ch === '"' ? "quoted" : "comment", text, space });
      i = next;
    } else if (SPECIALS.has(ch)) {
      tokens.push({ kind: "special", text: ch, space });
      i += 1;
    } else {
      let end = i;
      // a domain literal [192.0.2.1] is one word
      if (ch === "[") end = Math.max(input.indexOf("]", i), i) + 1;
      while (end < input.length && !/[\s"(<>@,;:.]/.test(input[end] as string)) end += 1;
      tokens.push({ kind: "word", text: input.slice(i, end), space });
      i = end;
    }
    space = false;
  }
  return tokens;
}

/** Words of a display name joined as written (one space where there was any). */
function phrase(tokens: Token[]): string {
  let out = "";
  for (const token of tokens) {
    if (token.kind === "comment") continue;
    out += (out && token.space ? " " : "") + token.text;
  }
  return out;
}

/** An addr-spec without its comments and the spaces around its dots and @ (obs-local-part, obs-domain). */
function addrSpec(tokens: Token[]): string {
  return tokens
    .filter((token) => token.kind !== "comment")
    .map((token) => (token.kind === "quoted" ? `"${token.text}"` : token.text))
    .join("");
}

function mailbox(tokens: Token[], decode: Decoders): Address | null {
  const open = tokens.findIndex((token) => token.kind === "special" && token.text === "<");
  if (open >= 0) {
    const closeAt = tokens.findIndex(
      (token, index) => index > open && token.kind === "special" && token.text === ">",
    );
    let inner = tokens.slice(open + 1, closeAt < 0 ? undefined : closeAt);
    // obs-route: <@a.example,@b.example:jdoe@example.com>
    const colons = inner.flatMap((token, index) =>
      token.kind === "special" && token.text === ":" ? [index] : [],
    );
    const colon = colons.at(-1);
    if (colon !== undefined) inner = inner.slice(colon + 1);
    const address = addrSpec(inner);
    const name = phrase(tokens.slice(0, open));
    if (address === "" && name === "") return null;
    return { name: decode.name(name), address: decode.address(address) };
  }
  const address = addrSpec(tokens);
  if (address === "") return null;
  // "jdoe@example.com (John Doe)": a comment right after a bare address is the usual way to name it
  const last = tokens.at(-1);
  const name = last?.kind === "comment" ? last.text.trim() : "";
  return { name: decode.name(name), address: decode.address(address) };
}

export interface Decoders {
  /** A display name as written (encoded words, raw bytes) to text. */
  name: (raw: string) => string;
  address: (raw: string) => string;
}

const asIs: Decoders = { name: (raw) => raw, address: (raw) => raw };

/** Every mailbox of an address list, group members in place of their group, in order. */
export function parseAddressList(input: string, decode: Decoders = asIs): Address[] {
  const out: Address[] = [];
  let current: Token[] = [];
  let inAngle = false;
  const flush = () => {
    const entry = mailbox(current, decode);
    if (entry) out.push(entry);
    current = [];
  };
  for (const token of tokenize(input)) {
    if (token.kind === "special") {
      if (token.text === "<") inAngle = true;
      if (token.text === ">") inAngle = false;
      if (!inAngle && (token.text === "," || token.text === ";")) {
        flush();
        continue;
      }
      // "name:" outside an address opens a group: its name is not an address
      if (!inAngle && token.text === ":") {
        current = [];
        continue;
      }
    }
    current.push(token);
  }
  flush();
  return out;
}

/** Names and addresses from raw header bytes (a binary string), decoded as every header is. */
export const addressDecoders: Decoders = {
  name: (raw) => decodeHeaderText(raw).trim(),
  address: (raw) => rawHeaderText(Buffer.from(raw, "latin1")),
};
