// Shared by the dashboard's pages: Preact + htm, the live store fed by the
// server's event stream, POSTs with the CSRF token, the confirmation dialog
// and formatting. Everything a task sends is rendered as text by Preact.
import { Component, h, render } from "./vendor/preact.js";
import { useEffect, useReducer, useState } from "./vendor/hooks.js";
import htm from "./vendor/htm.js";

export const html = htm.bind(h);
export { Component, render, useEffect, useState };

const MAX_CLIENT_TASKS = 2000;

/** The live picture: workers, recent tasks, chart seconds; listeners rerender on change. */
export const store = {
  workers: new Map(),
  tasks: new Map(),
  points: [],
  events: 0,
  connected: false,
  snapshots: 0,
  version: 0,
  listeners: new Set(),
  changed() {
    this.version++;
    for (const listener of this.listeners) listener(this.version);
  },
  putTask(task) {
    const known = this.tasks.get(task.uuid);
    if (known && known.timestamp > task.timestamp && task.state === known.state) return;
    this.tasks.delete(task.uuid);
    this.tasks.set(task.uuid, task);
    if (this.tasks.size > MAX_CLIENT_TASKS) this.tasks.delete(this.tasks.keys().next().value);
  },
  putWorkers(workers) {
    for (const worker of workers) this.workers.set(worker.hostname, worker);
  },
};

function connect() {
  const source = new EventSource("/stream");
  source.addEventListener("open", () => {
    store.connected = true;
    store.changed();
  });
  source.addEventListener("error", () => {
    store.connected = false;
    store.changed();
  });
  source.addEventListener("snapshot", (message) => {
    const data = JSON.parse(message.data);
    store.snapshots++;
    store.putWorkers(data.workers);
    for (const task of data.tasks.reverse()) store.putTask(task);
    store.events = data.events;
    store.changed();
  });
  source.addEventListener("batch", (message) => {
    const data = JSON.parse(message.data);
    store.putWorkers(data.workers);
    for (const task of data.tasks) store.putTask(task);
    store.points.push(...data.points);
    if (store.points.length > 600) store.points.splice(0, store.points.length - 600);
    store.events = data.events;
    store.changed();
  });
}
connect();

/** Rerenders the calling component on every store change. */
export function useStore() {
  const [, force] = useReducer((n) => n + 1, 0);
  useEffect(() => {
    store.listeners.add(force);
    return () => store.listeners.delete(force);
  }, []);
  return store;
}

const csrf = document.querySelector('meta[name="csrf-token"]').content;

/** GETs JSON from the API. */
export async function getJson(path) {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ?? response.statusText);
  return body;
}

/** POSTs to the API with the CSRF token. */
export async function post(path, body = {}) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error ?? response.statusText);
  return answer;
}

/** The pending action shown in the confirmation dialog. */
export const confirmation = { pending: null, message: null };

/** Asks for confirmation, then runs `run`; the outcome is shown in the notice bar. */
export function confirmAction(label, run) {
  confirmation.pending = { label, run };
  store.changed();
}

/** The confirmation dialog and the notice bar. */
export function Confirm() {
  useStore();
  const pending = confirmation.pending;
  const done = (message) => {
    confirmation.pending = null;
    confirmation.message = message;
    store.changed();
  };
  const go = async () => {
    try {
      const answer = await pending.run();
      done(String(answer?.message ?? answer?.["task-id"] ?? "done"));
    } catch (error) {
      done(`Failed: ${error.message}`);
    }
  };
  return html`
    ${confirmation.message && html`<div class="notice" id="notice">${confirmation.message}</div>`}
    ${pending && html`
      <div class="modal">
        <div class="dialog" role="dialog">
          <p>${pending.label}?</p>
          <button id="confirm-action" class="danger" onClick=${go}>Confirm</button>
          <button id="cancel-action" onClick=${() => done(null)}>Cancel</button>
        </div>
      </div>
    `}
  `;
}

const clock = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
});

/** A Unix time as local time, or an empty text (one formatter: creating one is slow). */
export function time(seconds) {
  if (seconds === null || seconds === undefined) return "";
  return `${clock.format(seconds * 1000)}.${
    String(Math.floor((seconds % 1) * 1000)).padStart(3, "0")
  }`;
}

/** Seconds with 3 decimals. */
export function secs(value) {
  return value === null || value === undefined ? "" : `${value.toFixed(3)} s`;
}

/** A link inside the dashboard. */
export function link(path, text) {
  return html`<a href=${"#" + path}>${text}</a>`;
}

/** A state as a coloured badge. */
export function badge(state) {
  return html`<span class=${
    "badge " + String(state).toLowerCase()
  } data-state=${state}>${state}</span>`;
}
