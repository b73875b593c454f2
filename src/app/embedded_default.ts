/**
 * Where the embedded default broker and result backend keep their data when
 * nothing is configured (re-exported for the app and the banner).
 *
 * @module
 */

export { defaultEmbeddedUrl } from "../transports/sqlite/location.ts";
