import { randomBytes, sign, verify, type KeyLike, type KeyObject } from 'node:crypto'

// Merchant → MidasBuy requests (OrderQuery) are signed as the Txgw-* family documents it:
// SHA256withRSA with the merchant private key over five lines, each ending in `\n`,
//   METHOD\nURL\ntimestamp\nnonce\nbody\n
// Base64, carried in `Authorization: TXGW-SHA256-RSA2048 auth_id=…,auth_id_type=…,nonce_str=…,
// timestamp=…,signature=…,serial_no=…`. The defaults reproduce MidasBuy's own SDK test vector
// byte for byte (path-only URL line, unquoted values, that parameter order); what the public
// pages leave open — the URL form, the name of the app id parameter, its type value and quoting —
// is an option, so a mismatch found against the sandbox is a setting, not a code change.

export const AUTHORIZATION_SCHEME = 'TXGW-SHA256-RSA2048'

/** `path`: the path and query only, as MidasBuy's SDK signs; `absolute`: scheme, host, path and query. */
export type SignedUrlForm = 'path' | 'absolute'

export const SIGNED_URL_FORMS: readonly SignedUrlForm[] = ['path', 'absolute']

export interface RequestSigningOptions {
  readonly urlForm: SignedUrlForm
  /** The `Authorization` parameter that names the caller (MidasPay and MidasBuy's SDK: `auth_id`). */
  readonly authIdParameter: string
  /** The `auth_id_type` value sent (MidasBuy's SDK: `app_id`; MidasPay: `MERCHANT_ID`); null leaves the parameter out. */
  readonly authIdType: string | null
  /** Send every value in double quotes (MidasPay's header example quotes `auth_id`; MidasBuy's SDK quotes nothing). */
  readonly quoteValues: boolean
}

export const DEFAULT_REQUEST_SIGNING: RequestSigningOptions = Object.freeze({
  urlForm: 'path',
  authIdParameter: 'auth_id',
  authIdType: 'app_id',
  quoteValues: false
})

const AUTH_ID_TYPE_PARAMETER = 'auth_id_type'
const NONCE_PARAMETER = 'nonce_str'
const TIMESTAMP_PARAMETER = 'timestamp'
const SIGNATURE_PARAMETER = 'signature'
const SERIAL_PARAMETER = 'serial_no'

/** An RSA-4096 signature is 684 Base64 characters; anything much longer is not one. */
const MAX_SIGNATURE_CHARACTERS = 2048
const MAX_AUTHORIZATION_CHARACTERS = 4096
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const UNIX_SECONDS = /^\d{1,12}$/
const PARAMETER_NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/
/** What a value may hold so the header splits back unambiguously: visible ASCII without `,` `"` `\`. */
const HEADER_VALUE = /^[\x21\x23-\x2b\x2d-\x5b\x5d-\x7e]+$/

export interface RequestToSign {
  readonly method: string
  /** The request's full URL; which part of it is signed follows `urlForm`. */
  readonly url: URL | string
  /** The exact bytes sent; empty for a request without a body. */
  readonly body: Buffer | string
}

export interface SigningCredentials {
  readonly appId: string
  /** Serial number of the merchant certificate registered with MidasBuy. */
  readonly serialNo: string
  readonly privateKey: KeyLike
}

export interface AuthorizationParameters {
  readonly authId: string
  readonly authIdType: string | null
  readonly nonce: string
  readonly timestamp: string
  readonly signature: string
  readonly serialNo: string
}

export interface SignedRequest {
  /** The headers to send with the request (besides `Content-Type`/`Accept`). */
  readonly headers: { readonly authorization: string }
  readonly parameters: AuthorizationParameters
}

/** The URL line of the string to sign. A fragment is never sent, so it is never signed. */
export function signedUrl (url: URL | string, form: SignedUrlForm): string {
  const parsed = typeof url === 'string' ? new URL(url) : url
  const pathAndQuery = `${parsed.pathname}${parsed.search}`
  return form === 'path' ? pathAndQuery : `${parsed.protocol}//${parsed.host}${pathAndQuery}`
}

/** The exact bytes that are signed: method, URL, timestamp, nonce and the untouched body, each line ending in `\n`. */
export function requestSigningInput (request: RequestToSign, timestamp: string, nonce: string, urlForm: SignedUrlForm): Buffer {
  const head = `${request.method.toUpperCase()}\n${signedUrl(request.url, urlForm)}\n${timestamp}\n${nonce}\n`
  const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body
  return Buffer.concat([Buffer.from(head, 'utf8'), body, Buffer.from('\n')])
}

