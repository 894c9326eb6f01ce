// The dashboard's browser code. It keeps only UI state; every render comes from a full snapshot.
// All text from APIs and .bib files is inserted with textContent, never as HTML.
import { MAX_QUERY_LENGTH, type DashboardSnapshot, type HostToWebview, type SearchHitView, type WebviewCommand, type WebviewToHost } from '../shared/protocol';

interface VsCodeApi {
  postMessage(msg: WebviewToHost): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
let lastSeq = -1;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}

function button(label: string, command: WebviewCommand, opts: { reason?: string; disabled?: boolean; primary?: boolean; title?: string } = {}): HTMLButtonElement {
  const b = el('button', { type: 'button', class: opts.primary ? 'primary' : 'secondary' }, label);
  if (opts.title) b.title = opts.title;
  b.disabled = !!opts.disabled;
  b.dataset.command = command;
  if (opts.reason) b.dataset.reason = opts.reason;
  return b;
}

function duration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Items finished per 10-second bucket, as bars (a line needs two points; a short run has one bucket). */
function chart(values: number[]): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const w = 300;
  const h = 60;
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  const max = Math.max(1, ...values);
  svg.setAttribute('aria-label', `Throughput over the last ${values.length * 10} seconds, peak ${max} items per 10 s`);
  const slot = w / Math.max(values.length, 30);
  values.forEach((v, i) => {
    const bh = Math.max(v > 0 ? 2 : 1, (v / max) * (h - 4));
    const r = document.createElementNS(ns, 'rect');
    r.setAttribute('x', (i * slot + slot * 0.1).toFixed(1));
    r.setAttribute('width', (slot * 0.8).toFixed(1));
    r.setAttribute('y', (h - bh).toFixed(1));
    r.setAttribute('height', bh.toFixed(1));
    r.setAttribute('class', 'chart-bar');
    const t = document.createElementNS(ns, 'title');
    t.textContent = `${v} in 10 s`;
    r.append(t);
    svg.append(r);
  });
  return svg;
}

