// The queues page: each task queue's length and consumers, asked of the
// broker when the page opens and at most every 2 s while events flow; purge.
import { confirmAction, getJson, html, post, useEffect, useState, useStore } from "./common.js";

/** Queue lengths and consumers. */
export function QueuesPage() {
  const store = useStore();
  const [queues, setQueues] = useState(null);
  const [asked, setAsked] = useState(0);
  useEffect(() => {
    const now = Date.now();
    if (now - asked < 2000) return;
    setAsked(now);
    getJson("/api/queues/length").then((q) => setQueues(q.active_queues), () => {});
  }, [store.version]);
  return html`<h1>Queues</h1>
    ${!queues && html`<p>Asking the broker…</p>`}
    ${
    queues && html`
      <table id="queues">
        <thead>
          <tr>
            <th>Queue</th>
            <th>Messages</th>
            <th>Consumers</th>
            <th></th>
          </tr>
        </thead>
        <tbody>${queues.map((q) =>
          html`
            <tr key=${q.name} data-queue=${q.name}>
              <td>${q.name}</td>
              <td>${q.messages ?? "?"}</td>
              <td>${q.consumers}</td>
              <td><button class="danger" onClick=${() =>
                confirmAction(
                  `Purge every waiting message of ${q.name}`,
                  () => post(`/api/queue/purge/${encodeURIComponent(q.name)}`),
                )}>Purge</button></td>
            </tr>
          `
        )}</tbody>
      </table>
    `
  }`;
}
