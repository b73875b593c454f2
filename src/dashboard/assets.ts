/**
 * The dashboard's own browser modules and style sheet (plain ES modules under
 * `ui/`, no build step), and the HTML page that loads them.
 *
 * @module
 */

import app from "./ui/app.js" with { type: "text" };
import common from "./ui/common.js" with { type: "text" };
import workers from "./ui/workers.js" with { type: "text" };
import tasks from "./ui/tasks.js" with { type: "text" };
import queues from "./ui/queues.js" with { type: "text" };
import charts from "./ui/charts.js" with { type: "text" };
import style from "./ui/style.css" with { type: "text" };
import { type Asset, VENDOR_ASSETS } from "./vendor.ts";

const JS = "text/javascript; charset=utf-8";

/** Files served under `/ui/`. */
export const UI_ASSETS: Record<string, Asset> = {
  "app.js": { type: JS, body: app },
  "common.js": { type: JS, body: common },
  "workers.js": { type: JS, body: workers },
  "tasks.js": { type: JS, body: tasks },
  "queues.js": { type: JS, body: queues },
  "charts.js": { type: JS, body: charts },
  "style.css": { type: "text/css; charset=utf-8", body: style },
  ...Object.fromEntries(Object.entries(VENDOR_ASSETS).map(([name, a]) => [`vendor/${name}`, a])),
};

/** The page: a shell the modules fill; the CSRF token travels in a meta tag. */
export function pageHtml(csrfToken: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${csrfToken}">
<title>celeriac dashboard</title>
<link rel="stylesheet" href="/ui/vendor/uplot.css">
<link rel="stylesheet" href="/ui/style.css">
<script type="module" src="/ui/app.js"></script>
</head>
<body><div id="root">Loading…</div></body>
</html>
`;
}
