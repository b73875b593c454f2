/**
 * A mistake on the command line: printed as one line with a hint, exit code 2.
 *
 * @module
 */

/** Thrown for bad flags or arguments; the CLI prints it without a stack trace. */
export class UsageError extends Error {
  /** The command whose `--help` to suggest. */
  readonly command: string;
  /** Creates the error. */
  constructor(message: string, command = "") {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}
