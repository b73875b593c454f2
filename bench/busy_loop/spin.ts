/**
 * A thread body for `busy_loop_stop.ts`: spins forever, inside a Web Lock
 * when `LOCK=1`.
 *
 * @module
 */

const spin = (): never => {
  while (true) {
    // busy
  }
};
const locks = (globalThis.navigator as unknown as {
  locks: { request(name: string, body: () => Promise<unknown>): Promise<unknown> };
}).locks;
if (Deno.env.get("LOCK") === "1") locks.request(`spin-${crypto.randomUUID()}`, () => spin());
else setTimeout(spin, 0);
