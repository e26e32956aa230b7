// A few DOM helpers for the console: build elements from data without innerHTML (nothing a
// user typed is ever parsed as HTML), and replace a container's children in one step.

type Attrs = Readonly<Record<string, string | number | boolean | null | undefined>>;
type Child = Node | string | number | null | undefined | false;

/** `h('button', { class: 'x', 'aria-label': 'Start' }, 'Start')`; `on*` attributes are not supported on purpose. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: readonly (Child | readonly Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el: Node, children: readonly (Child | readonly Child[])[]): void {
  for (const child of children) {
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else if (child !== null && child !== undefined && child !== false)
      el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el`. */
export function fill(el: Element, ...children: readonly (Child | readonly Child[])[]): void {
  const fragment = document.createDocumentFragment();
  append(fragment, children);
  el.replaceChildren(fragment);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`console: #${id} is missing from index.html`);
  return el as T;
}

/** Says `message` to screen readers (and shows it in the status line). */
export function announce(message: string): void {
  const live = document.getElementById('live');
  if (live) live.textContent = message;
}
