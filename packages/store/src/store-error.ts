export type StoreErrorCode = 'DATABASE_UNAVAILABLE' | 'MIGRATION_FAILED' | 'CONFLICT' | 'NOT_FOUND';

/** A failure of the data layer, with a code the server maps to a response in one place. */
export class StoreError extends Error {
  override readonly name = 'StoreError';

  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const UNIQUE_VIOLATIONS: ReadonlySet<unknown> = new Set([
  'SQLITE_CONSTRAINT_PRIMARYKEY',
  'SQLITE_CONSTRAINT_UNIQUE',
  '23505',
]);
const FOREIGN_KEY_VIOLATIONS: ReadonlySet<unknown> = new Set(['SQLITE_CONSTRAINT_FOREIGNKEY', '23503']);

export const driverCode = (error: unknown): unknown =>
  typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;

/**
 * Runs a write and turns the drivers' constraint errors into StoreErrors: a duplicate key is a
 * CONFLICT, a reference to a missing row is NOT_FOUND. `what` names the row for the message.
 */
export const translateWriteErrors = async <T>(what: string, write: () => Promise<T>): Promise<T> => {
  try {
    return await write();
  } catch (error) {
    const code = driverCode(error);
    if (UNIQUE_VIOLATIONS.has(code)) {
      throw new StoreError('CONFLICT', `${what} already exists`, { cause: error });
    }
    if (FOREIGN_KEY_VIOLATIONS.has(code)) {
      throw new StoreError('NOT_FOUND', `${what} refers to a row that does not exist`, { cause: error });
    }
    throw error;
  }
};
