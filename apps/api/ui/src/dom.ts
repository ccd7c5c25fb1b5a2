/** Children of `el`: strings become text nodes, never markup. */
export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  href?: string;
  title?: string;
  type?: string;
  id?: string;
  data?: Record<string, string>;
}

/**
 * An element with its children. Data from the server (package headers, log lines, upstream
 * errors) only ever becomes text nodes or attribute values here: nothing is parsed as HTML.
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "data") {
      for (const [name, v] of Object.entries(value as Record<string, string>)) node.dataset[name] = v;
    } else if (value !== undefined) node.setAttribute(key, String(value));
  }
  append(node, ...children);
  return node;
}

export function append(node: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what `node` holds. */
export function replace(node: Node, ...children: Child[]): void {
  node.textContent = "";
  append(node, ...children);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node as T;
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** `artifacts/yum/<name>` → `<name>`. */
export const shortName = (repository: string) => repository.replace(/^artifacts\/yum\//, "");
