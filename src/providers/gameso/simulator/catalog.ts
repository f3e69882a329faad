import { z } from 'zod'

const AMOUNT = /^\d{1,10}(\.\d{1,2})?$/

/** "500.00" → 50000. Amounts are kept in satang (integers) so sums never drift like floats do. */
export function toSatang (amount: string): number {
  if (!AMOUNT.test(amount)) throw new Error(`not a THB amount: ${amount}`)
  const [baht = '0', fraction = ''] = amount.split('.')
  return Number(baht) * 100 + Number(fraction.padEnd(2, '0'))
}

/** 50000 → "500.00", GameSO's decimal string with exactly two places. */
export function formatSatang (satang: number): string {
  const baht = Math.trunc(satang / 100)
  const fraction = String(satang % 100).padStart(2, '0')
  return `${baht}.${fraction}`
}

export const catalogEntrySchema = z.object({
  sku: z.string().min(1).max(100),
  /** Unit price in THB, e.g. "100.00". */
  price: z.string().regex(AMOUNT, 'expected a THB amount like "100.00"'),
  /** Discount per unit in THB; the unit total is price − discount. */
  discount: z.string().regex(AMOUNT, 'expected a THB amount like "5.00"').default('0.00'),
  /**
   * Probability that an item line of this SKU fails; a failing line fails a random number of its
   * units (1 … quantity), so larger quantities usually fail partially. Unset: the simulator-wide
   * itemFailureRate applies.
   */
  failureRate: z.number().min(0).max(1).optional(),
  /** Every unit fails: the SKU is sold by GameSO but its provider does not know it. */
  unavailable: z.boolean().default(false)
}).refine(
  // zod runs this even when a field above failed, so only compare two valid amounts.
  (entry) => !AMOUNT.test(entry.price) || !AMOUNT.test(entry.discount) || toSatang(entry.discount) <= toSatang(entry.price),
  { message: 'discount exceeds price', path: ['discount'] }
)

export type CatalogEntryInput = z.input<typeof catalogEntrySchema>

export interface CatalogEntry {
  sku: string
  priceSatang: number
  discountSatang: number
  failureRate: number | undefined
  unavailable: boolean
}

/** GameSO-like products with THB prices, including two that exercise failures. */
export const DEFAULT_CATALOG: readonly CatalogEntryInput[] = [
  { sku: 'DIAMOND_100', price: '100.00' },
  { sku: 'DIAMOND_500', price: '500.00' },
  { sku: 'DIAMOND_1000', price: '1000.00', discount: '50.00' },
  { sku: 'ROMC-Z-1800K', price: '1800.00' },
  { sku: 'UC_60', price: '35.00' },
  { sku: 'UC_325', price: '175.50' },
  { sku: 'WELKIN_MOON', price: '149.00' },
  { sku: 'GEMS_FLAKY', price: '20.00', failureRate: 0.5 },
  { sku: 'LEGACY_PACK', price: '99.00', unavailable: true }
]

/** Entries from `extra` replace same-SKU entries of `base` and add the others. */
export function buildCatalog (base: readonly CatalogEntryInput[], extra: readonly CatalogEntryInput[] = []): Map<string, CatalogEntry> {
  const catalog = new Map<string, CatalogEntry>()
  for (const input of [...base, ...extra]) {
    const entry = catalogEntrySchema.parse(input)
    catalog.set(entry.sku, {
      sku: entry.sku,
      priceSatang: toSatang(entry.price),
      discountSatang: toSatang(entry.discount),
      failureRate: entry.failureRate,
      unavailable: entry.unavailable
    })
  }
  return catalog
}

/**
 * `SKU:price[:failureRate]` entries separated by commas, e.g. `GEMS_10:10.00,BROKEN:5.00:1`, the
 * compact form SIMULATOR_EXTRA_SKUS uses.
 */
export function parseSkuList (text: string): CatalogEntryInput[] {
  return text.split(',').map((part) => part.trim()).filter(Boolean).map((part) => {
    const [sku = '', price = '', failureRate] = part.split(':')
    const entry: CatalogEntryInput = { sku, price }
    if (failureRate !== undefined) entry.failureRate = Number(failureRate)
    return entry
  })
}
