/** Error raised for unreadable or physically invalid input; message names file, line or site. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

/** The message of anything thrown, for reports that list why a record was skipped. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
