/**
 * Header text and dates as real mail writes them, more leniently than the RFCs allow and the way
 * mail readers read them: raw 8-bit bytes (UTF-8 when they are valid UTF-8, else Windows-1252),
 * RFC 2047 encoded words with raw 8-bit bytes inside, UTF-7, and RFC 5322 dates with obsolete or
 * unknown zones.
 */
import iconv from "iconv-lite";
import libmime from "libmime";

/** Charset names that mean UTF-7 (RFC 2152), compared as iconv-lite compares them. */
export function isUtf7(charset: string | undefined): boolean {
  const name = (charset ?? "").toLowerCase().replace(/[^a-z0-9]/g, "");
  return name === "utf7" || name === "unicode11utf7" || name === "csunicode11utf7";
}

const FATAL_UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Raw header bytes as text: UTF-8 when they are valid UTF-8 (RFC 6532), else Windows-1252, the
 * charset of most mail that sends 8-bit headers without saying which (a superset of ISO-8859-1's
 * printable characters).
 */
export function rawHeaderText(bytes: Buffer): string {
  try {
    return FATAL_UTF8.decode(bytes);
  } catch {
    return iconv.decode(bytes, "windows-1252");
  }
}

const ENCODED_WORD = /=\?([^?\s]+)\?([QqBb])\?([^?\r\n]*)\?=/g;
const RAW_IN_WORD = /=\?[^?\s]+\?[Qq]\?[^?\r\n]*[\u0080-\u00ff][^?\r\n]*\?=/;
const RAW_IN_WORD_GLOBAL = /=\?[^?\s]+\?[Qq]\?[^?\r\n]*[\u0080-\u00ff][^?\r\n]*\?=/g;

/**
 * In a header given as a binary string (one character per byte), the raw 8-bit bytes inside
 * Q-encoded words written as =XX escapes, so that a decoder reads them in the word's declared
 * charset (`=?iso-8859-1?Q?Fr\xF6sche?=` is "Frösche"). Everything else is left as it is.
 */
