import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { z } from 'zod'
import type { BaseControl } from './control.js'
import { faultsPatchSchema } from './faults.js'
import { parseBody } from './parse-body.js'

/** Control bodies may carry 10,000+ seeded orders. */
export const CONTROL_BODY_LIMIT = 64 * 1024 * 1024

const resetQuerySchema = z.object({ orders: z.enum(['true', 'false']).optional() })

export interface ControlRoutesOptions {
  control: BaseControl
  /** The upstream's own order routes, under the same prefix. */
  orderRoutes: FastifyPluginAsync
}

/**
 * One simulated upstream's control API, registered under its prefix: no API key, because the
 * simulator is a test tool meant to listen on loopback only. It drives the same control object
 * in-process tests use.
 */
export async function controlRoutes (app: FastifyInstance, options: ControlRoutesOptions): Promise<void> {
  const { control } = options

  app.get('/stats', async () => control.stats())

  app.post('/reset', async (request) => {
    const query = parseBody(resetQuerySchema, request.query)
    control.resetStats()
    if (query.orders === 'true') control.clearOrders()
    return control.stats()
  })

  app.get('/faults', async () => control.faults())
  app.post('/faults', async (request) => control.setFaults(parseBody(faultsPatchSchema, request.body)))
  app.delete('/faults', async () => control.clearFaults())

  app.get('/settings', async () => control.settings())
  app.post('/settings', async (request) => control.updateSettings(parseBody(control.settingsPatchSchema, request.body)))

  await app.register(options.orderRoutes)
}
