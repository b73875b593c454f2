// The dashboard's entry module: the navigation and the hash router.
import { Confirm, confirmation, html, render, store, useEffect, useStore } from "./common.js";
import { WorkerPage, WorkersPage } from "./workers.js";
import { TaskPage, TasksPage } from "./tasks.js";
import { QueuesPage } from "./queues.js";
import { ChartsPage } from "./charts.js";

function route() {
  const [, page, ...rest] = (location.hash.slice(1) || "/workers").split("/");
  const param = decodeURIComponent(rest.join("/"));
  switch (page) {
    case "worker":
      return html`<${WorkerPage} name=${param} />`;
    case "tasks":
      return html`<${TasksPage} />`;
    case "task":
      return html`<${TaskPage} id=${param} />`;
    case "queues":
      return html`<${QueuesPage} />`;
    case "charts":
      return html`<${ChartsPage} />`;
    default:
      return html`<${WorkersPage} />`;
  }
}

function App() {
  useStore();
  useEffect(() => {
    const onHash = () => {
      confirmation.message = null; // a notice belongs to the page it was shown on
      store.changed();
    };
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);
  const here = (location.hash.slice(1) || "/workers").split("/")[1];
  const tab = (page, label) =>
    html`<a href=${"#/" + page} class=${
      here === page || here === page.slice(0, -1) ? "here" : ""
    }>${label}</a>`;
  return html`
    <nav><b>celeriac</b> ${tab("workers", "Workers")} ${tab("tasks", "Tasks")}
          ${tab("queues", "Queues")} ${tab("charts", "Charts")}
          <span id="connection" data-snapshots=${store.snapshots} class=${store.connected
            ? "live"
            : "down"}>${store.connected ? "live" : "connecting…"}</span></nav>
    <main>${route()}</main>
    <${Confirm} />
  `;
}

render(html`<${App} />`, document.getElementById("root"));
