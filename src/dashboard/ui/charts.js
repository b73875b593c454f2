// The charts page: succeeded/failed per second and runtime percentiles,
// in total or for one task name, drawn by uPlot from the store's seconds.
import uPlot from "./vendor/uplot.js";
import { getJson, html, store, useEffect, useState, useStore } from "./common.js";

let seeded = false;

const WINDOW = 120;

/** The last WINDOW seconds, every second present (zero when nothing finished). */
function series(name) {
  const t = [], ok = [], failed = [], p50 = [], p90 = [], p99 = [];
  const bySecond = new Map(store.points.map((point) => [point.t, point]));
  const end = Math.max(Math.floor(Date.now() / 1000) - 1, store.points.at(-1)?.t ?? 0);
  for (let second = end - WINDOW + 1; second <= end; second++) {
    const point = bySecond.get(second);
    const figures = point && (name ? point.names[name] : point);
    t.push(second);
    ok.push(figures?.succeeded ?? 0);
    failed.push(figures?.failed ?? 0);
    p50.push(figures?.p50 ?? null);
    p90.push(figures?.p90 ?? null);
    p99.push(figures?.p99 ?? null);
  }
  return { rate: [t, ok, failed], runtime: [t, p50, p90, p99] };
}

function Chart({ id, title, labels, colors, data }) {
  useEffect(() => {
    const element = document.getElementById(id);
    const plot = new uPlot(
      {
        title,
        width: Math.min(1000, element.clientWidth || 800),
        height: 260,
        series: [
          {},
          ...labels.map((label, i) => ({ label, stroke: colors[i], width: 2, spanGaps: true })),
        ],
      },
      data,
      element,
    );
    element.plot = plot;
    return () => plot.destroy();
  }, [id]);
  useEffect(() => {
    document.getElementById(id).plot?.setData(data);
  });
  return html`<div class="chart" id=${id}></div>`;
}

/** Figures over time. */
export function ChartsPage() {
  useStore();
  const [name, setName] = useState("");
  useEffect(() => {
    if (seeded) return;
    seeded = true;
    getJson("/api/charts").then((points) => {
      const first = store.points[0]?.t ?? Infinity;
      store.points.unshift(...points.filter((p) => p.t < first));
      store.changed();
    });
  }, []);
  const names = [...new Set(store.points.flatMap((p) => Object.keys(p.names)))].sort();
  const { rate, runtime } = series(name);
  return html`
    <h1>Charts</h1>
    <select id="chart-name" onChange=${(e) => setName(e.target.value)}>
          <option value="">all tasks</option>${names.map((n) =>
            html`<option value=${n}>${n}</option>`
          )}
        </select>
    <${Chart} id="chart-rate" title="Tasks per second" labels=${["succeeded", "failed"]}
      colors=${["#2a9d4b", "#d03b3b"]} data=${rate} />
    <${Chart} id="chart-runtime" title="Runtime (s)" labels=${["p50", "p90", "p99"]}
      colors=${["#3366cc", "#e69500", "#a23bd0"]} data=${runtime} />
  `;
}
