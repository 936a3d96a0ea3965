/**
 * The admin credential (§2): the configured master key, else a key generated on the first start whose sha256
 * alone is stored. Tollgate never runs open.
 */
import type { Repositories } from '../db/ports'
import { newAdminKey } from '../lib/ids'
import { secretMatchesDigest, sha256Hex } from '../lib/secrets'

export const GENERATED_ADMIN_KEY_SETTING = 'generated_admin_key_sha256'

export type AdminCredential = {
  readonly source: 'master_key' | 'generated'
  matches(credential: string): boolean
}

/**
 * Resolves the admin credential. When a key is generated, `announce` receives it once (main prints it);
 * a concurrent first start of another instance that won the race announces its own and this one none.
 */
export async function resolveAdminCredential(
  masterKey: string | null,
  repos: Repositories,
  announce: (generatedKey: string) => void,
): Promise<AdminCredential> {
  // The expected digest is computed once: this runs for every credential on every request.
  if (masterKey) {
    const digest = Buffer.from(sha256Hex(masterKey), 'hex')
    return { source: 'master_key', matches: (credential) => secretMatchesDigest(credential, digest) }
  }

  let stored = await repos.settings.get(GENERATED_ADMIN_KEY_SETTING)
  if (!stored) {
    const key = newAdminKey()
    if (await repos.settings.putIfAbsent(GENERATED_ADMIN_KEY_SETTING, sha256Hex(key))) announce(key)
    stored = await repos.settings.get(GENERATED_ADMIN_KEY_SETTING)
  }
  const digest = Buffer.from(stored!, 'hex')
  return { source: 'generated', matches: (credential) => secretMatchesDigest(credential, digest) }
}