function render(s: DashboardSnapshot): void {
  const root = document.getElementById('root')!;
  const job = s.job;
  const running = job?.state === 'running' || job?.state === 'paused';
  const frag = document.createDocumentFragment();

  const header = el('header', { class: 'header' });
  header.append(el('h1', {}, job ? job.title : 'Scholar'));
  const actions = el('div', { class: 'actions', role: 'toolbar', 'aria-label': 'Job actions' });
  actions.append(
    button('Resolve DOIs', 'resolve', { primary: !running, disabled: running || !s.trusted }),
    button('Fetch PDFs', 'fetch', { disabled: running || !s.trusted }),
    job?.state === 'paused' ? button('Resume', 'resume') : button('Pause', 'pause', { disabled: !running }),
    button('Cancel', 'cancel', { disabled: !running }),
    button('Retry failed', 'retryFailed', { disabled: running || !job || job.failed === 0 }),
  );
  header.append(actions);
  frag.append(header);

  if (!s.trusted) frag.append(el('p', { class: 'notice' }, 'Restricted Mode: Scholar sends no request and writes nothing until you trust this folder.'));

  const lib = s.library;
  frag.append(
    el('p', { class: 'library', 'data-testid': 'library' }, `Library: ${lib.entries} entries · ${lib.withDoi} with DOI · ${lib.withPdf} with PDF · ${lib.needsReview} need review`),
  );

  if (job) {
    const finished = job.done + job.failed;
    const pct = job.total ? Math.round((finished / job.total) * 100) : 100;
    const bar = el('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': String(job.total), 'aria-valuenow': String(finished), 'aria-label': 'Overall progress' });
    const fill = el('div', { class: 'progress-fill' });
    fill.style.width = `${pct}%`;
    bar.append(fill);
    frag.append(
      el('section', { class: 'overall', 'aria-label': 'Overall progress' },
        bar,
        el('p', { 'data-testid': 'overall' }, `${finished} / ${job.total} (${pct} %) · ${job.done} done · ${job.failed} failed · ${job.state} · elapsed ${duration(job.elapsedMs)} · ETA ${duration(job.etaMs)}`),
        el('p', { class: 'outcomes' }, Object.entries(job.outcomes).map(([k, v]) => `${k.replace(/_/g, ' ')}: ${v}`).join(' · ')),
      ),
    );
  } else {
    frag.append(el('p', { class: 'empty' }, 'No job has run in this window yet. Start one with the buttons above.'));
  }

  if (s.stages.length) {
    const cards = el('section', { class: 'stages', 'aria-label': 'Stages' });
    for (const st of s.stages) {
      cards.append(
        el('div', { class: 'card', 'data-stage': st.name },
          el('h2', {}, st.name),
          el('dl', {},
            el('dt', {}, 'queued'), el('dd', {}, String(st.queued)),
            el('dt', {}, 'active'), el('dd', {}, String(st.active)),
            el('dt', {}, 'done'), el('dd', {}, String(st.done)),
            el('dt', {}, 'failed'), el('dd', {}, String(st.failed)),
            el('dt', {}, 'per min'), el('dd', {}, String(st.throughputPerMin)),
          ),
        ),
      );
    }
    frag.append(cards);
  }

  if (s.throughput.length) frag.append(el('section', { class: 'throughput', 'aria-label': 'Throughput' }, el('h2', {}, 'Throughput'), chart(s.throughput)));

  if (s.services.length) {
    const table = el('table', { class: 'services' });
    table.append(el('caption', {}, 'Services'));
    table.append(el('tr', {}, ...['service', 'rate / limit', 'in flight', 'requests', '429s', 'retries', 'circuit'].map((h) => el('th', { scope: 'col' }, h))));
    for (const sv of s.services) {
      table.append(
        el('tr', { class: `circuit-${sv.circuit}` },
          el('td', {}, sv.service),
          el('td', {}, `${sv.ratePerSec.toFixed(1)} / ${sv.limitPerSec} per s`),
          el('td', {}, `${sv.inFlight} / ${sv.concurrency}`),
          el('td', {}, String(sv.requests)),
          el('td', {}, String(sv.status429)),
          el('td', {}, String(sv.retries)),
          el('td', {}, sv.circuit),
        ),
      );
    }
    frag.append(table);
  }

  if (s.errors.length) {
    const list = el('section', { class: 'errors', 'aria-label': 'Errors' }, el('h2', {}, 'Errors'));
    for (const e of s.errors) {
      const row = el('div', { class: 'error' });
      row.append(
        el('strong', { title: e.reason }, `${e.label} × ${e.count}`),
        el('span', { class: 'message' }, ` ${e.message}`),
        el('span', { class: 'keys' }, ` (${e.keys.slice(0, 8).join(', ')}${e.keys.length > 8 ? ', …' : ''})`),
      );
      if (!e.permanent) row.append(button('Retry', 'retryReason', { reason: e.reason, disabled: running, title: `Retry the ${e.count} entries that failed with ${e.label} (${e.reason})` }));
      list.append(row);
    }
    frag.append(list);
  }

  if (s.activity.length) {
    const ul = el('ul', { class: 'activity', 'aria-label': 'Recent activity' });
    for (const a of s.activity.slice(-20).reverse()) ul.append(el('li', { class: a.level }, `${new Date(a.at).toLocaleTimeString()} ${a.text}`));
    frag.append(el('section', {}, el('h2', {}, 'Recent activity'), ul));
  }

  // Keep keyboard focus on the same button across re-renders (a Retry button is told apart by its reason).
  const active = document.activeElement as HTMLElement | null;
  const focused = root.contains(active) ? active?.dataset : undefined;
  root.replaceChildren(frag);
  if (focused?.command) {
    const same = [...root.querySelectorAll<HTMLButtonElement>('button[data-command]')].find((b) => b.dataset.command === focused.command && b.dataset.reason === focused.reason);
    same?.focus();
  }
  root.dataset.seq = String(s.seq);
  announce(s);
}

// ---- The one live region: a short status line, changed only when there is news worth reading out
// (the job started, changed state, or moved on by a tenth), never on every 250 ms snapshot.

