import type { Kysely } from 'kysely';

// The station nonce of a flow: what the station's next statement about the flow must carry. Set
// when the flow starts and replaced with every statement the server accepts for it; an ended flow
// keeps its last one. Null for flows from before stations.

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('flows').addColumn('station_nonce', 'text').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('flows').dropColumn('station_nonce').execute();
}