/** 32 random hexadecimal characters, the shape of the nonce in MidasBuy's SDK example. */
export function createNonce (): string {
  return randomBytes(16).toString('hex').toUpperCase()
}

function isBase64Signature (text: string): boolean {
  return text.length <= MAX_SIGNATURE_CHARACTERS && BASE64.test(text)
}

function headerSafe (name: string, value: string): string {
  if (!HEADER_VALUE.test(value)) {
    throw new TypeError(`MidasBuy request signing: ${name} must be visible ASCII without commas, quotes or backslashes`)
  }
  return value
}

/** The `Authorization` value for these parameters, in MidasBuy's SDK order. */
export function formatAuthorization (parameters: AuthorizationParameters, options: RequestSigningOptions = DEFAULT_REQUEST_SIGNING): string {
  // Refuse here what parseAuthorization would refuse, so a formatted header always reads back.
  if (!UNIX_SECONDS.test(parameters.timestamp)) throw new TypeError(`MidasBuy request signing: ${TIMESTAMP_PARAMETER} must be Unix seconds`)
  if (!isBase64Signature(parameters.signature)) throw new TypeError(`MidasBuy request signing: ${SIGNATURE_PARAMETER} must be Base64`)
  const pairs: Array<[string, string]> = [[options.authIdParameter, parameters.authId]]
  if (parameters.authIdType !== null) pairs.push([AUTH_ID_TYPE_PARAMETER, parameters.authIdType])
  pairs.push(
    [NONCE_PARAMETER, parameters.nonce],
    [TIMESTAMP_PARAMETER, parameters.timestamp],
    [SIGNATURE_PARAMETER, parameters.signature],
    [SERIAL_PARAMETER, parameters.serialNo]
  )
  const rendered = pairs.map(([name, value]) => {
    const safe = headerSafe(name, value)
    return options.quoteValues ? `${name}="${safe}"` : `${name}=${safe}`
  })
  return `${AUTHORIZATION_SCHEME} ${rendered.join(',')}`
}

export interface SigningMoment {
  /** Unix seconds; defaults to now. */
  readonly timestamp?: number
  /** Defaults to a fresh random nonce. */
  readonly nonce?: string
}

/** Signs one request with the merchant key and returns the header that carries the signature. */
export function signMidasBuyRequest (
  request: RequestToSign,
  credentials: SigningCredentials,
  options: RequestSigningOptions = DEFAULT_REQUEST_SIGNING,
  moment: SigningMoment = {}
): SignedRequest {
  const timestamp = String(moment.timestamp ?? Math.floor(Date.now() / 1000))
  const nonce = headerSafe(NONCE_PARAMETER, moment.nonce ?? createNonce())
  const signature = sign('sha256', requestSigningInput(request, timestamp, nonce, options.urlForm), credentials.privateKey).toString('base64')
  const parameters: AuthorizationParameters = {
    authId: credentials.appId,
    authIdType: options.authIdType,
    nonce,
    timestamp,
    signature,
    serialNo: credentials.serialNo
  }
  return { headers: { authorization: formatAuthorization(parameters, options) }, parameters }
}

export type AuthorizationParse =
  | { readonly ok: true, readonly parameters: AuthorizationParameters }
  | { readonly ok: false, readonly problem: string }

function unquote (raw: string): string | null {
  if (!raw.startsWith('"')) return HEADER_VALUE.test(raw) ? raw : null
  if (raw.length < 3 || !raw.endsWith('"')) return null
  const inner = raw.slice(1, -1)
  return HEADER_VALUE.test(inner) ? inner : null
}

/**
 * Reads an `Authorization` value in either quoting and any parameter order; unknown parameters
 * are skipped so that an added field does not lock a caller out. Problems name the part that is
 * wrong, never echo a value.
 */
