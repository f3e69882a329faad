import { readFileSync } from 'node:fs'
import internals from '@prisma/internals'
import type { Queryable } from '../../src/db/queryable.js'

// The drift check between prisma/schema.prisma and what prisma/migrations build. The Prisma CLI
// cannot diff offline on these machines (its WebAssembly engine crashes in `migrate diff` and
// `db pull`), so this compares the schema's model metadata with the catalog of a freshly migrated
// database. The metadata comes from getDMMF, the call `prisma generate` itself makes on the same
// WebAssembly engine: the generated `prisma-client` keeps only names, kinds and column names, not
// nullability, native types or indexes, so it cannot be the source here.

export const SCHEMA_FILE = new URL('../../prisma/schema.prisma', import.meta.url)

/**
 * Indexes the schema language cannot express (partial or on expressions), written by hand in a
 * migration: the database must have exactly these beyond what schema.prisma declares.
 */
export const HAND_WRITTEN_INDEXES: Readonly<Record<string, string>> = {
  orders_due_for_poll_by_provider_idx: 'partial: the orders the reconciler still follows (20261127190000_reconcile_indexes)',
  orders_unresolved_idx: 'partial: abandoned and not_found_upstream orders (20261127190000_reconcile_indexes)',
  webhook_inbox_replayable_idx: 'partial: the inbox rows a replay may pick up (20261201130000_hot_table_indexes)',
  merchant_webhook_deliveries_due_idx: 'partial: deliveries waiting for an attempt (20261202010000_merchant_webhooks)',
  merchant_webhook_deliveries_undelivered_idx: 'partial: undelivered events per endpoint and order (20261202010000_merchant_webhooks)'
}

type Datamodel = Awaited<ReturnType<typeof internals.getDMMF>>['datamodel']
type Model = Datamodel['models'][number]
type Field = Model['fields'][number]

export async function readDatamodel (schema = readFileSync(SCHEMA_FILE, 'utf8')): Promise<Datamodel> {
  return (await internals.getDMMF({ datamodel: schema })).datamodel
}

/** A column as PostgreSQL spells its type: `int8`, `text`, `numeric`, `timestamptz(3)`, … */
interface Column { type: string, nullable: boolean, hasDefault: boolean }

function columnName (field: Field): string {
  return field.dbName ?? field.name
}

function tableName (model: Model): string {
  return model.dbName ?? model.name
}

/** The PostgreSQL type `prisma migrate` creates for a scalar field (Prisma's PostgreSQL type mapping). */
function expectedType (model: Model, field: Field): string {
  const [native, args = []] = field.nativeType ?? [null, []]
  const where = `${model.name}.${field.name}`
  if (field.isList) throw new Error(`${where}: the drift check does not handle scalar lists yet`)
  switch (field.type) {
    case 'String':
      if (native === null || native === 'Text') return 'text'
      if (native === 'VarChar') return args[0] === undefined ? 'varchar' : `varchar(${args[0]})`
      if (native === 'Uuid') return 'uuid'
      break
    case 'Int':
      if (native === null || native === 'Integer') return 'int4'
      if (native === 'SmallInt') return 'int2'
      break
    case 'BigInt':
      if (native === null || native === 'BigInt') return 'int8'
      break
    case 'Boolean':
      return 'bool'
    case 'Float':
      return native === 'Real' ? 'float4' : 'float8'
    case 'Decimal':
      if (native === null) return 'numeric(65,30)'
      if (native === 'Decimal') return args.length === 0 ? 'numeric' : `numeric(${args[0]},${args[1] ?? 0})`
      break
    case 'DateTime':
      if (native === null) return 'timestamp(3)'
      if (native === 'Timestamptz') return `timestamptz(${args[0] ?? 6})`
      if (native === 'Timestamp') return `timestamp(${args[0] ?? 6})`
      if (native === 'Date') return 'date'
      break
    case 'Json':
      return native === 'Json' ? 'json' : 'jsonb'
    case 'Bytes':
      return 'bytea'
  }
  throw new Error(`${where}: the drift check does not know ${field.type}${native === null ? '' : ` @db.${native}`} yet`)
}

const ON_DELETE: Record<string, string> = { Cascade: 'cascade', Restrict: 'restrict', NoAction: 'no action', SetNull: 'set null', SetDefault: 'set default' }
const CONFDELTYPE: Record<string, string> = { c: 'cascade', r: 'restrict', a: 'no action', n: 'set null', d: 'set default' }

