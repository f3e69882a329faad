import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { readDatamodel, schemaDrift, SCHEMA_FILE } from '../helpers/schema-drift.js'

// .ci/run names this file: it is the check that prisma/schema.prisma and prisma/migrations agree.
describe('schema drift: prisma/schema.prisma against the database prisma/migrations build', () => {
  let migrated: TestDatabase

  beforeAll(async () => { migrated = await createTestDatabase({ poolSize: 2 }) })
  afterAll(async () => { await migrated.drop() })

  it('finds nothing that one side has and the other lacks', async () => {
    expect(await schemaDrift(migrated.db.pool, await readDatamodel())).toEqual([])
  })

  it('reports a schema.prisma that says more, or other, than the migrations built', async () => {
    const schema = readFileSync(SCHEMA_FILE, 'utf8')
      .replace('  replayCount    Int       @default(0) @map("replay_count")',
        '  replayCount    Int       @default(0) @map("replay_count")\n  note           String?\n\n  @@index([eventType])')
      .replace('  position          Int\n', '  position          Int       @db.SmallInt\n')
      .replace('  currency           String?\n', '  currency           String\n')
    expect(await schemaDrift(migrated.db.pool, await readDatamodel(schema))).toEqual([
      'webhook_inbox index (event_type) is in schema.prisma, not in the database',
      'column order_items.position is int2 in schema.prisma, int4 in the database',
      'column orders.currency is NOT NULL in schema.prisma, nullable in the database',
      'column webhook_inbox.note is in schema.prisma, not in the database'
    ])
  })

  it('reports a database the migrations changed without schema.prisma', async () => {
    const drifted = await createTestDatabase({ poolSize: 1 })
    try {
      await drifted.db.pool.query(`
        ALTER TABLE orders ADD COLUMN note text;
        ALTER TABLE order_items ALTER COLUMN sku SET NOT NULL;
        ALTER TABLE webhook_inbox ALTER COLUMN delivery_count DROP DEFAULT;
        DROP INDEX webhook_inbox_received_at_idx;
        ALTER TABLE order_status_history DROP CONSTRAINT order_status_history_order_id_fkey;
        CREATE UNIQUE INDEX orders_user_id_key ON orders (user_id);
        CREATE INDEX orders_note_idx ON orders (note) WHERE note IS NOT NULL;
        CREATE TABLE audit_log (id bigint PRIMARY KEY)`)
      expect(await schemaDrift(drifted.db.pool, await readDatamodel())).toEqual([
        'table audit_log is in the database, not in schema.prisma',
        'webhook_inbox index (received_at) is in schema.prisma, not in the database',
        'orders unique (user_id) is in the database, not in schema.prisma',
        'foreign key order_status_history (order_id) → orders (id) on delete cascade is in schema.prisma, not in the database',
        'index orders_note_idx (partial or on an expression) is in the database, neither in schema.prisma nor in HAND_WRITTEN_INDEXES',
        'column order_items.sku is nullable in schema.prisma, NOT NULL in the database',
        'column webhook_inbox.delivery_count has default in schema.prisma, has none in the database',
        'column orders.note is in the database, not in schema.prisma'
      ])
    } finally {
      await drifted.drop()
    }
  })
})
