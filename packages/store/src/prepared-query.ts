import type { CompiledQuery, DialectAdapter, Kysely, QueryExecutorProvider, QueryResult } from 'kysely';

/** Stands for the query's `index`-th argument while its shape is compiled. */
class Slot {
  constructor(readonly index: number) {}
}

/** A query builder (compiled on its own) or raw SQL (`sql\`…\``, compiled against the database). */
interface Preparable<R> {
  compile(provider: QueryExecutorProvider): CompiledQuery<R>;
}

interface Shape {
  readonly compiled: CompiledQuery;
  /** For each parameter of the compiled SQL: the argument it takes, or the constant it is. */
  readonly parameters: readonly ({ readonly slot: number } | { readonly value: unknown })[];
}

export interface PreparedQuery<Db, A extends readonly unknown[], R> {
  (db: Kysely<Db>, ...args: A): Promise<QueryResult<R>>;
  /** The query with these arguments, to be run with others (see runTogether). */
  compile(db: Kysely<Db>, ...args: A): CompiledQuery<R>;
}

/**
 * A query run on every request whose shape never changes, built and compiled once per dialect
 * instead of at every call: Kysely builds the tree and compiles it to SQL each time, which costs
 * more than SQLite takes to run most of these queries. `build` receives placeholders for the
 * arguments and must use each only as a value (a parameter of the SQL), never to decide the shape.
 * It may return raw SQL as well as a query builder.
 */
export const preparedQuery = <Db, A extends readonly unknown[], R>(
  build: (db: Kysely<Db>, ...args: A) => Preparable<R>,
): PreparedQuery<Db, A, R> => {
  const shapes = new WeakMap<DialectAdapter, Shape>();
  const shapeFor = (db: Kysely<Db>, arity: number): Shape => {
    const adapter = db.getExecutor().adapter;
    const known = shapes.get(adapter);
    if (known !== undefined) return known;
    const slots = Array.from({ length: arity }, (_, i) => new Slot(i)) as unknown as A;
    const compiled = build(db, ...slots).compile(db);
    const parameters = compiled.parameters.map((p) => (p instanceof Slot ? { slot: p.index } : { value: p }));
    const used = new Set(parameters.flatMap((p) => ('slot' in p ? [p.slot] : [])));
    // An argument the SQL does not carry was used to shape the query: compiling once would be wrong.
    if (used.size !== arity) throw new Error('preparedQuery: every argument must be a parameter of the SQL');
    const shape = { compiled, parameters };
    shapes.set(adapter, shape);
    return shape;
  };
  const compile = (db: Kysely<Db>, ...args: A): CompiledQuery<R> => {
    const { compiled, parameters } = shapeFor(db, args.length);
    return {
      ...(compiled as CompiledQuery<R>),
      parameters: parameters.map((p) => ('slot' in p ? args[p.slot] : p.value)),
    };
  };
  const run = async (db: Kysely<Db>, ...args: A) => db.executeQuery<R>(compile(db, ...args));
  return Object.assign(run, { compile });
};
