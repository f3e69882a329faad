import type pg from 'pg'

/** A pg pool or a client inside a transaction: repositories run on whichever they are given. */
export type Queryable = pg.Pool | pg.PoolClient
