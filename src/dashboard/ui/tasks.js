// The tasks page (recent tasks, live, filtered by state, name and worker,
// searched by id) and a task's page (fields, timeline, traceback, parent,
// children and the canvas graph) with its actions: revoke, terminate, resend.
import {
  badge,
  confirmAction,
  getJson,
  html,
  link,
  post,
  secs,
  time,
  useEffect,
  useState,
  useStore,
} from "./common.js";

const STATES = [
  "",
  "PENDING",
  "RECEIVED",
  "STARTED",
  "SUCCESS",
  "FAILURE",
  "RETRY",
  "REVOKED",
  "REJECTED",
];
const ROWS = 50;

function matches(task, filter) {
  if (filter.state && task.state !== filter.state) return false;
  if (filter.name && task.name !== filter.name) return false;
  if (filter.worker && task.worker !== filter.worker) return false;
  if (filter.search && !task.uuid.includes(filter.search)) return false;
  return true;
}

/** Recent tasks, live. */
export function TasksPage() {
  const store = useStore();
  const [filter, setFilter] = useState({ state: "", name: "", worker: "", search: "" });
  useEffect(() => {
    const q = new URLSearchParams({ limit: String(ROWS) });
    if (filter.state) q.set("state", filter.state);
    if (filter.name) q.set("taskname", filter.name);
    if (filter.worker) q.set("workername", filter.worker);
    if (filter.search) q.set("search", filter.search);
    getJson(`/api/tasks?${q}`).then((tasks) => {
      for (const task of Object.values(tasks).reverse()) store.putTask(task);
      store.changed();
    });
  }, [filter.state, filter.name, filter.worker, filter.search]);
  const all = [...store.tasks.values()];
  const names = [...new Set(all.map((t) => t.name).filter(Boolean))].sort();
  const rows = all.filter((t) => matches(t, filter)).sort((a, b) => b.timestamp - a.timestamp)
    .slice(0, ROWS);
  const set = (key) => (e) => setFilter({ ...filter, [key]: e.target.value });
  return html`
    <h1>Tasks</h1>
    <div class="filters">
      <select id="filter-state" onChange=${set("state")}>${STATES.map((s) =>
        html`<option value=${s}>${s || "any state"}</option>`
      )}</select>
      <select id="filter-name"
        onChange=${set("name")}><option value="">any task</option>${names.map((n) =>
          html`<option value=${n}>${n}</option>`
        )}</select>
      <select id="filter-worker"
        onChange=${set("worker")}><option value="">any worker</option>${[...store.workers.keys()]
          .map((n) => html`<option value=${n}>${n}</option>`)}</select>
      <input id="search" placeholder="task id" onInput=${set("search")} />
      <span class="count">${store.events} events</span>
    </div>
    <table id="tasks">
      <thead>
        <tr>
          <th>Id</th>
          <th>State</th>
          <th>Name</th>
          <th>Args</th>
          <th>Kwargs</th>
          <th>Result</th>
          <th>Received</th>
          <th>Started</th>
          <th>Runtime</th>
          <th>Worker</th>
          <th>Retries</th>
        </tr>
      </thead>
      <tbody>${rows.map((t) =>
        html`
          <tr key=${t.uuid} data-task-id=${t.uuid}>
            <td class="id">${link(`/task/${t.uuid}`, t.uuid)}</td>
            <td>${badge(t.state)}</td>
            <td>${t.name ?? ""}</td>
            <td class="repr">${t.args ?? ""}</td>
            <td class="repr">${t.kwargs ?? ""}</td>
            <td class="repr">${t.result ?? t.exception ?? ""}</td>
            <td>${time(t.received)}</td>
            <td>${time(t.started)}</td>
            <td>${secs(t.runtime)}</td>
            <td>${t.worker ?? ""}</td>
            <td>${t.retries ?? ""}</td>
          </tr>
        `
      )}</tbody>
    </table>
  `;
}

const STEPS = [
  "sent",
  "received",
  "started",
  "retried",
  "succeeded",
  "failed",
  "revoked",
  "rejected",
];

function Graph({ id, version }) {
  const [graph, setGraph] = useState(null);
  useEffect(() => {
    getJson(`/api/task/graph/${encodeURIComponent(id)}`).then(setGraph, () => setGraph(null));
  }, [id, version]);
  if (!graph || graph.tasks.length < 2) return null;
  const byParent = new Map();
  for (const t of graph.tasks) {
    const key = t.uuid === graph.root_id ? "" : t.parent_id ?? graph.root_id;
    byParent.set(key, [...(byParent.get(key) ?? []), t]);
  }
  const node = (t, depth) =>
    depth > 20
      ? null
      : html`<li class=${t.uuid === id ? "current" : ""}>${
        link(`/task/${t.uuid}`, t.name ?? t.uuid)
      } ${badge(t.state)}
      ${
        (byParent.get(t.uuid) ?? []).length > 0 &&
        html`<ul>${byParent.get(t.uuid).map((c) => node(c, depth + 1))}</ul>`
      }</li>`;
  return html`
    <h2>Graph</h2>
    <ul class="graph" id="graph">${(byParent.get("") ?? []).map((t) => node(t, 0))}</ul>
  `;
}

