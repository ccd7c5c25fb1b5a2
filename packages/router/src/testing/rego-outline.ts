/**
 * A structural reading of a Rego module in the style router.rego is written (opa fmt layout,
 * every rule body introduced by `if`). Not a Rego parser: it tokenizes, checks brackets and the
 * shape of each top-level statement, flags two terms in a row with nothing between them (a
 * missing comma, operator or `if`), and lists what the module refers to (builtins it calls, data
 * paths, keys read from `route`) so tests can hold them against data.json and the capabilities.
 */

export interface Token {
  readonly kind: "ident" | "string" | "number" | "op";
  readonly text: string;
  readonly line: number;
  readonly col: number;
}

export interface RegoOutline {
  readonly problems: string[];
  readonly packageName: string | undefined;
  readonly imports: string[];
  /** Rule and function names, with how often each is defined (else branches not counted). */
  readonly rules: Map<string, { functions: number; rules: number; defaults: number }>;
  /** Calls of anything not defined in the module: name → argument counts seen. */
  readonly calls: Map<string, Set<number>>;
  /** Builtins standing for the operators used (`==` is `equal`, `in` is `internal.member_2`, ...). */
  readonly operators: Set<string>;
  /** `data.a.b` paths, up to the first non-name segment. */
  readonly dataPaths: Set<string>;
  /** Keys read as `route.<key>`. */
  readonly routeKeys: Set<string>;
}

const keywords = new Set([
  "package",
  "import",
  "default",
  "if",
  "else",
  "some",
  "in",
  "not",
  "contains",
  "every",
  "with",
  "as",
]);
const literals = new Set(["true", "false", "null"]);
const operatorBuiltins: Record<string, string> = {
  "==": "equal",
  "!=": "neq",
  ":=": "assign",
  "=": "eq",
  ">": "gt",
  "<": "lt",
  ">=": "gte",
  "<=": "lte",
  "+": "plus",
  "-": "minus",
  "*": "mul",
  "/": "div",
  "%": "rem",
  "&": "and",
  "|": "or",
};
const closing: Record<string, string> = { "(": ")", "[": "]", "{": "}" };