interface SchemaSide {
  tables: Set<string>
  columns: Map<string, Column>
  indexes: Set<string>
  foreignKeys: Set<string>
}

function describeIndex (table: string, kind: 'primary key' | 'unique' | 'index', columns: readonly string[]): string {
  return `${table} ${kind} (${columns.join(', ')})`
}

function fromSchema (datamodel: Datamodel): SchemaSide {
  const side: SchemaSide = { tables: new Set(), columns: new Map(), indexes: new Set(), foreignKeys: new Set() }
  const models = new Map(datamodel.models.map((model) => [model.name, model]))
  const column = (model: Model, name: string) => {
    const field = model.fields.find((candidate) => candidate.name === name)
    if (!field) throw new Error(`${model.name} has no field ${name}`)
    return columnName(field)
  }
  for (const model of datamodel.models) {
    const table = tableName(model)
    side.tables.add(table)
    for (const field of model.fields) {
      if (field.kind === 'object') {
        const from = field.relationFromFields ?? []
        if (from.length === 0) continue
        const target = models.get(field.type)
        if (!target) throw new Error(`${model.name}.${field.name} points at unknown model ${field.type}`)
        // Prisma's defaults: Restrict when the relation is required, SetNull when it is optional.
        const onDelete = field.relationOnDelete ?? (field.isRequired ? 'Restrict' : 'SetNull')
        side.foreignKeys.add(`${table} (${from.map((name) => column(model, name)).join(', ')}) → ${tableName(target)} ` +
          `(${(field.relationToFields ?? []).map((name) => column(target, name)).join(', ')}) on delete ${ON_DELETE[onDelete] ?? onDelete}`)
        continue
      }
      side.columns.set(`${table}.${columnName(field)}`, {
        type: expectedType(model, field),
        nullable: !field.isRequired,
        hasDefault: field.hasDefaultValue
      })
    }
  }
  for (const index of datamodel.indexes) {
    const model = models.get(index.model)
    if (!model) throw new Error(`index on unknown model ${index.model}`)
    const kind = index.type === 'id' ? 'primary key' : index.type === 'unique' ? 'unique' : 'index'
    side.indexes.add(describeIndex(tableName(model), kind, index.fields.map((entry) => column(model, entry.name))))
  }
  return side
}

interface DatabaseSide extends SchemaSide {
  /** Partial or expression indexes, by name. */
  handWritten: Set<string>
}

async function fromDatabase (db: Queryable): Promise<DatabaseSide> {
  const side: DatabaseSide = { tables: new Set(), columns: new Map(), indexes: new Set(), foreignKeys: new Set(), handWritten: new Set() }
  const tables = await db.query<{ table_name: string }>(`
    SELECT table_name FROM information_schema.tables
     WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'`)
  for (const row of tables.rows) side.tables.add(row.table_name)

  const columns = await db.query<{
    table_name: string
    column_name: string
    is_nullable: 'YES' | 'NO'
    udt_name: string
    datetime_precision: number | null
    numeric_precision: number | null
    numeric_scale: number | null
    character_maximum_length: number | null
    column_default: string | null
  }>(`
    SELECT c.table_name, c.column_name, c.is_nullable, c.udt_name, c.datetime_precision, c.numeric_precision,
           c.numeric_scale, c.character_maximum_length, c.column_default
      FROM information_schema.columns c
      JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.table_name <> '_prisma_migrations'`)
  for (const row of columns.rows) {
    let type = row.udt_name
    if (type === 'timestamp' || type === 'timestamptz') type = `${type}(${row.datetime_precision ?? 6})`
    else if (type === 'numeric' && row.numeric_precision !== null) type = `numeric(${row.numeric_precision},${row.numeric_scale ?? 0})`
    else if (type === 'varchar' && row.character_maximum_length !== null) type = `varchar(${row.character_maximum_length})`
    side.columns.set(`${row.table_name}.${row.column_name}`, { type, nullable: row.is_nullable === 'YES', hasDefault: row.column_default !== null })
  }

  const indexes = await db.query<{ table: string, name: string, primary: boolean, unique: boolean, columns: string[], hand_written: boolean }>(`
    SELECT t.relname AS "table", i.relname AS name, ix.indisprimary AS "primary", ix.indisunique AS "unique",
           ix.indpred IS NOT NULL OR ix.indexprs IS NOT NULL AS hand_written,
           ARRAY(SELECT a.attname::text FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, position)
                   JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.position) AS columns
      FROM pg_index ix
      JOIN pg_class i ON i.oid = ix.indexrelid
      JOIN pg_class t ON t.oid = ix.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE n.nspname = 'public' AND t.relname <> '_prisma_migrations'`)
  for (const row of indexes.rows) {
    if (row.hand_written) side.handWritten.add(row.name)
    else side.indexes.add(describeIndex(row.table, row.primary ? 'primary key' : row.unique ? 'unique' : 'index', row.columns))
  }

  const foreignKeys = await db.query<{ table: string, columns: string[], target: string, target_columns: string[], on_delete: string }>(`
    SELECT t.relname AS "table", rt.relname AS target, con.confdeltype AS on_delete,
           ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, position)
                   JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.position) AS columns,
           ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, position)
                   JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.position) AS target_columns
      FROM pg_constraint con
      JOIN pg_class t ON t.oid = con.conrelid
      JOIN pg_class rt ON rt.oid = con.confrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE con.contype = 'f' AND n.nspname = 'public'`)
  for (const row of foreignKeys.rows) {
    side.foreignKeys.add(`${row.table} (${row.columns.join(', ')}) → ${row.target} (${row.target_columns.join(', ')}) on delete ${CONFDELTYPE[row.on_delete] ?? row.on_delete}`)
  }
  return side
}

