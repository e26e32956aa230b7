// The shop view: spools as bars (remaining, reserved, available grams), printers with their
// queues, jobs as a board by status with a button for each transition the state machine
// allows (src/fsm's own table), and three forms. Forms send what was typed to the API and
// show its validation messages next to the fields they name; nothing is checked here first.

import type { Client, Filament, PrintJob } from './api.js';
import { ApiProblem } from './api.js';
import { announce, byId, fill, h } from './dom.js';
import { grams } from './format.js';
import type { ShopStore } from './shop.js';
import { TRANSITIONS } from '../fsm/print-jobs.js';
import { FILAMENT_TYPES, JOB_STATUSES } from '../fsm/types.js';
import type { JobStatus } from '../fsm/types.js';

const ACTION: Readonly<Record<JobStatus, string>> = {
  Queued: 'Queue',
  Running: 'Start',
  Done: 'Done',
  Canceled: 'Cancel',
};

export function renderShop(store: ShopStore, client: Client): void {
  renderSpools(store);
  renderPrinters(store);
  renderBoard(store, client);
  renderChoices(store);
  const state = byId('shop-connection');
  state.dataset['state'] = store.connection;
  state.textContent =
    store.connection === 'live'
      ? `Live from ${client.base}`
      : store.connection === 'connecting'
        ? `Connecting to ${client.base}…`
        : 'Connection lost: trying another member…';
}

function spoolBar(f: Filament): HTMLElement {
  const total = Math.max(1, f.total_weight_in_grams);
  const pct = (n: number): string => `${((100 * n) / total).toFixed(2)}%`;
  const text = `${grams(f.remaining_weight_in_grams)} remaining, ${grams(f.reserved_weight_in_grams)} reserved, ${grams(f.available_weight_in_grams)} available of ${grams(f.total_weight_in_grams)}`;
  return h(
    'div',
    {
      class: 'bar',
      role: 'meter',
      'aria-label': `Spool ${f.id}`,
      'aria-valuemin': 0,
      'aria-valuemax': f.total_weight_in_grams,
      'aria-valuenow': f.remaining_weight_in_grams,
      'aria-valuetext': text,
      'data-remaining': f.remaining_weight_in_grams,
    },
    h('span', { class: 'bar-available', 'data-width': pct(f.available_weight_in_grams) }),
    h('span', { class: 'bar-reserved', 'data-width': pct(f.reserved_weight_in_grams) }),
  );
}

/** Widths and colours go through the CSSOM: the CSP refuses style attributes in markup. */
function applyStyles(root: Element): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-width]'))
    el.style.width = el.dataset['width'] ?? '0';
  // An unknown colour name is ignored by the browser: the swatch keeps its neutral look.
  for (const el of root.querySelectorAll<HTMLElement>('[data-color]'))
    el.style.backgroundColor = el.dataset['color'] ?? '';
}

function renderSpools(store: ShopStore): void {
  const list = byId('spools');
  const spools = [...store.filaments.values()].sort((a, b) => a.id.localeCompare(b.id));
  fill(
    list,
    spools.length === 0
      ? h('li', { class: 'empty' }, 'No spools yet: add one below.')
      : spools.map((f) =>
          h(
            'li',
            { class: 'spool', 'data-spool': f.id },
            h(
              'div',
              { class: 'spool-head' },
              h('span', { class: 'swatch', 'data-color': f.color, 'aria-hidden': 'true' }),
              h('strong', {}, f.id),
              ` ${f.type} · ${f.color}`,
            ),
            spoolBar(f),
            h(
              'p',
              { class: 'spool-numbers' },
              h('span', { class: 'n-remaining' }, `${grams(f.remaining_weight_in_grams)} remaining`),
              ' · ',
              h('span', { class: 'n-reserved' }, `${grams(f.reserved_weight_in_grams)} reserved`),
              ' · ',
              h('span', { class: 'n-available' }, `${grams(f.available_weight_in_grams)} available`),
              ` of ${grams(f.total_weight_in_grams)}`,
            ),
          ),
        ),
  );
  applyStyles(list);
}

function renderPrinters(store: ShopStore): void {
  const list = byId('printers');
  const printers = [...store.printers.values()].sort((a, b) => a.id.localeCompare(b.id));
  const jobs = [...store.jobs.values()];
  fill(
    list,
    printers.length === 0
      ? h('li', { class: 'empty' }, 'No printers yet: add one below.')
      : printers.map((p) => {
          const queue = jobs
            .filter((j) => j.printer_id === p.id && (j.status === 'Running' || j.status === 'Queued'))
            .sort((a, b) => Number(b.status === 'Running') - Number(a.status === 'Running'));
          return h(
            'li',
            { class: 'printer', 'data-printer': p.id },
            h('div', {}, h('strong', {}, p.id), ` ${p.company} ${p.model}`),
            queue.length === 0
              ? h('p', { class: 'muted' }, 'Idle, nothing queued')
              : h(
                  'ol',
                  { class: 'queue', 'aria-label': `Queue of ${p.id}` },
                  queue.map((j) =>
                    h(
                      'li',
                      {},
                      h('span', { class: `dot dot-${j.status}` }),
                      `${j.id} · ${j.status} · ${j.filepath}`,
                    ),
                  ),
                ),
          );
        }),
  );
}