export function tokenize(source: string): { tokens: Token[]; problems: string[] } {
  const tokens: Token[] = [];
  const problems: string[] = [];
  const pattern =
    /(?<space>[ \t\r\n]+)|(?<comment>#[^\n]*)|(?<string>"(?:[^"\\\n]|\\.)*")|(?<raw>`[^`]*`)|(?<number>\d+(?:\.\d+)?)|(?<ident>[A-Za-z_][A-Za-z0-9_]*)|(?<op>:=|==|!=|<=|>=|[=<>+\-*/%&|.,;:()[\]{}])/y;
  let line = 1;
  let lineStart = 0;
  let at = 0;
  while (at < source.length) {
    pattern.lastIndex = at;
    const m = pattern.exec(source);
    if (!m) {
      problems.push(`${line}:${at - lineStart + 1}: unexpected character ${JSON.stringify(source[at])}`);
      at++;
      continue;
    }
    const g = m.groups!;
    const kind =
      g.string || g.raw ? "string" : g.number ? "number" : g.ident ? "ident" : g.op ? "op" : undefined;
    if (kind) tokens.push({ kind, text: m[0], line, col: at - lineStart + 1 });
    for (let i = 0; i < m[0].length; i++) {
      if (m[0][i] === "\n") {
        line++;
        lineStart = at + i + 1;
      }
    }
    at += m[0].length;
  }
  return { tokens, problems };
}

export function outlineRego(source: string): RegoOutline {
  const { tokens, problems } = tokenize(source);
  const outline: RegoOutline = {
    problems,
    packageName: undefined,
    imports: [],
    rules: new Map(),
    calls: new Map(),
    operators: new Set(),
    dataPaths: new Set(),
    routeKeys: new Set(),
  };
  checkBrackets(tokens, problems);
  if (problems.length > 0) return outline;
  const statements = splitStatements(tokens, problems);
  let packageName: string | undefined;
  const calls: { name: string; args: number }[] = [];
  for (const statement of statements) {
    const first = statement[0]!;
    const where = `${first.line}:${first.col}`;
    if (first.text === "package") {
      if (packageName !== undefined || statement !== statements[0])
        problems.push(`${where}: package must come first, once`);
      packageName = refText(statement, 1);
    } else if (first.text === "import") {
      outline.imports.push(refText(statement, 1));
    } else if (first.text === "default") {
      const name = statement[1];
      if (name?.kind !== "ident" || ![":=", "="].includes(statement[2]?.text ?? "")) {
        problems.push(`${where}: expected default <name> := <value>`);
      } else entry(outline, name.text).defaults++;
    } else if (first.kind === "ident" && !keywords.has(first.text)) {
      checkRule(statement, outline, problems);
    } else {
      problems.push(`${where}: a statement cannot start with ${first.text}`);
    }
    checkAdjacency(statement, problems);
    collectReferences(statement, outline, calls);
  }
  Object.assign(outline, { packageName });
  for (const { name, args } of calls) {
    if (outline.rules.get(name)?.functions) continue;
    if (!outline.calls.has(name)) outline.calls.set(name, new Set());
    outline.calls.get(name)!.add(args);
  }
  return outline;
}

function entry(outline: RegoOutline, name: string) {
  if (!outline.rules.has(name)) outline.rules.set(name, { functions: 0, rules: 0, defaults: 0 });
  return outline.rules.get(name)!;
}

function checkBrackets(tokens: Token[], problems: string[]): void {
  const stack: Token[] = [];
  for (const t of tokens) {
    if (t.kind !== "op") continue;
    if (closing[t.text]) stack.push(t);
    else if (Object.values(closing).includes(t.text)) {
      const open = stack.pop();
      if (!open || closing[open.text] !== t.text) problems.push(`${t.line}:${t.col}: unbalanced ${t.text}`);
    }
  }
  for (const open of stack) problems.push(`${open.line}:${open.col}: ${open.text} is never closed`);
}

/** Top-level statements start in column 1 (opa fmt layout); `}` and `else` continue a rule. */
function splitStatements(tokens: Token[], problems: string[]): Token[][] {
  const statements: Token[][] = [];
  let depth = 0;
  for (const t of tokens) {
    const startsStatement = depth === 0 && t.col === 1 && t.text !== "else" && t.text !== "}";
    if (startsStatement) statements.push([]);
    else if (statements.length === 0) problems.push(`${t.line}:${t.col}: text before the first statement`);
    statements.at(-1)?.push(t);
    if (t.kind === "op" && closing[t.text]) depth++;
    if (t.kind === "op" && Object.values(closing).includes(t.text)) depth--;
  }
  return statements;
}

/** `name[(args)|[key]|contains term] [:= term] [if (body | literal)] {else [:= term] [if (body | literal)]}` */
function checkRule(statement: Token[], outline: RegoOutline, problems: string[]): void {
  const name = statement[0]!.text;
  let i = 1;
  const at = () => statement[i];
  const fail = (what: string) => {
    const t = at() ?? statement.at(-1)!;
    problems.push(`${t.line}:${t.col}: rule ${name}: expected ${what}, got ${at()?.text ?? "end of rule"}`);
  };
  let isFunction = false;
  if (at()?.text === "(") {
    isFunction = true;
    i = skipGroup(statement, i);
  } else if (at()?.text === "[") {
    i = skipGroup(statement, i);
  } else if (at()?.text === "contains") {
    i = skipTerm(statement, i + 1);
  }
  if (isFunction) entry(outline, name).functions++;
  else entry(outline, name).rules++;
  let first = true;
  for (;;) {
    if (at()?.text === ":=" || at()?.text === "=") i = skipTerm(statement, i + 1);
    else if (first && at()?.text !== "if") {
      fail(":= or if");
      return;
    }
    if (at()?.text === "if") {
      i++;
      if (at()?.text === "{") i = skipGroup(statement, i);
      else i = skipLine(statement, i);
    } else if (at() && at()?.text !== "else") {
      fail("if or else");
      return;
    }
    if (at() === undefined) return;
    if (at()?.text !== "else") {
      fail("else or the end of the rule");
      return;
    }
    i++;
    first = false;
  }
}

function skipGroup(tokens: Token[], i: number): number {
  let depth = 0;
  for (; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === "op" && closing[t.text]) depth++;
    if (t.kind === "op" && Object.values(closing).includes(t.text) && --depth === 0) return i + 1;
  }
  return i;
}