function onlyIn<T> (ours: Iterable<T>, theirs: { has (value: T): boolean }): T[] {
  return [...ours].filter((value) => !theirs.has(value)).sort()
}

/**
 * Everything one side has and the other lacks or has differently, in words; empty when
 * schema.prisma describes exactly the database the migrations build.
 */
export async function schemaDrift (db: Queryable, datamodel: Datamodel): Promise<string[]> {
  const schema = fromSchema(datamodel)
  const database = await fromDatabase(db)
  // A table only one side has is reported once, not again for each of its columns and indexes.
  const onBothSides = (entry: string) => {
    const table = entry.split(/[ .]/)[0] ?? ''
    return schema.tables.has(table) && database.tables.has(table)
  }
  const drift: string[] = [
    ...onlyIn(schema.tables, database.tables).map((table) => `table ${table} is in schema.prisma, not in the database`),
    ...onlyIn(database.tables, schema.tables).map((table) => `table ${table} is in the database, not in schema.prisma`),
    ...onlyIn(schema.indexes, database.indexes).filter(onBothSides).map((index) => `${index} is in schema.prisma, not in the database`),
    ...onlyIn(database.indexes, schema.indexes).filter(onBothSides).map((index) => `${index} is in the database, not in schema.prisma`),
    ...onlyIn(schema.foreignKeys, database.foreignKeys).filter(onBothSides).map((key) => `foreign key ${key} is in schema.prisma, not in the database`),
    ...onlyIn(database.foreignKeys, schema.foreignKeys).filter(onBothSides).map((key) => `foreign key ${key} is in the database, not in schema.prisma`),
    ...onlyIn(database.handWritten, new Set(Object.keys(HAND_WRITTEN_INDEXES)))
      .map((name) => `index ${name} (partial or on an expression) is in the database, neither in schema.prisma nor in HAND_WRITTEN_INDEXES`),
    ...onlyIn(Object.keys(HAND_WRITTEN_INDEXES), database.handWritten)
      .map((name) => `hand-written index ${name} is listed in HAND_WRITTEN_INDEXES, not in the database`)
  ]
  for (const [name, expected] of [...schema.columns].sort(([a], [b]) => a.localeCompare(b))) {
    const actual = database.columns.get(name)
    if (!actual) {
      if (onBothSides(name)) drift.push(`column ${name} is in schema.prisma, not in the database`)
      continue
    }
    if (actual.type !== expected.type) drift.push(`column ${name} is ${expected.type} in schema.prisma, ${actual.type} in the database`)
    if (actual.nullable !== expected.nullable) drift.push(`column ${name} is ${expected.nullable ? 'nullable' : 'NOT NULL'} in schema.prisma, ${actual.nullable ? 'nullable' : 'NOT NULL'} in the database`)
    if (actual.hasDefault !== expected.hasDefault) drift.push(`column ${name} ${expected.hasDefault ? 'has' : 'has no'} default in schema.prisma, ${actual.hasDefault ? 'has one' : 'has none'} in the database`)
  }
  for (const name of onlyIn(database.columns.keys(), schema.columns).filter(onBothSides)) {
    drift.push(`column ${name} is in the database, not in schema.prisma`)
  }
  return drift
}
