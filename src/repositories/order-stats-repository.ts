import type { Queryable } from '../db/queryable.js'

export interface OrderCount {
  provider: string
  status: string
  count: number
}

/** How many orders each provider has in each canonical status. */
export async function countOrdersByStatus (client: Queryable): Promise<OrderCount[]> {
  const result = await client.query<{ provider: string, status: string, count: string }>(
    'SELECT provider, status, count(*) AS count FROM orders GROUP BY provider, status'
  )
  return result.rows.map((row) => ({ provider: row.provider, status: row.status, count: Number(row.count) }))
}
