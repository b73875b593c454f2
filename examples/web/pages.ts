/**
 * The web example's HTML pages.
 *
 * @module
 */

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function page(title: string, body: string, refresh = false): Response {
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>${
    refresh ? '<meta http-equiv="refresh" content="1">' : ""
  }</head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
  return new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } });
}

/** The form that sends a text to count. */
export function formPage(): Response {
  return page(
    "Count words",
    `<form method="post" action="/tasks">
<textarea name="text" rows="4" cols="60"></textarea>
<button type="submit">Count</button>
</form>`,
  );
}

/** A task's state and, once ready, its result; refreshes itself until then. */
export function taskPage(id: string, state: string, result: unknown, ready: boolean): Response {
  const shown = ready
    ? `<p>Result: <output id="result">${escapeHtml(String(result))}</output></p>`
    : "";
  return page(
    `Task ${id}`,
    `<p>State: <strong id="state">${escapeHtml(state)}</strong></p>
${shown}
<p><a href="/">Count another text</a></p>`,
    !ready,
  );
}
