import type { FastifyInstance } from 'fastify'
import { orderControlRoutes as commonOrderRoutes } from '../../../simulator/order-control-routes.js'
import { MIDASBUY_STATUSES } from '../midasbuy-schemas.js'
import type { MidasBuyControl } from './control.js'
import { seedOrderSchema, type PurchaseInput, type SeedOrderInput } from './order-schemas.js'

/**
 * MidasBuy's payment orders under its control prefix: the common order routes, plus buying an
 * order now, refunding one, and the key material a mirror needs.
 */
export async function orderControlRoutes (app: FastifyInstance, options: { control: MidasBuyControl }): Promise<void> {
  const { control } = options
  await commonOrderRoutes(app, {
    control: { ...control, seedOrders: (seeds) => control.seedOrders(seeds as readonly SeedOrderInput[]) },
    statuses: MIDASBUY_STATUSES,
    seedSchema: seedOrderSchema
  })

  app.get('/credentials', async () => control.credentials())

  // No body buys the default basket; purchase() validates what there is.
  app.post('/purchases', async (request) => control.purchase((request.body ?? {}) as PurchaseInput))

  app.post<{ Params: { reference: string } }>('/orders/:reference/refund', async (request) => control.refund(request.params.reference))
}
