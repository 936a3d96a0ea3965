/**
 * The admin credential (§2): the configured master key, else a key generated on the first start whose sha256
 * alone is stored. Tollgate never runs open.
 */
import type { Repositories } from '../db/ports'
import { newAdminKey } from '../lib/ids'
import { secretMatchesHash, secretsEqual, sha256Hex } from '../lib/secrets'

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
  if (masterKey) return { source: 'master_key', matches: (credential) => secretsEqual(credential, masterKey) }

  let stored = await repos.settings.get(GENERATED_ADMIN_KEY_SETTING)
  if (!stored) {
    const key = newAdminKey()
    if (await repos.settings.putIfAbsent(GENERATED_ADMIN_KEY_SETTING, sha256Hex(key))) announce(key)
    stored = await repos.settings.get(GENERATED_ADMIN_KEY_SETTING)
  }
  const hash = stored!
  return { source: 'generated', matches: (credential) => secretMatchesHash(credential, hash) }
}
