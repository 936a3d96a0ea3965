/**
 * Where a credential is read from, in the contract's order (§3): the configured header, `x-litellm-api-key`,
 * `Authorization`, then the raw provider-style headers.
 */
export type CredentialResult = { kind: 'none' } | { kind: 'malformed' } | { kind: 'value'; value: string }

const RAW_HEADERS = ['api-key', 'x-api-key', 'x-goog-api-key', 'ocp-apim-subscription-key']

function stripBearer(value: string): string {
  return /^bearer /i.test(value) ? value.slice(7).trim() : value.trim()
}

function fromAuthorization(value: string): string | null {
  const aws = /^AWS4-HMAC-SHA256\s+Credential=Bearer\s+([^,\s]+)/.exec(value)
  if (aws) return aws[1]
  const scheme = /^(Bearer|bearer|Basic)\s+(.+)$/.exec(value)
  return scheme ? scheme[2].trim() : null
}

export function readCredential(headers: Headers, customHeader: string | null): CredentialResult {
  if (customHeader) {
    const custom = headers.get(customHeader)
    if (custom) return { kind: 'value', value: stripBearer(custom) }
  }
  const litellm = headers.get('x-litellm-api-key')
  if (litellm) return { kind: 'value', value: stripBearer(litellm) }
  const authorization = headers.get('authorization')
  if (authorization) {
    const value = fromAuthorization(authorization.trim())
    return value ? { kind: 'value', value } : { kind: 'malformed' }
  }
  for (const name of RAW_HEADERS) {
    const raw = headers.get(name)
    if (raw) return { kind: 'value', value: raw.trim() }
  }
  return { kind: 'none' }
}

/** Three base64url segments: the shape of a JWT (checked only when JWT auth is on). */
export function looksLikeJwt(value: string): boolean {
  return !value.startsWith('sk-') && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value)
}
