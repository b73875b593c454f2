/**
 * The browser libraries of the dashboard, read from the npm packages (pinned
 * exactly) through Deno's text imports (versions in deno.json), and served as ES modules: no build
 * step, no CDN. Preact + htm draw the pages (text is always escaped), uPlot
 * draws the charts.
 *
 * @module
 */

import preact from "preact" with { type: "text" };
import preactHooks from "preact/hooks" with { type: "text" };
import htm from "htm" with { type: "text" };
import uplot from "uplot/dist/uPlot.esm.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };

/** A file served to the browser. */
export interface Asset {
  /** Its Content-Type. */
  type: string;
  /** Its text. */
  body: string;
}

const JS = "text/javascript; charset=utf-8";

/** The hooks module imports `preact` by bare name; the browser finds it next door. */
function relinkPreact(source: string): string {
  return source.replace(/from\s*["']preact["']/g, 'from"./preact.js"');
}

/** Vendored files by path under `/ui/vendor/`. */
export const VENDOR_ASSETS: Record<string, Asset> = {
  "preact.js": { type: JS, body: preact },
  "hooks.js": { type: JS, body: relinkPreact(preactHooks) },
  "htm.js": { type: JS, body: htm },
  "uplot.js": { type: JS, body: uplot },
  "uplot.css": { type: "text/css; charset=utf-8", body: uplotCss },
};
