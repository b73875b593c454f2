/**
 * celeriac's version, shown in banners (keep equal to `deno.json`'s).
 *
 * @module
 */

/** The released version. */
export const VERSION = "0.1.0";

/** The release's code name, in the spirit of Celery's. */
export const CODENAME = "root-vegetable";
