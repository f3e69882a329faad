// Amounts in MidasBuy's JSON are decimal strings with as many decimals as the currency has
// (OrderQuery docs: "for currencies like JPY … an integer, like 100; for currencies like TND …
// thousandths, like 100.123"), referring to ISO 4217. Kept as integer minor units (bigint), so
// sums never drift.

/**
 * ISO 4217's minor units where they are not 2. Written out rather than read from Intl: ICU's
 * CLDR data rounds some currencies differently from the standard (IDR has 2 decimals in ISO 4217,
 * 0 in CLDR), and the list is short and changes once in years.
 */
const DECIMALS: ReadonlyArray<readonly [decimals: number, currencies: readonly string[]]> = [
  [0, ['BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF']],
  [3, ['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND']],
  [4, ['CLF', 'UYW']]
]

const MINOR_UNITS: ReadonlyMap<string, number> = new Map(DECIMALS.flatMap(([decimals, currencies]) => currencies.map((currency) => [currency, decimals] as const)))

export const CURRENCY_CODE = /^[A-Z]{3}$/
const AMOUNT = /^(\d{1,12})(?:\.(\d{1,4}))?$/

/** Decimals of a currency's amounts: JPY 0, USD 2, TND 3. */
export function currencyScale (currency: string): number {
  return MINOR_UNITS.get(currency) ?? 2
}

/** "9.99" in USD → 999n; null when it is not a plain amount or has more decimals than the currency. */
export function toMinorUnits (amount: string, scale: number): bigint | null {
  const match = AMOUNT.exec(amount)
  if (!match) return null
  const [, whole = '0', fraction = ''] = match
  if (fraction.length > scale) return null
  return BigInt(whole) * 10n ** BigInt(scale) + BigInt(fraction.padEnd(scale, '0') || '0')
}

/** 999n at scale 2 → "9.99"; scale 0 has no decimal point, as MidasBuy writes JPY. */
export function formatMinorUnits (minor: bigint, scale: number): string {
  if (scale === 0) return minor.toString()
  const unit = 10n ** BigInt(scale)
  return `${minor / unit}.${(minor % unit).toString().padStart(scale, '0')}`
}
