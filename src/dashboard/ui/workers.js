// The workers page (live from the store) and a worker's page (asked on open:
// registered, active, reserved tasks, config with secrets censored) with its
// actions: pool grow/shrink, rate limit, shutdown.
import {
  confirmAction,
  getJson,
  html,
  link,
  post,
  useEffect,
  useState,
  useStore,
} from "./common.js";

function load(loadavg) {
  return loadavg ? loadavg.map((n) => Number(n).toFixed(2)).join(", ") : "";
}

/** Every worker, live. */
export function WorkersPage() {
  const store = useStore();
  const workers = [...store.workers.values()].sort((a, b) => a.hostname.localeCompare(b.hostname));
  return html`
    <h1>Workers</h1>
        <table id="workers">
      <thead>
        <tr>
          <th>Worker</th>
          <th>Status</th>
          <th>Heartbeat</th>
          <th>Software</th>
          <th>Pool</th>
          <th>Concurrency</th>
          <th>Active</th>
          <th>Processed</th>
          <th>Succeeded</th>
          <th>Failed</th>
          <th>Load</th>
          <th>Queues</th>
        </tr>
      </thead>
      <tbody>${workers.map((w) =>
        html`
          <tr key=${w.hostname} data-worker=${w.hostname}>
            <td>${link(`/worker/${encodeURIComponent(w.hostname)}`, w.hostname)}</td>
            <td><span class=${w.online ? "badge success" : "badge failure"} data-online=${String(
              w.online,
            )}>
                  ${w.online ? "online" : "offline"}</span></td>
            <td>${w.heartbeatAge === null ? "" : `${w.heartbeatAge} s ago`}</td>
            <td>${w.software ?? ""}</td>
            <td>${w.pool ?? ""}</td>
            <td>${w.concurrency ?? ""}</td>
            <td>${w.active ?? ""}</td>
            <td>${w.processed ?? ""}</td>
            <td>${w.succeeded}</td>
            <td>${w.failed}</td>
            <td>${load(w.loadavg)}</td>
            <td>${w.queues.join(", ")}</td>
          </tr>
        `
      )}</tbody>
    </table>
        ${workers.length === 0 && html`<p class="empty">No worker has been heard from yet.</p>`}
  `;
}

function RequestTable({ requests }) {
  if (!requests) return html`<p class="empty">No answer.</p>`;
  if (requests.length === 0) return html`<p class="empty">None.</p>`;
  return html`
    <table>
      <thead>
        <tr>
          <th>Id</th>
          <th>Name</th>
          <th>Args</th>
          <th>Kwargs</th>
        </tr>
      </thead>
      <tbody>${requests.map((r) =>
        html`
          <tr>
            <td>${link(`/task/${r.id}`, r.id)}</td>
            <td>${r.name}</td>
            <td>${typeof r.args === "string" ? r.args : JSON.stringify(r.args)}</td>
            <td>${typeof r.kwargs === "string" ? r.kwargs : JSON.stringify(r.kwargs)}</td>
          </tr>
        `
      )}</tbody>
    </table>
  `;
}

/** One worker: details asked on open, actions with confirmation. */
export function WorkerPage({ name }) {
  const store = useStore();
  const [info, setInfo] = useState(null);
  const [error, setError] = useState(null);
  const [limitTask, setLimitTask] = useState("");
  const [limit, setLimit] = useState("");
  const reload = () =>
    getJson(`/api/worker/info/${encodeURIComponent(name)}`).then(
      setInfo,
      (e) => setError(e.message),
    );
  useEffect(() => {
    reload();
  }, [name]);
  const live = store.workers.get(name);
  const enc = encodeURIComponent(name);
  const act = (label, path) =>
    confirmAction(label, async () => {
      const answer = await post(path);
      reload();
      return answer;
    });
  return html`
    <h1>Worker ${name}</h1>
        ${live && html`<p>Status: <b>${live.online ? "online" : "offline"}</b>,
      pool ${live.pool ?? "?"} × ${live.concurrency ?? "?"}, processed ${live.processed ?? 0},
      queues ${live.queues.join(", ")}</p>`}
        <div class="actions">
      <button id="pool-grow" onClick=${() =>
        act(`Grow the pool of ${name} by 1`, `/api/worker/pool/grow/${enc}?n=1`)}>Pool +1</button>
      <button id="pool-shrink" onClick=${() =>
        act(
          `Shrink the pool of ${name} by 1`,
          `/api/worker/pool/shrink/${enc}?n=1`,
        )}>Pool −1</button>
      <button id="shutdown" class="danger" onClick=${() =>
        act(`Shut ${name} down`, `/api/worker/shutdown/${enc}`)}>Shut down</button>
      <span class="rate-limit">
        <select id="rate-task" onChange=${(e) => setLimitTask(e.target.value)}>
              <option value="">task…</option>
              ${(info?.registered ?? []).map((t) =>
                html`<option value=${t.split(" ")[0]}>${t}</option>`
              )}
            </select>
        <input id="rate-value" placeholder="10/m (empty: none)" value=${limit}
          onInput=${(e) => setLimit(e.target.value)} />
        <button id="rate-limit" disabled=${!limitTask} onClick=${() =>
          confirmAction(
            `Set the rate limit of ${limitTask} on ${name} to ${limit || "none"}`,
            () => post(`/api/task/rate-limit/${enc}`, { taskname: limitTask, ratelimit: limit }),
          )}>Set rate limit</button>
      </span>
    </div>
        ${error && html`<p class="error">${error}</p>`}
        ${!info && !error && html`<p>Asking the worker…</p>`}
        ${info && html`
          <h2>Active</h2>
          <${RequestTable} requests=${info.active} />
          <h2>Reserved</h2>
          <${RequestTable} requests=${info.reserved} />
          <h2>Scheduled</h2>
          <${RequestTable} requests=${info.scheduled?.map((s) => s.request)} />
          <h2>Registered tasks</h2>
          <ul id="registered">${(info.registered ?? []).map((t) => html`<li>${t}</li>`)}</ul>
          <h2>Configuration</h2>
          <pre id="conf">${JSON.stringify(info.conf, null, 2)}</pre>
          <h2>Stats</h2>
          <pre>${JSON.stringify(info.stats, null, 2)}</pre>
        `}
  `;
}