function jobCard(job: PrintJob, client: Client): HTMLElement {
  const message = h('p', { class: 'card-error', role: 'alert', hidden: true });
  const buttons = TRANSITIONS[job.status].map((to) => {
    const button = h(
      'button',
      { type: 'button', class: `btn btn-${to}`, 'aria-label': `${ACTION[to]} job ${job.id}`, 'data-to': to },
      ACTION[to],
    );
    button.addEventListener('click', () => {
      button.disabled = true;
      message.hidden = true;
      client
        .post<PrintJob>(`/api/v1/print_jobs/${encodeURIComponent(job.id)}/status?status=${to}`)
        .then((updated) => announce(`Job ${updated.id} is now ${updated.status}`))
        .catch((error: unknown) => {
          message.textContent = problemText(error);
          message.hidden = false;
          button.disabled = false;
        });
    });
    return button;
  });
  return h(
    'li',
    { class: 'card', 'data-job': job.id, 'data-status': job.status },
    h('strong', {}, job.id),
    h('span', { class: 'card-path' }, job.filepath),
    h(
      'span',
      { class: 'muted' },
      `${job.printer_id} · ${job.filament_id} · ${grams(job.print_weight_in_grams)}`,
    ),
    buttons.length > 0 ? h('div', { class: 'card-actions' }, buttons) : '',
    message,
  );
}

function renderBoard(store: ShopStore, client: Client): void {
  const jobs = [...store.jobs.values()].sort((a, b) => a.id.localeCompare(b.id));
  fill(
    byId('board'),
    JOB_STATUSES.map((status) => {
      const column = jobs.filter((j) => j.status === status);
      const headingId = `col-${status}`;
      return h(
        'section',
        { class: 'column', 'aria-labelledby': headingId, 'data-column': status },
        h('h3', { id: headingId }, status, h('span', { class: 'count' }, ` ${column.length}`)),
        h(
          'ul',
          { class: 'cards' },
          column.length === 0 ? h('li', { class: 'empty' }, 'none') : column.map((j) => jobCard(j, client)),
        ),
      );
    }),
  );
}

/** Keeps the job form's printer and spool choices in step with the shop. */
function renderChoices(store: ShopStore): void {
  const sync = (select: HTMLSelectElement, options: readonly [string, string][], none: string): void => {
    const chosen = select.value;
    fill(
      select,
      options.length === 0
        ? h('option', { value: '' }, none)
        : options.map(([value, label]) => h('option', { value }, label)),
    );
    if (options.some(([value]) => value === chosen)) select.value = chosen;
  };
  sync(
    byId<HTMLSelectElement>('job-printer'),
    [...store.printers.values()].map((p) => [p.id, `${p.id} (${p.company} ${p.model})`]),
    'add a printer first',
  );
  sync(
    byId<HTMLSelectElement>('job-filament'),
    [...store.filaments.values()].map((f) => [
      f.id,
      `${f.id} (${f.type} ${f.color}, ${grams(f.available_weight_in_grams)} free)`,
    ]),
    'add a spool first',
  );
}

export function problemText(error: unknown): string {
  if (error instanceof ApiProblem) return error.detail ? `${error.title}: ${error.detail}` : error.title;
  return (error as Error).message;
}

// ---- forms ------------------------------------------------------------------------------

/** Reads a form as the API expects it: empty optional fields left out, grams as numbers. */
function formBody(form: HTMLFormElement): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const el of form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input[name], select[name]')) {
    const raw = el.value.trim();
    if (raw === '' && el.dataset['optional'] !== undefined) continue;
    // A number field sends a number when it holds one, else what was typed (the API says why not).
    body[el.name] =
      el.dataset['grams'] !== undefined && raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return body;
}

function clearErrors(form: HTMLFormElement): void {
  for (const el of form.querySelectorAll<HTMLElement>('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll<HTMLElement>('.field-error')) {
    el.textContent = '';
    el.hidden = true;
  }
  const general = form.querySelector<HTMLElement>('.form-error');
  if (general) {
    general.textContent = '';
    general.hidden = true;
  }
}

/** Puts each of the API's field messages under its field; the rest above the button. */
function showProblem(form: HTMLFormElement, error: unknown): void {
  const general = form.querySelector<HTMLElement>('.form-error');
  let first: HTMLElement | null = null;
  const unplaced: string[] = [];
  const fieldErrors =
    error instanceof ApiProblem
      ? error.errors.length > 0
        ? error.errors
        : error.code === 'filament_capacity'
          ? [{ field: 'print_weight_in_grams', message: error.detail }]
          : []
      : [];
  for (const { field, message } of fieldErrors) {
    const input = form.querySelector<HTMLElement>(`[name="${CSS.escape(field)}"]`);
    const slot = input ? document.getElementById(`${input.id}-error`) : null;
    if (!input || !slot) {
      unplaced.push(`${field}: ${message}`);
      continue;
    }
    input.setAttribute('aria-invalid', 'true');
    slot.textContent = message;
    slot.hidden = false;
    first ??= input;
  }
  const rest = fieldErrors.length === 0 ? problemText(error) : unplaced.join('; ');
  if (general && rest !== '') {
    general.textContent = rest;
    general.hidden = false;
  }
  (first ?? general)?.focus();
}

export function wireForm(
  form: HTMLFormElement,
  client: Client,
  path: string,
  done: (body: { id: string }) => string,
): void {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(form);
    const submit = form.querySelector<HTMLButtonElement>('button[type=submit]');
    if (submit) submit.disabled = true;
    client
      .post<{ id: string }>(path, formBody(form))
      .then((created) => {
        form.reset();
        announce(done(created));
      })
      .catch((error: unknown) => showProblem(form, error))
      .finally(() => {
        if (submit) submit.disabled = false;
      });
  });
}

export function fillFilamentTypes(select: HTMLSelectElement): void {
  fill(
    select,
    FILAMENT_TYPES.map((t) => h('option', { value: t }, t)),
  );
}
