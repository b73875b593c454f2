/**
 * The celeriac command line.
 *
 * ```sh
 * deno run -A jsr:@celeriac/celeriac/cli worker -A ./tasks.ts --loglevel INFO -c 2
 * deno run -A jsr:@celeriac/celeriac/cli call proj.add -A ./tasks.ts --args '[2, 2]'
 * deno run -A jsr:@celeriac/celeriac/cli result <id> -A ./tasks.ts
 * deno run -A jsr:@celeriac/celeriac/cli beat -A ./tasks.ts
 * ```
 *
 * @module
 */

import { main } from "./src/cli/main.ts";
import { restartWithWorkerV8Flags } from "./src/cli/worker_v8_flags.ts";

export { main };

if (import.meta.main) {
  restartWithWorkerV8Flags(Deno.args); // `worker`: once, with a bounded young generation
  const code = await main(Deno.args);
  Deno.exit(code);
}
