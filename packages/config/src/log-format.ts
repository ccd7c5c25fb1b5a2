import type { Config } from "./config.js";

/** pino's numeric levels as Go's slog names them (Beskar's `log.format: text` is slog's TextHandler). */
const levelNames: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};

/** A value as slog's TextHandler writes it: bare when it can be, else a quoted string with escapes. */
function textValue(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (text === undefined) return '""';
  return text !== "" && /^[^\s"=\\\p{C}]+$/u.test(text) ? text : JSON.stringify(text);
}

/** `key=value` pairs of a record's fields, nested objects flattened with dots (`err.message=...`). */
function pairs(prefix: string, value: unknown, out: string[]): void {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) pairs(prefix ? `${prefix}.${key}` : key, inner, out);
    return;
  }
  out.push(`${prefix}=${textValue(value)}`);
}

/**
 * One pino JSON line as a text line: `time=<ISO 8601> level=INFO msg="..." key=value ...`, the
 * layout of slog's TextHandler, which Beskar's `log.format: text` uses. One record stays one line
 * (newlines in values, stacks included, are escaped). A line that is not a JSON object passes as is.
 */
export function textLogLine(line: string): string {
  const body = line.endsWith("\n") ? line.slice(0, -1) : line;
  let record: unknown;
  try {
    record = JSON.parse(body);
  } catch {
    return line;
  }
  if (record === null || typeof record !== "object" || Array.isArray(record)) return line;
  const { time, level, msg, ...rest } = record as Record<string, unknown>;
  const out: string[] = [];
  if (typeof time === "number") out.push(`time=${new Date(time).toISOString()}`);
  else if (time !== undefined) pairs("time", time, out);
  out.push(`level=${typeof level === "number" ? (levelNames[level] ?? String(level)) : textValue(level)}`);
  if (msg !== undefined) out.push(`msg=${textValue(msg)}`);
  for (const [key, value] of Object.entries(rest)) pairs(key, value, out);
  return `${out.join(" ")}\n`;
}

/** The part of pino's options this module touches (the config package does not depend on pino). */
export interface LogFormatOptions {
  hooks?: { streamWrite?: (line: string) => string; [hook: string]: unknown };
  [option: string]: unknown;
}

/**
 * pino options for `log.format`: `json` leaves them as they are; `text` rewrites each line as
 * `textLogLine` does, after any `streamWrite` hook the options have already (e.g. redaction).
 * No pino-pretty and no transport thread: the line is rewritten where pino writes it.
 */
export function withLogFormat<T extends LogFormatOptions>(options: T, format: Config["log"]["format"]): T {
  if (format === "json") return options;
  const previous = options.hooks?.streamWrite;
  return {
    ...options,
    hooks: {
      ...options.hooks,
      streamWrite: previous ? (line: string) => textLogLine(previous(line)) : textLogLine,
    },
  };
}
