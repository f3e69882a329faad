import type pg from 'pg'
import type { Database } from './database.js'

/** Runs `work` on one pooled client inside BEGIN … COMMIT, rolling back when it throws. */
export async function inTransaction<T> (db: Database, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.pool.connect()
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.release()
  }
}
