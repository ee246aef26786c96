// Submits jobs through /api/jobs and polls each unfinished one until it completes or fails.
// The ids are kept in localStorage, so a reload keeps the list.
const form = document.getElementById('submit');
const input = document.getElementById('n');
const errorBox = document.getElementById('error');
const tbody = document.getElementById('jobs');

const STORE = 'jobs.ids';
const POLL_MS = 500;
const jobs = new Map(); // id -> job (as last seen)

function load() {
  try {
    for (const id of JSON.parse(localStorage.getItem(STORE) || '[]')) jobs.set(id, { id, status: 'queued' });
  } catch {
    localStorage.removeItem(STORE);
  }
}

function save() {
  localStorage.setItem(STORE, JSON.stringify([...jobs.keys()].slice(-20)));
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

function render() {
  tbody.replaceChildren();
  if (jobs.size === 0) {
    const tr = document.createElement('tr');
    const td = cell('No jobs yet.', 'empty');
    td.colSpan = 5;
    tr.append(td);
    tbody.append(tr);
    return;
  }
  for (const job of [...jobs.values()].reverse()) {
    const tr = document.createElement('tr');
    const result = job.status === 'failed' ? job.error : job.result;
    tr.append(cell(job.id.slice(0, 8), 'id'), cell(job.n), cell(job.status, job.status), cell(result), cell(job.worker));
    tr.title = job.id;
    tbody.append(tr);
  }
}

async function api(path, options) {
  const res = await fetch(`/api${path}`, options);
  const body = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
  return { res, body };
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  errorBox.textContent = '';
  try {
    const { res, body } = await api('/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ n: Number(input.value) }),
    });
    if (res.status !== 202) throw new Error(body.error || `HTTP ${res.status}`);
    jobs.set(body.id, { id: body.id, status: body.status, n: Number(input.value) });
    save();
    render();
  } catch (error) {
    errorBox.textContent = error.message;
  }
});

async function poll() {
  const pending = [...jobs.values()].filter((job) => job.status !== 'completed' && job.status !== 'failed');
  for (const job of pending) {
    try {
      const { res, body } = await api(`/jobs/${encodeURIComponent(job.id)}`);
      if (res.status === 200) jobs.set(job.id, body);
      else if (res.status === 404) jobs.set(job.id, { ...job, status: 'failed', error: 'expired or unknown' });
    } catch {
      // The network or the api is down: try again on the next round.
    }
  }
  if (pending.length) {
    save();
    render();
  }
  setTimeout(poll, POLL_MS);
}

load();
render();
poll();