const liveStatus = el('p', { id: 'job-status', class: 'job-status', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
document.body.insertBefore(liveStatus, document.body.firstChild);
let announced: { title: string; state: string; step: number } | undefined;

function announce(s: DashboardSnapshot): void {
  const job = s.job;
  if (!job) {
    if (announced) liveStatus.textContent = '';
    announced = undefined;
    return;
  }
  const finished = job.done + job.failed;
  const step = job.total ? Math.floor((finished / job.total) * 10) : 10;
  if (announced && announced.title === job.title && announced.state === job.state && announced.step === step) return;
  announced = { title: job.title, state: job.state, step };
  const failed = job.failed ? `, ${job.failed} failed` : '';
  liveStatus.textContent = `${job.title}: ${finished} of ${job.total} done${failed} (${job.state}).`;
  const live = [...document.querySelectorAll('[aria-live]')].map((e) => e.id || e.tagName.toLowerCase());
  vscode.postMessage({ type: 'announced', text: liveStatus.textContent, live });
}

// ---- Library search: built once, outside the snapshot-rendered area, so typing survives re-renders.

const searchInput = el('input', {
  type: 'search',
  id: 'search-input',
  maxlength: String(MAX_QUERY_LENGTH),
  placeholder: 'Search the library: words, "a phrase", author: year: tag: has:pdf status: venue:',
  'aria-label': 'Search the library',
  spellcheck: 'false',
});
const searchStatus = el('p', { id: 'search-status', class: 'search-status', role: 'status', 'aria-live': 'polite' });
const searchResults = el('ol', { class: 'results', 'aria-label': 'Search results' });
// Above the job area, so it stays in view however long the job's report grows.
document.body.insertBefore(
  el('section', { class: 'search', 'aria-label': 'Library search' }, searchInput, searchStatus, searchResults),
  document.getElementById('root'),
);
let searchId = 0;
let searchTimer: ReturnType<typeof setTimeout> | undefined;

function runSearch(): void {
  if (searchTimer) clearTimeout(searchTimer);
  searchTimer = undefined;
  const query = searchInput.value;
  vscode.setState({ query });
  const id = ++searchId;
  if (!query.trim()) {
    searchResults.replaceChildren();
    searchStatus.textContent = '';
    vscode.postMessage({ type: 'searchRendered', id, query, keys: [] });
    return;
  }
  vscode.postMessage({ type: 'search', id, query });
}

function renderHits(id: number, query: string, hits: SearchHitView[], ms: number, error: string | undefined): void {
  const items = hits.map((h) => {
    const actions = el('span', { class: 'result-actions' });
    if (h.hasPdf) {
      const b = el('button', { type: 'button', class: 'secondary', title: `Open the PDF of ${h.key}` }, 'Open PDF');
      b.dataset.open = 'pdf';
      b.dataset.key = h.key;
      actions.append(b);
    }
    if (h.inProject) {
      const b = el('button', { type: 'button', class: 'secondary', title: `Show ${h.key} in its .bib file` }, 'Go to entry');
      b.dataset.open = 'bib';
      b.dataset.key = h.key;
      actions.append(b);
    }
    const meta = [h.authors, h.year === null ? '' : String(h.year), h.venue].filter(Boolean).join(' · ');
    const badges = [h.hasPdf ? 'PDF' : '', h.doi ? 'DOI' : h.doiStatus === 'review' ? 'needs review' : ''].filter(Boolean).join(' · ');
    const li = el('li', { class: 'result' },
      el('div', { class: 'result-title' }, el('span', { class: 'key' }, h.key), ' ', h.title || '(no title)'),
      el('div', { class: 'result-meta' }, meta, badges ? ` — ${badges}` : ''),
      ...(h.snippet ? [el('div', { class: 'result-snippet' }, h.snippet.before, el('mark', {}, h.snippet.hit), h.snippet.after)] : []),
      actions,
    );
    li.dataset.key = h.key;
    return li;
  });
  searchResults.replaceChildren(...items);
  searchStatus.textContent = error ?? `${hits.length === 0 ? 'No' : hits.length} result${hits.length === 1 ? '' : 's'}${hits.length === 50 ? ' (the first 50)' : ''} · ${ms} ms`;
  searchStatus.classList.toggle('error', !!error);
  vscode.postMessage({ type: 'searchRendered', id, query, keys: hits.map((h) => h.key), snippets: items.map((li) => li.querySelector('.result-snippet')?.textContent ?? '') });
}

searchInput.addEventListener('input', () => {
  if (searchTimer) clearTimeout(searchTimer);
  searchTimer = setTimeout(runSearch, 150);
});
searchInput.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') runSearch();
});

document.addEventListener('click', (ev) => {
  const b = (ev.target as HTMLElement).closest('button');
  if (!b || b.disabled) return;
  if (b.dataset.open === 'pdf' || b.dataset.open === 'bib') {
    if (b.dataset.key) vscode.postMessage({ type: 'open', key: b.dataset.key, what: b.dataset.open });
    return;
  }
  if (!b.dataset.command) return;
  vscode.postMessage({ type: 'command', command: b.dataset.command as WebviewCommand, reason: b.dataset.reason });
});

window.addEventListener('message', (ev: MessageEvent) => {
  const msg = ev.data as HostToWebview;
  if (!msg || typeof msg !== 'object') return;
  if (msg.type === 'searchResults') {
    // Only the answer to the latest query counts.
    if (msg.id === searchId && Array.isArray(msg.hits)) renderHits(msg.id, msg.query, msg.hits, msg.ms, msg.error);
    return;
  }
  if (msg.type === 'setQuery' && typeof msg.query === 'string') {
    searchInput.value = msg.query;
    searchInput.focus();
    runSearch();
    return;
  }
  if (msg.type !== 'snapshot' || typeof msg.snapshot?.seq !== 'number') return;
  // Snapshots are whole: an older one arriving late is simply ignored.
  if (msg.snapshot.seq <= lastSeq) return;
  lastSeq = msg.snapshot.seq;
  render(msg.snapshot);
});

vscode.postMessage({ type: 'ready' });
// A query typed before the panel was hidden or the window reloaded.
const saved = vscode.getState() as { query?: unknown } | undefined;
if (typeof saved?.query === 'string' && saved.query.trim()) {
  searchInput.value = saved.query;
  runSearch();
}
