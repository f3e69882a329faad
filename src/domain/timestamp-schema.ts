import { z } from 'zod'

/**
 * ISO-8601 with an explicit zone (`Z` or an offset), as upstreams write `2025-01-15T10:30:00.000Z`:
 * their timestamps, and the instants merchants filter orders by.
 */
export const isoTimestampSchema = z.iso.datetime({ offset: true, message: 'expected an ISO-8601 timestamp with a time zone' })