/** One term: a literal, a group, or a reference with calls and indexes. */
function skipTerm(tokens: Token[], i: number): number {
  const t = tokens[i];
  if (!t) return i;
  if (t.text === "-" && tokens[i + 1]?.kind === "number") return i + 2;
  if (t.kind === "string" || t.kind === "number") return i + 1;
  if (closing[t.text]) i = skipGroup(tokens, i);
  else if (t.kind === "ident") i++;
  else return i;
  for (;;) {
    const next = tokens[i];
    if (next?.text === "." && tokens[i + 1]?.kind === "ident") i += 2;
    else if ((next?.text === "(" || next?.text === "[") && next.line === tokens[i - 1]!.line)
      i = skipGroup(tokens, i);
    else return i;
  }
}

function skipLine(tokens: Token[], i: number): number {
  const line = tokens[i]?.line;
  while (tokens[i] && tokens[i]!.line === line && tokens[i]!.text !== "else") i = skipGroup1(tokens, i);
  return i;
}

function skipGroup1(tokens: Token[], i: number): number {
  return closing[tokens[i]!.text] ? skipGroup(tokens, i) : i + 1;
}

const endsTerm = (t: Token) =>
  (t.kind === "ident" && !keywords.has(t.text)) ||
  t.kind === "string" ||
  t.kind === "number" ||
  [")", "]", "}"].includes(t.text);
const startsTerm = (t: Token) =>
  (t.kind === "ident" && !keywords.has(t.text)) ||
  t.kind === "string" ||
  t.kind === "number" ||
  ["(", "[", "{"].includes(t.text);

/**
 * Two terms in a row need an operator, a comma or a keyword between them, except a call or an
 * index right after a reference, and a new line inside a rule body (where lines are separate
 * expressions). Inside (), [] and collection braces a new line separates nothing.
 */
function checkAdjacency(statement: Token[], problems: string[]): void {
  const context: ("body" | "collection")[] = [];
  let previous: Token | undefined;
  for (const t of statement) {
    if (previous && endsTerm(previous) && startsTerm(t)) {
      const sameLine = previous.line === t.line;
      const callOrIndex = sameLine && (t.text === "(" || t.text === "[") && previous.text !== "}";
      const newExpression = !sameLine && (context.at(-1) === "body" || context.length === 0);
      if (!callOrIndex && !newExpression) {
        problems.push(`${t.line}:${t.col}: ${previous.text} then ${t.text} with nothing between them`);
      }
    }
    if (t.text === "{")
      context.push(previous?.text === "if" || previous?.text === "else" ? "body" : "collection");
    else if (t.text === "(" || t.text === "[") context.push("collection");
    else if (t.text === "}" || t.text === ")" || t.text === "]") context.pop();
    previous = t;
  }
}

function collectReferences(
  statement: Token[],
  outline: RegoOutline,
  calls: { name: string; args: number }[],
): void {
  const isDefinitionHead = statement[0]!.text !== "default";
  let inSome = false;
  for (let i = 0; i < statement.length; i++) {
    const t = statement[i]!;
    if (t.text === "some") inSome = true;
    if (inSome && t.line !== statement[i - 1]?.line) inSome = t.text === "some";
    if (t.kind === "op" && operatorBuiltins[t.text]) outline.operators.add(operatorBuiltins[t.text]!);
    if (t.text === "in" && !inSome) outline.operators.add("internal.member_2");
    if (t.kind !== "ident" || keywords.has(t.text) || literals.has(t.text) || statement[i - 1]?.text === ".")
      continue;
    let j = i;
    const parts = [t.text];
    while (statement[j + 1]?.text === "." && statement[j + 2]?.kind === "ident") {
      parts.push(statement[j + 2]!.text);
      j += 2;
    }
    if (parts[0] === "data") outline.dataPaths.add(parts.slice(1).join("."));
    if (parts[0] === "route" && parts.length > 1) outline.routeKeys.add(parts[1]!);
    const isHead = i === 0 && isDefinitionHead;
    if (statement[j + 1]?.text === "(" && !isHead)
      calls.push({ name: parts.join("."), args: countArgs(statement, j + 1) });
    i = j;
  }
}

function countArgs(tokens: Token[], open: number): number {
  let depth = 0;
  let commas = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (closing[t.text]) depth++;
    else if (Object.values(closing).includes(t.text)) {
      if (--depth === 0) return i === open + 1 ? 0 : commas + 1;
    } else if (t.text === "," && depth === 1) commas++;
  }
  return commas + 1;
}

function refText(statement: Token[], from: number): string {
  return statement
    .slice(from)
    .map((t) => t.text)
    .join("");
}
