import type { z } from 'zod'
import type { Config, CredentialOverrides } from '../config.js'

// A zero-configuration start on the embedded PostgreSQL makes credentials of its own and keeps them
// in one file, `.data/credentials.json` (src/local-dev). The file is generic; what each provider
// keeps in it, and how that stands in for its unset variable, is the provider's part.

/** The fields of a credentials file as read, by name: every one is a string. */
export type StoredLocalCredentials = Readonly<Record<string, string>>

/** A provider's fields of the credentials file, as a zod shape: their names are the file format, never rename them. */
export type LocalCredentialFields = Readonly<Record<string, z.ZodType<string>>>

/** The values of a provider's fields, as the file holds them. */
export type StoredFields<Fields extends LocalCredentialFields> = { readonly [Field in keyof Fields]: z.output<Fields[Field]> }

export interface LocalCredentialsPart<Fields extends LocalCredentialFields = LocalCredentialFields, Source extends string = string> {
  /** The fields this provider keeps in the file. */
  readonly fields: Fields
  /** Fresh values for them (crypto-random), made once per data directory. */
  generate (): Promise<StoredFields<Fields>>
  /** Its key in the sources the start reports (`configured` or `local`), in camelCase. */
  readonly source: Source
  /** The variable the stored credential stands in for while it is unset. */
  readonly variable: string
  configured (config: Config): boolean
  /** The configuration's credentials the stored ones replace. */
  standIn (stored: StoredFields<Fields>): CredentialOverrides
  /** The start banner's row: its label, and what it shows while the local credential is in force. */
  readonly bannerLabel: string
  shownLocal (stored: StoredFields<Fields>, shownFile: string): string
}

/** A part with its field names and source kept as literal types, so the file's type is exact. */
export function localCredentialsPart<const Fields extends LocalCredentialFields, const Source extends string> (
  part: LocalCredentialsPart<Fields, Source>
): LocalCredentialsPart<Fields, Source> {
  return part
}
