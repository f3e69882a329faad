// pgbench scripts of the database-alone probe (bench/README.md). References are random per
// transaction, so every call writes new orders, as the "distinct orders" webhook load does.

/** The raw single-row upsert the webhook bench compares with, random key per transaction. */
export const RAW_UPSERT_SCRIPT = `\\set k random(1, 2000000000)
INSERT INTO orders (provider, reference, provider_order_id, status, provider_status, status_rank, is_final,
  user_id, currency, subtotal_amount, discount_amount, total_amount, upstream_created_at, upstream_updated_at, last_source)
VALUES ('gameso', 'raw-' || :client_id || '-' || :k, 'ord_' || :k, 'processing', 'processing', 2, false, 'user_1', 'THB',
  202.00, 0.00, 202.00, '2026-11-01T00:00:00Z', now(), 'webhook')
ON CONFLICT (provider, reference) DO UPDATE SET
  status = EXCLUDED.status, provider_status = EXCLUDED.provider_status, total_amount = EXCLUDED.total_amount,
  upstream_updated_at = EXCLUDED.upstream_updated_at, updated_at = now();
`

/** One call of om_merge_batch with `size` new orders (2 items each), every one a webhook with its inbox row. */
export function mergeBatchScript (size: number): string {
  const items = size * 2
  const fill = (type: string, value: string, count = size) => `array_fill(${value}::${type}, ARRAY[${count}])`
  // Per order g (1..size): its reference, and the body of its webhook; items go to order (i + 1) / 2.
  const perOrder = (type: string, expression: string) =>
    `(SELECT array_agg((${expression})::${type} ORDER BY g) FROM generate_series(1, ${size}) AS g)`
  const perItem = (type: string, expression: string) =>
    `(SELECT array_agg((${expression})::${type} ORDER BY i) FROM generate_series(0, ${items - 1}) AS i)`
  const reference = "'pgb-' || :client_id || '-' || :k || '-' || g"
  const body = `convert_to('{"event":"order.processing","data":{"reference_id":"' || ${reference} || '"}}', 'UTF8')`
  const args = [
    fill('text', "'gameso'"), perOrder('text', reference), perOrder('text', `'ord_' || ${reference}`),
    fill('text', "'processing'"), fill('text', "'processing'"), fill('smallint', '2'), fill('boolean', 'false'),
    fill('text', "'user_1'"), fill('text', 'NULL'), fill('text', 'NULL'), fill('text', "'THB'"),
    fill('numeric', "'202.00'"), fill('numeric', "'0.00'"), fill('numeric', "'202.00'"), fill('text', "'api'"),
    fill('jsonb', '\'{"id":0,"name":"API"}\''), fill('jsonb', 'NULL'), fill('text', 'NULL'), fill('text', 'NULL'),
    fill('timestamptz', "'2026-11-01T00:00:00Z'"), fill('timestamptz', 'now()'), fill('timestamptz', 'NULL'),
    perOrder('text', `md5(${reference})`), fill('text', "'webhook'"), fill('boolean', 'false'), fill('int', '2'),
    perItem('int', 'i / 2 + 1'), perItem('int', 'i % 2'), perItem('text', "'SKU-' || i % 2"),
    fill('text', 'NULL', items), fill('text', 'NULL', items), fill('text', 'NULL', items),
    fill('int', '1', items), fill('int', '0', items), fill('int', '0', items),
    fill('text', "'processing'", items), fill('text', "'THB'", items), fill('numeric', 'NULL', items),
    fill('numeric', "'101.00'", items), fill('numeric', "'0.00'", items), fill('numeric', "'101.00'", items),
    fill('text', 'NULL', items), fill('text', 'NULL', items),
    perOrder('int', 'g'), fill('text', 'NULL'), fill('timestamptz', 'now()'), fill('smallint', '2'),
    fill('boolean', 'false'), perOrder('text', `md5(${reference})`), fill('boolean', 'false'),
    fill('text', "'gameso'"), perOrder('bytea', body), perOrder('bytea', `sha256(${body})`),
    fill('jsonb', '\'{"content-type":"application/json"}\''), fill('text', "'order.processing'"), perOrder('text', reference),
    fill('boolean', 'false'), fill('text', 'NULL'), fill('text', 'NULL'),
    '60000'
  ]
  return `\\set k random(1, 2000000000)\nSELECT count(*) FROM om_merge_batch(\n  ${args.join(',\n  ')});\n`
}

/**
 * For psql, not pgbench: `calls` executions of the same merge (a prepared statement, new references
 * each time) on one connection, then the CPU that connection's backend spent on them, in clock
 * ticks (utime + stime from its own /proc/self/stat; needs a superuser, for pg_read_file). CPU
 * time, unlike a rate, holds up on a machine that other work shares.
 */
export function backendCpuScript (size: number, calls: number): string {
  const merge = mergeBatchScript(size).split('\n').slice(1).join('\n')
    .replaceAll(':client_id', '1').replaceAll(':k', '$1::text').trim().replace(/;$/, '')
  const ticks = "split_part(pg_read_file('/proc/self/stat'), ' ', 14)::int + split_part(pg_read_file('/proc/self/stat'), ' ', 15)::int"
  return [
    '\\o /dev/null',
    `PREPARE merge(bigint) AS ${merge};`,
    `SELECT ${ticks} AS started \\gset`,
    ...Array.from({ length: calls }, () => 'SELECT (random() * 2e12)::bigint AS k \\gset\nEXECUTE merge(:k);'),
    '\\o',
    `SELECT ${ticks} - :started AS backend_cpu_ticks;`,
    ''
  ].join('\n')
}
