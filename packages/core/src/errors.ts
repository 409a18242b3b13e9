/**
 * Base class of every error invae raises on purpose. `code` is stable and machine-readable,
 * `hint` tells the user how to fix the problem; the CLI prints both without a stack trace.
 */
export class InvaeError extends Error {
  /** Stable machine-readable code, e.g. `ENGINE_UNAVAILABLE`. */
  readonly code: string;
  /** How to fix it, in one sentence (optional). */
  readonly hint?: string;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** A requested tensor engine (backend) cannot be loaded. */
export class EngineUnavailableError extends InvaeError {
  /** The engine that was asked for. */
  readonly engine: string;
  /** npm package(s) to install to make it available. */
  readonly packages: readonly string[];

  constructor(engine: string, packages: readonly string[], message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('ENGINE_UNAVAILABLE', message, options);
    this.engine = engine;
    this.packages = packages;
  }
}

/** An option or argument has an invalid value. */
export class InvalidOptionError extends InvaeError {
  /** Name of the offending option. */
  readonly option: string;

  constructor(option: string, message: string, options: { hint?: string } = {}) {
    super('INVALID_OPTION', message, options);
    this.option = option;
  }
}