export function escapeRawBytesInWords(binary: string): string {
  return binary.replace(ENCODED_WORD, (word, charset: string, encoding: string, text: string) => {
    if (encoding.toUpperCase() !== "Q" || !/[\u0080-\u00ff]/.test(text)) return word;
    const escaped = text.replace(
      /[\u0080-\u00ff]/g,
      (byte) => `=${byte.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
    );
    return `=?${charset}?${encoding}?${escaped}?=`;
  });
}

/** A libmime whose encoded words in UTF-7 are decoded too (libmime itself reads them as UTF-8, on purpose: UTF-7 can hide markup). */
class Utf7Libmime extends libmime.Libmime {
  override decodeWord(charset: string, encoding: string, str: string): string {
    const name = charset.split("*")[0];
    if (!isUtf7(name)) return super.decodeWord(charset, encoding, str);
    // the word's bytes, then UTF-7
    const bytes = Buffer.from(super.decodeWord("iso-8859-1", encoding, str), "latin1");
    return iconv.decode(bytes, "utf7");
  }
}

/** The one libmime instance header text is decoded with, here and inside the message parser. */
export const headerMime = new Utf7Libmime();

/** RFC 2047 encoded words decoded; text with a charset nobody knows stays as it is. */
export function decodeWords(text: string): string {
  try {
    return headerMime.decodeWords(text);
  } catch {
    return text;
  }
}

/**
 * A header's value (without its name), given as a binary string of its raw bytes: unfolded,
 * raw 8-bit read as UTF-8 or else Windows-1252, encoded words decoded (also UTF-7 and raw
 * 8-bit inside them).
 */
export function decodeHeaderText(binary: string): string {
  return decodeWords(rawHeaderText(Buffer.from(escapeRawBytesInWords(binary), "latin1")));
}

/**
 * A raw message (or any MIME text) with the raw 8-bit bytes inside Q-encoded words escaped
 * (see escapeRawBytesInWords) on every line that has such a word; the same buffer when none does.
 */
export function escapeRawBytesInMessage(source: Buffer): Buffer {
  if (!hasRawBytesInWord(source)) return source;
  const text = source.toString("latin1");
  return Buffer.from(text.replace(RAW_IN_WORD_GLOBAL, escapeRawBytesInWords), "latin1");
}

/** Whether any line holds a Q word with raw 8-bit bytes: a scan for "=?" that copies nothing but those lines. */
function hasRawBytesInWord(source: Buffer): boolean {
  let at = source.indexOf("=?");
  while (at >= 0) {
    const newline = source.indexOf("\n", at);
    const end = newline < 0 ? source.length : newline;
    // each line once, from its first "=?" on
    if (RAW_IN_WORD.test(source.toString("latin1", at, end))) return true;
    at = source.indexOf("=?", end);
  }
  return false;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** RFC 5322 4.3: the obsolete US zones; any other alphabetic zone means -0000 (UTC, no zone known). */
const ZONES: Record<string, number> = {
  ut: 0,
  gmt: 0,
  z: 0,
  edt: -4 * 60,
  est: -5 * 60,
  cdt: -5 * 60,
  cst: -6 * 60,
  mdt: -6 * 60,
  mst: -7 * 60,
  pdt: -7 * 60,
  pst: -8 * 60,
};

const DATE =
  /^\s*(?:[a-z]+\s*,?\s*)?(\d{1,2})\s*[-\s]\s*([a-z]{3})[a-z]*\s*[-\s]\s*(\d{2,4})\s+(\d{1,2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2}))?(?:\.\d+)?\s*(?:([+-])(\d{2})(\d{2})|([a-z]+))?/i;

/**
 * A Date header (RFC 5322 3.3 and the obsolete syntax of 4.3): a numeric zone, one of the US
 * zones, any other alphabetic zone or none at all read as -0000 (UTC), never as the host's time
 * zone. Two-digit years as 4.3 says (below 50 is 20xx). null when it is no date at all.
 */
export function parseMailDate(value: string): Date | null {
  // comments, e.g. "+0100 (CET)", are not part of the value
  const text = value.replace(/\([^()]*\)/g, " ");
  const match = DATE.exec(text);
  if (!match) return null;
  const [, day, monthName, yearText, hour, minute, second, sign, zoneHours, zoneMinutes, zoneName] =
    match;
  const month = MONTHS.indexOf((monthName ?? "").toLowerCase());
  if (month < 0) return null;
  let year = Number(yearText);
  if ((yearText ?? "").length === 2) year += year < 50 ? 2000 : 1900;
  else if ((yearText ?? "").length === 3) year += 1900;
  let offset = 0;
  if (sign && zoneHours && zoneMinutes) {
    offset = (Number(zoneHours) * 60 + Number(zoneMinutes)) * (sign === "-" ? -1 : 1);
  } else if (zoneName) {
    offset = ZONES[zoneName.toLowerCase()] ?? 0;
  }
  const fields = [Number(day), Number(hour), Number(minute), Number(second ?? 0)];
  const [d = 0, h = 0, m = 0, s = 0] = fields;
  if (d < 1 || d > 31 || h > 23 || m > 59 || s > 60) return null;
  const utc = Date.UTC(year, month, d, h, m, Math.min(s, 59)) - offset * 60_000;
  const date = new Date(utc);
  // 31 Feb and the like roll over into the next month: not a date
  if (new Date(Date.UTC(year, month, d)).getUTCMonth() !== month) return null;
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * The file name a part's MIME header gives (Content-Disposition's filename, else Content-Type's
 * name), decoded as getMessage decodes it: RFC 2231, encoded words, raw 8-bit bytes.
 */
export function partFileName(header: Buffer): string | null {
  const fields = headerMime.decodeHeaders(
    rawHeaderText(Buffer.from(escapeRawBytesInWords(header.toString("latin1")), "latin1")),
  );
  const first = (key: string): string | undefined => {
    const value = fields[key];
    return Array.isArray(value) ? value[0] : typeof value === "string" ? value : undefined;
  };
  for (const [key, param] of [
    ["content-disposition", "filename"],
    ["content-type", "name"],
  ] as const) {
    const value = first(key);
    if (value === undefined) continue;
    const parsed = headerMime.parseHeaderValue(value, { stripComments: true });
    const name = parsed.params[param];
    if (typeof name !== "string" || name === "") continue;
    return parsed.decodedParams?.includes(param) ? name : decodeWords(name);
  }
  return null;
}

/**
 * A name with every run of non-ASCII characters reduced to one "?": equal for the same name
 * decoded well and decoded badly (imapflow reads raw 8-bit bytes inside encoded words in
 * BODYSTRUCTURE as U+FFFD), different for names that differ in their ASCII.
 */
export function nameSkeleton(name: string | null): string | null {
  return name === null ? null : name.replace(/[^\x20-\x7e]+/g, "?");
}
