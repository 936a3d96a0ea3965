/**
 * Key rotation (`/key/regenerate`, `/key/{key}/regenerate`): the same row gets a new hash, so spend, limits and
 * history stay. The old hash is refused at once, or, with a grace period, resolves to the row until
 * `revoke_at` through `key_rotations` (the authenticator reads it). Hashes rotated out earlier keep their own
 * grace and follow the row to its new hash.
 */
import { recordChange, type ChangeActor } from '../../audit/record'
import { badRequest, notFound } from '../../http/errors'
import { addDuration } from '../../lib/duration'
import { newVirtualKey } from '../../lib/ids'
import { isVirtualKeyFormat, maskLast4, sha256Hex } from '../../lib/secrets'
import { checkDuration } from '../shared/validate'
import { keyInvalidations, keyLabel, keyNameOf, tokenOf } from './key-rows'
import { keyResponse, type KeyFields } from './model'
import { applyKeyUpdate, prepareKeyUpdate, teamOf, type KeyDeps } from './service'
import { authorizeUpdate } from './key-authz'
import { keyWriteRight } from '../../auth/object-access'

export type RotationFields = KeyFields & {
  new_key?: string | null
  grace_period?: string | null
  new_master_key?: string | null
}

function hasUpdates(fields: KeyFields): boolean {
  return Object.values(fields).some((value) => value !== undefined)
}

export async function regenerateKey(deps: KeyDeps, actor: ChangeActor, passed: string, body: RotationFields) {
  const { new_key: newKey, grace_period: givenGrace, new_master_key: newMasterKey, ...rest } = body
  if (newMasterKey !== undefined && newMasterKey !== null) {
    throw badRequest('new_master_key is not supported: the master key is set in config (general_settings.master_key or LITELLM_MASTER_KEY).', 'new_master_key')
  }
  if (newKey !== undefined && newKey !== null) {
    if (!newKey.startsWith('sk-')) {
      throw badRequest(
        "New key must start with 'sk-'. This is to distinguish a key hash (used by litellm for logging / internal logic) from the actual key.",
        'new_key',
      )
    }
    if (!isVirtualKeyFormat(newKey)) throw badRequest(`Invalid key format. LiteLLM Virtual Key must start with 'sk-'. Received: ${maskLast4(newKey)}`, 'new_key')
  }
  const grace = givenGrace === undefined ? deps.settings.keyRotationGracePeriod : givenGrace
  checkDuration('grace_period', grace)
  const fields = prepareKeyUpdate(deps, rest)
  const plaintext = newKey ?? newVirtualKey()
  const newToken = sha256Hex(plaintext)
  const oldToken = tokenOf(passed)
  const now = new Date(deps.clock.now())

  const { row, budget, invalidations } = await deps.repos.transaction(async (tx) => {
    const current = oldToken ? await tx.keys.get(oldToken) : null
    const missing = () => notFound(`Key ${keyLabel(passed)} not found.`, 'key')
    if (!current) throw missing()
    // Team permissions name the path form as `/key/{key}/regenerate`.
    const route = actor.route.startsWith('/key/regenerate') ? '/key/regenerate' : '/key/{key}/regenerate'
    const right = keyWriteRight(actor.principal, current, await teamOf(tx, current), route, 'You are not authorized to regenerate this key')
    if (!right) throw missing()
    if (hasUpdates(fields)) await authorizeUpdate(tx, actor.principal, right, current, fields, passed)
    if ((await tx.keys.get(newToken)) || (await tx.keyRotations.get(newToken))) {
      throw badRequest('A key with this value already exists. Please use a different key.', 'new_key')
    }
    const invalidations = await keyInvalidations(tx, current.token)
    for (const earlier of await tx.keyRotations.listByToken(current.token)) await tx.keyRotations.insert({ ...earlier, token: newToken })
    if (grace) {
      await tx.keyRotations.insert({ oldToken: current.token, token: newToken, revokeAt: addDuration(now, grace), createdAt: now })
    }
    let row = (await tx.keys.changeToken(current.token, newToken, keyNameOf(plaintext)))!
    await recordChange(tx, actor, { action: 'rotated', tableName: 'keys', objectId: newToken, before: current, after: row })
    if (hasUpdates(fields)) row = (await applyKeyUpdate(tx, deps, actor, row, fields)).row
    invalidations.push({ kind: 'keys', id: newToken })
    return { row, budget: row.budgetId ? await tx.budgets.get(row.budgetId) : null, invalidations }
  })
  await deps.invalidator.publish(...invalidations)
  return { ...keyResponse(row, budget, { withToken: true }), key: plaintext }
}