/** The task's descendants the page has heard of, with their states: a change refetches the page. */
function familyOf(store, id) {
  const members = [];
  for (const t of store.tasks.values()) {
    if (t.uuid !== id && (t.parent_id === id || t.root_id === id)) {
      members.push(`${t.uuid}:${t.state}`);
    }
  }
  return members.join(",");
}

/** One task, live. */
export function TaskPage({ id }) {
  const store = useStore();
  const [task, setTask] = useState(null);
  const [error, setError] = useState(null);
  const live = store.tasks.get(id);
  const family = familyOf(store, id);
  useEffect(() => {
    getJson(`/api/task/info/${encodeURIComponent(id)}`).then((t) => {
      setTask(t);
      setError(null);
    }, (e) => setError(e.message));
  }, [id, live?.state, live?.timestamp, family]);
  if (error && !task) {
    return html`
      <h1>Task ${id}</h1>
      <p class="error">${error}</p>
    `;
  }
  if (!task) {
    return html`
      <h1>Task ${id}</h1>
      <p>Loading…</p>
    `;
  }
  const enc = encodeURIComponent(id);
  const finished = ["SUCCESS", "FAILURE", "REVOKED", "REJECTED"].includes(task.state);
  return html`
    <h1>Task ${task.name ?? ""}</h1>
        <p class="id">${task.uuid} ${badge(task.state)}</p>
        <div class="actions">
      <button id="revoke" disabled=${finished} onClick=${() =>
        confirmAction(`Revoke ${id}`, () => post(`/api/task/revoke/${enc}`))}>Revoke</button>
      <button id="terminate" class="danger" disabled=${finished} onClick=${() =>
        confirmAction(
          `Terminate ${id}`,
          () => post(`/api/task/revoke/${enc}?terminate=true`),
        )}>Terminate</button>
      <button id="resend" disabled=${!finished} onClick=${() =>
        confirmAction(
          `Send ${task.name} again with the same arguments`,
          () => post(`/api/task/resend/${enc}`),
        )}>Resend</button>
    </div>
        <table class="fields" id="task-fields">
      <tbody>
        <tr>
          <th>Name</th>
          <td>${task.name ?? ""}</td>
        </tr>
        <tr>
          <th>Args</th>
          <td class="repr" id="task-args">${task.args ?? ""}</td>
        </tr>
        <tr>
          <th>Kwargs</th>
          <td class="repr">${task.kwargs ?? ""}</td>
        </tr>
        <tr>
          <th>Result</th>
          <td class="repr" id="task-result">${task.result ?? ""}</td>
        </tr>
        <tr>
          <th>Exception</th>
          <td class="repr">${task.exception ?? ""}</td>
        </tr>
        <tr>
          <th>Worker</th>
          <td>${task.worker
            ? link(`/worker/${encodeURIComponent(task.worker)}`, task.worker)
            : ""}</td>
        </tr>
        <tr>
          <th>Runtime</th>
          <td>${secs(task.runtime)}</td>
        </tr>
        <tr>
          <th>Retries</th>
          <td>${task.retries ?? ""}</td>
        </tr>
        <tr>
          <th>ETA</th>
          <td>${task.eta ?? ""}</td>
        </tr>
        <tr>
          <th>Expires</th>
          <td>${task.expires ?? ""}</td>
        </tr>
        <tr>
          <th>Parent</th>
          <td>${task.parent_id ? link(`/task/${task.parent_id}`, task.parent_id) : ""}</td>
        </tr>
        <tr>
          <th>Root</th>
          <td>${task.root_id && task.root_id !== task.uuid
            ? link(`/task/${task.root_id}`, task.root_id)
            : ""}</td>
        </tr>
        <tr>
          <th>Children</th>
          <td>${(task.children ?? []).map((c) => html`<div>${link(`/task/${c}`, c)}</div>`)}</td>
        </tr>
      </tbody>
    </table>
        <h2>Timeline</h2>
        <ol class="timeline" id="timeline">${STEPS.filter((s) => task[s]).sort((a, b) =>
          task[a] - task[b]
        ).map((s) => html`<li>${s} <time>${time(task[s])}</time></li>`)}</ol>
        ${task.traceback && html`
          <h2>Traceback</h2>
          <pre id="traceback">${task.traceback}</pre>
        `}
        <${Graph} id=${id} version=${`${task.state}:${family}`} />
  `;
}