export function parseAuthorization (value: string, options: RequestSigningOptions = DEFAULT_REQUEST_SIGNING): AuthorizationParse {
  if (value.length > MAX_AUTHORIZATION_CHARACTERS) return { ok: false, problem: 'the Authorization header is too long' }
  const space = value.indexOf(' ')
  if (space < 0 || value.slice(0, space).toUpperCase() !== AUTHORIZATION_SCHEME) {
    return { ok: false, problem: `expected the ${AUTHORIZATION_SCHEME} scheme` }
  }
  const found = new Map<string, string>()
  for (const part of value.slice(space + 1).split(',')) {
    const pair = part.trim()
    const equals = pair.indexOf('=')
    const name = pair.slice(0, equals)
    if (equals < 1 || !PARAMETER_NAME.test(name)) return { ok: false, problem: 'parameters must be name=value pairs separated by commas' }
    if (found.has(name)) return { ok: false, problem: `parameter ${name} is repeated` }
    const parsed = unquote(pair.slice(equals + 1))
    if (parsed === null) return { ok: false, problem: `parameter ${name} has an empty or malformed value` }
    found.set(name, parsed)
  }
  const required = [options.authIdParameter, NONCE_PARAMETER, TIMESTAMP_PARAMETER, SIGNATURE_PARAMETER, SERIAL_PARAMETER]
  for (const name of required) {
    if (!found.has(name)) return { ok: false, problem: `parameter ${name} is missing` }
  }
  const timestamp = found.get(TIMESTAMP_PARAMETER) ?? ''
  if (!UNIX_SECONDS.test(timestamp)) return { ok: false, problem: `parameter ${TIMESTAMP_PARAMETER} must be Unix seconds` }
  const signature = found.get(SIGNATURE_PARAMETER) ?? ''
  if (!isBase64Signature(signature)) return { ok: false, problem: `parameter ${SIGNATURE_PARAMETER} must be Base64` }
  return {
    ok: true,
    parameters: {
      authId: found.get(options.authIdParameter) ?? '',
      authIdType: found.get(AUTH_ID_TYPE_PARAMETER) ?? null,
      nonce: found.get(NONCE_PARAMETER) ?? '',
      timestamp,
      signature,
      serialNo: found.get(SERIAL_PARAMETER) ?? ''
    }
  }
}

export interface ReceivedRequest extends RequestToSign {
  readonly url: URL
  readonly body: Buffer
  /** The `Authorization` header as the server received it. */
  readonly authorization: string | string[] | undefined
}

export interface RequestVerificationPolicy {
  /** Accept only this app id (when set). */
  readonly appId?: string
  /** Accept only this merchant certificate serial number (when set). */
  readonly serialNo?: string
  /** Refuse a timestamp further than this from `nowSeconds`; 0 or unset accepts any. */
  readonly toleranceSeconds?: number
  readonly nowSeconds?: number
}

export type RequestVerification =
  | { readonly valid: true, readonly parameters: AuthorizationParameters }
  | {
    readonly valid: false
    readonly reason: 'missing' | 'malformed' | 'app_id' | 'serial_no' | 'timestamp' | 'mismatch'
    readonly problem: string
  }

/**
 * Checks a signed request against the merchant public key. An RSA verification compares nothing
 * secret — the key is public, and so are the app id and serial number — so it needs no
 * constant-time comparison of its own.
 */
export function verifyMidasBuyRequest (
  request: ReceivedRequest,
  publicKey: KeyObject,
  options: RequestSigningOptions = DEFAULT_REQUEST_SIGNING,
  policy: RequestVerificationPolicy = {}
): RequestVerification {
  const header = request.authorization
  if (header === undefined || header === '') return { valid: false, reason: 'missing', problem: 'the Authorization header is missing' }
  // A repeated header is ambiguous about which value was meant: refuse rather than pick one.
  if (Array.isArray(header)) return { valid: false, reason: 'malformed', problem: 'the Authorization header is repeated' }
  const parsed = parseAuthorization(header, options)
  if (!parsed.ok) return { valid: false, reason: 'malformed', problem: parsed.problem }
  const { parameters } = parsed
  if (policy.appId !== undefined && parameters.authId !== policy.appId) {
    return { valid: false, reason: 'app_id', problem: `parameter ${options.authIdParameter} names another app` }
  }
  if (policy.serialNo !== undefined && parameters.serialNo !== policy.serialNo) {
    return { valid: false, reason: 'serial_no', problem: `parameter ${SERIAL_PARAMETER} names another certificate` }
  }
  const tolerance = policy.toleranceSeconds ?? 0
  if (tolerance > 0) {
    const now = policy.nowSeconds ?? Math.floor(Date.now() / 1000)
    if (Math.abs(now - Number(parameters.timestamp)) > tolerance) {
      return { valid: false, reason: 'timestamp', problem: `parameter ${TIMESTAMP_PARAMETER} is outside the accepted window` }
    }
  }
  const input = requestSigningInput(request, parameters.timestamp, parameters.nonce, options.urlForm)
  const matches = verify('sha256', input, publicKey, Buffer.from(parameters.signature, 'base64'))
  return matches
    ? { valid: true, parameters }
    : { valid: false, reason: 'mismatch', problem: 'the signature does not match the request' }
}
